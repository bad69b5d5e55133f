"""The float64 grid's guards: the iteration cap, non-finite parameters, points that do not converge."""

import math

import numpy as np
import pytest

from grpo_symbolic.model.errors import ParameterError, SolverError
from grpo_symbolic.solve import binary_grid


@pytest.mark.parametrize("iterations", [0, 1, binary_grid.MIN_ITERATIONS - 1, 30.0, True, "100"])
def test_too_few_or_non_integer_iterations_are_refused(iterations):
    """Issue 10: iterations=0 or 1 returned 0.80 or 0.718 (the start, one step) where 0.711 is right."""
    with pytest.raises(ParameterError, match="iterations"):
        binary_grid.stationary_grid(2, 0.5, 0.3, iterations=iterations)


def test_the_minimum_iterations_reach_the_answer():
    value = binary_grid.stationary_grid(2, 0.5, 0.3, iterations=binary_grid.MIN_ITERATIONS)
    assert math.isclose(value, 0.7109772228646444, rel_tol=1e-13)


@pytest.mark.parametrize("beta,reference", [(np.nan, 0.3), (0.5, np.nan), (np.inf, 0.3), (0.5, np.inf),
                                            (np.array([0.5, np.nan]), 0.3), (-np.inf, 0.3)])
def test_non_finite_beta_or_reference_is_refused(beta, reference):
    """Issue 10: NaN β or ρ returned NaN."""
    name = "beta" if not np.all(np.isfinite(beta)) else "reference"
    with pytest.raises(ParameterError, match=name):
        binary_grid.stationary_grid(8, beta, reference)


def test_extreme_points_converge_within_the_minimum():
    """The slowest points tried (MIN_ITERATIONS' documentation) converge in MIN_ITERATIONS steps."""
    rng = np.random.default_rng(0)
    beta = 10 ** rng.uniform(-4, 4, 4000)
    reference = np.minimum(10 ** rng.uniform(-12, 0, 4000), 1 - 1e-9)
    for group_size in (2, 8, 64, 512):
        fast = binary_grid.stationary_grid(group_size, beta, reference, iterations=binary_grid.MIN_ITERATIONS)
        assert np.array_equal(fast, binary_grid.stationary_grid(group_size, beta, reference, iterations=400))


def test_a_point_that_cannot_converge_raises(monkeypatch):
    """A NaN in the iteration (here: a broken preference) is named, not returned."""
    def broken(group_size, p, normalisation="population"):
        value, slope = preference_a(group_size, p, normalisation)
        return np.where(np.abs(p - 0.711) < 1e-3, np.nan, value), slope

    preference_a = binary_grid.preference_a
    binary_grid.stationary_grid(2, np.array([0.5]), 0.3)  # the cached start bound, from the real P_G (any test order)
    monkeypatch.setattr(binary_grid, "preference_a", broken)
    with pytest.raises(SolverError) as info:
        binary_grid.stationary_grid(2, np.array([0.5, 1.0]), 0.3)
    assert info.value.reason == SolverError.NOT_CONVERGED and "1 entries: 0 " in str(info.value)


@pytest.mark.parametrize("beta,reference", [(1e-300, 0.3), (np.array([0.5, 1e-300]), 0.3), (1e-20, 0.5), (0.5, 1 - 2**-53)])
def test_a_root_within_rounding_of_one_is_refused(beta, reference):
    """Issue 10: β = 1e-300 returned π(a) = 1.0, i.e. 1 − π(a) = 0 where it is about 5e-301 (the exact
    solver's π(b) below); the grid refuses instead of returning 1."""
    from grpo_symbolic import Problem, stationary_policy
    exact = stationary_policy(Problem(reference=["0.3", "0.7"], rewards=[1, 0], group_size=2, beta="1e-300"), dps=20)
    assert 1e-301 < exact[1] < 1e-300  # what the float grid cannot hold next to 1
    with pytest.raises(ParameterError, match="^beta: .*within float64 rounding of 1"):
        binary_grid.stationary_grid(2, beta, reference)


def test_small_but_representable_complements_are_kept():
    value = binary_grid.stationary_grid(2, 1e-8, 0.3)
    assert 0 < 1 - value < 1e-7
