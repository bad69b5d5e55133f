"""Tests of grpo_symbolic.cases.direct_kl and grpo_symbolic.cases.shift_only (paper Sec. 3)."""

import mpmath
import numpy as np
import pytest
import sympy as sp

from grpo_symbolic.paper import forms as paper_forms
from grpo_symbolic.cases import binary, direct_kl, shift_only
from paper_checks import fixtures
from grpo_symbolic.model.errors import ParameterError
from grpo_symbolic.theory.objective import derive_stationarity
from grpo_symbolic.model.problem import Problem
from grpo_symbolic.solve.api import stationary_policies, stationary_policy
from grpo_symbolic.model.symbols import G, beta, gamma, lam, p, p_old, r_o, r_old_mean, rho, x


def _at(expr, dps=30, **values):
    symbols = {"rho": rho, "beta": beta, "gamma": gamma, "x": x, "p": p}
    with mpmath.workdps(dps):
        return mpmath.mpf(sp.N(expr.subs({symbols[k]: sp.Rational(v) for k, v in values.items()}), dps))


# --- the penalty and log pooling -------------------------------------------------------------------


@pytest.mark.parametrize("size", [2, 3, 4])
def test_direct_penalty_is_kl_on_the_simplex(size):
    assert direct_kl.penalty_gap(size) == 0


def test_log_pooling_three_outputs():
    ratios, multiplier = fixtures.log_pooling(3)
    st = derive_stationarity("direct", 3)
    assert all(sp.simplify(r - ratios[0]) == 0 for r in ratios)
    assert not ratios[0].free_symbols & set(st.preference + st.pi_ref)
    assert sp.simplify(sp.expand(sum(st.policy)).subs(lam, multiplier)) == 1


# --- binary, G = 2 -------------------------------------------------------------------------------


def test_g2_slope_depends_on_gamma_only():
    slope = direct_kl.g2_slope()
    assert slope.free_symbols == {beta, gamma, p, rho}


def test_g2_policy_solves_the_slope_and_matches_the_printed_form():
    policy = direct_kl.g2_policy()
    residual = direct_kl.g2_slope().subs(p, policy)
    for ref, weight, margin in [("0.000001", "0.1", "1"), ("0.5", "2", "0.01"), ("0.999", "0.3", "0.7")]:
        assert abs(_at(residual, dps=40, rho=ref, beta=weight, gamma=margin)) < mpmath.mpf(10) ** -35
    assert sp.simplify(policy - paper_forms.DIRECT_KL_POLICY_G2) == 0


def test_g2_policy_is_continuous_at_zero_and_increasing():
    policy = direct_kl.g2_policy()
    assert sp.limit(policy, rho, 0, "+") == 0
    assert binary.on_unit_interval(sp.diff(policy, rho), rho).is_positive


@pytest.mark.parametrize("ref, weight, margin", [("0.0001", "0.2", "1"), ("0.7", "1", "0.1"), ("0.99", "5", "0.5")])
def test_g2_policy_matches_the_solver(ref, weight, margin):
    laws = [dict(law) for law in binary.margin_rewards(sp.Rational(margin))]
    solved = stationary_policy(direct_kl.numeric_binary_problem(ref, weight, 2, rewards=laws), dps=30)[0]
    derived = _at(direct_kl.g2_policy(), rho=ref, beta=weight, gamma=margin)
    assert abs(solved - derived) < mpmath.mpf(10) ** -25


# --- binary, G → ∞ ---------------------------------------------------------------------------------


def test_h_matches_the_printed_form():
    gap = sp.expand(sp.expand_log(direct_kl.h() - paper_forms.DIRECT_KL_H, force=True))
    assert gap == 0


def test_turning_point_and_minimum_match_the_printed_forms():
    _, x_star, other = direct_kl.h_turning_point()
    assert sp.simplify(x_star - paper_forms.DIRECT_KL_X_STAR) == 0
    assert other.is_positive is not True
    gap = (direct_kl.h_minimum() - paper_forms.H_AT_X_STAR).rewrite(sp.log)
    assert sp.simplify(sp.expand_log(gap, force=True)) == 0


@pytest.mark.parametrize("weight", ["0.1", "1", "10"])
def test_h_decreases_then_increases_around_x_star(weight):
    b = float(weight)
    h = sp.lambdify((x, rho, beta), direct_kl.h(), "numpy")
    x_star = float(paper_forms.DIRECT_KL_X_STAR.subs(beta, sp.Rational(weight)))
    grid = np.linspace(1e-4, 1 - 1e-6, 20001)
    values = h(grid, 0.3, b)
    left, right = values[grid <= x_star], values[grid >= x_star]
    assert np.all(np.diff(left) < 0) and np.all(np.diff(right) > 0)


