"""Search strategies for the roots of the reduced map, and the :class:`SolverOptions` they read.

With two reward values all roots are bracketed by a float64 scan in logit coordinates
(:func:`~grpo_symbolic.numerics.roots.scan_brackets`) and refined at full precision; with more, a
multi-start Newton search (:func:`~grpo_symbolic.numerics.roots.newton`) runs at ``rough_dps``
digits and each distinct rough root is refined once at full precision, by chord steps with the
float64 map's Jacobian (one full-precision evaluation per some 10 digits, not one per reward
value and Newton step).  Every root is verified by its residual (:class:`SolverError`
UNVERIFIED otherwise).

Limits: the scan steps ``scan_step`` in logit coordinates over [−``scan_span``, ``scan_span``], so
two roots closer than one step (e.g. just past a fold) can be missed and a double root is not
bracketed; the multistart finds the roots its starting points reach.
"""

from __future__ import annotations

from dataclasses import dataclass
import itertools
from typing import Any

import numpy as np

from grpo_symbolic.model.errors import SolverError
from grpo_symbolic.numerics.precision import GUARD_DIGITS, mpx, tolerance, working_precision
from grpo_symbolic.numerics.roots import bracketed_newton, newton, scan_brackets
from grpo_symbolic.solve.reduced import ReducedMap


@dataclass(frozen=True)
class SolverOptions:
    """Settings of the root search (the defaults are what :func:`stationary_policies` uses).

    ``certified`` (default, needs python-flint): complete isolation with interval arithmetic
    (:mod:`grpo_symbolic.solve.complete`) over the logit box that provably holds every root, or
    over [−``logit_cap``, ``logit_cap``] per coordinate where no bound is derived or the proven box is
    wider (two reward values: 2000 holds the proven box of every β and π_ref a float64 can hold,
    e.g. about ±1384 at β = 1e-300, G = ∞; ``logit_cap_multi`` with more, where each box is
    costlier), with at most ``max_boxes`` box evaluations (``max_boxes_multi`` for three or more reward values; when that budget runs out the
    multistart's roots are added, and the statement says the list may be incomplete; with more than
    ``max_rows_multi`` compositions per evaluation the multistart runs alone, not certified; so does
    the scan for G > ``max_group_certified``).  ``certified=False`` (or no python-flint): the float64 scan
    (``scan_*``) for two reward values, the multistart Newton (``multistart``, ``rough_dps``) for more.

    >>> SolverOptions().scan_grid()[:3].tolist()
    [-60.0, -59.75, -59.5]
    """

    certified: bool = True
    logit_cap: float = 2000.0
    logit_cap_multi: float = 60.0
    max_boxes: int = 200000
    max_boxes_multi: int = 4000
    max_rows_multi: int = 400
    max_group_certified: int = 2048
    scan_span: float = 60.0
    scan_step: float = 0.25
    multistart: tuple[float, ...] = (-4.0, 0.0, 4.0)
    rough_dps: int = 12
    newton_maxsteps: int = 60
    bracket_maxsteps: int = 400
    guard_digits: int = GUARD_DIGITS

    def scan_grid(self) -> np.ndarray:
        """The logit grid of the two-value scan."""
        return np.linspace(-self.scan_span, self.scan_span, int(round(2 * self.scan_span / self.scan_step)) + 1)


def find_roots(reduced: ReducedMap, options: SolverOptions) -> list[tuple[Any, ...]]:
    """The roots s of the reduced map found by the strategy for its number of reward values."""
    if reduced.values == 1:
        return [()]
    if reduced.values == 2:
        return _scan_roots(reduced, options)
    return _multistart_roots(reduced, options)


def _scan_roots(reduced: ReducedMap, options: SolverOptions) -> list[tuple[Any, ...]]:
    def f(s: Any) -> Any:
        return reduced.residual([s])[0]

    roots = []
    for a, b in scan_brackets(lambda s: reduced.residual([s], reduced.fast)[0], options.scan_grid().tolist()):
        a, b = mpx.mpf(a), mpx.mpf(b)
        if f(a) * f(b) <= 0:  # confirm the bracket at full precision
            roots.append(bracketed_newton(f, a, b, maxsteps=options.bracket_maxsteps, what="the logit scan's root"))
    return [(s,) for s in _verified(roots, lambda s: abs(f(s)), reduced.dps)]


def _verified(roots: list[Any], error: Any, dps: int) -> list[Any]:
    unique: list[Any] = []
    for s in roots:
        if error(s) > tolerance(dps, slack=5):
            raise SolverError(f"the root near s = {mpx.nstr(s, 8)} did not converge to {dps} digits",
                              reason=SolverError.UNVERIFIED)
        if all(abs(s - t) > mpx.mpf(10) ** (-dps // 2) for t in unique):
            unique.append(s)
    return unique


def _multistart_roots(reduced: ReducedMap, options: SolverOptions) -> list[tuple[Any, ...]]:
    """Rough Newton from a grid of starts; each distinct rough root refined once at full precision."""
    found: list[list[Any]] = []
    for rough in _rough_roots(reduced, options):
        s = _newton_or_none(reduced.residual, [mpx.mpf(x) for x in rough], options,
                            model=lambda t: reduced.residual(t, reduced.fast))
        if s is not None and not any(_distance(s, t) < mpx.mpf(10) ** (-reduced.dps // 2) for t in found):
            found.append(s)
    return [tuple(s) for s in found]


def _rough_roots(reduced: ReducedMap, options: SolverOptions) -> list[list[Any]]:
    def rough_residual(t: list[Any]) -> list[Any]:
        return [mpx.mpf(x) for x in reduced.residual([float(y) for y in t], reduced.fast)]

    rough: list[list[Any]] = []
    for start in itertools.product(options.multistart, repeat=reduced.values - 1):
        with working_precision(options.rough_dps, guard=0):
            s = _newton_or_none(rough_residual, [mpx.mpf(c) for c in start], options)
        if s is not None and not any(_distance(s, t) < 1e-6 for t in rough):
            rough.append(s)
    return rough


def _newton_or_none(f: Any, start: list[Any], options: SolverOptions, model: Any = None) -> list[Any] | None:
    """A start that does not converge is no root: None (``model``: f in float64, see :func:`newton`)."""
    try:
        return newton(f, start, model=model, maxsteps=options.newton_maxsteps, what="the multistart")
    except SolverError:
        return None


def _distance(s: list[Any], t: list[Any]) -> Any:
    return max(abs(a - b) for a, b in zip(s, t))
