"""Stability: float64 spectral radius, exact second-order test, None when not asked."""

import itertools

import numpy as np

from grpo_symbolic import Problem
from grpo_symbolic.solve.api import stationary_policies
from grpo_symbolic.solve.stability import negative_definite_on_simplex


def test_spectral_radius_is_a_float_and_none_without_stability():
    problem = Problem(reference=["0.5", "0.5"], rewards=[1, 0], group_size="inf", beta=3, penalty="direct")
    points = stationary_policies(problem, dps=20)
    assert all(isinstance(pt.spectral_radius, float) and isinstance(pt.stable, bool) for pt in points)
    bare = stationary_policies(problem, dps=20, stability=False)
    assert all(pt.spectral_radius is None and pt.stable is None and pt.is_local_maximum is None for pt in bare)


def test_second_order_test_matches_projected_eigenvalues():
    for a in itertools.product([-3.0, -1.0, 0.5, 2.0], repeat=3):
        basis = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])
        eigen = np.linalg.eigvalsh(basis.T @ np.diag(a) @ basis)
        assert negative_definite_on_simplex(list(a)) == bool(np.all(eigen < 0))
