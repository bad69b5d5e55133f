"""Numeric stationary policies of a Problem, to ``dps`` digits, residual-verified.

:func:`stationary_policies` builds the reduced map (:mod:`grpo_symbolic.solve.reduced`), finds its
roots (:mod:`grpo_symbolic.solve.search`, settings in :class:`~grpo_symbolic.solve.search.SolverOptions`),
checks each by the residual of the stationarity equations at the requested precision, and
classifies it (:mod:`grpo_symbolic.solve.stability`).  Everything runs at ``dps`` + guard digits
and is rounded to ``dps`` digits at the end (:mod:`grpo_symbolic.numerics.precision`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import mpmath

from grpo_symbolic.model import cost
from grpo_symbolic.model.errors import ParameterError, SolverError
from grpo_symbolic.model.problem import Problem, require_problem
from grpo_symbolic.model.scaling import SOLVER_RANGE, float_range, rescaled
from grpo_symbolic.numerics.precision import check_dps, mpx, rounded, tolerance, working_precision
from grpo_symbolic.preference.engine import mixture
from grpo_symbolic.model.settings import Placement
from grpo_symbolic.preference.sums import require_affordable
from grpo_symbolic.solve.complete import Completeness, certified_roots, drift, no_point_message, settled_stability
from grpo_symbolic.solve.links import active_clamp, paper_equivalent, unregularised
from grpo_symbolic.solve.presentation import FramePresentation, PointPresentation, Policy
from grpo_symbolic.solve.reduced import ReducedMap
from grpo_symbolic.solve.reward_pre import COMPLETENESS as REWARD_PRE_COMPLETENESS, reward_pre_point
from grpo_symbolic.solve.search import SolverOptions, find_roots
from grpo_symbolic.solve.stability import flow_stability, stability as best_response_stability
from grpo_symbolic.solve.unregularised import where_the_flow_goes


@dataclass(frozen=True, repr=False)
class StationaryPoint(PointPresentation):
    """One interior stationary policy with its diagnostics.

    ``policy``: π*(o) per output (a :class:`~grpo_symbolic.solve.presentation.Policy`: a tuple
    carrying the Problem's ``names``) and ``multiplier``: λ*, mpf rounded to the requested digits;
    ``residual``: max |stationarity equation| (mpf);
    ``spectral_radius``: of the best-response map's Jacobian (on the simplex) at π*, a **float64**;
    ``stable``: spectral radius < 1 (attracting under repeated best responses; decided in ball
    arithmetic for two reward values with the direct penalty, and None at a certified double root,
    where the radius is 1);
    ``is_local_maximum``: π* is a local maximiser of J(·; π_old = π*) on the simplex.
    The last three are None when the solver was asked for no stability (``stability=False``), and
    under a group filter (``drop-equal``, ``mask-penalty``), whose best response also moves the
    effective β·W(π_old): not computed yet.  ``multiplier`` is λ of the form with the effective
    β·W per output (for ``drop-equal``, (1 − Z)·λ of its conditional objective).
    For a regulariser whose best response is degenerate (J linear in π: the KL as a detached
    reward) ``spectral_radius`` and ``is_local_maximum`` are None and ``stable`` comes from the
    expected-gradient flow's Jacobian (:func:`~grpo_symbolic.solve.stability.flow_stability`).
    ``face``: the outputs with π*(o) = 0 — only the linear link (k3 with the flipped ratio) has
    such KKT face points, where P_G(o) − λ lies below the link's threshold; their stability
    fields are None (the interior tests divide by π(o)).
    Shown with the outputs' names (numbered from 1 without), also in Jupyter (LaTeX, HTML);
    ``.to_numpy()`` / ``.as_floats()`` give π* as float64 (see :mod:`grpo_symbolic.solve.presentation`).

    >>> import grpo_symbolic as gs
    >>> prob = gs.Problem(reference=["0.3", "0.7"], rewards=[1, 0], group_size=2, beta="0.5", names=["right", "wrong"])
    >>> point = gs.stationary_policies(prob, dps=30)[0]
    >>> point  # doctest: +ELLIPSIS
    StationaryPoint(policy={'right': 0.710977222865, 'wrong': 0.289022777135}, multiplier=..., stable=True, ...)
    >>> point.to_numpy()
    array([0.71097722, 0.28902278])
    """

    policy: tuple[mpmath.mpf, ...]
    multiplier: mpmath.mpf
    residual: mpmath.mpf
    spectral_radius: float | None
    stable: bool | None
    is_local_maximum: bool | None
    face: tuple[int, ...] = ()


class StationaryPolicies(FramePresentation, list[StationaryPoint]):
    """The list of :class:`StationaryPoint` returned by :func:`stationary_policies`, with
    ``completeness`` (a :class:`~grpo_symbolic.solve.complete.Completeness`: whether the list holds
    every interior stationary point, in which region, by which method) and ``to_frame()`` (a pandas
    DataFrame, when pandas is installed: :func:`~grpo_symbolic.solve.presentation.points_frame`)."""

    completeness: Completeness


def stationary_policy(problem: Problem, dps: int = 50, options: SolverOptions | None = None,
                      budget: Any = None) -> Policy:
    """The unique interior stationary policy of ``problem``, as mpmath numbers (a tuple; a
    :class:`~grpo_symbolic.solve.presentation.Policy` with the Problem's ``names``, ``.as_floats()``
    and ``.to_numpy()``).

    Raises :class:`SolverError` when there is provably none (NO_INTERIOR_POINT; the message says
    towards which face the mass then goes), when none was found by a search that is not complete
    (NOT_CONVERGED, with the completeness statement) or when there are several
    (NOT_UNIQUE; use :func:`stationary_policies` to get them all).

    >>> from grpo_symbolic import Problem
    >>> prob = Problem(reference=["0.3", "0.7"], rewards=[1, 0], group_size=2, beta="0.5")
    >>> [mpmath.nstr(x, 20) for x in stationary_policy(prob, dps=30)]
    ['0.7109772228646443655', '0.2890227771353556345']
    >>> stationary_policy(prob, dps=30).to_numpy()
    array([0.71097722, 0.28902278])
    """
    points = stationary_policies(problem, dps, stability=False, options=options, budget=budget)
    if len(points) > 1:
        shown = "; ".join(", ".join(mpx.nstr(x, 8) for x in pt.policy) for pt in points)
        raise SolverError(
            f"problem: {len(points)} stationary policies found ({shown}); "
            "use stationary_policies() to get all of them with their stability", reason=SolverError.NOT_UNIQUE)
    return Policy(points[0].policy, problem.names)


def stationary_policies(problem: Problem, dps: int = 50, stability: bool = True,
                        options: SolverOptions | None = None, budget: Any = None) -> StationaryPolicies:
    """All interior stationary policies, each a :class:`StationaryPoint`, sorted by policy.

    The list's ``completeness`` says whether it holds every interior stationary point (by default
    it is certified with interval arithmetic: see :class:`~grpo_symbolic.solve.complete.Completeness`).
    Raises :class:`SolverError` NO_INTERIOR_POINT when there is provably none, NOT_CONVERGED when
    none was found and the search is not complete (the message holds the statement).
    ``budget``: seconds the cost model may estimate before it refuses with a
    :class:`ParameterError` (:mod:`grpo_symbolic.model.cost`; default 100, ``math.inf``: no limit).

    >>> from grpo_symbolic import Problem
    >>> prob = Problem(reference=["0.5", "0.5"], rewards=[1, 0], group_size="inf", beta=3, penalty="direct")
    >>> [(mpmath.nstr(pt.policy[0], 6), pt.stable) for pt in stationary_policies(prob, dps=30)]
    [('0.670179', True), ('0.996514', False)]
    """
    options = _checked(problem, dps, options)
    values = len(problem.reward_values)
    require_affordable(problem, dps, budget, exact=cost.solve_evaluations(dps), dense=int(stability), what="stationary_policies",
                       scans=len(options.multistart) ** (values - 1) * 10 * values if values > 2 else 500)
    if problem.kl_placement is Placement.REWARD_PRE and problem.beta != 0:
        return _reward_pre(problem, dps, stability, options)
    paper = paper_equivalent(problem)
    if paper is not None:  # the paper's form, derived from another estimator: its certified search
        result = stationary_policies(paper, dps, stability, options, budget)
        with working_precision(dps, guard=options.guard_digits):
            kept = StationaryPolicies(_clamped(list(result), problem))
        kept.completeness = result.completeness
        return kept
    with working_precision(dps, guard=options.guard_digits), float_range("problem", SolverError, SOLVER_RANGE):
        if unregularised(problem):
            raise SolverError(where_the_flow_goes(problem, dps), reason=SolverError.NO_INTERIOR_POINT)
        reduced = ReducedMap(rescaled(problem)[0], dps)
        points, completeness = _search(reduced, options, stability)
        points = _clamped(points, problem)
    result = _named(points, problem, dps)
    result.completeness = completeness
    return result


def _checked(problem: Problem, dps: int, options: SolverOptions | None) -> SolverOptions:
    """The solver's options (the defaults for None), after checking the problem, dps and options."""
    if not require_problem(problem).is_numeric:
        raise ParameterError("problem: the numeric solver needs numbers; substitute the symbols first")
    check_dps(dps)
    if options is not None and not isinstance(options, SolverOptions):
        raise ParameterError(f"options: got {type(options).__name__}; give a SolverOptions or None (the defaults)")
    return options or SolverOptions()


