"""Every interior stationary point, with a certificate: complete root isolation and its statement.

:func:`certified_roots` isolates the roots of the reduced residual (:mod:`grpo_symbolic.solve.balls`)
over the logit box that provably holds them (:func:`~grpo_symbolic.solve.balls.logit_region`)
with :func:`~grpo_symbolic.numerics.intervals.isolate` (subdivision + Krawczyk in ball arithmetic),
and says what was proven in a :class:`Completeness`.  Without python-flint it falls back on the
float64 scan / multistart of :mod:`grpo_symbolic.solve.search` and says that nothing is certified.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
import math
from typing import Any

import mpmath

from grpo_symbolic.numerics.certify import available, flint_bits, flint_precision, mpf_of
from grpo_symbolic.numerics.intervals import isolate, refine_roots
from grpo_symbolic.solve.balls import BallResidual, Region, logit_region
from grpo_symbolic.solve.reduced import ReducedMap
from grpo_symbolic.numerics.roots import scan_brackets
from grpo_symbolic.solve.search import SolverOptions, find_roots


@dataclass(frozen=True)
class Completeness:
    """What is known about the list of interior stationary points.

    ``complete``: True when the list holds **every** interior stationary point in ``region``;
    ``certified``: each listed point was proven (interval Krawczyk test) to be the only root in its
    box; ``region``: where the search ran (logit coordinates s_j = log(m_j/m_V) of the reward
    mixture; "the whole interior" when a bound proves no root lies beyond it); ``count``: points
    listed; ``method``; ``reason``: the argument for the region, or why the list may be incomplete;
    ``unresolved``: logit boxes (lo, hi per coordinate, floats) that may hold roots not listed
    (e.g. a double root at a fold, narrower than the precision separates).

    >>> from grpo_symbolic import Problem
    >>> from grpo_symbolic.solve.api import stationary_policies
    >>> prob = Problem(reference=["0.5", "0.5"], rewards=[1, 0], group_size=4, beta=1)
    >>> print(stationary_policies(prob, dps=20).completeness)  # doctest: +ELLIPSIS
    complete: all 1 interior stationary point(s) in the whole interior (logit box [-..., ...]), certified by ...
    """

    complete: bool
    certified: bool
    region: str
    count: int
    method: str
    reason: str
    unresolved: tuple[tuple[tuple[float, float], ...], ...] = ()

    def __str__(self) -> str:
        head = (f"complete: all {self.count} interior stationary point(s) in {self.region}"
                if self.complete else f"NOT complete: {self.count} interior stationary point(s) found in {self.region}")
        tail = f", certified by {self.method}" if self.certified else f", not certified ({self.method})"
        extra = f"; {len(self.unresolved)} unresolved box(es): {list(self.unresolved)}" if self.unresolved else ""
        return f"{head}{tail}; {self.reason}{extra}"


ISOLATION_BITS = 80
"""Ball precision of the subdivision (the certified boxes are then refined at the full precision)."""

METHOD = "subdivision + Krawczyk test in ball arithmetic (python-flint arb)"


def certified_roots(reduced: ReducedMap, options: SolverOptions) -> tuple[list[tuple[Any, ...]], Completeness]:
    """The roots s of the reduced map and the statement of their completeness."""
    if reduced.values == 1:
        return [()], Completeness(True, True, "the simplex (one reward value: P_G is constant)", 1,
                                  "closed form", "with one reward value the stationary form has one solution")
    why = _why_not_certified(reduced, options)
    if why:
        roots = find_roots(reduced, options)
        return roots, Completeness(False, False, "the scanned logit range", len(roots),
                                   "float64 scan + Newton", f"{why}: points may be missing")
    with flint_precision(reduced.dps):
        residual = BallResidual(reduced.problem, _dominant_class(reduced, options))
        region = logit_region(residual, options.logit_cap if reduced.values == 2 else options.logit_cap_multi)
    if any(lo > hi for lo, hi in region.bounds):  # the bounds contradict each other: no root at all
        return [], _statement(region, 0, False, ())
    budget = options.max_boxes if reduced.values == 2 else options.max_boxes_multi
    roots, unresolved, exhausted = _isolated(residual, region, budget, options, reduced.dps)
    statement = _statement(region, len(roots), exhausted, unresolved)
    if exhausted:  # keep what the multistart finds too (not certified, said so)
        extra = [s for s in find_roots(reduced, options) if all(_apart(s, t, reduced.dps) for t in roots)]
        roots += extra
        statement = replace(statement, count=len(roots), method=f"{METHOD}; {len(extra)} more by the multistart (not certified)")
    return roots, statement


def _why_not_certified(reduced: ReducedMap, options: SolverOptions) -> str:
    """Why the certified search is not run ('' when it is)."""
    if not options.certified:
        return "certification switched off (options)"
    if not available():
        return "python-flint is not installed"
    problem = reduced.problem
    if problem.group_filter != "keep":
        return f"group_filter={problem.group_filter}: the interval residual has no effective beta*W yet"
    if problem.is_large_group and problem.advantage != "grpo":
        return f"advantage={problem.advantage} at G = oo: the interval residual covers the GRPO rules there"
    if not problem.is_large_group and int(problem.group_size) > options.max_group_certified:
        return f"G = {problem.group_size} > SolverOptions.max_group_certified = {options.max_group_certified}"
    if reduced.values > 2 and not problem.is_large_group:
        rows = math.comb(int(problem.group_size) - 1 + reduced.values - 1, reduced.values - 1)
        if rows > options.max_rows_multi:
            return (f"{rows} compositions per evaluation with {reduced.values} reward values at G = {problem.group_size} "
                    f"(more than SolverOptions.max_rows_multi = {options.max_rows_multi}) make the box search too costly")
    return ""


def _dominant_class(reduced: ReducedMap, options: SolverOptions) -> int | None:
    """grpo, two reward values: the class holding most of π at the float64 scan's roots, when that is
    the same class at all of them and it holds more than half (a choice of formula, not of roots)."""
    if reduced.problem.penalty != "grpo" or reduced.values != 2:
        return None
    fast = reduced.fast
    grid = options.scan_grid().tolist()
    top = set()
    for a, b in scan_brackets(lambda s: reduced.residual([s], fast)[0], grid):
        pi, _, _ = reduced.policy(fast.preferences(fast.softmax([(a + b) / 2])), fast)
        top.add(int(pi.argmax()) if pi.max() > 0.5 else -1)
    return top.pop() if len(top) == 1 and -1 not in top else None


def _isolated(residual: BallResidual, region: Region, budget: int, options: SolverOptions,
              dps: int) -> tuple[list[tuple[Any, ...]], tuple[Any, ...], bool]:
    """(roots s, unresolved boxes as floats, budget exhausted): isolation at low precision, undecided
    boxes again at full precision, every certified box refined at full precision."""
    with flint_bits(ISOLATION_BITS):  # boxes are certified cheaply, then refined at full precision
        result = isolate(residual, region.bounds, budget=budget, refine=False)
    with flint_precision(dps):
        boxes, left = list(result.roots), list(result.unresolved if result.exhausted else [])
        for box in ([] if result.exhausted else result.unresolved):
            again = isolate(residual, box, budget=options.max_boxes, refine=False)
            boxes += again.roots
            left += again.unresolved
        roots = [tuple(mpf_of(b.mid()) for b in box) for box in refine_roots(residual, boxes)]
        unresolved = tuple(tuple((float(lo), float(hi)) for lo, hi in box) for box in left)
    return roots, unresolved, result.exhausted


def _apart(s: tuple[Any, ...], t: tuple[Any, ...], dps: int) -> bool:
    return max(abs(a - b) for a, b in zip(s, t)) > mpmath.mpf(10) ** (-dps // 2)


def _statement(region: Region, count: int, exhausted: bool, unresolved: Any) -> Completeness:
    box = " x ".join(f"[{lo}, {hi}]" for lo, hi in region.bounds)
    where = f"the whole interior (logit box {box})" if region.proven else f"the logit box {box}"
    reason = region.reason
    if exhausted:
        reason += "; the box budget (SolverOptions.max_boxes, max_boxes_multi) ran out"
    elif unresolved:
        reason += "; roots closer than the precision separates (or a double root) may lie in the unresolved boxes"
    return Completeness(not unresolved and region.proven, True, where, count, METHOD, reason, unresolved)


def no_point_message(statement: Completeness, residual_sign: Any = None) -> str:
    """The error text when no interior point is listed: proven absent, or only not found."""
    if statement.complete:
        return (f"problem: there is provably no interior stationary policy ({statement.region}); "
                f"the maximiser lies on the boundary{_face(residual_sign)}")
    return f"problem: no interior stationary policy found; {statement}"


def _face(sign: Any) -> str:
    if sign is None:
        return ""
    value, direction = sign
    return f": every reward mixture is pushed towards the vertex where all mass is on reward value {value} ({direction})"


def drift(reduced: ReducedMap) -> tuple[Any, str] | None:
    """With two reward values and no root, the sign of the residual says where the mass goes."""
    if reduced.values != 2:
        return None
    f = reduced.residual([mpmath.mpf(0)])[0]
    values = reduced.problem.reward_values
    return (values[0], "the residual is positive everywhere") if f > 0 else (values[1], "the residual is negative everywhere")
