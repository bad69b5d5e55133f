"""The one precision policy of the package: guard digits, rounding, tolerances, mpf crossings.

After mpmath's own ``defun_wrapped`` pattern, a numeric routine asked for ``dps`` digits computes
with :data:`GUARD_DIGITS` more and rounds its result to ``dps`` digits once, at the end:

* :func:`working_precision` — the context manager that sets mpmath's precision (``dps`` + guard
  digits); it is the only place in the package that sets it (:func:`working_bits` is the same in
  bits, for fixed-point code);
* :func:`rounded` — a result (mpf, tuple, list or dataclass of them) rounded to ``dps`` digits;
* :func:`at_working_precision` — both as a decorator for a function with a ``dps`` argument;
* :func:`tolerance` — the tolerance 10^(−dps) (with optional slack digits) every check uses;
* :func:`check_dps` — the validation of a ``dps`` argument (a :class:`ParameterError`);
* :func:`to_mpf`, :func:`policy_mpf` — exact numbers and policies into mpf at the working precision.

>>> @at_working_precision
... def third(dps=50):
...     return mpmath.mpf(1) / 3, mpmath.mp.dps
>>> value, working = third(dps=20)
>>> mpmath.nstr(value, 20), working == 20 + GUARD_DIGITS, mpmath.mp.dps
('0.33333333333333333333', True, 15)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
import dataclasses
import functools
import inspect
from typing import Any, TypeVar

import mpmath
import sympy as sp

from grpo_symbolic.model import inputs
from grpo_symbolic.model.errors import ParameterError
from grpo_symbolic.model.numbers import exact

GUARD_DIGITS = 15
"""Digits computed beyond the requested ``dps`` before the result is rounded to ``dps``."""

T = TypeVar("T")


def check_dps(dps: object, least: int = 5) -> int:
    """``dps`` if it is a whole number of digits >= ``least`` (the input gate's
    :func:`grpo_symbolic.model.inputs.dps`), else :class:`ParameterError`.

    >>> check_dps(30)
    30
    >>> check_dps(2.5)
    Traceback (most recent call last):
    ...
    grpo_symbolic.model.errors.ParameterError: dps: got 2.5; give a whole number of digits >= 5 and <= 10000 (default 50)
    """
    return inputs.dps(dps, least)


@contextmanager
def working_precision(dps: int, guard: int = GUARD_DIGITS) -> Iterator[int]:
    """Compute at ``dps`` + ``guard`` decimal digits inside the block; yields that precision.

    ``guard=0`` sets exactly ``dps`` digits (e.g. a float64-like stage at 12 digits).

    >>> with working_precision(30) as working:
    ...     working == mpmath.mp.dps == 30 + GUARD_DIGITS
    True
    """
    with mpmath.workdps(dps + guard):
        yield dps + guard


@contextmanager
def working_bits(bits: int) -> Iterator[int]:
    """Compute at ``bits`` binary digits inside the block (for fixed-point code that counts bits).

    >>> with working_bits(100):
    ...     mpmath.mp.prec
    100
    """
    with mpmath.workprec(bits):
        yield bits


def rounded(value: T, dps: int) -> T:
    """``value`` with every mpf/mpc in it rounded to ``dps`` digits (tuples, lists, dataclasses
    are rounded field by field; other values are returned as they are).  mpf values keep their
    digits afterwards, whatever the precision in force.

    >>> with working_precision(30):
    ...     x = mpmath.mpf(2) / 3
    >>> y, [z], label, half = rounded((x, [x], "label", 0.5), 5)
    >>> y == z, y.man_exp[0].bit_length() <= 20, label, half
    (True, True, 'label', 0.5)
    """
    with mpmath.workdps(dps):
        return _round(value)


def _round(value: Any) -> Any:
    if isinstance(value, (mpmath.mpf, mpmath.mpc)):
        return +value
    if isinstance(value, tuple):
        return tuple(_round(v) for v in value)
    if isinstance(value, list):
        return [_round(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(value, **{f.name: _round(getattr(value, f.name))
                                             for f in dataclasses.fields(value) if f.init})
    return value


def at_working_precision(function: Callable[..., T]) -> Callable[..., T]:
    """Decorator: run ``function`` at its ``dps`` argument + :data:`GUARD_DIGITS` and round its
    result with :func:`rounded` (the ``dps`` argument is checked with :func:`check_dps`).

    See the module docstring for an example.
    """
    signature = inspect.signature(function)
    if "dps" not in signature.parameters:
        raise TypeError(f"{function.__name__} has no dps parameter")

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        dps = check_dps(bound.arguments["dps"])
        with working_precision(dps):
            result = function(*bound.args, **bound.kwargs)
        return rounded(result, dps)

    return wrapper


def tolerance(dps: int | None = None, slack: int = 0) -> mpmath.mpf:
    """The tolerance 10^(−dps − slack) (``dps`` default: the precision in force).

    >>> mpmath.nstr(tolerance(20), 5), mpmath.nstr(tolerance(20, slack=5), 5)
    ('1.0e-20', '1.0e-25')
    """
    return mpmath.mpf(10) ** (-(mpmath.mp.dps if dps is None else dps) - slack)


def to_mpf(value: Any) -> mpmath.mpf:
    """``value`` (int, Fraction, SymPy number or mpf) as an mpf at the current mpmath precision.

    >>> with working_precision(20, guard=0):
    ...     print(to_mpf(sp.Rational(1, 3)))
    0.33333333333333333333
    """
    if isinstance(value, mpmath.mpf):
        return +value
    value = exact(value, "value")  # the exact reader: a string is never parsed by SymPy
    if value.free_symbols:
        raise ParameterError(f"cannot evaluate {value} numerically: it contains symbols {sorted(map(str, value.free_symbols))}; substitute numbers first")
    if value.is_Rational:
        return mpmath.mpf(int(value.p)) / int(value.q)
    return mpmath.mpf(value.evalf(mpmath.mp.dps + 10)._mpf_)


def policy_mpf(policy: Sequence[Any], size: int, name: str = "policy", dps: int | None = None) -> tuple[mpmath.mpf, ...]:
    """Check a numeric policy with the input gate (:func:`grpo_symbolic.model.inputs.policy`:
    length, finite, >= 0, sums to 1 exactly, or within 10^(−dps) for mpf entries) and return mpf
    values at the current precision (mpf entries as given).

    >>> policy_mpf(["0.25", "0.75"], 2)
    (mpf('0.25'), mpf('0.75'))
    """
    return tuple(v if isinstance(v, mpmath.mpf) else to_mpf(v) for v in inputs.policy(policy, size, name, dps))
