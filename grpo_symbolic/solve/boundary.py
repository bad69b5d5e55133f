"""Stationary points on the boundary of the simplex (vertices and faces), with their KKT multipliers.

On a face S (π(o) = 0 for o ∉ S) with π_old = π, the sampled penalty cannot see the outputs off S
(their terms carry the factor π_old(o) = 0), so J(·; π_old) has the slopes (derived by SymPy from
:func:`~grpo_symbolic.theory.objective.objective`, :func:`face_slopes`):

* on S, ∂J/∂π(o) at π_old = π: grpo P_o − β + βρ_o/π(o), direct P_o + β·log(ρ_o/π(o));
* off S, ∂J/∂π(o) at π_old(o) = 0 and π(o) → 0+: grpo P_o, direct +∞.

KKT on the face: the on-face slopes equal one multiplier λ, and each output off S has
γ_o = λ − (its slope) ≥ 0.  With the grpo penalty the on-face condition is the stationary form of
the problem restricted to S with reference ρ_S/ρ(S) and weight β·ρ(S) (so :func:`boundary_points`
solves that problem with :func:`~grpo_symbolic.solve.api.stationary_policies`, certified and
complete where that is, and checks the derived slopes at each point); with the direct penalty
every γ_o is −∞: no face point is a KKT point.  At G = ∞ with eps = 0, a face whose outputs all
give one reward has σ = 0 and P_G there is not finite: such faces are not listed (said so).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations
from typing import Any, Callable

import mpmath
import sympy as sp

from grpo_symbolic.model.errors import ParameterError, SolverError
from grpo_symbolic.model.problem import Problem
from grpo_symbolic.numerics.precision import check_dps, mp_lambdify, mpx, rounded, to_mpf, tolerance, working_precision
from grpo_symbolic.preference.engine import preference_numeric
from grpo_symbolic.solve.api import stationary_policies
from grpo_symbolic.solve.complete import unsupported_setting
from grpo_symbolic.theory.objective import objective

#: Faces are enumerated (2^K − 2 of them): at most this many outputs.
MAX_OUTPUTS = 10


@dataclass(frozen=True)
class BoundaryPoint:
    """A stationary point of a face: ``support`` (the outputs with π > 0), ``policy`` (zeros off the
    support), ``multiplier`` λ, ``slacks`` (γ_o = λ − ∂J/∂π(o) per output off the support, in
    output order; mpf, possibly ±inf), ``kkt``: every γ_o ≥ 0 (to the requested digits), i.e. a
    KKT point of J(·; π_old = π) on the simplex."""

    support: tuple[int, ...]
    policy: tuple[mpmath.mpf, ...]
    multiplier: mpmath.mpf
    slacks: tuple[mpmath.mpf, ...]
    kkt: bool


class BoundaryPoints(list[BoundaryPoint]):
    """The list returned by :func:`boundary_points`, with ``statement``: what was searched and how
    complete it is (face by face)."""

    statement: str


@lru_cache(maxsize=None)
def face_slopes(penalty: str) -> tuple[sp.Expr, sp.Expr]:
    """(on-face slope, off-face slope) of J for ``penalty``, derived from the objective.

    In the symbols P, x (= π(o)), r (= π_ref(o)), β: the on-face slope is ∂J/∂π(o) with
    π_old(o) = π(o); the off-face one is ∂J/∂π(o) with π_old(o) = 0, in the limit π(o) → 0+.

    >>> face_slopes("grpo")
    (P + beta*r/x - beta, P)
    >>> face_slopes("direct")[1]
    oo
    """
    P0, P1, x0, x1, o0, o1, r0, r1, beta = sp.symbols("P P_1 x x_1 o o_1 r r_1 beta", positive=True)
    J = objective((P0, P1), (x0, x1), (r0, r1), (o0, o1), beta, penalty)
    seen = sp.expand(sp.expand_log(sp.diff(J, x0).subs(o0, x0), force=True))
    unseen = sp.limit(sp.diff(J, x1).subs(o1, 0), x1, 0, "+").subs({P1: P0, r1: r0})
    return seen, unseen


def boundary_points(problem: Problem, dps: int = 50) -> BoundaryPoints:
    """Every stationary point of every proper face of the simplex, with its KKT multipliers.

    >>> from grpo_symbolic import Problem
    >>> prob = Problem(reference=["0.5", "0.5"], rewards=[1, 0], group_size=2, beta="0.5")
    >>> [(pt.support, [mpmath.nstr(x, 6) for x in pt.slacks], pt.kkt) for pt in boundary_points(prob, dps=20)]
    [((0,), ['0.75'], True), ((1,), ['-1.25'], False)]
    """
    if not isinstance(problem, Problem):
        raise ParameterError(f"problem: give a Problem, not {type(problem).__name__}")
    if not problem.is_numeric:
        raise ParameterError("problem: boundary_points needs numbers; substitute the symbols first")
    check_dps(dps)
    setting = unsupported_setting(problem)
    if setting:
        raise ParameterError(f"problem: boundary_points is derived for the paper's penalties only; not: {setting}")
    if problem.size > MAX_OUTPUTS:
        raise ParameterError(f"problem: {problem.size} outputs give {2 ** problem.size - 2} faces; boundary_points "
                             f"enumerates them for at most {MAX_OUTPUTS} outputs (merge outputs with equal rewards)")
    result = BoundaryPoints()
    if face_slopes(str(problem.penalty))[1] == sp.oo:
        result.statement = ("no face point is a KKT point: with the direct penalty ∂J/∂π(o) → +∞ as π(o) → 0 "
                            "(derived), so every multiplier off the face is −∞")
        return result
    notes: list[str] = []
    for size in range(1, problem.size):
        for support in combinations(range(problem.size), size):
            result.extend(_face(problem, support, dps, notes))
    result.sort(key=lambda pt: (not pt.kkt, pt.support))
    kkt = sum(pt.kkt for pt in result)
    result.statement = (f"{len(result)} face stationary point(s), {kkt} of them KKT point(s), over the "
                        f"{2 ** problem.size - 2} proper faces" + (f"; {'; '.join(notes)}" if notes else
                                                                  "; every face searched completely"))
    return result


def _face(problem: Problem, support: tuple[int, ...], dps: int, notes: list[str]) -> list[BoundaryPoint]:
    """The stationary points of one face (their KKT data), appending to ``notes`` what is not complete."""
    if _sigma_vanishes(problem, support):
        notes.append(f"face {_name(support)}: one reward value at G = ∞ with eps = 0 (σ = 0, P_G not finite), not listed")
        return []
    if len(support) == 1:
        return [_kkt(problem, support, _vertex(problem, support[0]), dps)]
    try:
        points = stationary_policies(_restricted(problem, support), dps, stability=False)
    except SolverError as exc:
        if exc.reason != SolverError.NO_INTERIOR_POINT:
            notes.append(f"face {_name(support)}: {exc}")
        return []
    if not points.completeness.complete:
        notes.append(f"face {_name(support)}: {points.completeness}")
    return [_kkt(problem, support, _extended(problem, support, pt.policy), dps) for pt in points]


def _sigma_vanishes(problem: Problem, support: tuple[int, ...]) -> bool:
    """G = ∞, eps = 0, not shift, and the face's outputs give one reward value only."""
    if not problem.is_large_group or problem.eps != 0 or problem.normalisation == "shift":
        return False
    laws = [problem.law_matrix[o] for o in support]
    return sum(1 for j in range(len(problem.reward_values)) if any(row[j] != 0 for row in laws)) == 1


