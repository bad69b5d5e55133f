"""The one precision policy of the package: guard digits, rounding, tolerances, mpf crossings.

After mpmath's own ``defun_wrapped`` pattern, a numeric routine asked for ``dps`` digits computes
with :data:`GUARD_DIGITS` more and rounds its result to ``dps`` digits once, at the end:

* :data:`mpx` — the package's own mpmath context, whose precision is per thread: every numeric
  routine calls ``mpx.mpf``, ``mpx.exp``, ``mpx.dps`` … where it would call ``mpmath.mpf``,
  ``mpmath.exp``, ``mpmath.mp.dps``; :func:`mp_lambdify` is SymPy's ``lambdify(..., "mpmath")``
  computing with it.  mpmath's global ``mp`` is never set, so threads computing at different
  precisions do not disturb one another or the caller;
* :func:`working_precision` — the context manager that sets this thread's precision of ``mpx``
  (``dps`` + guard digits); it is the only place in the package that sets a precision
  (:func:`working_bits` is the same in bits, for fixed-point code);
* :func:`rounded` — a result (mpf, tuple, list or dataclass of them) rounded to ``dps`` digits;
* :func:`at_working_precision` — both as a decorator for a function with a ``dps`` argument;
* :func:`tolerance` — the tolerance 10^(−dps) (with optional slack digits) every check uses;
* :func:`check_dps` — the validation of a ``dps`` argument (a :class:`ParameterError`);
* :func:`to_mpf`, :func:`policy_mpf` — exact numbers and policies into mpf at the working precision.

>>> @at_working_precision
... def third(dps=50):
...     return mpx.mpf(1) / 3, mpx.dps
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
import threading
from typing import Any, TypeVar

import mpmath
from mpmath.libmp import dps_to_prec, prec_to_dps, round_nearest
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


class _ThreadPrecision:
    """mpmath's ``[prec, rounding]`` pair of :data:`mpx`, kept per thread: a thread's working
    precision inside :func:`working_precision`, mpmath's global precision (read, never set) outside.
    mpmath only unpacks it, indexes it and sets its first item."""

    __slots__ = ()

    def __iter__(self) -> Iterator[Any]:  # every mpf operation unpacks the pair: kept short
        prec = getattr(_THREAD, "prec", None)
        return iter((mpmath.mp.prec if prec is None else prec, round_nearest))

    def __getitem__(self, index: Any) -> Any:
        return tuple(self)[index]

    def __setitem__(self, index: Any, value: Any) -> None:
        """Set this thread's precision; mpmath's own ``prec = …`` / restore pairs (``workprec``,
        ``extraprec``, try/finally) outside :func:`working_precision` end by following mpmath's
        global precision again, not a snapshot of it."""
        if index != 0:
            raise ValueError("only the precision of the private context can be set")
        if getattr(_THREAD, "prec", None) is None:
            _THREAD.origin = mpmath.mp.prec  # leaving "follow mpmath's global precision"
        elif value == getattr(_THREAD, "origin", None):
            _THREAD.prec = _THREAD.dps = _THREAD.origin = None
            return
        _THREAD.prec = value

    def __len__(self) -> int:
        return 2


_THREAD = threading.local()


class _PrivateContext(mpmath.MPContext):
    """An mpmath context whose precision is each thread's own (see :data:`mpx`), and whose numbers
    are still ``mpmath.mpf``/``mpmath.mpc`` instances (subclasses bound to it), so ``isinstance``
    checks and printing work as for mpmath's.  Setting its precision never sets mpmath's global one.
    """

    # mpmath sets ``_prec`` and ``_prec_rounding[0]`` together: the second is the one that counts.
    _prec = property(lambda ctx: ctx._prec_rounding[0], lambda ctx, n: None)
    _dps = property(lambda ctx: _thread_dps(), lambda ctx, n: setattr(_THREAD, "dps", n))

    def __init__(self) -> None:
        super().__init__()
        self._prec_rounding = _ThreadPrecision()
        for name, base in (("mpf", mpmath.mpf), ("mpc", mpmath.mpc)):
            kind: Any = type(name, (base,), {"context": self})
            kind._ctxdata = [kind, getattr(self, name)._ctxdata[1], self._prec_rounding]
            setattr(self, name, kind)
        self.constant._ctxdata = [self.mpf, self.constant._ctxdata[1], self._prec_rounding]
        self.types = [self.mpf, self.mpc, self.constant]
        self.init_builtins()  # the constants and functions again, made with the new number types
        _THREAD.prec = _THREAD.dps = _THREAD.origin = None  # construction set one: follow mpmath's again


def _thread_dps() -> int:
    prec, dps = getattr(_THREAD, "prec", None), getattr(_THREAD, "dps", None)
    if prec is None:
        return mpmath.mp.dps
    return prec_to_dps(prec) if dps is None else dps


mpx = _PrivateContext()
"""The package's mpmath context: every numeric routine calls ``mpx.mpf``, ``mpx.exp``, ``mpx.dps`` …
where it would call ``mpmath.mpf``, ``mpmath.exp``, ``mpmath.mp.dps``.  Its precision is per
thread: the working precision inside :func:`working_precision`, mpmath's global one (only read)
outside, so threads at different precisions do not disturb one another or the caller.

