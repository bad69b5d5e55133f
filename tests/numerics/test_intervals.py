"""Ball-arithmetic isolation (numerics/intervals.py): isolate, refine_roots and the double-root test."""

import pytest

flint = pytest.importorskip("flint", reason="python-flint (the 'rigorous' extra) is not installed")

from grpo_symbolic.numerics.certify import flint_precision  # noqa: E402
from grpo_symbolic.numerics.intervals import fold, fold_slope, isolate  # noqa: E402

arb = flint.arb


def quadratic(c):
    """F(s) = (s − 1)² + c: a double root (c = 0), two roots √−c apart of 1 (c < 0), none (c > 0)."""
    return lambda s: [(s[0] - 1) * (s[0] - 1) + c]


def test_a_double_root_is_a_fold_and_its_centre_is_the_critical_point():
    with flint_precision(40):
        verdict, found = fold(quadratic(0), arb("0.5"), arb("1.7"), arb(10) ** -40)
        assert verdict == "fold" and abs(found.centre - 1) < arb(10) ** -45
        assert found.bound <= arb(10) ** -40 and found.radius < arb(10) ** -19


def test_a_pair_wider_than_the_tolerance_is_no_fold_and_isolation_finds_both_roots():
    with flint_precision(40):
        verdict, box = fold(quadratic(-arb(10) ** -30), arb("0.5"), arb("1.7"), arb(10) ** -40)
        assert verdict == "none" and box.contains(1)  # the box around the critical point holds no root
        roots = isolate(quadratic(-arb(10) ** -30), [(arb("0.5"), arb("1.7"))], min_width=arb(2) ** -100).roots
        assert sorted(float(r[0].mid()) - 1 for r in roots) == pytest.approx([-1e-15, 1e-15], rel=1e-9)


def test_a_pair_closer_than_the_tolerance_is_one_fold_and_no_root_is_no_fold():
    with flint_precision(40):
        assert fold(quadratic(-arb(10) ** -50), arb("0.5"), arb("1.7"), arb(10) ** -40)[0] == "fold"
        verdict, box = fold(quadratic(arb(10) ** -30), arb("0.5"), arb("1.7"), arb(10) ** -40)
        assert verdict == "none"


def test_without_a_turn_of_the_slope_nothing_is_decided():
    with flint_precision(40):
        cubic = lambda s: [(s[0] - 1) ** 3]  # noqa: E731 - F' does not change sign: a triple root is no fold
        assert fold(cubic, arb("0.5"), arb("1.7"), arb(10) ** -40) == ("undecided", None)
        assert fold_slope(lambda s: None, arb(1)).is_nan()


def test_isolation_is_complete_and_leaves_a_double_root_unresolved():
    with flint_precision(30):
        result = isolate(quadratic(0), [(arb(0), arb(3))])
    assert not result.complete and result.roots == [] and all(float(lo) - 1e-12 <= 1 <= float(hi) + 1e-12 for ((lo, hi),) in result.unresolved)
