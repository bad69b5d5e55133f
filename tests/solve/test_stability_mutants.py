"""grpo_symbolic.solve.stability: tests that kill mutants tools/mutate.py found alive."""

from grpo_symbolic import Problem
from grpo_symbolic.solve.api import stationary_policies


def test_spectral_radius_does_not_depend_on_the_digits_asked():
    """Catches the difference step 10^-(dps+10) → 10^(10-dps): harmless at 50 digits, a step of 1 at 10."""
    problem = Problem(reference=["0.3", "0.3", "0.4"], rewards=[2, 0, 1], group_size=4, beta="0.3")
    low, high = stationary_policies(problem, dps=10), stationary_policies(problem, dps=40)
    assert len(low) == len(high) >= 1
    assert all(abs(a.spectral_radius - b.spectral_radius) < 1e-8 for a, b in zip(low, high))
