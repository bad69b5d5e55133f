"""Trainer presets (grpo_symbolic.model.presets) and the conventions they imply (cases.conventions)."""

from typing import Any

import mpmath
import pytest
import sympy as sp

from grpo_symbolic import ParameterError, Problem, stationary_policy
from grpo_symbolic.theory.advantage import RULES, Group
from grpo_symbolic.cases import conventions
from paper_checks import fixtures
from grpo_symbolic.model.numbers import exact
from grpo_symbolic.paper.forms import BESSEL_BETA_EFF
from grpo_symbolic.model.presets import OPENRLHF_EPS, PRESETS, TRL_EPS, VERL_EPS, preset, preset_options, preset_settings
from grpo_symbolic.model.symbols import G, beta

ARGS: tuple[list[str], list[int], int, str] = (["0.3", "0.7"], [1, 0], 8, "0.04")

# --- presets ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, options, normalisation, penalty, eps", [
    ("paper", {}, "population", "grpo", 0),
    ("paper", {"direct_kl": True}, "population", "direct", 0),
    ("paper", {"shift_only": True}, "shift", "grpo", 0),
    ("trl", {}, "sample", "grpo", TRL_EPS),
    ("trl", {"scale_rewards": "group"}, "sample", "grpo", TRL_EPS),
    ("trl", {"scale_rewards": True}, "sample", "grpo", TRL_EPS),
    ("trl", {"scale_rewards": "none"}, "shift", "grpo", TRL_EPS),
    ("trl", {"scale_rewards": False}, "shift", "grpo", TRL_EPS),
    ("trl", {"use_bias_correction_kl": True}, "sample", "direct", TRL_EPS),
    ("verl", {}, "sample", "grpo", VERL_EPS),
    ("verl", {"norm_adv_by_std_in_grpo": False}, "shift", "grpo", VERL_EPS),
    ("openrlhf", {}, "sample", "grpo", OPENRLHF_EPS),
    ("openrlhf", {"advantage_estimator": "dr_grpo"}, "shift", "grpo", OPENRLHF_EPS),
    ("dr_grpo", {}, "shift", "grpo", 0),
])
def test_preset_settings(name, options, normalisation, penalty, eps):
    prob = preset(name, *ARGS, **options)
    assert (prob.normalisation, prob.penalty, prob.eps) == (normalisation, penalty, eps)
    assert prob == Problem(*ARGS, normalisation=normalisation, penalty=penalty, eps=eps)


def test_eps_values_are_exact():
    assert (TRL_EPS, VERL_EPS, OPENRLHF_EPS) == (sp.Rational(1, 10**4), sp.Rational(1, 10**6), sp.Rational(1, 10**9))


def test_every_preset_lists_its_options():
    assert set(PRESETS) == {"paper", "trl", "verl", "openrlhf", "dr_grpo"}
    assert preset_options("dr_grpo") == {}
    assert preset_options("verl") == {"norm_adv_by_std_in_grpo": True}
    assert preset_options("openrlhf") == {"advantage_estimator": "group_norm"}


def test_unknown_preset_names_it():
    with pytest.raises(ParameterError, match="preset: got 'nemo'"):
        preset("nemo", *ARGS)


@pytest.mark.parametrize("name, option", [("trl", "bias_correction_kl"), ("verl", "scale_rewards"), ("dr_grpo", "scale_rewards")])
def test_unknown_option_names_it(name, option):
    with pytest.raises(ParameterError, match=f"^{option}: not an option of preset '{name}'"):
        options: dict[str, Any] = {option: True}
        preset(name, *ARGS, **options)


@pytest.mark.parametrize("name, options, fragment", [
    ("trl", {"scale_rewards": "batch"}, "scale_rewards: 'batch'"),
    ("trl", {"scale_rewards": "std"}, "scale_rewards: got 'std'"),
    ("trl", {"use_bias_correction_kl": "yes"}, "use_bias_correction_kl: got 'yes'"),
    ("verl", {"norm_adv_by_std_in_grpo": 0}, "norm_adv_by_std_in_grpo: got 0"),
    ("openrlhf", {"advantage_estimator": "gae"}, "advantage_estimator: got 'gae'"),
    ("paper", {"direct_kl": None}, "direct_kl: got None"),
])
def test_bad_option_values(name, options, fragment):
    with pytest.raises(ParameterError, match=fragment):
        preset_settings(name, **options)


def test_problem_validation_still_applies():
    with pytest.raises(ParameterError, match="beta"):
        preset("trl", ["0.3", "0.7"], [1, 0], 8, -1)


# --- Bessel std <=> beta_eff --------------------------------------------------------------------


