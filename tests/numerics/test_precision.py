"""The precision policy: guard digits, rounding, tolerance, dps checks."""

from dataclasses import dataclass

import pytest

from grpo_symbolic.model.errors import ParameterError
from grpo_symbolic.numerics.precision import (GUARD_DIGITS, at_working_precision, check_dps, mpx, rounded, tolerance,
                                              working_precision)


@dataclass(frozen=True)
class _Pair:
    value: object
    label: str


def test_rounded_matches_plain_rounding_and_walks_containers():
    with working_precision(40, guard=0):
        x = mpx.mpf(1) / 7
    with mpx.workdps(12):
        expected = +x
    pair = rounded(_Pair((x, [x]), "x"), 12)
    assert pair.value == (expected, [expected]) and pair.label == "x"


def test_decorator_computes_with_guard_digits_and_checks_dps():
    @at_working_precision
    def working(dps=30):
        return mpx.dps

    assert working() == 30 + GUARD_DIGITS and working(dps=7) == 7 + GUARD_DIGITS
    with pytest.raises(ParameterError, match="dps"):
        working(dps=3)


@pytest.mark.parametrize("bad", [True, 4, 7.0, "50"])
def test_check_dps_rejects(bad):
    with pytest.raises(ParameterError, match="dps: got"):
        check_dps(bad)


def test_tolerance():
    with mpx.workdps(30):
        assert tolerance(10) == mpx.mpf(10) ** -10 and tolerance(slack=2) == mpx.mpf(10) ** -32
