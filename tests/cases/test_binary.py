"""Tests of grpo_symbolic.cases.binary, and mutation tests of the binary paper checks."""

import functools

import mpmath
import pytest
import sympy as sp

from grpo_symbolic.paper import forms as paper_forms
from grpo_symbolic.cases import binary
from paper_checks import fixtures
from grpo_symbolic.theory.objective import derive_stationarity
from grpo_symbolic.model.symbols import beta, delta, gamma, p, p_old, rho
from paper_checks import checks_binary
from paper_checks.registry import REGISTRY

REGISTRY.discover()
R = sp.Rational
POINTS = [(R(1, 10**6), R(1, 2), 1), (R(3, 10), R(1, 100), R(1, 20)), (R(999999, 10**6), 10, R(1, 2)), (R(1, 2), 1, 1)]


# --- the derivation ------------------------------------------------------------------------------


def test_margin_is_eliminated_and_only_the_margin_remains():
    values = binary.preference_values(2, "margin")
    assert [sp.expand(v) for v in values] == [sp.expand(gamma * (1 - p_old)), -gamma * p_old]
    assert binary.margin(binary.binary_problem(2, "margin")) == binary.q_a - binary.q_b


def test_sample_std_scales_the_g2_reward_term_by_one_over_sqrt2():
    assert sp.simplify(binary.reward_term_g2("sample") - binary.reward_term_g2() / sp.sqrt(2)) == 0


def test_stationarity_agrees_with_the_generic_k_output_derivation():
    st = derive_stationarity("grpo")
    pa, pb = binary.preference_values(2, "margin")
    on_simplex = {st.pi[0]: p, st.pi[1]: 1 - p, st.pi_ref[0]: rho, st.pi_ref[1]: 1 - rho,
                  st.preference[0]: pa.subs(p_old, p), st.preference[1]: pb.subs(p_old, p)}
    along_simplex = (st.equations[0] - st.equations[1]).subs(on_simplex)  # λ cancels
    assert sp.cancel(along_simplex - binary.stationarity_g2()) == 0


@pytest.mark.parametrize("rho_value, beta_value, gamma_value", POINTS)
def test_policy_g2_solves_the_quadratic_and_lies_in_the_unit_interval(rho_value, beta_value, gamma_value):
    values = {rho: rho_value, beta: beta_value, gamma: gamma_value}
    root = binary.policy_g2().subs(values)
    assert sp.simplify(binary.quadratic_g2().subs(values).subs(p, root)) == 0
    assert rho_value <= root.evalf(60) < 1


@pytest.mark.parametrize("rho_value, beta_value", [(pt[0], pt[1]) for pt in POINTS])
def test_policy_large_g_satisfies_the_unsquared_condition_and_the_other_root_does_not(rho_value, beta_value):
    values = {rho: rho_value, beta: beta_value}
    condition = binary.cleared_stationarity(sp.oo, "ranked").subs(values)
    admissible = binary.policy_large_g().subs(values)
    other = [r for r in sp.solve(binary.quadratic_large_g().subs(values), p) if sp.N(r - admissible, 50) != 0]
    with mpmath.workdps(60):
        assert abs(sp.N(condition.subs(p, admissible), 60)) < sp.Float(10) ** -50
        assert all(abs(sp.N(condition.subs(p, r), 60)) > sp.Float(10) ** -20 for r in other)


def test_sign_conditions():
    assert sp.simplify(binary.sign_condition(2) - gamma * p * (1 - p) / beta) == 0
    assert sp.simplify(binary.sign_condition(sp.oo, "ranked") - sp.sqrt(p * (1 - p)) / beta) == 0


def test_ties_give_the_reference_policy():
    assert binary.admissible_root(2, "tie") == rho
    assert binary.admissible_root(sp.oo, "equal") == rho


def test_slope_signs():
    assert [binary.slope_sign(2, v) for v in (beta, gamma, rho, delta)] == [-1, 1, 1, 0]
    assert [binary.slope_sign(sp.oo, v, "ranked") for v in (beta, rho)] == [-1, 1]  # (15) decreases in beta too


def test_quadratic_large_g_is_the_squared_condition():
    squared = beta**2 * (p - rho) ** 2 - p * (1 - p)
    assert sp.expand(binary.quadratic_large_g() - squared) == 0


def test_floors():
    for t, expected in ((R(1, 3), 1 - R(1, 3)), (R(3, 1), 0), (1, 0)):
        assert binary.floor_g2().subs({beta: t * gamma}).simplify() == expected
    assert binary.floor_large_g() == 1 / (1 + beta**2)


def test_reversed_rewards_flip_the_large_group_reward_term():
    assert sp.simplify(binary.reward_term_large_g("reversed") + binary.reward_term_large_g()) == 0


def test_variance_normalised_counterfactual():
    assert binary.admissible_root(sp.oo, "ranked", "variance") == rho + 1 / (beta * delta)
    with pytest.raises(ValueError, match="G -> oo"):
        binary.preference_values(2, "ranked", "variance")