def _restricted(problem: Problem, support: tuple[int, ...]) -> Problem:
    """The problem on the face: reference ρ_S/ρ(S), weight β·ρ(S) (grpo's on-face condition)."""
    mass = sum(problem.reference[o] for o in support)
    return problem.replace(reference=[problem.reference[o] / mass for o in support],
                           rewards=[problem.rewards[o] for o in support], beta=problem.beta * mass,
                           names=None if problem.names is None else [problem.names[o] for o in support])


def _vertex(problem: Problem, output: int) -> tuple[mpmath.mpf, ...]:
    return tuple(mpx.mpf(int(o == output)) for o in range(problem.size))


def _extended(problem: Problem, support: tuple[int, ...], policy: tuple[Any, ...]) -> tuple[mpmath.mpf, ...]:
    values = dict(zip(support, policy))
    return tuple(values.get(o, mpx.mpf(0)) for o in range(problem.size))


def _kkt(problem: Problem, support: tuple[int, ...], policy: tuple[Any, ...], dps: int) -> BoundaryPoint:
    """λ from the derived on-face slopes (all equal, checked), γ_o from the off-face ones."""
    seen, unseen = (_numeric(expr) for expr in face_slopes(str(problem.penalty)))
    with working_precision(dps):
        total = mpx.fsum(policy)
        policy = tuple(x / total for x in policy)  # the face's point, rounded to dps digits, renormalised
        P = preference_numeric(problem, policy, dps=dps)
        beta, ref = to_mpf(problem.beta), [to_mpf(r) for r in problem.reference]
        slopes = [seen(P[o], policy[o], ref[o], beta) for o in support]
        multiplier = mpx.fsum(slopes) / len(slopes)
        scale = max([mpx.mpf(1), beta, *(abs(p) for p in P)])
        if max(abs(s - multiplier) for s in slopes) > tolerance(dps - 2) * scale:
            raise SolverError(f"problem: the face {_name(support)} point does not satisfy the derived on-face "
                              "stationarity to the requested digits", reason=SolverError.UNVERIFIED)
        slacks = tuple(multiplier - unseen(P[o], policy[o], ref[o], beta) for o in range(problem.size) if o not in support)
        kkt = all(g >= -tolerance(dps - 2) * scale for g in slacks)
    return rounded(BoundaryPoint(support, policy, multiplier, slacks, kkt), dps)


def _numeric(expr: sp.Expr) -> Callable[..., Any]:
    P, x, r, beta = sp.symbols("P x r beta", positive=True)
    return mp_lambdify((P, x, r, beta), expr)


def _name(support: tuple[int, ...]) -> str:
    return "{" + ", ".join(str(o + 1) for o in support) + "}"
