"""The one root-finding core of the package; every root finder goes through it.

Five methods, each with a step cap ``maxsteps`` and a :class:`SolverError` with
``reason=SolverError.NOT_CONVERGED`` naming ``what`` did not converge when the cap is hit:

* :func:`bracketed_newton` — the root inside a bracket (lo, hi): Newton steps (or secant steps
  when no slope is given), bisection whenever a step would leave the bracket or fails to halve
  the one before (Numerical Recipes' rtsafe); bisection is geometric on a positive bracket;
* :func:`newton` — damped Newton for a system, with a given or a finite-difference Jacobian, or
  the chord method with a float64 model's Jacobian;
* :func:`array_newton` — Newton on many independent scalar equations at once, elementwise in numpy
  float64 (grids of parameters), each entry clipped to its bounds;
* :func:`scan_brackets` — the sign changes of a function over a grid, as brackets;
* :func:`widen_bracket` — double a step away from an origin until the function changes side.

One implementation serves float64 and mpmath: the arithmetic is passed as an :class:`Arithmetic`
(:data:`FLOAT64` or :data:`MPMATH`, the default), as the advantage rules take ``sqrt``.  Tolerances
follow the precision in force (see :mod:`grpo_symbolic.numerics.precision`).

>>> import mpmath
>>> from grpo_symbolic.numerics.precision import working_precision
>>> with working_precision(30, guard=0):
...     root = bracketed_newton(lambda x: x * x - 2, 1, 2, slope=lambda x: 2 * x)
...     mpmath.nstr(root, 25)
'1.414213562373095048801689'
>>> bracketed_newton(lambda x: x * x - 2, 1.0, 2.0, arithmetic=FLOAT64)  # secant steps
1.414213562373095
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
import math
from typing import Any

import mpmath
import numpy as np
from numpy.typing import ArrayLike

from grpo_symbolic.model.errors import SolverError
from grpo_symbolic.numerics.precision import mpx

Number = Any
"""A float or an mpf, as the :class:`Arithmetic` in use computes."""


def _solve_float(matrix: list[list[Number]], vector: list[Number]) -> list[Number]:
    return [float(x) for x in np.linalg.solve(np.array(matrix, dtype=float), np.array(vector, dtype=float))]


def _solve_mpmath(matrix: list[list[Number]], vector: list[Number]) -> list[Number]:
    return list(mpx.lu_solve(mpx.matrix(matrix), mpx.matrix(vector)))


@dataclass(frozen=True)
class Arithmetic:
    """The number type a root finder computes in: conversion, sqrt, finiteness, a linear solver,
    and ``digits()``, the decimal digits it carries (mpmath: the precision in force)."""

    name: str
    number: Callable[[Any], Number]
    sqrt: Callable[[Number], Number]
    isfinite: Callable[[Number], bool]
    solve: Callable[[list[list[Number]], list[Number]], list[Number]]
    digits: Callable[[], int]
    bits: Callable[[], int]


FLOAT64 = Arithmetic("float64", float, math.sqrt, math.isfinite, _solve_float, lambda: 15, lambda: 53)
MPMATH = Arithmetic("mpmath", mpx.mpf, mpx.sqrt, mpx.isfinite, _solve_mpmath,
                    lambda: mpx.dps, lambda: mpx.prec)


def middle(lo: Number, hi: Number, arithmetic: Arithmetic = MPMATH) -> Number:
    """Bisection point: geometric on a positive interval (it may span many decades), else arithmetic.

    >>> middle(1.0, 100.0, FLOAT64), middle(-1.0, 3.0, FLOAT64)
    (10.0, 1.0)
    """
    return arithmetic.sqrt(lo) * arithmetic.sqrt(hi) if lo > 0 else (lo + hi) / 2  # lo·hi may underflow


def _not_converged(what: str, maxsteps: int, where: str) -> SolverError:
    return SolverError(f"{what} did not converge in {maxsteps} steps ({where}); check the problem's parameters",
                       reason=SolverError.NOT_CONVERGED)


def bracketed_newton(f: Callable[[Number], Number], lo: Number, hi: Number, *,
                     slope: Callable[[Number], Number] | None = None, start: Number | None = None,
                     increasing: bool | None = None, close: Number | None = None,
                     arithmetic: Arithmetic = MPMATH, maxsteps: int = 400, what: str = "the root") -> Number:
    """The root of ``f`` in (lo, hi), by safeguarded Newton (secant without ``slope``) steps.

    ``increasing``: whether f increases through the root; when None, f(lo) and f(hi) are evaluated
    and must differ in sign (else :class:`SolverError` NO_INTERIOR_POINT).  Given, the ends are
    never evaluated (one may be a pole).  Stops once a step is below ``close``·scale, the scale
    being |x| on a positive bracket and the bracket's width otherwise (default ``close``: 2^(−bits/2 − 8)
    with a slope, where the error is then about its square; 2^(−2·bits/3) for secant steps).

    >>> root = bracketed_newton(lambda x: 3 - x * x, 0.0, 4.0, slope=lambda x: -2 * x, increasing=False,
    ...                         arithmetic=FLOAT64)
    >>> round(root, 14)
    1.73205080756888
    """
    lo, hi = arithmetic.number(lo), arithmetic.number(hi)
    last = None
    if increasing is None:
        f_lo, f_hi = f(lo), f(hi)
        if f_lo == 0 or f_hi == 0:
            return lo if f_lo == 0 else hi
        increasing, last = _orientation(f_lo, f_hi, lo, hi, what), (lo, f_lo)
    if close is None:
        close = arithmetic.number(2) ** (-(arithmetic.bits() // 2) - 8 if slope else -(2 * arithmetic.bits()) // 3)
    x = arithmetic.number(start) if start is not None and lo < start < hi else middle(lo, hi, arithmetic)
    return _rtsafe(f, slope, (lo, hi), x, last, increasing, close, arithmetic, maxsteps, what)


def _rtsafe(f: Callable[[Number], Number], slope: Callable[[Number], Number] | None, bracket: tuple[Number, Number],
            x: Number, last: tuple[Number, Number] | None, increasing: bool, close: Number,
            arithmetic: Arithmetic, maxsteps: int, what: str) -> Number:
    """The iteration of :func:`bracketed_newton` from x in ``bracket``."""
    lo, hi = bracket
    floor = 0 if lo > 0 else hi - lo
    previous = hi - lo
    for _ in range(maxsteps):
        value = f(x)
        if value == 0:
            return x
        lo, hi = (lo, x) if (value > 0) == increasing else (x, hi)
        step = _step(value, x, slope, last, arithmetic)
        last = (x, value)
        new = x - step
        if 0 < abs(step) <= close * (abs(new) + floor):  # converged (a zero step: the slope overflowed)
            if lo < new < hi:
                return new
            # the step crossed an end of the bracket: the root lies within the step of that end
            # (e.g. at the end to the working precision), so the end is the better of the two
            # where f is smaller there; x is kept where f is not finite at the end (a pole)
            return _nearer(f, x, value, lo if new <= lo else hi, arithmetic)
        if not (lo < new < hi and 0 < abs(step) <= previous / 2):
            new = middle(lo, hi, arithmetic)
            if not lo < new < hi:
                return x  # the bracket is as narrow as the arithmetic allows
        previous, x = abs(new - x), new
    raise _not_converged(what, maxsteps, f"bracket ({lo}, {hi})")


def _nearer(f: Callable[[Number], Number], x: Number, value: Number, end: Number, arithmetic: Arithmetic) -> Number:
    """Of x (where f is ``value``) and a bracket's ``end``, the one where |f| is smaller; x when f
    at the end is not finite or cannot be evaluated (an end may be a pole)."""
    if end == x:
        return x
    try:
        at_end = f(end)
    except (ZeroDivisionError, OverflowError):
        return x
    return end if arithmetic.isfinite(at_end) and abs(at_end) < abs(value) else x


def _orientation(f_lo: Number, f_hi: Number, lo: Number, hi: Number, what: str) -> bool:
    """Whether f increases through its root in (lo, hi), from its values at the ends."""
    if (f_lo > 0) == (f_hi > 0):
        raise SolverError(f"{what}: no sign change in the bracket ({lo}, {hi})", reason=SolverError.NO_INTERIOR_POINT)
    return bool(f_hi > 0)


def _step(value: Number, x: Number, slope: Callable[[Number], Number] | None,
          last: tuple[Number, Number] | None, arithmetic: Arithmetic) -> Number:
    """value/f'(x), f' from ``slope`` or the secant through ``last``; 0 (bisect) when undefined."""
    if slope is not None:
        derivative = slope(x)
    elif last is not None and last[0] != x:
        derivative = (value - last[1]) / (x - last[0])
    else:
        return 0
    if derivative == 0 or not arithmetic.isfinite(derivative):
        return 0
    return value / derivative


def newton(f: Callable[[list[Number]], Sequence[Number]], x0: Sequence[Number], *,
           jacobian: Callable[[list[Number]], Sequence[Sequence[Number]]] | None = None,
           model: Callable[[list[float]], Sequence[float]] | None = None,
           arithmetic: Arithmetic = MPMATH, maxsteps: int = 60, tol: Number | None = None,
           what: str = "Newton's method") -> list[Number]:
    """A zero of the system ``f`` near ``x0`` by damped Newton steps.

    ``jacobian(x)``, the rows ∂f_i/∂x_j at x, is used when given (an analytic Jacobian keeps
    Newton's quadratic convergence to the last digit); else a finite-difference Jacobian with step
    10^(−digits/2).  ``model``: a cheap float64 approximation of an expensive ``f``: its
    central-difference Jacobian, taken once at x0, is kept for every step (the chord method: some
    10 digits per step for one evaluation of f instead of n + 1) while each step shrinks max |f|
    by :data:`CHORD_GAIN`; from the first step that does not, the Jacobian is the one above.
    Converged when max |f| < ``tol`` (default 10^(3 − digits)); each step is halved
    down to 1/1024 until max |f| decreases.  A failed line search, a singular Jacobian, an
    arithmetic error or the step cap raise :class:`SolverError` (NOT_CONVERGED).

    >>> [round(v, 12) for v in newton(lambda v: [v[0] ** 2 - 4, v[0] + v[1]], [1.0, 0.0], arithmetic=FLOAT64)]
    [2.0, -2.0]
    >>> with mpmath.workdps(40):
    ...     root = newton(lambda v: [v[0] ** 2 - 2], [1], jacobian=lambda v: [[2 * v[0]]])
    ...     mpmath.nstr(root[0], 35)
    '1.4142135623730950488016887242096981'
    >>> with mpmath.workdps(40):
    ...     root = newton(lambda v: [v[0] ** 2 - 2], [1.41421356], model=lambda v: [v[0] ** 2 - 2])
    ...     mpmath.nstr(root[0], 35)
    '1.4142135623730950488016887242096981'
    """
    digits = arithmetic.digits()
    tol = arithmetic.number(10) ** (3 - digits) if tol is None else tol
    h = arithmetic.number(10) ** (-(digits // 2))
    x = [arithmetic.number(v) for v in x0]
    try:
        fx = list(f(x))
        chord = _chord(model, x) if model is not None else None
        for _ in range(maxsteps):
            size = max(abs(v) for v in fx)
            if size < tol:
                return x
            if chord is not None:
                x, fx, chord = _chord_step(f, x, fx, chord, size, arithmetic, what)
                continue
            matrix = _jacobian(f, x, fx, h) if jacobian is None else [list(row) for row in jacobian(x)]
            step = arithmetic.solve(matrix, fx)
            x, fx = _damped(f, x, fx, step, what)
    except (ZeroDivisionError, ValueError, OverflowError, np.linalg.LinAlgError) as error:
        if isinstance(error, SolverError):
            raise
        raise SolverError(f"{what} failed near {x}: {error}", reason=SolverError.NOT_CONVERGED) from None
    if max(abs(v) for v in fx) < tol:
        return x
    raise _not_converged(what, maxsteps, f"from {list(x0)}")


CHORD_GAIN = 2.0 ** -16
"""The factor by which a chord step (see :func:`newton`) must shrink max |f| to keep its Jacobian."""


def _chord_step(f: Callable[[list[Number]], Sequence[Number]], x: list[Number], fx: list[Number],
                chord: list[list[float]], size: Number, arithmetic: Arithmetic,
                what: str) -> tuple[list[Number], list[Number], list[list[float]] | None]:
    """One damped step with the chord Jacobian: (x, f(x), the chord, or None once it gains too little)."""
    try:
        x, fx = _damped(f, x, fx, arithmetic.solve(chord, fx), what)
    except (SolverError, ZeroDivisionError, ValueError, np.linalg.LinAlgError):
        return x, fx, None
    return x, fx, None if max(abs(v) for v in fx) > size * CHORD_GAIN else chord


def _chord(model: Callable[[list[float]], Sequence[float]], x: list[Number]) -> list[list[float]] | None:
    """The model's central-difference Jacobian at x (step 2^−17, about eps^(1/3): some 10 digits),
    None unless finite."""
    start = [float(v) for v in x]
    with np.errstate(all="ignore"):
        matrix = _jacobian(model, start, None, 2.0 ** -17)
    return matrix if all(math.isfinite(v) for row in matrix for v in row) else None


def _jacobian(f: Callable[[list[Number]], Sequence[Number]], x: list[Number], fx: list[Number] | None,
              h: Number) -> list[list[Number]]:
    """Forward differences (f(x + h·e_j) − f(x))/h with ``fx`` = f(x), or without it central ones
    (error O(h²))."""
    n = len(x)
    columns = []
    for j in range(n):
        shifted = list(x)
        shifted[j] += h
        fj = f(shifted)
        if fx is None:
            shifted[j] -= 2 * h
            below, width = f(shifted), 2 * h
        else:
            below, width = fx, h
        columns.append([(fj[i] - below[i]) / width for i in range(n)])
    return [[columns[j][i] for j in range(n)] for i in range(n)]


def _damped(f: Callable[[list[Number]], Sequence[Number]], x: list[Number], fx: list[Number],
            step: list[Number], what: str) -> tuple[list[Number], list[Number]]:
    size = max(abs(v) for v in fx)
    t = 1.0
    while t > 1 / 1024:
        trial = [a - t * d for a, d in zip(x, step)]
        ft = list(f(trial))
        if max(abs(v) for v in ft) < size:
            return trial, ft
        t /= 2
    raise SolverError(f"{what}: no step down from {x} reduces the residual", reason=SolverError.NOT_CONVERGED)


def array_newton(f: Callable[..., tuple[np.ndarray, np.ndarray]], start: ArrayLike, *, args: Sequence[ArrayLike] = (),
                 lower: ArrayLike = -np.inf, upper: ArrayLike = np.inf, maxsteps: int = 100, rtol: float = 1e-13,
                 what: str = "Newton's method", flags: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Roots of independent scalar equations, one per entry of ``start``, by Newton steps in float64.

    ``f(x, *args)`` returns (values, slopes) elementwise; ``args`` and the bounds are broadcast to
    ``start`` and passed entry by entry with x.  Each new iterate is clipped to [lower, upper].
    An entry has converged once its step is finite and at most ``rtol``·|x|, or at most
    sqrt(``rtol``)·|x| and no smaller than the step before (Newton has reached the noise of the
    arithmetic, as at a near-double root); once fewer than half of the entries iterated are still
    moving, only those are iterated on.  When entries have not
    converged after ``maxsteps`` steps: :class:`SolverError` (NOT_CONVERGED) naming the first of them
    (flat positions), or, with ``flags=True``, (roots, converged), ``converged`` a boolean array.

    >>> array_newton(lambda x, c: (x * x - c, 2 * x), [2.0, 4.0], args=([2.0, 9.0],))
    array([1.41421356, 3.        ])
    >>> array_newton(lambda x: (x * x + 1, 2 * x), [1.0, 2.0], maxsteps=50, flags=True)[1]  # no real root
    array([False, False])
    """
    x = np.array(start, dtype=float)
    shape, x = x.shape, x.ravel()
    params = [np.broadcast_to(np.asarray(v, dtype=float), shape).ravel() for v in (lower, upper, *args)]
    roots, converged = x.copy(), np.zeros(x.size, dtype=bool)
    index, previous = np.arange(x.size), np.full(x.size, np.inf)
    for _ in range(maxsteps):
        value, slope = f(x, *params[2:])
        with np.errstate(divide="ignore", invalid="ignore"):
            signed = value / slope
        step = np.abs(signed)
        x = np.clip(x - signed, params[0], params[1])
        roots[index] = x
        scale = np.where(np.isfinite(x), np.abs(x), np.nan)
        # a NaN step is moving; a step that stopped shrinking near the root is the arithmetic's noise
        moving = ~((step <= rtol * scale) | ((step <= math.sqrt(rtol) * scale) & (step >= previous)))
        converged[index], previous = ~moving, step
        if not moving.any():
            break
        if moving.sum() < moving.size // 2:  # iterate on the entries still moving only
            index, x, previous = index[moving], x[moving], previous[moving]
            params = [v[moving] for v in params]
    if not flags and not converged.all():
        raise _not_converged_entries(what, maxsteps, np.flatnonzero(~converged), roots)
    return (roots.reshape(shape), converged.reshape(shape)) if flags else roots.reshape(shape)


def _not_converged_entries(what: str, maxsteps: int, entries: np.ndarray, roots: np.ndarray) -> SolverError:
    shown = ", ".join(f"{i} (at {roots[i]:.17g})" for i in entries[:5])
    more = f" and {entries.size - 5} more" if entries.size > 5 else ""
    return _not_converged(what, maxsteps, f"{entries.size} entries: {shown}{more}")


def _sign(value: Number) -> int | None:
    if value > 0:
        return 1
    if value < 0:
        return -1
    return 0 if value == 0 else None  # None: NaN


def scan_brackets(f: Callable[[Number], Number], grid: Sequence[Number]) -> list[tuple[Number, Number]]:
    """Adjacent grid points (a, b) with sign f(a)·sign f(b) ≤ 0 (NaN values bracket nothing).

    An exact zero at a grid point makes two brackets (one on each side); two roots within one
    grid step, or a double root, are missed.  Callers refine each bracket and drop duplicates.

    >>> scan_brackets(lambda x: x * x - 2, [-2.0, -1.0, 0.0, 1.0, 2.0])
    [(-2.0, -1.0), (1.0, 2.0)]
    """
    signs = [_sign(f(x)) for x in grid]
    return [(a, b) for a, b, sa, sb in zip(grid, grid[1:], signs, signs[1:])
            if sa is not None and sb is not None and sa * sb <= 0]


def widen_bracket(inside: Callable[[Number], bool], origin: Number, width: Number, *,
                  maxsteps: int = 200, what: str = "the bracket") -> tuple[Number, Number]:
    """(inner, outer): outer = origin + width·2^k for the first k ≥ 0 with ``inside(outer)`` False,
    inner the point before (origin when k = 0).  ``width`` may be negative (widen downwards).

    >>> widen_bracket(lambda x: x * x < 10, 0.0, 1.0)
    (2.0, 4.0)
    """
    inner, step = origin, width
    for _ in range(maxsteps):
        outer = origin + step
        if not inside(outer):
            return inner, outer
        inner, step = outer, step * 2
    raise _not_converged(what, maxsteps, f"widening from {origin} by {width}")
