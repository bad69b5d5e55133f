"""Group filtering: the theory's weights, the enumerated objective, binary forms and the solver."""

import mpmath
import numpy as np
import pytest
import sympy as sp

from grpo_symbolic.cases import filtering
from grpo_symbolic.dynamics.simulate import expected_flow
from grpo_symbolic.model.errors import ParameterError
from grpo_symbolic.model.problem import Problem
from grpo_symbolic.model.symbols import beta, p, rho
from grpo_symbolic.solve.api import stationary_policies, stationary_policy
from grpo_symbolic.theory.filtering import degenerate_probability, derive_filtered_stationarity, kept_probability


def test_seventy_percent_of_pairs_carry_no_signal():
    """The issue's example: G = 2, accuracy 0.18 ⇒ P(all equal) = 0.18² + 0.82² ≈ 0.70."""
    m = (sp.Rational(82, 100), sp.Rational(18, 100))
    assert degenerate_probability(m, 2) == sp.Rational(881, 1250)


def test_kept_probability_keeps_its_digits_next_to_a_vertex():
    """Catches: 1 − m^(G−1) computed by subtraction (0 instead of 7e-40 in mpmath at 30 digits)."""
    with mpmath.workdps(30):
        tiny = mpmath.mpf("1e-40")
        w = kept_probability((1, 0), (1 - tiny, tiny), 8)
        assert abs(w / (7 * tiny) - 1) < mpmath.mpf("1e-25")
    assert abs(kept_probability((1.0, 0.0), [1 - 1e-20, 1e-20], 8) - 7e-20) < 1e-33
    assert kept_probability((0, 1), (sp.Rational(1, 2), sp.Rational(1, 2)), sp.oo) == 1


@pytest.mark.parametrize("penalty", ["grpo", "direct"])
def test_filters_only_rescale_beta_per_output(penalty):
    st = derive_filtered_stationarity(penalty, "mask-penalty", 3)
    assert st.multiplier_scale == 1 and len(st.effective_beta) == 3
    assert derive_filtered_stationarity(penalty, "drop-equal", 2).multiplier_scale == 1 - sp.Symbol("Z", positive=True)


@pytest.mark.parametrize("group_filter", ["keep", "mask-penalty", "drop-equal"])
def test_enumerated_objective_matches_the_weighted_form(group_filter):
    """Catches: the masked penalty weighted by π_old instead of π_old·W, Z in place of 1 − Z."""
    problem = Problem(("1/3", "2/3"), ({"0": "1/2", "1": "1/2"}, 0), 3, "1/2", group_filter=group_filter)
    q = sp.Symbol("q", positive=True)
    old = (sp.Rational(1, 4), sp.Rational(3, 4))
    difference = filtering.enumerated_objective(problem, (q, 1 - q), old) - filtering.derived_objective(problem, (q, 1 - q), old)
    assert sp.simplify(sp.expand_log(difference, force=True)) == 0


def test_g2_binary_forms():
    """keep: the paper's (17); filtered: the cubic β(p − ρ)(p² + (1 − p)²) = p(1 − p)."""
    assert sp.expand(filtering.polynomial(2, "keep") - (beta * (p - rho) - p * (1 - p))) == 0
    cubic = beta * (p - rho) * (p**2 + (1 - p) ** 2) - p * (1 - p)
    assert sp.expand(filtering.polynomial(2, "drop-equal") - cubic) == 0


@pytest.mark.parametrize("size", [2, 4])
def test_solver_keep_differs_filters_agree(size):
    policies = [stationary_policy(Problem(("3/10", "7/10"), (1, 0), size, "1/2", group_filter=f), 30)[0]
                for f in ("keep", "mask-penalty", "drop-equal")]
    assert abs(policies[1] - policies[2]) < mpmath.mpf("1e-28")
    assert abs(policies[0] - policies[1]) > mpmath.mpf("1e-3")


def test_filtered_solver_with_three_outputs_and_noise():
    problem = Problem(("1/5", "3/10", "1/2"), (1, {"0": "1/2", "1": "1/2"}, 0), 4, "1/2", group_filter="drop-equal")
    points = stationary_policies(problem, 30)
    assert len(points) == 1 and points[0].stable is None and not points.completeness.certified
    assert abs(mpmath.fsum(points[0].policy) - 1) < mpmath.mpf("1e-28")


def test_expected_flow_applies_the_filter():
    problem = Problem(("3/10", "7/10"), (1, 0), 3, "1/2", group_filter="mask-penalty")
    flow = expected_flow(problem, steps=3000, lr=1.0)
    assert np.isclose(flow[-1, 0], float(stationary_policy(problem, 20)[0]), atol=1e-8)


def test_small_beta_agrees_to_first_order_only():
    keep, masked = filtering.small_beta(2, "keep"), filtering.small_beta(2, "mask-penalty")
    assert keep[0] == masked[0] == 1 - rho
    assert sp.simplify(keep[1] - masked[1]) != 0


def test_keep_only_helpers_refuse_a_filter():
    from grpo_symbolic.cases.general import vertex_kkt
    from grpo_symbolic.cases.shift_only import grpo_policy

    filtered = Problem(("3/10", "7/10"), (1, 0), 2, "1/2", group_filter="drop-equal")
    with pytest.raises(ParameterError, match="^group_filter: vertex_kkt"):
        vertex_kkt(filtered)
    with pytest.raises(ParameterError, match="^group_filter: pool_fixed_point"):
        grpo_policy(filtered.replace(normalisation="shift"))
    with pytest.raises(ParameterError, match="^advantage: pool_fixed_point"):
        grpo_policy(Problem(("3/10", "7/10"), (1, 0), 2, "1/2", advantage="rloo"))
