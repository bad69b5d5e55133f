"""grpo_symbolic.preference.moments: tests that kill mutants tools/mutate.py found alive."""

import mpmath
import sympy as sp

from grpo_symbolic.preference.engine import numeric_table
from grpo_symbolic.preference.moments import moment_table


def test_guard_bits_cover_a_wide_integer_spread():
    """Catches ``+ spread.bit_length()`` → ``-`` in the guard bits: rewards 0, 1e-30, 1 scale to
    integers 100 bits apart, and the fixed-point sums then need those bits (3 digits left, not 50)."""
    values = (sp.Integer(0), sp.Rational(1, 10**30), sp.Integer(1))
    with mpmath.workdps(50):
        m = [mpmath.mpf(1) / 3, mpmath.mpf(1) / 4, mpmath.mpf(5) / 12]
        fast = moment_table(values, 8, "population", 0).evaluate(m)
        with mpmath.workdps(70):
            plain = numeric_table(values, 8, "population", 0, 70).evaluate(m)
        assert all(abs(a - b) <= abs(b) * mpmath.mpf(10) ** -48 for a, b in zip(fast, plain))