def test_small_beta_has_no_interior_point_and_runs_to_one():
    assert direct_kl.h_zeros("0.5", "0.5") == []
    assert fixtures.runs_to_vertex("0.5", "0.5", dps=20)
    path = direct_kl.iterate_best_response("0.5", "0.5", "0.5", dps=30)
    assert 1 - path[-1] < mpmath.mpf(10) ** -25
    assert all(a < b for a, b in zip(path, path[1:]))


def test_large_beta_zeros_match_the_solver_and_their_stability():
    zeros = direct_kl.h_zeros("0.3", "4", dps=30)
    points = stationary_policies(direct_kl.numeric_binary_problem("0.3", "4", "inf"), dps=30)
    assert len(zeros) == len(points) == 2
    assert all(abs(z - pt.policy[0]) < mpmath.mpf(10) ** -25 for z, pt in zip(zeros, points))
    assert [pt.stable for pt in points] == [True, False]
    assert not fixtures.runs_to_vertex("0.3", "4", dps=20)


def test_best_response_leaves_the_larger_zero_both_ways():
    small, large = direct_kl.h_zeros("0.5", "3", dps=30)
    up = direct_kl.iterate_best_response("0.5", "3", large + mpmath.mpf("1e-12"), dps=30)
    down = direct_kl.iterate_best_response("0.5", "3", large - mpmath.mpf("1e-12"), dps=30)
    assert 1 - up[-1] < mpmath.mpf(10) ** -25
    assert abs(down[-1] - small) < mpmath.mpf(10) ** -25


def test_best_response_fixed_points_are_the_zeros_of_h():
    t = direct_kl.logit_old
    in_t = direct_kl.h_in_odds_root().subs(direct_kl.odds_root, sp.exp(t / 2))
    assert sp.simplify(sp.expand(direct_kl.best_response_logit() - t - in_t)) == 0


def test_reward_slope_sign_follows_the_reward_order():
    root = 1 / (sp.sqrt(p_old) * sp.sqrt(1 - p_old))
    assert sp.simplify(direct_kl.large_group_reward_slope("ranked") - root) == 0
    assert sp.simplify(direct_kl.large_group_reward_slope("reversed") + root) == 0
    assert paper_forms.printed_b2_sign(0, 1) == 0 and paper_forms.printed_b2_sign(1, 0) == 1


def test_bad_numbers_are_parameter_errors():
    with pytest.raises(ParameterError, match="reference"):
        direct_kl.h_zeros("abc", "1")
    with pytest.raises(ParameterError, match="beta"):
        direct_kl.numeric_binary_problem("0.3", "-1", "inf")
    with pytest.raises(ParameterError, match="start"):
        direct_kl.iterate_best_response("0.5", "3", "1")


# --- shift-only -----------------------------------------------------------------------------------


def test_expected_advantage_and_reward_term():
    assert shift_only.expected_advantage() == sp.factor((1 - 1 / G) * (r_o - r_old_mean))
    derived, printed = fixtures.shift_only_reward_terms(3)
    assert sp.expand(derived - printed) == 0


@pytest.mark.parametrize("size", [6, 7, 8])
def test_engine_matches_the_shift_pattern_with_a_symbolic_policy(size):
    values = sp.symbols("u v w", real=True)
    a, b = sp.symbols("a b", positive=True)
    assert shift_only.engine_preference_gap(size, list(values), (a, b, 1 - a - b)) == (0, 0, 0)


def test_shift_only_direct_is_rlhf_three_outputs():
    ratios = fixtures.shift_only_direct_ratios(3)
    assert all(sp.simplify(r - ratios[0]) == 0 for r in ratios)


def test_rlhf_policy_matches_the_solver_at_g8():
    problem = Problem(reference=["0.1", "0.6", "0.3"], rewards=[{1: "0.8", 0: "0.2"}, {1: "0.4", 0: "0.6"}, 0],
                      group_size=8, beta="0.3", normalisation="shift", penalty="direct")
    solved = stationary_policy(problem, dps=30)
    expected = fixtures.rlhf_policy(problem, dps=30)
    assert max(abs(a - b) for a, b in zip(solved, expected)) < mpmath.mpf(10) ** -25


def test_wrong_effective_beta_is_detected():
    problem = Problem(reference=["0.5", "0.5"], rewards=[1, 0], group_size=2, beta=1, normalisation="shift", penalty="direct")
    solved = stationary_policy(problem, dps=30)[0]
    plain = mpmath.e ** 1 / (mpmath.e ** 1 + 1)  # RLHF at beta instead of beta' = 2 beta
    assert abs(solved - plain) > 0.05
    assert abs(solved - fixtures.rlhf_policy(problem, dps=30)[0]) < mpmath.mpf(10) ** -25