@pytest.mark.parametrize("distinct", [2, 3, 4])
def test_bessel_factor_is_the_same_for_every_group(distinct):
    assert sp.simplify(conventions.bessel_factor(distinct) - sp.sqrt(G - 1) / sp.sqrt(G)) == 0


@pytest.mark.parametrize("rewards", [(0, 1), (3, 1, 1), (0.5, 2, 7, 7, -1), (1, 1, 1, 0, 0, 0, 0, 0)])
def test_bessel_factor_on_explicit_groups(rewards):
    rewards = tuple(exact(r, "r") for r in rewards)
    values = tuple(sorted(set(rewards)))
    counts = tuple(rewards[1:].count(v) for v in values)
    group = Group(values, values.index(rewards[0]), counts)
    ratio = RULES["sample"](group, 0, sp.sqrt) / RULES["population"](group, 0, sp.sqrt)
    assert sp.simplify(ratio - conventions.bessel_factor().subs(G, len(rewards))) == 0


def test_beta_eff_matches_notes():
    for size in (2, 3, 8, 1000):
        assert sp.simplify((conventions.beta_eff() - BESSEL_BETA_EFF).subs(G, size)) == 0


def test_rescaling_breaks_if_lambda_is_not_rescaled():
    # the identity needs lambda -> lambda/c too: a different claim must fail
    from grpo_symbolic.theory.objective import derive_stationarity
    from grpo_symbolic.model.symbols import lam

    st = derive_stationarity("grpo")
    c = sp.Symbol("c", positive=True)
    scaled = st.equations[0].subs(st.preference[0], c * st.preference[0])
    wrong = c * st.equations[0].subs(beta, beta / c)
    assert sp.expand(scaled - wrong) != 0
    assert lam in (scaled - wrong).free_symbols


def test_sample_equals_population_with_beta_eff_three_outputs():
    reference = ["0.2", "0.3", "0.5"]
    rewards = [1, {1: "0.5", 0: "0.5"}, 0]
    sample = Problem(reference, rewards, 3, "0.5", normalisation="sample")
    population = sample.replace(normalisation="population", beta=BESSEL_BETA_EFF.subs({beta: sp.Rational(1, 2), G: 3}))
    a, b = stationary_policy(sample, 40), stationary_policy(population, 40)
    with mpmath.workdps(40):
        assert max(abs(x - y) for x, y in zip(a, b)) < mpmath.mpf(10) ** -35
        # and the unscaled weight does not reproduce it
        c = stationary_policy(sample.replace(normalisation="population"), 40)
        assert max(abs(x - y) for x, y in zip(a, c)) > mpmath.mpf(10) ** -3


# --- eps -----------------------------------------------------------------------------------------


def test_eps_factor_depends_on_the_group():
    e = sp.Symbol("epsilon", positive=True)
    factors = {conventions.eps_factor(r, e) for r in [(0, 1), (0, 1, 1, 1), (0, 0, 1, 1), (0, 0, 0, 1)]}
    assert len(factors) == 2  # (0,1,1,1) and (0,0,0,1) share a std; G=2 and (0,0,1,1) share another
    assert conventions.eps_factor((1, 1, 1), e) == 1
    assert conventions.eps_factor((0, 1), 0) == 1


def test_eps_effect_close_rewards():
    base = Problem(["0.5", "0.5"], ["0.001", 0], 8, "0.5", normalisation="sample")
    effects = fixtures.eps_effect(base, [TRL_EPS, VERL_EPS, OPENRLHF_EPS], dps=30)
    shifts = [e.shift for e in effects]
    assert shifts[0] > mpmath.mpf("0.01") and shifts[1] > mpmath.mpf("1e-4") and shifts[2] > mpmath.mpf("1e-7")
    assert 50 < shifts[0] / shifts[1] < 150 and 500 < shifts[1] / shifts[2] < 1500  # about linear in eps
    assert all(e.policy[0] < stationary_policy(base, 30)[0] for e in effects)  # eps damps the advantages


def test_eps_effect_several_close_values():
    d = sp.Rational(1, 1000)
    prob = Problem(["0.3", "0.7"], [{2 * d: "0.5", d: "0.5"}, {d: "0.5", 0: "0.5"}], 4, "0.5", normalisation="sample")
    trl, openrlhf = fixtures.eps_effect(prob, [TRL_EPS, OPENRLHF_EPS], dps=25)
    assert trl.shift > mpmath.mpf("0.01") and openrlhf.shift < mpmath.mpf("1e-5")


