"""grpo_symbolic.cases.baselines: tests that kill mutants tools/mutate.py found alive."""

import mpmath

from grpo_symbolic.cases.baselines import nlhf_equilibrium_numeric


def test_nlhf_continuation_reaches_a_small_weight():
    """Catches ``log(4 / weight, 2)`` → ``log(4 * weight, 2)`` halvings: without the continuation from
    weight 4, Newton from pi_ref does not reach the equilibrium at weight 0.02 here (smaller weights with
    this data leave Newton's real domain and raise SolverError, which is what they should do)."""
    prefers = ((0.5, 0.99, 0.6), (0.01, 0.5, 0.3), (0.4, 0.7, 0.5))
    with mpmath.workdps(30):
        policy, _ = nlhf_equilibrium_numeric(prefers, ("0.98", "0.01", "0.01"), mpmath.mpf("0.02"))
        assert abs(mpmath.fsum(policy) - 1) < mpmath.mpf(10) ** -25
        assert all(isinstance(x, mpmath.mpf) for x in policy)
        assert abs(policy[0] - mpmath.mpf("0.999931")) < mpmath.mpf(10) ** -6  # the equilibrium sits near output 1
