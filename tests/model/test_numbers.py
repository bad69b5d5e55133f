"""The exact number reader (grpo_symbolic.model.numbers): exact values, strings never evaluated."""

from fractions import Fraction
import math
import os

import mpmath
import pytest
import sympy as sp

from grpo_symbolic.model.errors import ParameterError
from grpo_symbolic.model.numbers import exact


@pytest.mark.parametrize("value, expected", [
    (3, sp.Integer(3)), (-2, sp.Integer(-2)), (sp.Integer(5), sp.Integer(5)),
    ("0.3", sp.Rational(3, 10)), (" 1/3 ", sp.Rational(1, 3)), ("-1e-4", sp.Rational(-1, 10**4)), ("7", sp.Integer(7)),
    (Fraction(2, 7), sp.Rational(2, 7)), (0.5, sp.Rational(1, 2)), (0.1, sp.Rational(3602879701896397, 2**55)),
    (mpmath.mpf("0.25"), sp.Rational(1, 4)), (mpmath.mpf("-0.25"), sp.Rational(-1, 4)), (sp.Float("0.5"), sp.Rational(1, 2)), (sp.sqrt(2), sp.sqrt(2)),
])
def test_numbers_are_read_exactly(value, expected):
    result = exact(value, "x")
    assert result == expected and isinstance(result, sp.Basic)


def test_symbols_are_kept():
    a = sp.Symbol("a", positive=True)
    assert exact(1 - a, "x") == 1 - a


@pytest.mark.parametrize("value", [
    "abc", "", "1/0", "nan", "inf", "0.3.1", "1+1", "sqrt(2)", "2**3", "x",
    True, False, math.nan, math.inf, -math.inf, mpmath.mpf("inf"), mpmath.mpf("nan"),
    sp.oo, -sp.oo, sp.zoo, sp.nan, sp.I, 1 + 2j, None, [1], {"a": 1}, b"0.3",
])
def test_bad_values_raise_parameter_error_naming_the_parameter(value):
    with pytest.raises(ParameterError) as info:
        exact(value, "beta")
    message = str(info.value)
    assert message.startswith("beta: ") and len(message.splitlines()) == 1


@pytest.mark.parametrize("attack", [
    '__import__("os").system("touch {marker}")',
    "__import__('os').system('touch {marker}')",
    'exec("open(\'{marker}\', \'w\').close()")',
    'lambda: open("{marker}", "w")',
])
def test_strings_are_never_evaluated(attack, tmp_path):
    marker = tmp_path / "evaluated"
    with pytest.raises(ParameterError, match="^beta: cannot read"):
        exact(attack.format(marker=marker), "beta")
    assert not os.path.exists(marker)


@pytest.mark.parametrize("value", [
    mpmath.mpf("1e-99999999"), sp.Float(mpmath.mpf("1e99999999")), Fraction(1, 2**400_000), 3**300_000,
    sp.Rational(1, 2**400_000), "1e-100001",
], ids=["mpf 1e-99999999", "Float 1e99999999", "Fraction 2**-400000", "3**300000", "Rational 2**-400000", "'1e-100001'"])
def test_numbers_beyond_the_size_limits_are_refused(value):
    """Issue 17: a number of more than MAX_BITS bits (10^±102 000) is refused before it is expanded."""
    with pytest.raises(ParameterError, match="^beta: .*(bits|exponent)"):
        exact(value, "beta")


def test_numbers_at_the_limits_are_read():
    from grpo_symbolic.model.numbers import MAX_BITS, MAX_EXPONENT
    assert exact(f"1e-{MAX_EXPONENT}", "beta") == sp.Rational(1, 10**MAX_EXPONENT)
    assert exact(Fraction(1, 2**(MAX_BITS - 1)), "beta") == sp.Rational(1, 2**(MAX_BITS - 1))
    assert exact(mpmath.mpf(2) ** (1 - MAX_BITS), "beta") == sp.Rational(1, 2**(MAX_BITS - 1))
    assert exact(sp.Float(mpmath.mpf("-0.375")), "beta") == sp.Rational(-3, 8)


def test_huge_values_are_shown_briefly():
    from grpo_symbolic.model.errors import shown
    assert shown(10**5000) == "an integer of about 5001 digits"  # repr would raise beyond 4300 digits
    assert len(shown("9" * 10_000)) < 100
