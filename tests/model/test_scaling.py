"""Rescaled rewards (grpo_symbolic.model.scaling): the equivalent problem has the same P_G (times the
factor) and the same stationary policies, computed independently for both; float64 range failures
become the package's errors."""

import mpmath
import pytest
import sympy as sp

from grpo_symbolic import ParameterError, Problem, SolverError, preference_numeric, stationary_policy
from grpo_symbolic.model.scaling import float_range, rescaled

DPS = 30
TOLERANCE = mpmath.mpf(10) ** (-DPS + 3)


def close(a, b, factor=sp.Integer(1)):
    """|a − factor·b| within 10^(3 − DPS) relative to max(1, |a|), compared at DPS + 10 digits."""
    with mpmath.workdps(DPS + 10):
        return abs(a - mpmath.mpf(factor.p) / factor.q * b) <= TOLERANCE * max(1, abs(a))


@pytest.mark.parametrize("settings", [dict(normalisation="population", eps="0.1"),
                                      dict(normalisation="sample", eps="0.01"), dict(normalisation="shift"),
                                      dict(normalisation="population", penalty="direct")])
def test_rescaled_problem_has_the_same_preference_and_stationary_policy(settings):
    prob = Problem(reference=["0.3", "0.7"], rewards=[{"3": "0.5", "-1": "0.5"}, 5], group_size=4,
                   beta="0.7", **settings)
    equivalent, factor = rescaled(prob, always=True)
    assert min(equivalent.reward_values) == 0 and max(equivalent.reward_values) == 1
    policy = ["0.1", "0.9"]
    for a, b in zip(preference_numeric(prob, policy, DPS), preference_numeric(equivalent, policy, DPS)):
        assert close(a, b, factor)
    for a, b in zip(stationary_policy(prob, DPS), stationary_policy(equivalent, DPS)):
        assert close(a, b)


def test_only_needed_and_derived_cases_are_rescaled():
    prob = Problem(reference=["0.3", "0.7"], rewards=[2, 0], group_size=8, beta="0.5")
    assert rescaled(prob) == (prob, 1)  # small values: left alone
    tiny = prob.replace(rewards=["1e-300", 0])
    assert rescaled(tiny)[0].reward_values == (0, 1)
    assert rescaled(prob.replace(rewards=[sp.sqrt(2), 0]), always=True)[0] == prob.replace(rewards=[sp.sqrt(2), 0])
    assert rescaled(prob.replace(rewards=[1, 1]), always=True)[1] == 1


@pytest.mark.parametrize("rewards", [[10**400, 0], [1e300, 0], [1e-300, 0], ["1e-310", 0], [sp.Rational(1, 3**700), 0]])
def test_extreme_reward_scales_solve_like_the_unit_scale(rewards):
    unit = stationary_policy(Problem(reference=["0.3", "0.7"], rewards=[1, 0], group_size=8, beta="0.5"), DPS)
    scaled = stationary_policy(Problem(reference=["0.3", "0.7"], rewards=rewards, group_size=8, beta="0.5"), DPS)
    assert all(close(a, b) for a, b in zip(unit, scaled))


def test_float_range_names_the_parameter():
    with pytest.raises(ParameterError, match="^rewards: a float64 stage left its range"):
        with float_range("rewards"):
            float(10**400)
    with pytest.raises(SolverError, match="^problem: ") as info:
        with float_range("problem", SolverError):
            1 / 0  # noqa: B018
    assert info.value.reason == SolverError.NOT_CONVERGED
