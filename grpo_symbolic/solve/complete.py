"""Every interior stationary point, with a certificate: complete root isolation and its statement.

:func:`certified_roots` isolates the roots of the reduced residual (:mod:`grpo_symbolic.solve.balls`)
over the logit box that provably holds them (:func:`~grpo_symbolic.solve.regions.logit_region`)
with :func:`~grpo_symbolic.numerics.intervals.isolate` (subdivision + Krawczyk in ball arithmetic),
and says what was proven in a :class:`Completeness`.  Without python-flint it falls back on the
float64 scan / multistart of :mod:`grpo_symbolic.solve.search` and says that nothing is certified.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
import math
from typing import Any

from grpo_symbolic.model.settings import Advantage, GroupFilter
from grpo_symbolic.numerics.certify import _flint, available, ball_of, flint_bits, flint_precision, mpf_of, precision_bits
from grpo_symbolic.numerics.intervals import Fold, fold, fold_slope, isolate, refine_roots, uncovered
from grpo_symbolic.solve.balls import BallResidual
from grpo_symbolic.solve.regions import Region, logit_region, shown_box
from grpo_symbolic.solve.reduced import ReducedMap
from grpo_symbolic.numerics.roots import scan_brackets
from grpo_symbolic.solve.search import SolverOptions, find_roots
from grpo_symbolic.numerics.precision import mpx


@dataclass(frozen=True)
class Completeness:
    """What is known about the list of interior stationary points.

    ``complete``: True when the list holds **every** interior stationary point in ``region``;
    ``certified``: each listed point was proven (interval Krawczyk test) to be the only root in its
    box; ``region``: where the search ran (logit coordinates s_j = log(m_j/m_V) of the reward
    mixture; "the whole interior" when a bound proves no root lies beyond it); ``count``: points
    listed; ``method``; ``reason``: the argument for the region, or why the list may be incomplete;
    ``unresolved``: logit boxes (lo, hi per coordinate, floats) that may hold roots not listed;
    ``double_roots``: (centre, radius) in the logit coordinate (mpf) of each certified double root
    (one reduced coordinate: a critical point of the residual F in a box of that radius where
    |F| stays below 10^(−dps): a fold at the requested digits, listed once, at the centre).

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
    double_roots: tuple[tuple[Any, Any], ...] = ()

    def __str__(self) -> str:
        head = (f"complete: all {self.count} interior stationary point(s) in {self.region}"
                if self.complete else f"NOT complete: {self.count} interior stationary point(s) found in {self.region}")
        tail = f", certified by {self.method}" if self.certified else f", not certified ({self.method})"
        extra = f"; {len(self.unresolved)} unresolved box(es): {list(self.unresolved)}" if self.unresolved else ""
        return f"{head}{tail}; {self.reason}{self._folds()}{extra}"

    def _folds(self) -> str:
        if not self.double_roots:
            return ""
        shown = ", ".join(f"s = {mpx.nstr(c, 12)} +- {mpx.nstr(r, 2)}" for c, r in self.double_roots)
        return (f"; {len(self.double_roots)} double root(s) (a fold: F and F' vanish there; the box's roots, "
                f"two, one or none, are not told apart at the requested digits, F = 0 to them all over it): {shown}")


ISOLATION_BITS = 80
"""Ball precision of the subdivision (the certified boxes are then refined at the full precision)."""

QUICK_SHARE = 50
"""One coordinate: the low-precision pass may spend 1/QUICK_SHARE of the box budget."""

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
        return [], _statement(region, 0, False, (), (), reduced.dps)
    budget = options.max_boxes if reduced.values == 2 else options.max_boxes_multi
    found = _isolated(residual, region, budget, options, reduced.dps)
    roots = found.roots
    statement = _statement(region, len(roots), found.exhausted, found.unresolved, found.folds, reduced.dps)
    if found.exhausted:  # keep what the multistart finds too (not certified, said so)
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
    setting = unsupported_setting(problem)
    if setting:
        return f"not certified: setting {setting} (the ball residual and its bounds are derived for the paper's two penalties only)"
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


def unsupported_setting(problem: Any) -> str:
    """The first of ``problem``'s settings the certified search (and :mod:`~grpo_symbolic.solve.boundary`)
    does not cover, as text ('' for the paper's settings: penalty grpo or direct in the loss, no
    clamp, no entropy, GRPO advantages, every group kept)."""
    checks = (
        (problem.penalty is None, f"kl_estimator={problem.kl_estimator}, kl_placement={problem.kl_placement}"),
        (problem.kl_clamp is not None, f"kl_clamp={problem.kl_clamp}"),
        (problem.entropy != 0, f"entropy={problem.entropy}"),
        (problem.advantage is not Advantage.GRPO or problem.pass_k is not None, f"advantage={problem.advantage}"),
        (problem.group_filter is not GroupFilter.KEEP, f"group_filter={problem.group_filter}"),
    )
    return next((text for bad, text in checks if bad), "")


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