>>> with working_precision(20):
...     x = mpx.mpf(1) / 3
...     working = mpx.dps
>>> working, mpmath.mp.dps, isinstance(x, mpmath.mpf), len(str(x))
(35, 15, True, 17)
"""


@contextmanager
def _precision(prec: int, dps: int | None) -> Iterator[None]:
    saved = tuple(getattr(_THREAD, name, None) for name in ("prec", "dps", "origin"))
    _THREAD.prec, _THREAD.dps, _THREAD.origin = prec, dps, None
    try:
        yield
    finally:
        _THREAD.prec, _THREAD.dps, _THREAD.origin = saved


@contextmanager
def working_precision(dps: int, guard: int = GUARD_DIGITS) -> Iterator[int]:
    """Compute at ``dps`` + ``guard`` decimal digits inside the block (this thread's precision of
    :data:`mpx`); yields that precision.  mpmath's global ``mp`` is left as it is.

    ``guard=0`` sets exactly ``dps`` digits (e.g. a float64-like stage at 12 digits).

    >>> with working_precision(30) as working:
    ...     working == mpx.dps == 30 + GUARD_DIGITS, mpmath.mp.dps
    (True, 15)
    """
    digits = max(1, int(dps + guard))
    with _precision(dps_to_prec(digits), digits):
        yield digits


@contextmanager
def working_bits(bits: int) -> Iterator[int]:
    """Compute at ``bits`` binary digits inside the block (for fixed-point code that counts bits).

    >>> with working_bits(100):
    ...     mpx.prec
    100
    """
    with _precision(max(1, int(bits)), None):
        yield bits


def mp_lambdify(args: Any, expr: Any) -> Callable[..., Any]:
    """``sympy.lambdify(args, expr, "mpmath")`` computing with :data:`mpx` (SymPy's own would
    compute with mpmath's global ``mp``, at its precision).

    >>> x = sp.Symbol("x")
    >>> third = mp_lambdify(x, x / 3)
    >>> with working_precision(25, guard=0):
    ...     print(third(1))
    0.3333333333333333333333333
    """
    function = sp.lambdify(args, expr, "mpmath")
    names = function.__globals__
    for key, value in list(names.items()):
        name = _GLOBAL_NAMES.get(id(value))
        if name is not None:
            names[key] = getattr(mpx, name)
    return function


# id -> name of mpmath's module-level functions and number types (those of the global context).
_GLOBAL_NAMES = {id(v): k for k, v in vars(mpmath).items()
                 if not k.startswith("_") and callable(v) and hasattr(mpmath.mp, k)}


def rounded(value: T, dps: int) -> T:
    """``value`` with every mpf/mpc in it rounded to ``dps`` digits (tuples, lists, dataclasses
    are rounded field by field; other values are returned as they are).  mpf values keep their
    digits afterwards, whatever the precision in force.

    >>> with working_precision(30):
    ...     x = mpx.mpf(2) / 3
    >>> y, [z], label, half = rounded((x, [x], "label", 0.5), 5)
    >>> y == z, y.man_exp[0].bit_length() <= 20, label, half
    (True, True, 'label', 0.5)
    """
    with working_precision(dps, guard=0):
        return _map_numbers(value, lambda v: +_in_context(v))


def _in_context(value: Any) -> Any:
    """An mpf/mpc as a number of :data:`mpx` (same digits, not yet rounded)."""
    return mpx.make_mpf(value._mpf_) if isinstance(value, mpmath.mpf) else mpx.make_mpc(value._mpc_)


def _map_numbers(value: Any, change: Callable[[Any], Any]) -> Any:
    """``value`` with ``change`` applied to every mpf/mpc in it (tuples, lists, dataclasses field by field)."""
    if isinstance(value, (mpmath.mpf, mpmath.mpc)):
        return change(value)
    if isinstance(value, tuple):
        return tuple(_map_numbers(v, change) for v in value)
    if isinstance(value, list):
        return [_map_numbers(v, change) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(value, **{f.name: _map_numbers(getattr(value, f.name), change)
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
    return mpx.mpf(10) ** (-(mpx.dps if dps is None else dps) - slack)


def to_mpf(value: Any) -> mpmath.mpf:
    """``value`` (int, Fraction, SymPy number or mpf) as an mpf at the current mpmath precision.

    >>> with working_precision(20, guard=0):
    ...     print(to_mpf(sp.Rational(1, 3)))
    0.33333333333333333333
    """
    if isinstance(value, mpmath.mpf):
        return +_in_context(value)
    value = exact(value, "value")  # the exact reader: a string is never parsed by SymPy
    if value.free_symbols:
        raise ParameterError(f"cannot evaluate {value} numerically: it contains symbols {sorted(map(str, value.free_symbols))}; substitute numbers first")
    if value.is_Rational:
        return mpx.mpf(int(value.p)) / int(value.q)
    return mpx.mpf(sympy_evalf(value, mpx.dps + 10)._mpf_)


_SYMPY_EVALF = threading.Lock()


def sympy_evalf(value: sp.Expr, digits: int) -> sp.Float:
    """SymPy's ``value.evalf(digits)``, one thread at a time: SymPy evaluates some functions (W,
    cosh, …) by setting mpmath's global precision for a moment, which must not interleave.

    >>> sympy_evalf(sp.LambertW(1), 20)
    0.56714329040978387300
    """
    with _SYMPY_EVALF:
        return value.evalf(digits)


def policy_mpf(policy: Sequence[Any], size: int, name: str = "policy", dps: int | None = None) -> tuple[mpmath.mpf, ...]:
    """Check a numeric policy with the input gate (:func:`grpo_symbolic.model.inputs.policy`:
    length, finite, >= 0, sums to 1 exactly, or within 10^(−dps) for mpf entries) and return mpf
    values at the current precision (mpf entries as given).

    >>> policy_mpf(["0.25", "0.75"], 2)
    (mpf('0.25'), mpf('0.75'))
    """
    return tuple(_in_context(v) if isinstance(v, mpmath.mpf) else to_mpf(v) for v in inputs.policy(policy, size, name, dps))
