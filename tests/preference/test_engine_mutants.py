"""grpo_symbolic.preference.engine: tests that kill mutants tools/mutate.py found alive.

Each test names the mutation it catches.
"""

import math

from grpo_symbolic import Problem
from grpo_symbolic.preference.engine import monte_carlo_preference


def test_monte_carlo_standard_error_shrinks_like_one_over_root_n():
    """Catches ``std / sqrt(samples)`` → ``std * sqrt(samples)`` (the estimate-within-4-se test cannot)."""
    prob = Problem(reference=["0.3", "0.7"], rewards=[{1: "0.6", 0: "0.4"}, 0], group_size=4, beta=1)
    _, small = monte_carlo_preference(prob, ["0.5", "0.5"], samples=4000, seed=3)
    _, large = monte_carlo_preference(prob, ["0.5", "0.5"], samples=16000, seed=3)
    assert all(0.4 < b / a < 0.6 for a, b in zip(small, large))
    assert all(e < 2 / math.sqrt(4000) for e in small)  # |A| <= sqrt(G - 1) bounds the std by sqrt(3) < 2
