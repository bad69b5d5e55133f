"""Exact reading of user numbers: int, decimal string, Fraction, float, mpmath or SymPy values.

Strings are read with :class:`fractions.Fraction`, never with ``eval`` or ``sympify``.
Floats are converted exactly (``0.1`` becomes the binary fraction nearest 1/10), so
write probabilities as strings such as ``"0.1"`` when they must sum to 1.
"""

from __future__ import annotations

from fractions import Fraction
import math
import numbers as _numbers
import re
from typing import Union

import mpmath
import sympy as sp

from grpo_symbolic.model.errors import ParameterError, shown

NumberLike = Union[int, float, str, Fraction, sp.Basic, mpmath.mpf]
"""What :func:`exact` reads: an int, float, decimal or fraction string, Fraction, SymPy or mpmath number."""


def exact(value: object, name: str) -> sp.Expr:
    """Return ``value`` as an exact SymPy expression (a Rational for plain numbers).

    ``name`` is the parameter's name, used in error messages.  A string is read with
    :class:`fractions.Fraction` and never evaluated: anything but a decimal or a fraction is a
    :class:`ParameterError`.

    Examples
    --------
    >>> exact("0.3", "beta")
    3/10
    >>> exact("1/3", "beta")
    1/3
    >>> exact(0.5, "beta")
    1/2
    >>> exact("abc", "beta")
    Traceback (most recent call last):
    ...
    grpo_symbolic.model.errors.ParameterError: beta: cannot read 'abc' as a number; write a decimal such as '0.3' or a fraction such as '3/10'
    """
    if isinstance(value, bool):
        raise ParameterError(f"{name}: got a boolean ({value}); give a number")
    if isinstance(value, sp.Basic):
        return _from_sympy(value, name)
    if isinstance(value, _numbers.Integral):
        return _bounded(sp.Integer(int(value)), name)
    if isinstance(value, Fraction):
        return _bounded(sp.Rational(value.numerator, value.denominator), name)
    if isinstance(value, str):
        return _from_string(value, name)
    if isinstance(value, mpmath.mpf):
        return _from_binary(value._mpf_, name)
    if isinstance(value, _numbers.Real):
        value = float(value)
        if not math.isfinite(value):
            raise ParameterError(f"{name}: got {value}, which is not finite; give a finite number")
        f = Fraction(value)
        return sp.Rational(f.numerator, f.denominator)
    raise ParameterError(
        f"{name}: cannot use {shown(value)} of type {type(value).__name__} as a number; "
        "give an int, a decimal string, a Fraction or a SymPy number"
    )


MAX_STRING = 1000
"""The longest number string read (a cost limit, with :data:`MAX_EXPONENT`)."""

MAX_EXPONENT = 100_000
"""The largest |decimal exponent| a string may carry ("1e-300" is fine; "1e999999999" would
make a billion-digit integer).  Far beyond what any precision can use: :data:`~grpo_symbolic.model.inputs.MAX_DPS`
is 10 000 digits, and mpmath's own exponent range is not the limit."""

MAX_BITS = 340_000
"""The most bits a numerator, denominator or binary exponent read may have (10^±102 000, the
binary counterpart of :data:`MAX_EXPONENT`): an int, Fraction, mpf or SymPy number beyond is
refused before it is expanded (``mpf("1e-99999999")`` would become a 3·10^8-bit integer)."""


def _bounded(value: sp.Expr, name: str) -> sp.Expr:
    """``value`` (an exact SymPy number) if its numerator and denominator fit :data:`MAX_BITS`."""
    if value.is_Rational and max(abs(value.p).bit_length(), value.q.bit_length()) > MAX_BITS:
        raise ParameterError(f"{name}: the number has more than {MAX_BITS} bits (beyond 10^±102000); "
                             "give a number of moderate size (rescale the problem)")
    return value


def _from_binary(mpf_value: tuple, name: str) -> sp.Expr:
    """An mpmath/SymPy binary float (sign, mantissa, exponent, bits) as an exact Rational."""
    sign, man, exp, bits = mpf_value
    if not man and exp:  # mpmath's codes for inf, −inf and nan
        raise ParameterError(f"{name}: got {mpmath.mpf(mpf_value)}, which is not finite; give a finite number")
    if abs(exp) > MAX_BITS:
        raise ParameterError(f"{name}: the number's binary exponent {exp} is beyond ±{MAX_BITS} (10^±102000); "
                             "give a number of moderate size (rescale the problem)")
    value = sp.Integer(-man if sign else man)
    return value * sp.Integer(2) ** exp if exp >= 0 else value / sp.Integer(2) ** (-exp)


_EXPONENT = re.compile(r"[eE][+-]?0*([\d_]*)")


def _from_string(text: str, name: str) -> sp.Expr:
    exponent = _EXPONENT.search(text)
    digits = exponent.group(1).replace("_", "") if exponent else ""
    if len(text) > MAX_STRING or len(digits) > 6 or (digits and int(digits) > MAX_EXPONENT):
        raise ParameterError(
            f"{name}: the number string is too long or its exponent too large (at most {MAX_STRING} "
            f"characters, |exponent| <= {MAX_EXPONENT}); give a smaller number"
        )
    try:
        f = Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        raise ParameterError(
            f"{name}: cannot read {text!r} as a number; "
            "write a decimal such as '0.3' or a fraction such as '3/10'"
        ) from None
    return _bounded(sp.Rational(f.numerator, f.denominator), name)


def _from_sympy(value: sp.Basic, name: str) -> sp.Expr:
    if not isinstance(value, sp.Expr):
        raise ParameterError(f"{name}: got the SymPy object {shown(value)}, which is not an expression; give a number")
    if value.free_symbols:
        return value
    if value.has(sp.nan, sp.zoo, sp.oo, -sp.oo) or value.is_finite is False:
        raise ParameterError(f"{name}: got {value}, which is not finite; give a finite number")
    if isinstance(value, sp.Float):
        return _from_binary(value._mpf_, name)
    if isinstance(value, sp.Rational):
        return _bounded(value, name)
    if value.is_real is False:
        raise ParameterError(f"{name}: got {value}, which is not real; give a real number")
    return value
