"""Tests of the beyond-the-paper binary additions (shift-only + GRPO penalty, reward noise at G → ∞)
in grpo_symbolic.cases.binary / shift_only, and mutation tests of paper_checks/checks_beyond_binary."""

import mpmath
import pytest
import sympy as sp

from grpo_symbolic.paper import forms as paper_forms
from grpo_symbolic.cases import binary, shift_only
from paper_checks import fixtures
from grpo_symbolic.theory.algebra import is_zero
from grpo_symbolic.model.errors import ParameterError
from grpo_symbolic.model.problem import Problem
from grpo_symbolic.solve.api import stationary_policy
from grpo_symbolic.model.symbols import G, beta, delta, gamma, p, p_old, rho, sigma
from paper_checks import checks_beyond_binary
from paper_checks.registry import REGISTRY

REGISTRY.discover()
R = sp.Rational
n = shift_only.group_excess
SYMBOLIC = shift_only.SYMBOLIC_GROUP_SIZE


# --- shift-only advantages with a symbolic group size ----------------------------------------------


@pytest.mark.parametrize("size", [2, 3, 5])
def test_symbolic_group_size_matches_the_engine_at_concrete_sizes(size):
    symbolic = binary.preference_values(SYMBOLIC, "ranked", "shift")
    engine = binary.preference_values(size, "ranked", "shift")
    assert all(sp.expand(a.subs(n, size - 2) - b) == 0 for a, b in zip(symbolic, engine))


def test_symbolic_root_is_the_engine_root_at_g8():
    assert is_zero(binary.admissible_root(SYMBOLIC, "ranked", "shift").subs(n, 6) - binary.admissible_root(8, "ranked", "shift"))


def test_symbolic_root_is_eq14_with_the_shift_margin():
    root = binary.admissible_root(SYMBOLIC, "ranked", "shift")
    assert is_zero(root - paper_forms.POLICY_EQ14.subs(gamma, (n + 1) * delta / (n + 2)))
    assert root.has(delta) and root.has(n)  # not scale-invariant, and it depends on G


def test_symbolic_group_size_needs_the_shift_rule():
    with pytest.raises(ParameterError, match="group_size"):
        binary.preference_values(SYMBOLIC, "ranked", "population")


@pytest.mark.parametrize("size", [2, 3])
def test_grpo_penalty_keeps_the_reciprocal_form(size):
    assert fixtures.shift_only_grpo_gaps(size) == (0, (0,) * size)


def test_grpo_policy_solves_the_form_and_agrees_with_the_solver():
    problem = Problem(reference=["0.2", "0.5", "0.3"], rewards=[{1: "0.9", 0: "0.1"}, 2, {0: "0.5", 3: "0.5"}],
                      group_size=4, beta="0.7", normalisation="shift")
    fixed_point = shift_only.grpo_policy(problem, dps=30)
    with mpmath.workdps(30):
        assert abs(mpmath.fsum(fixed_point) - 1) < mpmath.mpf(10) ** -28
        solved = stationary_policy(problem, dps=30)
        assert max(abs(a - b) for a, b in zip(fixed_point, solved)) < mpmath.mpf(10) ** -27


def test_solver_policy_with_shift_normalisation_is_eq14_with_the_shift_margin():
    with mpmath.workdps(30):
        solved = fixtures.solver_policy(3, R(3, 10), R(1, 2), (3, 1), 30, "shift")
        printed = sp.N(paper_forms.SHIFT_ONLY_GRPO_BINARY.subs({G: 3, delta: 2, rho: R(3, 10), beta: R(1, 2)}), 40)
        assert abs(solved - mpmath.mpf(str(printed))) < mpmath.mpf(10) ** -28


# --- reward noise at G → ∞ ----------------------------------------------------------------------


def test_two_point_law_has_the_given_mean_and_variance():
    law = binary.binary_problem(2, "spread").rewards[0]
    assert sp.expand(law.mean - (binary.r_b + delta)) == 0
    assert sp.expand(law.second_moment - law.mean**2 - binary.v_a) == 0