def _search(reduced: ReducedMap, options: SolverOptions, stability: bool) -> tuple[list[StationaryPoint], Completeness]:
    """The verified points of the reduced map (the certified search for the paper's forms, a float64
    scan for the others; the linear link's vertex points too) and the completeness statement."""
    if reduced.forms["paper"]:
        roots, completeness = certified_roots(reduced, options)
    else:
        roots = find_roots(reduced, options)
        completeness = Completeness(False, False, "the scanned logit range", len(roots), "float64 scan + Newton",
                                    f"the {reduced.forms['link']} form has no certified search yet: points may be missing")
    vertices = _vertex_points(reduced)
    if not roots and not vertices:
        sign = drift(reduced) if completeness.complete else None
        reason = SolverError.NO_INTERIOR_POINT if completeness.complete else SolverError.NOT_CONVERGED
        raise SolverError(no_point_message(completeness, sign), reason=reason)
    points = [_point(reduced, reduced.softmax(list(s)) if s else (mpx.mpf(1),), stability) for s in roots]
    if stability:
        points = [_settled(pt, settled_stability(reduced, s, completeness)) for pt, s in zip(points, roots)]
    return points + [_point(reduced, m, stability) for m in vertices], completeness


def _settled(point: StationaryPoint, settled: tuple[float, bool | None] | None) -> StationaryPoint:
    """The stability decided in ball arithmetic where the completeness search can (two reward
    values, direct penalty; None at a double root), else the float64 one."""
    if settled is None:
        return point
    return replace(point, spectral_radius=settled[0], stable=settled[1])


