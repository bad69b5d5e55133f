"""The cost model: estimates from sizes alone, and refusals with a clear message."""

from __future__ import annotations

import math

import pytest
import sympy as sp

from grpo_symbolic import ParameterError, Problem, stationary_policies
from grpo_symbolic.dynamics.simulate import expected_flow, simulate
from grpo_symbolic.model import cost
from grpo_symbolic.preference.engine import monte_carlo_preference


def test_counts():
    assert cost.compositions(3, 8) == math.comb(9, 2)
    assert cost.compositions(30, 10**20) == cost.MAX_ESTIMATE  # never computed as an integer
    assert cost.kronecker_length(64, 10) == 63 * (10 * ((63 * 100 - 4) // 8 + 1) + 5) + 1  # W even: B ≤ ⌊(kW² − 4)/8⌋ + 1
    assert cost.kronecker_length(64, 9) == 63 * (9 * (63 * 10 + 1)) + 1  # W odd: B = k(W² − 1)/8 + 1, c(W) = 0
    assert cost.reward_span([sp.Integer(0), sp.Rational(1, 3), sp.Integer(1)]) == 3
    assert cost.reward_span([sp.Integer(0), sp.sqrt(2)]) is None


def test_the_sums_path_wins_only_with_many_values():
    assert cost.preference_work(2, 64, 1).compositions < cost.preference_work(2, 64, 1).sums
    many = cost.preference_work(11, 64, 10)
    assert many.sums < many.compositions and many.exact == many.sums
    assert cost.preference_work(11, 64, 10, sums=False).sums is None


def test_growth_follows_the_models():
    """Doubling G multiplies the (S1, S2) work by about 2²·(1 + 1/log₂ G) (the length ~ G²)."""
    a, b = cost.preference_work(11, 32, 10).sums, cost.preference_work(11, 64, 10).sums
    assert 4 < b / a < 6


@pytest.mark.parametrize("value", [0, -1, float("nan"), "10", True, None.__class__])
def test_bad_budgets(value):
    with pytest.raises(ParameterError, match="budget"):
        cost.check_budget(value)


def test_every_entry_point_refuses_before_working():
    big = Problem(["1/2", "1/2"], [{str(v): "1/30" for v in range(30)}, 0], 4096, 1)
    with pytest.raises(ParameterError, match="budget: stationary_policies"):
        stationary_policies(big)
    with pytest.raises(ParameterError, match="budget: expected_flow"):
        expected_flow(big, steps=10, lr=0.1)
    with pytest.raises(ParameterError, match="budget: simulate"):
        simulate(big, iterations=10**6, lr=0.1, groups=1000)
    with pytest.raises(ParameterError, match="budget: monte_carlo_preference"):
        monte_carlo_preference(big, ["1/2", "1/2"], samples=10**7)


def test_cli_budget():
    from grpo_symbolic.cli import main

    argv = ["solve", "--reference", "0.5,0.5", "--rewards", "0:1/2/3:1/2,1", "--group-size", "8", "--beta", "1"]
    assert main([*argv, "--budget", "1e-9"]) == 2
    assert main([*argv, "--budget", "nan"]) == 2
