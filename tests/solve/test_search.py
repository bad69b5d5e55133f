"""Search strategies and SolverOptions."""

import mpmath
import pytest

from grpo_symbolic import Problem
from grpo_symbolic.model.errors import SolverError
from grpo_symbolic.solve.api import stationary_policies
from grpo_symbolic.solve.search import SolverOptions


def test_default_grid_is_the_documented_scan():
    grid = SolverOptions().scan_grid()
    assert len(grid) == 481 and grid[0] == -60 and grid[-1] == 60


def test_a_coarser_scan_misses_close_roots_and_says_so():  # the uncertified fallback
    problem = Problem(reference=["0.5", "0.5"], rewards=[1, 0], group_size="inf", beta=3, penalty="direct")
    assert len(stationary_policies(problem, dps=20)) == 2
    narrow = SolverOptions(certified=False, scan_span=0.5, scan_step=0.5)
    with pytest.raises(SolverError) as info:
        stationary_policies(problem, dps=20, options=narrow)
    assert info.value.reason == SolverError.NOT_CONVERGED  # not proven absent: the scan is not complete


def test_multistart_options_are_used():
    problem = Problem(reference=["0.2", "0.3", "0.5"], rewards=[2, 1, 0], group_size=3, beta=1)
    default = stationary_policies(problem, dps=20, stability=False)
    single = stationary_policies(problem, dps=20, stability=False, options=SolverOptions(multistart=(0.0,)))
    assert [mpmath.nstr(x, 15) for x in default[0].policy] == [mpmath.nstr(x, 15) for x in single[0].policy]