def test_matching_weight_reproduces_the_eps_policy_and_depends_on_p():
    prob = Problem(["0.5", "0.5"], ["0.001", 0], 8, "0.5", normalisation="sample", eps=TRL_EPS)
    weights = []
    for p in ("0.8", "0.95"):
        m = conventions.matching_weight(prob, p, dps=30)
        with mpmath.workdps(30):
            ref = exact(m.reference, "reference")
            assert bool(0 < ref) and bool(ref < 1)
            eps_policy = stationary_policy(prob.replace(reference=[ref, 1 - ref]), 30)[0]
            matched = stationary_policy(prob.replace(reference=[ref, 1 - ref], eps=0, beta=exact(m.weight, "w")), 30)[0]
            assert abs(eps_policy - exact_p(p)) < mpmath.mpf(10) ** -25
            assert abs(matched - exact_p(p)) < mpmath.mpf(10) ** -25
        weights.append(m.weight)
    assert abs(weights[0] - weights[1]) > mpmath.mpf("0.01")


def exact_p(p):
    return mpmath.mpf(exact(p, "p").p) / int(exact(p, "p").q)


def test_matching_weight_without_eps_is_beta():
    prob = Problem(["0.5", "0.5"], [1, 0], 4, "0.7")
    m = conventions.matching_weight(prob, "0.6", dps=30)
    with mpmath.workdps(30):
        assert abs(m.weight - mpmath.mpf(7) / 10) < mpmath.mpf(10) ** -25


def test_matching_weight_below_the_floor():
    prob = Problem(["0.5", "0.5"], ["0.001", 0], 8, "0.5", normalisation="sample", eps=TRL_EPS)
    with pytest.raises(ParameterError, match="stationary for no reference"):
        conventions.matching_weight(prob, "0.3", dps=30)
    with pytest.raises(ValueError):
        conventions.bessel_factor(1)


def test_matching_weight_needs_two_outputs():
    with pytest.raises(ValueError, match="two-output"):
        conventions.matching_weight(Problem(["0.2", "0.3", "0.5"], [1, 0, 0], 4, 1), "0.5")


# --- versioned presets (issue 12) ----------------------------------------------------------------


def test_readme_shows_the_generated_preset_table():
    from pathlib import Path

    from grpo_symbolic.model.presets import markdown_table

    text = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert f"-->\n{markdown_table()}\n<!-- end: preset table -->" in text


@pytest.mark.parametrize("name, expected", [
    ("trl-0.18", {"kl_estimator": "k3", "beta": sp.Rational(1, 25), "normalisation": "sample"}),
    ("trl-1.10", {"kl_estimator": "is_k3", "beta": 0, "normalisation": "sample"}),
    ("rloo", {"advantage": "rloo", "kl_estimator": "k1", "kl_placement": "reward-pre", "beta": sp.Rational(1, 20)}),
    ("verl-grpo", {"kl_estimator": "k3", "kl_placement": "loss", "beta": sp.Rational(1, 1000), "eps": VERL_EPS}),
    ("dapo", {"group_filter": "drop-equal", "beta": 0}),
    ("openrlhf-group-norm", {"kl_estimator": "k1", "kl_placement": "reward-post", "beta": sp.Rational(1, 100)}),
    ("openrlhf-kl-loss", {"kl_estimator": "k3", "kl_placement": "loss", "beta": sp.Rational(1, 100)}),
    ("dr_grpo", {"normalisation": "shift", "beta": 0}),
])
def test_versioned_presets_encode_the_trainers_defaults(name, expected):
    settings = preset_settings(name)
    assert {k: getattr(settings, k) for k in expected} == expected


@pytest.mark.parametrize("alias, target", [("trl", "trl-0.18"), ("verl", "verl-grpo"), ("openrlhf", "openrlhf-kl-loss")])
def test_old_names_are_aliases(alias, target):
    assert preset_settings(alias) == preset_settings(target)
    assert preset_options(alias) == preset_options(target)


def test_default_beta_and_refusals():
    assert preset("verl", *ARGS[:3]).beta == sp.Rational(1, 1000)
    with pytest.raises(ParameterError, match="beta: preset 'paper' has no default"):
        preset("paper", *ARGS[:3])
    assert preset("trl-1.10", *ARGS[:3]).beta == 0  # TRL >= 1.10 defaults to beta = 0 (accepted since issue 11)
    assert preset("trl-1.10", *ARGS).penalty == "direct"
    for name in ("rloo", "openrlhf-group-norm", "dapo"):  # the trainers' own settings are carried into the Problem
        problem = preset(name, *ARGS)
        assert problem.kl_placement == preset_settings(name).kl_placement
        assert problem.group_filter == preset_settings(name).group_filter
        assert problem.advantage == preset_settings(name).advantage
