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


def test_one_pass_for_the_usual_spread(monkeypatch):
    """With the reserve bits a relative evaluation sums once when the Q_v are a few bits apart
    (rewards 0..V−1, m ∝ 1..V: without the reserve each of these took a second pass)."""
    from grpo_symbolic.preference.moments import MomentTable

    passes = []
    totals = MomentTable._totals
    monkeypatch.setattr(MomentTable, "_totals", lambda self, *a: passes.append(a[-1]) or totals(self, *a))
    for V, G in [(5, 8), (11, 8), (6, 16)]:
        table = MomentTable(tuple(sp.Integer(v) for v in range(V)), G, "population", sp.Integer(0))
        with mpmath.workdps(50):
            table.evaluate([mpmath.mpf(k + 1) / (V * (V + 1) // 2) for k in range(V)], relative=True)
    assert len(passes) == 3
