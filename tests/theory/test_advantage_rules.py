"""The trainers' advantage rules (rloo, rloo-std, pass@k): hand-sized groups, settings validation,
and swapped formulas that the checks must catch."""

from fractions import Fraction
import math

import pytest
import sympy as sp

from grpo_symbolic.model.errors import ParameterError
from grpo_symbolic.model.problem import Problem
from grpo_symbolic.preference.engine import numeric_table
from grpo_symbolic.theory import advantage as adv
from grpo_symbolic.theory.advantage import passk_rule, rloo, rloo_std, rule, rule_name
from paper_checks import checks_advantage
from tests.theory.test_advantage import members


def test_rloo_is_the_leave_one_out_mean():
    """Catches: the focal member left in its own baseline (that is the shift rule)."""
    assert [rloo(g, 0, sp.sqrt) for g in members([1, 0, 0])] == [1, Fraction(-1, 2), Fraction(-1, 2)]


def test_rloo_std_uses_the_population_std_of_the_others_and_skips_zero_stds():
    """NeMo-RL: std of the others from their moments (divide by G − 1), divided only where > 0.
    Catches: a Bessel std of the others, eps added where std = 0 (the ±1e6 of NeMo-RL #1518)."""
    group = list(members([1, 0, 0]))
    assert rloo_std(group[0], sp.Rational(1, 10**6), sp.sqrt) == 1  # the others (0, 0): std 0, unscaled
    assert rloo_std(group[1], 0, sp.sqrt) == -1  # others (1, 0): mean 1/2, std 1/2
    eps = sp.Rational(1, 10)
    assert rloo_std(group[1], eps, sp.sqrt) == sp.Rational(-1, 2) / (sp.Rational(1, 2) + eps)


@pytest.mark.parametrize("rewards", [(1, 0, 0), (2, 0, 1, 1), (3, 3, 0, 1, 0)])
def test_which_rules_sum_to_zero(rewards):
    """rloo sums to 0 over every group; rloo-std and pass@k do not (so λ ≠ 0 in the solver)."""
    assert sp.simplify(sum(rloo(g, 0, sp.sqrt) for g in members(list(rewards)))) == 0
    assert "rloo" in adv.ZERO_MEAN and "rloo-std" not in adv.ZERO_MEAN
    assert sp.simplify(sum(rloo_std(g, 0, sp.sqrt) for g in members([1, 0, 0]))) == -1


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_passk_matches_the_subset_formula(k):
    """A_i = G·C(G − c, k − 1)/C(G, k) for a success, 0 for a failure, = PKPO's subset sum.
    Catches: C(G − c, k) for C(G − c, k − 1), a missing factor G."""
    rewards = [1, 0, 1, 0, 0]
    for i, g in enumerate(members(rewards)):
        reordered = [rewards[i]] + rewards[:i] + rewards[i + 1:]
        assert passk_rule(k)(g, 0, sp.sqrt) == checks_advantage.trainer_advantage(reordered, f"passk-{k}", 0)


def test_rule_names():
    assert rule_name("grpo", "sample", None) == "sample" and rule("passk-3").__name__ == "passk_3"
    assert rule("rloo-std") is rloo_std


@pytest.mark.parametrize("settings, fix", [
    (dict(advantage="passk"), "pass_k: advantage='passk' needs"),
    (dict(advantage="passk", pass_k=5), "pass_k: got 5 > group_size = 4"),
    (dict(advantage="passk", pass_k=0), "pass_k: got 0; give a whole number >= 1"),
    (dict(advantage="passk", pass_k=2.0), "pass_k: got 2.0"),
    (dict(advantage="rloo", pass_k=2), "pass_k: got 2 with advantage=rloo"),
    (dict(advantage="passk", pass_k=1, group_filter="drop-equal"), "group_filter: pass@1"),
])
def test_pass_k_is_validated(settings, fix):
    with pytest.raises(ParameterError, match="^" + fix.replace("(", r"\(").replace(".", r"\.").replace("+", r"\+")):
        Problem(["0.5", "0.5"], [1, 0], 4, 1, **settings)


def test_passk_refuses_non_binary_rewards():
    with pytest.raises(ParameterError, match="^rewards: pass@k"):
        Problem(["0.5", "0.5"], [2, 0], 4, 1, advantage="passk", pass_k=2)
    assert Problem(["0.5", "0.5"], [1, 0], "inf", 1, advantage="passk", pass_k=7).pass_k == 7


def _shift_as_rloo(group, eps, sqrt):
    return group.focal - group.mean


def _bessel_rloo_std(group, eps, sqrt):
    if not group.others_spread:
        return group.focal - group.others_mean
    return (group.focal - group.others_mean) / (sqrt(adv._divide(group.others_squared_deviation, group.size - 2)) + eps)


def _passk_without_g(k):
    def passk(group, eps, sqrt):
        good = 1 + sum(n for n, v in zip(group.counts, group.values) if v == 1)
        return 0 * group.focal if group.focal != 1 else group.focal * math.comb(group.size - good, k - 1) / math.comb(group.size, k)
    return passk


@pytest.fixture
def fresh_tables():
    """The cached per-composition tables hold the rule they were built with: clear them around a swap."""
    numeric_table.cache_clear()
    yield
    numeric_table.cache_clear()


@pytest.mark.parametrize("name, swapped, check", [
    ("rloo", _shift_as_rloo, checks_advantage.check_x_advantage_brute_force),
    ("rloo-std", _bessel_rloo_std, checks_advantage.check_x_advantage_brute_force),
    ("rloo", _shift_as_rloo, checks_advantage.check_x_advantage_large_group),
])
def test_a_swapped_rule_fails_its_check(monkeypatch, fresh_tables, name, swapped, check):
    monkeypatch.setitem(adv.RULES, name, swapped)
    assert not check(30).passed


def test_a_swapped_passk_fails_its_checks(monkeypatch, fresh_tables):
    monkeypatch.setattr(adv, "passk_rule", _passk_without_g)
    assert not checks_advantage.check_x_advantage_brute_force(30).passed
    assert not checks_advantage.check_x_advantage_passk_gradient(30).passed