def test_noisy_variance_is_the_total_variance_and_reduces_for_deterministic_rewards():
    engine = binary.variance_large_g_noisy()
    assert sp.expand(engine - binary.total_variance_noisy()) == 0
    deterministic = engine.subs({binary.q_a: 1, binary.q_b: 0})
    assert sp.expand(deterministic - paper_forms.SIGMA_SQUARED_APP_B1.subs(delta, 1)) == 0


def test_unknown_reward_model_is_refused():
    with pytest.raises(ValueError, match="rewards"):
        binary.binary_problem(2, "lottery")


@pytest.mark.parametrize("group_size, policy", [(2, binary.policy_g2), (sp.oo, binary.policy_large_g)])
def test_solver_agrees_with_the_derived_policy(group_size, policy):
    point = (R(3, 10), R(1, 2))
    with mpmath.workdps(40):
        solved = fixtures.solver_policy(group_size, *point, (1, 0), 40)
        derived = sp.N(policy().subs({rho: point[0], beta: point[1], gamma: 1}), 50)
        assert abs(solved - mpmath.mpf(str(derived))) < mpmath.mpf(10) ** -38


def test_margin_rewards_have_the_margin():
    for g in (R(1, 20), R(1, 2), 1):
        laws = [dict(law) for law in binary.margin_rewards(g)]
        problem = binary.binary_problem(2, "ranked").replace(rewards=laws)
        assert binary.margin(problem) == g


# --- the checks and mutation tests ---------------------------------------------------------------

BINARY_IDS = ["eq16", "eq17", "eq14-binary-g2", "eq14-tie", "eq14-ratio-only", "eq14-monotone", "eq14-limits",
              "eq14-sqrt", "eq14-jump", "eq14-bound", "eq14-rank-only", "eq18", "eq19", "eq15-binary-large-g",
              "eq15-tie", "eq15-bound", "eq15-vs-g2", "trl-default-floors", "slip-5", "slip-6", "slip-7"]


def test_every_binary_claim_has_a_check():
    assert all(claim_id in REGISTRY.functions for claim_id in BINARY_IDS)


def _drop_sqrt(expr):
    return expr.replace(lambda e: e.is_Pow and e.exp.is_Rational and e.exp.q == 2, lambda e: e.base ** (2 * e.exp))


def test_mutation_dropping_the_sqrt_in_eq19_fails(monkeypatch):
    monkeypatch.setattr(paper_forms, "STATIONARITY_EQ19", _drop_sqrt(paper_forms.STATIONARITY_EQ19))
    result = REGISTRY.run("eq19", 30)
    assert not result.passed, result.details


def test_mutation_dropping_the_sqrt_in_eq15_fails(monkeypatch):
    monkeypatch.setattr(paper_forms, "POLICY_EQ15", _drop_sqrt(paper_forms.POLICY_EQ15))
    result = REGISTRY.run("eq15-binary-large-g", 30)
    assert not result.passed, result.details


def test_mutation_sample_std_in_the_model_fails_eq14(monkeypatch):
    assert not checks_binary.eq14_comparison(30, normalisation="sample").passed
    monkeypatch.setattr(checks_binary, "eq14_comparison",
                        functools.partial(checks_binary.eq14_comparison, normalisation="sample"))
    result = REGISTRY.run("eq14-binary-g2", 30)
    assert not result.passed, result.details


@pytest.mark.parametrize("claim_id, name, wrong", [
    ("eq14-sqrt", "POLICY_EQ14", paper_forms.POLICY_EQ14 + rho / 1000),
    ("eq14-monotone", None, None),
    ("eq15-bound", "FLOOR_LARGE_G", 1 / (1 + beta**2) + R(1, 10**40)),
    ("trl-default-floors", "TRL_FLOOR_G2", R(961, 1000)),
    ("eq16", "REWARD_TERM_EQ16", gamma * (p - p_old) * (1 + R(1, 10**20))),
    ("eq17", "STATIONARITY_EQ17", sp.Eq(beta * (p - rho) / p, gamma)),
])
def test_mutation_of_a_printed_form_fails_its_check(monkeypatch, claim_id, name, wrong):
    if name is None:  # eq14-monotone reads no printed form: break the model instead (sign of beta flipped)
        monkeypatch.setattr(checks_binary, "slope_sign", lambda *args, **kwargs: 1)
    else:
        monkeypatch.setattr(paper_forms, name, wrong)
    result = REGISTRY.run(claim_id, 30)
    assert not result.passed, result.details


def test_on_unit_interval_covers_the_whole_interval():
    """ρ − 3/4 changes sign on (0, 1): written over the whole interval its sign is not decided."""
    from grpo_symbolic.cases.binary import on_unit_interval
    from grpo_symbolic.model.symbols import rho

    shifted = on_unit_interval(rho - sp.Rational(3, 4), rho)
    assert shifted.is_negative is None and shifted.is_positive is None
    assert on_unit_interval(rho * (1 - rho), rho).is_positive
