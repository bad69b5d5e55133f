"""Numeric stationary policies of a Problem, to ``dps`` digits, residual-verified.

:func:`stationary_policies` builds the reduced map (:mod:`grpo_symbolic.solve.reduced`), finds its
roots (:mod:`grpo_symbolic.solve.search`, settings in :class:`~grpo_symbolic.solve.search.SolverOptions`),
checks each by the residual of the stationarity equations at the requested precision, and
classifies it (:mod:`grpo_symbolic.solve.stability`).  Everything runs at ``dps`` + guard digits
and is rounded to ``dps`` digits at the end (:mod:`grpo_symbolic.numerics.precision`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mpmath

from grpo_symbolic.model.errors import ParameterError, SolverError
from grpo_symbolic.model.problem import Problem
from grpo_symbolic.numerics.precision import check_dps, rounded, tolerance, working_precision
from grpo_symbolic.preference.engine import mixture
from grpo_symbolic.model.settings import Placement
from grpo_symbolic.solve.complete import Completeness, certified_roots, drift, no_point_message
from grpo_symbolic.solve.links import active_clamp, paper_equivalent, unregularised
from grpo_symbolic.solve.reduced import ReducedMap
from grpo_symbolic.solve.reward_pre import COMPLETENESS as REWARD_PRE_COMPLETENESS, reward_pre_point
from grpo_symbolic.solve.search import SolverOptions, find_roots
from grpo_symbolic.solve.stability import flow_stability, stability as best_response_stability
from grpo_symbolic.solve.unregularised import where_the_flow_goes


@dataclass(frozen=True)
class StationaryPoint:
    """One interior stationary policy with its diagnostics.

    ``policy``: π*(o) per output and ``multiplier``: λ*, mpf rounded to the requested digits;
    ``residual``: max |stationarity equation| (mpf);
    ``spectral_radius``: of the best-response map's Jacobian (on the simplex) at π*, a **float64**;
    ``stable``: spectral radius < 1 (attracting under repeated best responses);
    ``is_local_maximum``: π* is a local maximiser of J(·; π_old = π*) on the simplex.
    The last three are None when the solver was asked for no stability (``stability=False``);
    for a regulariser whose best response is degenerate (J linear in π: the KL as a detached
    reward) ``spectral_radius`` and ``is_local_maximum`` are None and ``stable`` comes from the
    expected-gradient flow's Jacobian (:func:`~grpo_symbolic.solve.stability.flow_stability`).
    ``face``: the outputs with π*(o) = 0 — only the linear link (k3 with the flipped ratio) has
    such KKT face points, where P_G(o) − λ lies below the link's threshold; their stability
    fields are None (the interior tests divide by π(o)).
    """

    policy: tuple[mpmath.mpf, ...]
    multiplier: mpmath.mpf
    residual: mpmath.mpf
    spectral_radius: float | None
    stable: bool | None
    is_local_maximum: bool | None
    face: tuple[int, ...] = ()


class StationaryPolicies(list[StationaryPoint]):
    """The list of :class:`StationaryPoint` returned by :func:`stationary_policies`, with
    ``completeness`` (a :class:`~grpo_symbolic.solve.complete.Completeness`: whether the list holds
    every interior stationary point, in which region, by which method)."""

    completeness: Completeness


def stationary_policy(problem: Problem, dps: int = 50, options: SolverOptions | None = None) -> tuple[mpmath.mpf, ...]:
    """The unique interior stationary policy of ``problem``, as mpmath numbers.

    Raises :class:`SolverError` when there is none (NO_INTERIOR_POINT; the message says whether
    that is proven, and towards which vertex the mass then goes) or when there are several
    (NOT_UNIQUE; use :func:`stationary_policies` to get them all).

    >>> from grpo_symbolic import Problem
    >>> prob = Problem(reference=["0.3", "0.7"], rewards=[1, 0], group_size=2, beta="0.5")
    >>> [mpmath.nstr(x, 20) for x in stationary_policy(prob, dps=30)]
    ['0.7109772228646443655', '0.2890227771353556345']
    """
    points = stationary_policies(problem, dps, stability=False, options=options)
    if len(points) > 1:
        shown = "; ".join(", ".join(mpmath.nstr(x, 8) for x in pt.policy) for pt in points)
        raise SolverError(
            f"problem: {len(points)} stationary policies found ({shown}); "
            "use stationary_policies() to get all of them with their stability", reason=SolverError.NOT_UNIQUE)
    return points[0].policy


def stationary_policies(problem: Problem, dps: int = 50, stability: bool = True,
                        options: SolverOptions | None = None) -> StationaryPolicies:
    """All interior stationary policies, each a :class:`StationaryPoint`, sorted by policy.

    The list's ``completeness`` says whether it holds every interior stationary point (by default
    it is certified with interval arithmetic: see :class:`~grpo_symbolic.solve.complete.Completeness`).
    Raises :class:`SolverError` NO_INTERIOR_POINT when there is none; the message says whether
    that is proven.

    >>> from grpo_symbolic import Problem
    >>> prob = Problem(reference=["0.5", "0.5"], rewards=[1, 0], group_size="inf", beta=3, penalty="direct")
    >>> [(mpmath.nstr(pt.policy[0], 6), pt.stable) for pt in stationary_policies(prob, dps=30)]
    [('0.670179', True), ('0.996514', False)]
    """
    if not problem.is_numeric:
        raise ParameterError("problem: the numeric solver needs numbers; substitute the symbols first")
    check_dps(dps)
    options = options or SolverOptions()
    if problem.kl_placement is Placement.REWARD_PRE and problem.beta != 0:
        return _reward_pre(problem, dps, stability, options)
    paper = paper_equivalent(problem)
    if paper is not None:  # the paper's form, derived from another estimator: its certified search
        result = stationary_policies(paper, dps, stability, options)
        kept = StationaryPolicies(_clamped(list(result), problem))
        kept.completeness = result.completeness
        return kept
    with working_precision(dps, guard=options.guard_digits):
        if unregularised(problem):
            raise SolverError(where_the_flow_goes(problem, dps), reason=SolverError.NO_INTERIOR_POINT)
        reduced = ReducedMap(problem, dps)
        if reduced.forms["paper"]:
            roots, completeness = certified_roots(reduced, options)
        else:
            roots = find_roots(reduced, options)
            completeness = Completeness(False, False, "the scanned logit range", len(roots), "float64 scan + Newton",
                                        f"the {reduced.forms['link']} form has no certified search yet: points may be missing")
        mixtures = [reduced.softmax(list(s)) if s else (mpmath.mpf(1),) for s in roots] + _vertex_points(reduced)
        if not mixtures:
            sign = drift(reduced) if completeness.complete else None
            raise SolverError(no_point_message(completeness, sign), reason=SolverError.NO_INTERIOR_POINT)
        points = _clamped([_point(reduced, m, stability) for m in mixtures], problem)
    result = StationaryPolicies(sorted(rounded(points, dps), key=lambda pt: pt.policy))
    result.completeness = completeness
    return result


def _clamped(points: list[StationaryPoint], problem: Problem) -> list[StationaryPoint]:
    """The points that are stationary for the clamped loss too (see :func:`~grpo_symbolic.solve.links.active_clamp`);
    SolverError NO_INTERIOR_POINT, saying where the mass goes, when none is."""
    why = [active_clamp(problem, point.policy) for point in points]
    kept = [point for point, reason in zip(points, why) if not reason]
    if not kept:
        raise SolverError(why[0], reason=SolverError.NO_INTERIOR_POINT)
    return kept


def _reward_pre(problem: Problem, dps: int, stability: bool, options: SolverOptions) -> StationaryPolicies:
    """The KL inside the reward before the normalisation: its fixed point (λ = 0 there)."""
    with working_precision(dps, guard=options.guard_digits):
        pi, residual, stable = reward_pre_point(problem, dps, stability, options)
        points = _clamped([StationaryPoint(tuple(pi), mpmath.mpf(0), residual, None, stable, None)], problem)
    result = StationaryPolicies(rounded(points, dps))
    result.completeness = REWARD_PRE_COMPLETENESS
    return result


def _vertex_points(reduced: ReducedMap) -> list[tuple[Any, ...]]:
    """The linear link's face points at a vertex of the reward mixture (every output of the other
    reward values at π = 0), which the logit search cannot reach: m = e_v is one when the cut form
    maps it to itself."""
    if not reduced.forms["cut_at_zero"] or reduced.values < 2:
        return []
    found = []
    for v in range(reduced.values):
        m = tuple(mpmath.mpf(1 if j == v else 0) for j in range(reduced.values))
        pi, _, _ = reduced.policy(reduced.preferences(m))
        if all(x == 0 for c, x in enumerate(pi) if reduced.exact.laws[c][v] != 1):
            found.append(m)
    return found


def _point(reduced: ReducedMap, m: tuple[Any, ...], stability: bool) -> StationaryPoint:
    """The policy at the fixed point m of the reduced map, verified by the residual of the stationarity equations."""
    pi, multiplier, face = _policy_at(reduced, m)
    again = reduced.preferences(mixture(reduced.laws, pi))
    P = [again[c] for c in reduced.class_of]
    eq = reduced.forms["equation"]
    # on the face (π(o) = 0) KKT asks ∂L/∂π(o) ≤ 0 there, i.e. the link's value max(0, ·) is 0
    residual = max(abs(eq(Po, x, r, multiplier, reduced.beta, reduced.entropy))
                   for o, (Po, x, r) in enumerate(zip(P, pi, reduced.rho)) if o not in face)
    scale = max(1, abs(multiplier), *(abs(Po) for Po in P))  # near a face (G = ∞) P_G itself is huge
    if residual > tolerance(reduced.dps) * scale or abs(mpmath.fsum(pi) - 1) > tolerance(reduced.dps):
        raise SolverError(
            f"the stationary policy did not verify to {reduced.dps} digits (residual {mpmath.nstr(residual, 3)}); "
            "raise dps or check the problem", reason=SolverError.UNVERIFIED)
    if not stability or face:  # on a face the interior tests do not apply (π(o) = 0 divides them)
        return StationaryPoint(pi, multiplier, residual, None, None, None, face)
    if reduced.forms["best_response_degenerate"]:
        return StationaryPoint(pi, multiplier, residual, None, flow_stability(_field(reduced), pi), None, face)
    radius, local_max = best_response_stability(reduced, pi, P, multiplier)
    return StationaryPoint(pi, multiplier, residual, radius, radius < 1, local_max, face)


def _policy_at(reduced: ReducedMap, m: tuple[Any, ...]) -> tuple[tuple[Any, ...], Any, tuple[int, ...]]:
    """(π per output, λ, the outputs on the face π = 0) from the stationary form at the mixture m."""
    at_root = reduced.preferences(m)
    _, multiplier, u = reduced.policy(at_root)
    top, form = max(at_root), reduced.forms["policy_u"]["mpmath"]
    pi = tuple(form(at_root[c] - top, r, u, reduced.beta, reduced.entropy) for c, r in zip(reduced.class_of, reduced.rho))
    face = tuple(o for o, x in enumerate(pi) if reduced.forms["cut_at_zero"] and x <= 0)
    return tuple(mpmath.mpf(0) if o in face else x for o, x in enumerate(pi)), multiplier, face


def _field(reduced: ReducedMap) -> Any:
    """π ↦ ∂J/∂π(o) at π_old = π (the stationarity condition at λ = 0), for the flow's Jacobian."""
    eq, b, c = reduced.forms["equation"], reduced.beta, reduced.entropy

    def gradient(pi: Any) -> list[Any]:
        P = reduced.preferences(mixture(reduced.laws, pi))
        return [eq(P[reduced.class_of[o]], x, r, 0, b, c) for o, (x, r) in enumerate(zip(pi, reduced.rho))]

    return gradient