@dataclass
class _Found:
    """The outcome of the isolation: roots s, unresolved boxes (floats), double roots (centre,
    radius as mpf), whether the budget ran out."""

    roots: list[tuple[Any, ...]]
    unresolved: tuple[Any, ...]
    folds: tuple[tuple[Any, Any], ...]
    exhausted: bool


def _isolated(residual: BallResidual, region: Region, budget: int, options: SolverOptions, dps: int) -> _Found:
    """Isolation at low precision, undecided boxes again at full precision (and, with one
    coordinate, tested for a double root), every certified box refined at full precision."""
    # one coordinate: the cheap pass gets a share of the budget, and what it leaves (boxes where
    # ISOLATION_BITS lose the residual to cancellation, e.g. 1 - m_0 below 2^-80, which it would
    # otherwise split down to its minimal width) is isolated at full precision with the rest
    quick = budget if residual.V > 2 else max(1, budget // QUICK_SHARE)
    with flint_bits(ISOLATION_BITS):  # boxes are certified cheaply, then refined at full precision
        result = isolate(residual, region.bounds, budget=quick, refine=False)
    exhausted = result.exhausted and quick == budget
    with flint_precision(dps):
        boxes, left, exhausted = _undecided_again(residual, result, exhausted, budget, options)
        other: list[tuple[BallResidual, Any]] = []
        if left and not exhausted:
            left = _complemented(residual, left, boxes, other, options)
        folds: list[Any] = []
        if residual.V == 2 and left and not exhausted:
            left = _double_roots(residual, left, boxes, folds, options, dps)
        roots = _refined(residual, boxes, other) + [(mpf_of(f.centre),) for f in folds]
        unresolved = tuple(tuple((float(lo), float(hi)) for lo, hi in box) for box in left)
        doubles = tuple((mpf_of(f.centre), mpf_of(f.radius)) for f in folds)
    return _Found(roots, unresolved, doubles, exhausted)


def _undecided_again(residual: BallResidual, result: Any, exhausted: bool, budget: int,
                     options: SolverOptions) -> tuple[list[Any], list[Any], bool]:
    """The low-precision pass's undecided boxes isolated again at the precision in force, while the
    budget lasts: (certified boxes, boxes still unresolved, whether the budget ran out)."""
    boxes, left, spent = list(result.roots), list(result.unresolved if exhausted else []), result.evaluations
    for k, box in enumerate([] if exhausted else result.unresolved):
        again = isolate(residual, box, budget=min(options.max_boxes, budget - spent), refine=False)
        spent += again.evaluations
        boxes += again.roots
        left += again.unresolved
        if again.exhausted:
            exhausted = True
            left += result.unresolved[k + 1:]
            break
    return boxes, uncovered(left, boxes), exhausted


def _refined(residual: BallResidual, boxes: list[Any], other: list[tuple[BallResidual, Any]]) -> list[tuple[Any, ...]]:
    """The roots of the certified boxes, refined at the precision in force (each with the form that
    certified it; a box another form certified again is counted once)."""
    certified = refine_roots(residual, boxes)
    for form, box in other:
        certified += [root for root in refine_roots(form, [box])
                      if not any(all(a.overlaps(b) for a, b in zip(root, known)) for known in certified)]
    return [tuple(mpf_of(b.mid()) for b in box) for box in certified]


def _complemented(residual: BallResidual, left: list[Any], boxes: list[Any], other: list[tuple[BallResidual, Any]],
                  options: SolverOptions) -> list[Any]:
    """grpo: the unresolved boxes isolated again with π of one class taken as 1 − Σ of the others
    (each class in turn; the same roots, another function, so each box's verdict stands): a root
    where a class with a tiny π_ref holds much of π has its denominator β + λ − P_c of the size of
    π_ref there, which the direct form loses to cancellation and the complement does not.  Certified
    boxes go to ``other`` with their form; returns the boxes no form resolves."""
    if residual.direct:
        return left
    for c in range(len(residual.rho)):
        if c == residual.complement or not left:
            continue
        form, still = BallResidual(residual.problem, c), []
        for box in left:
            again = isolate(form, box, budget=options.max_boxes, refine=False)
            other += [(form, root) for root in again.roots]
            still += again.unresolved
        left = uncovered(still, boxes + [box for _, box in other])
    return left


def _double_roots(residual: BallResidual, left: list[Any], boxes: list[Any], folds: list[Fold],
                  options: SolverOptions, dps: int) -> list[Any]:
    """One coordinate: each run of adjacent unresolved boxes is tested for a double root at the
    requested digits (:func:`~grpo_symbolic.numerics.intervals.fold`); the rest of the run is
    isolated again with boxes down to 2^(−prec/2).  Returns the boxes still unresolved (certified
    roots go to ``boxes``, double roots to ``folds``)."""
    arb = _flint().arb
    still: list[Any] = []
    for lo, hi in _runs(left):
        verdict, found = fold(residual, lo, hi, arb(10) ** (-dps) * max(1, abs(lo), abs(hi)))
        if verdict == "undecided":
            still.append(((lo, hi),))
            continue
        centre, radius = (found.centre, found.radius) if verdict == "fold" else (found.mid(), found.rad())
        if verdict == "fold":
            folds.append(found)
        fine = arb(2) ** (-(_flint().ctx.prec // 2))
        for piece in ((lo, centre - radius), (centre + radius, hi)):
            if piece[0] < piece[1]:
                again = isolate(residual, [piece], min_width=fine, budget=options.max_boxes, refine=False)
                boxes += again.roots
                still += again.unresolved
    return still


def _runs(boxes: list[Any]) -> list[tuple[Any, Any]]:
    """The hulls of runs of touching one-dimensional boxes."""
    runs: list[list[Any]] = []
    for ((lo, hi),) in sorted(boxes, key=lambda b: mpf_of(b[0][0].mid())):
        if runs and (lo.overlaps(runs[-1][1]) or lo < runs[-1][1]):
            runs[-1][1] = runs[-1][1].max(hi)
        else:
            runs.append([lo, hi])
    return [(lo, hi) for lo, hi in runs]


def settled_stability(reduced: ReducedMap, s: tuple[Any, ...], statement: Completeness) -> tuple[float, bool | None] | None:
    """(spectral radius, stable) of the best response at the root s, decided in ball arithmetic, or
    None where that is not done (then the float64 radius of :mod:`~grpo_symbolic.solve.stability` stands).

    Two reward values, direct penalty: the best response acts on the reward mixture alone (its
    Jacobian has rank one), and its logit is exactly s + F(s) (the normalisation cancels in
    log m'_0 − log m'_1), so the radius is |1 + F'(s)|: stable when that is provably below 1, not
    when provably above, and None at a certified double root (radius 1: neither, to first order)
    or when the ball cannot tell.
    """
    if reduced.values != 2 or reduced.problem.penalty != "direct" or not statement.certified:
        return None
    if any(abs(s[0] - centre) <= radius for centre, radius in statement.double_roots):
        return 1.0, None
    with flint_precision(reduced.dps):
        slope = 1 + fold_slope(BallResidual(reduced.problem), ball_of(s[0]))
        radius = abs(slope)
        stable = True if radius < 1 else False if radius > 1 else None
        return float(radius.mid()), stable


def _apart(s: tuple[Any, ...], t: tuple[Any, ...], dps: int) -> bool:
    return max(abs(a - b) for a, b in zip(s, t)) > mpx.mpf(10) ** (-dps // 2)


def _statement(region: Region, count: int, exhausted: bool, unresolved: Any, folds: Any, dps: int) -> Completeness:
    box = shown_box(region.bounds)
    where = f"the whole interior (logit box {box})" if region.proven else f"the logit box {box}"
    reason = region.reason
    if exhausted:
        reason += (f"; the box budget (SolverOptions.max_boxes, max_boxes_multi) ran out: certified is that box "
                   f"minus the {len(unresolved)} unresolved box(es) listed (each box costs more with more reward "
                   "values; raise the budget to certify them)")
    elif unresolved:
        reason += (f"; the unresolved boxes were not decided by ball arithmetic at {ISOLATION_BITS} bits and at "
                   f"{precision_bits(dps)} bits (dps = {dps}, and with each class's π as the complement for grpo): "
                   "a root there may be ill-conditioned (a denominator of the size of a tiny π_ref), or roots "
                   "closer than that precision separates, or a double root; a higher dps may decide them")
    return Completeness(not unresolved and region.proven, True, where, count, METHOD, reason, unresolved, folds)


def no_point_message(statement: Completeness, residual_sign: Any = None) -> str:
    """The error text when no interior point is listed: proven absent, or only not found."""
    if statement.complete:
        return (f"problem: there is provably no interior stationary policy ({statement.region}); "
                f"the maximiser lies on the boundary{_face(residual_sign)}")
    return f"problem: no interior stationary policy found; {statement}"


def _face(sign: Any) -> str:
    if sign is None:
        return "; boundary_points(problem) gives the KKT points of the faces, if any"
    value, direction, outputs, share = sign
    return (f": every reward mixture is pushed towards the vertex where all mass is on reward value {value} "
            f"({direction}), i.e. towards the face of outputs {outputs} (those giving reward {value} with the "
            f"highest probability, {share}); boundary_points(problem) gives the KKT points of the faces, if any")


def drift(reduced: ReducedMap) -> tuple[Any, str, str, Any] | None:
    """With two reward values and no root, the sign of the residual says where the mass goes:
    (reward value, why, the outputs of that face, their probability of that value)."""
    if reduced.values != 2:
        return None
    f = reduced.residual([mpx.mpf(0)])[0]
    problem = reduced.problem
    j, why = (0, "the residual is positive everywhere") if f > 0 else (1, "the residual is negative everywhere")
    share = max(row[j] for row in problem.law_matrix)
    outputs = ", ".join(str(o + 1) for o, row in enumerate(problem.law_matrix) if row[j] == share)
    return problem.reward_values[j], why, outputs, share
