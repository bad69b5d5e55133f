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
from grpo_symbolic.solve.complete import Completeness, certified_roots, drift, no_point_message
from grpo_symbolic.solve.reduced import ReducedMap
from grpo_symbolic.solve.search import SolverOptions
from grpo_symbolic.solve.stability import stability as best_response_stability


@dataclass(frozen=True)
class StationaryPoint:
    """One interior stationary policy with its diagnostics.

    ``policy``: π*(o) per output and ``multiplier``: λ*, mpf rounded to the requested digits;
    ``residual``: max |stationarity equation| (mpf);
    ``spectral_radius``: of the best-response map's Jacobian (on the simplex) at π*, a **float64**;
    ``stable``: spectral radius < 1 (attracting under repeated best responses);
    ``is_local_maximum``: π* is a local maximiser of J(·; π_old = π*) on the simplex.
    The last three are None when the solver was asked for no stability (``stability=False``), and
    under a group filter (``drop-equal``, ``mask-penalty``), whose best response also moves the
    effective β·W(π_old): not computed yet.  ``multiplier`` is λ of the form with the effective
    β·W per output (for ``drop-equal``, (1 − Z)·λ of its conditional objective).
    """

    policy: tuple[mpmath.mpf, ...]
    multiplier: mpmath.mpf
    residual: mpmath.mpf
    spectral_radius: float | None
    stable: bool | None
    is_local_maximum: bool | None


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
    with working_precision(dps, guard=options.guard_digits):
        reduced = ReducedMap(problem, dps)
        roots, completeness = certified_roots(reduced, options)
        if not roots:
            sign = drift(reduced) if completeness.complete else None
            raise SolverError(no_point_message(completeness, sign), reason=SolverError.NO_INTERIOR_POINT)
        points = [_point(reduced, s, stability) for s in roots]
    result = StationaryPolicies(sorted(rounded(points, dps), key=lambda pt: pt.policy))
    result.completeness = completeness
    return result


def _output_policy(reduced: ReducedMap, P: Any, u: Any, m: Any) -> tuple[Any, ...]:
    """π per output from the per-class preferences P and the solved u (β·W per class under a filter)."""
    top, form, betas = max(P), reduced.forms["policy_u"]["mpmath"], reduced.betas(m)
    if betas is None:
        return tuple(form(P[c] - top, r, u, reduced.beta) for c, r in zip(reduced.class_of, reduced.rho))
    return tuple(form(P[c] - top, r, u + betas[c] - reduced.beta, betas[c]) for c, r in zip(reduced.class_of, reduced.rho))


def _output_betas(reduced: ReducedMap, m: Any) -> list[Any]:
    """The β each output sees at the mixture m: β·W under a group filter, else β."""
    betas = reduced.betas(m)
    return [reduced.beta if betas is None else betas[c] for c in reduced.class_of]


def _point(reduced: ReducedMap, s: tuple[Any, ...], stability: bool) -> StationaryPoint:
    """The policy at the root s, verified by the residual of the stationarity equations."""
    m = reduced.softmax(list(s)) if s else (mpmath.mpf(1),)
    at_root = reduced.preferences(m)
    _, multiplier, u = reduced.policy(at_root, betas=reduced.betas(m))
    pi = _output_policy(reduced, at_root, u, m)
    new_m = mixture(reduced.laws, pi)
    again = reduced.preferences(new_m)
    P = [again[c] for c in reduced.class_of]
    eq = reduced.forms["equation"]
    b = _output_betas(reduced, new_m)
    residual = max(abs(eq(Po, x, r, multiplier, bo)) for Po, x, r, bo in zip(P, pi, reduced.rho, b))
    scale = max(1, abs(multiplier), *(abs(Po) for Po in P))  # near a face (G = ∞) P_G itself is huge
    if residual > tolerance(reduced.dps) * scale or abs(mpmath.fsum(pi) - 1) > tolerance(reduced.dps):
        raise SolverError(
            f"the stationary policy did not verify to {reduced.dps} digits (residual {mpmath.nstr(residual, 3)}); "
            "raise dps or check the problem", reason=SolverError.UNVERIFIED)
    if not stability or reduced.problem.group_filter != "keep":  # no best-response Jacobian with W(π_old) yet
        return StationaryPoint(pi, multiplier, residual, None, None, None)
    radius, local_max = best_response_stability(reduced, pi, P, multiplier)
    return StationaryPoint(pi, multiplier, residual, radius, radius < 1, local_max)
