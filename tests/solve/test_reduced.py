"""The reduced map: one code in float64 and mpmath, zero at the solver's roots."""

import numpy as np

from grpo_symbolic import Problem
from grpo_symbolic.numerics.precision import mpx, working_precision
from grpo_symbolic.solve.api import stationary_policy
from grpo_symbolic.solve.reduced import ReducedMap


def _problem():
    return Problem(reference=["0.2", "0.3", "0.5"], rewards=[2, 1, 0], group_size=4, beta="0.7")


def test_float_and_mpmath_backends_agree():
    with working_precision(30):
        reduced = ReducedMap(_problem(), 30)
        for s in ([0.3, -0.4], [2.0, 1.0], [-3.0, 0.5]):
            exact = reduced.residual([mpx.mpf(x) for x in s])
            fast = reduced.residual(s, reduced.fast)
            assert np.allclose([float(x) for x in exact], fast, rtol=1e-10, atol=1e-12)


def test_residual_vanishes_at_the_stationary_policy():
    problem = _problem()
    pi = stationary_policy(problem, dps=30)
    with working_precision(30):
        reduced = ReducedMap(problem, 30)
        m = [mpx.fsum(p * law[j] for p, law in zip(pi, reduced.laws)) for j in range(3)]
        s = [mpx.log(m[j] / m[-1]) for j in range(2)]
        assert max(abs(x) for x in reduced.residual(s)) < mpx.mpf(10) ** -25


def test_classes_merge_outputs_with_equal_laws():
    problem = Problem(reference=["0.1", "0.2", "0.3", "0.4"], rewards=[1, 0, 1, 0], group_size=3, beta=1)
    with working_precision(20):
        reduced = ReducedMap(problem, 20)
    assert reduced.members == [[0, 2], [1, 3]] and reduced.class_of == [0, 1, 0, 1]