def _named(points: list[StationaryPoint], problem: Problem, dps: int) -> StationaryPolicies:
    """The points rounded to dps digits, their policies carrying the Problem's names, sorted by policy."""
    named = [replace(pt, policy=Policy(pt.policy, problem.names)) for pt in rounded(points, dps)]
    return StationaryPolicies(sorted(named, key=lambda pt: pt.policy))


def _output_policy(reduced: ReducedMap, P: Any, u: Any, betas: Any) -> tuple[Any, ...]:
    """π per output from the per-class preferences P and the solved u (β·W per class under a filter)."""
    top, form, c = max(P), reduced.forms["policy_u"]["mpmath"], reduced.entropy
    if betas is None:
        return tuple(form(P[k] - top, r, u, reduced.beta, c) for k, r in zip(reduced.class_of, reduced.rho))
    return tuple(form(P[k] - top, r, u + betas[k] - reduced.beta, betas[k], c) for k, r in zip(reduced.class_of, reduced.rho))


def _output_betas(reduced: ReducedMap, m: Any) -> list[Any]:
    """The β each output sees at the mixture m: β·W under a group filter, else β."""
    betas = reduced.betas(m)
    return [reduced.beta if betas is None else betas[c] for c in reduced.class_of]


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
        points = _clamped([StationaryPoint(tuple(pi), mpx.mpf(0), residual, None, stable, None)], problem)
    result = _named(points, problem, dps)
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
        m = tuple(mpx.mpf(1 if j == v else 0) for j in range(reduced.values))
        pi, _, _ = reduced.policy(reduced.preferences(m))
        if all(x == 0 for c, x in enumerate(pi) if reduced.exact.laws[c][v] != 1):
            found.append(m)
    return found