def test_spread_variance_is_the_total_variance():
    assert sp.expand(binary.variance_large_g("spread") - binary.total_variance_noisy("spread")) == 0
    assert binary.variance_large_g("noisy") == binary.variance_large_g_noisy()


def test_noisy_equations():
    spread, variance = binary.large_g_equation("spread")
    bernoulli, _ = binary.large_g_equation("noisy")
    assert sp.expand(spread.lhs - beta * sigma * (p - rho)) == 0
    assert sp.expand(spread.rhs - delta * p * (1 - p)) == 0
    assert sp.expand(bernoulli.rhs - (binary.q_a - binary.q_b) * p * (1 - p)) == 0
    assert sp.expand(variance - binary.variance_large_g("spread").subs(p_old, p)) == 0


def test_deterministic_limit_of_the_noisy_equation_gives_eq15():
    equation, variance = binary.large_g_equation("spread")
    gap = (equation.rhs - equation.lhs).subs(sigma, sp.sqrt(variance.subs({binary.v_a: 0, binary.v_b: 0})))
    at = {delta: 2, rho: R(3, 10), beta: R(1, 2)}
    value = sp.N(gap.subs(at).subs(p, paper_forms.POLICY_EQ15.subs(at)), 60)
    assert abs(value) < sp.Float(10) ** -50


# --- the checks and mutation tests ---------------------------------------------------------------


@pytest.mark.parametrize("claim_id", ["x-shift-only-grpo-penalty", "x-stochastic-large-g"])
def test_checks_pass(claim_id):
    result = REGISTRY.run(claim_id, 30)
    assert result.passed, result.details


def test_mutation_forgetting_the_shift_factor_fails(monkeypatch):
    monkeypatch.setattr(paper_forms, "SHIFT_ONLY_GRPO_BINARY", paper_forms.POLICY_EQ14.subs(gamma, delta))
    result = REGISTRY.run("x-shift-only-grpo-penalty", 30)
    assert not result.passed, result.details


def test_mutation_log_pooling_form_fails(monkeypatch):
    wrong = paper_forms.SHIFT_ONLY_GRPO_POLICY.subs(beta, 2 * beta)  # g(x) -> g(x/2)
    monkeypatch.setattr(paper_forms, "SHIFT_ONLY_GRPO_POLICY", wrong)
    fixtures.shift_only_grpo_gaps.cache_clear()
    try:
        result = REGISTRY.run("x-shift-only-grpo-penalty", 30)
    finally:
        fixtures.shift_only_grpo_gaps.cache_clear()
    assert not result.passed, result.details


def test_mutation_printed_sigma_in_the_noisy_model_fails(monkeypatch):
    """σ² = Δ² p(1 − p) (App. B.1 as printed) in place of the engine's: the roots leave the solver."""
    def printed_sigma(rewards="spread"):
        equation, _ = binary.large_g_equation(rewards)
        gap = binary.binary_problem(2, rewards).rewards
        return equation, sp.expand(((gap[0].mean - gap[1].mean) ** 2) * p * (1 - p))
    monkeypatch.setattr(binary, "large_g_equation", printed_sigma)
    result = REGISTRY.run("x-stochastic-large-g", 30)
    assert not result.passed, result.details


def test_mutation_variance_instead_of_std_in_eq13_fails(monkeypatch):
    monkeypatch.setattr(paper_forms, "STATIONARITY_EQ13", paper_forms.STATIONARITY_EQ13.subs(sigma, sigma**2))
    result = REGISTRY.run("x-stochastic-large-g", 30)
    assert not result.passed, result.details


def test_points_include_awkward_values():
    refs = [pt[1] for pt in checks_beyond_binary.SHIFT_POINTS] + [pt[0] for pt in checks_beyond_binary.NOISY_POINTS]
    assert min(refs) <= R(1, 10**6) and max(refs) >= R(999999, 10**6)