def _point(reduced: ReducedMap, m: tuple[Any, ...], stability: bool) -> StationaryPoint:
    """The policy at the fixed point m of the reduced map, verified by the residual of the stationarity equations."""
    pi, multiplier, face = _policy_at(reduced, m)
    new_m = mixture(reduced.laws, pi)
    again = reduced.preferences(new_m)
    P = [again[c] for c in reduced.class_of]
    eq = reduced.forms["equation"]
    b = _output_betas(reduced, new_m)
    # on the face (π(o) = 0) KKT asks ∂L/∂π(o) ≤ 0 there, i.e. the link's value max(0, ·) is 0
    residual = max(abs(eq(Po, x, r, multiplier, bo, reduced.entropy))
                   for o, (Po, x, r, bo) in enumerate(zip(P, pi, reduced.rho, b)) if o not in face)
    scale = max(1, abs(multiplier), reduced.beta, *(abs(Po) for Po in P))  # near a face P_G is huge; β-sized terms
    if residual > tolerance(reduced.dps) * scale or abs(mpx.fsum(pi) - 1) > tolerance(reduced.dps):
        raise SolverError(
            f"the stationary policy did not verify to {reduced.dps} digits (residual {mpx.nstr(residual, 3)}); "
            "raise dps or check the problem", reason=SolverError.UNVERIFIED)
    if not stability or face or reduced.problem.group_filter != "keep":
        # on a face the interior tests do not apply (π(o) = 0 divides them); under a filter the
        # best response also moves W(π_old): no Jacobian for it yet
        return StationaryPoint(pi, multiplier, residual, None, None, None, face)
    if reduced.forms["best_response_degenerate"]:
        return StationaryPoint(pi, multiplier, residual, None, flow_stability(_field(reduced), pi), None, face)
    radius, local_max = best_response_stability(reduced, pi, P, multiplier)
    return StationaryPoint(pi, multiplier, residual, radius, radius < 1, local_max, face)


def _policy_at(reduced: ReducedMap, m: tuple[Any, ...]) -> tuple[tuple[Any, ...], Any, tuple[int, ...]]:
    """(π per output, λ, the outputs on the face π = 0) from the stationary form at the mixture m."""
    at_root = reduced.preferences(m)
    betas = reduced.betas(m)
    _, multiplier, u = reduced.policy(at_root, betas=betas)
    pi = _output_policy(reduced, at_root, u, betas)
    face = tuple(o for o, x in enumerate(pi) if reduced.forms["cut_at_zero"] and x <= 0)
    return tuple(mpx.mpf(0) if o in face else x for o, x in enumerate(pi)), multiplier, face


def _field(reduced: ReducedMap) -> Any:
    """π ↦ ∂J/∂π(o) at π_old = π (the stationarity condition at λ = 0), for the flow's Jacobian."""
    eq, b, c = reduced.forms["equation"], reduced.beta, reduced.entropy

    def gradient(pi: Any) -> list[Any]:
        P = reduced.preferences(mixture(reduced.laws, pi))
        return [eq(P[reduced.class_of[o]], x, r, 0, b, c) for o, (x, r) in enumerate(zip(pi, reduced.rho))]

    return gradient
