"""Beyond the paper: the solver's list of stationary points is complete, with a certificate.

The bistable direct-KL problem (π_ref = ½, rewards 1/0, App. B.2) at G = ∞ is solved on a grid of
β through the fold β* (:func:`grpo_symbolic.cases.bistability.critical_beta`): below β* the solver
must prove that there is no interior point, above it list exactly two, the smaller attracting,
each a zero of the printed h to the run's digits, with a completeness statement that covers the
whole interior.  At G = 64 the fold triples: three points (attracting, repelling, attracting)
inside the window, one outside, each verified against the stationarity of the direct form.

x-complete-large-group: G = ∞ with eps = 0 (P_G unbounded near the faces) is certified complete
for grpo ((15) at π_ref(b) = 1e-30) and for three reward values (direct), and at β = β* the fold
comes out as one certified double root at the zero of h'.  x-boundary-kkt: the face points of
:func:`~grpo_symbolic.solve.boundary.boundary_points` and their multipliers, against App. A's
vertex KKT and the slope of J along each edge leaving the face.
"""

import sympy as sp

from grpo_symbolic.cases import bistability, general
from grpo_symbolic.model.errors import SolverError
from grpo_symbolic.model.problem import Problem
from grpo_symbolic.model.symbols import beta, rho, x
from grpo_symbolic.numerics.precision import mp_lambdify, mpx, to_mpf, working_precision
from grpo_symbolic.numerics.roots import bracketed_newton
from grpo_symbolic.paper import forms as paper
from grpo_symbolic.preference.engine import preference_numeric
from grpo_symbolic.solve.api import stationary_policies
from grpo_symbolic.solve.boundary import boundary_points
from grpo_symbolic.theory.objective import objective
from paper_checks.registry import MARGIN, Outcome, agreement, check, combine, symbolic

#: Offsets of β from the fold β*: below it (no interior point) and above it (two points).
OFFSETS = ("-1e-3", "-1e-8", "1e-8", "1e-5", "1e-3", "0.1", "1")
#: G = 64, π_ref = ½: β inside the window of three stationary points, and outside it.
TRIPLES = (("1.462", 3), ("1.48", 3), ("1.507", 3), ("1.46", 1), ("1.508", 1))


def _solve(b, group_size, dps):
    problem = Problem(reference=["0.5", "0.5"], rewards=[1, 0], group_size=group_size, beta=b, penalty="direct")
    try:
        return stationary_policies(problem, dps)
    except SolverError as exc:
        return exc


def _large_g(b, dps):
    """One β at G = ∞: the expected count (0 below β*, 2 above), zeros of h, stability, completeness."""
    h = mp_lambdify(x, paper.DIRECT_KL_H.subs({beta: sp.Rational(b), rho: sp.Rational(1, 2)}))
    found = _solve(b, "inf", dps)
    below = mpx.mpf(b) < bistability.critical_beta("0.5", dps)
    if isinstance(found, SolverError):
        proven = found.reason == SolverError.NO_INTERIOR_POINT  # raised only when the absence is proven
        return symbolic(below and proven, f"beta={b}: no interior point, proven: {proven}"), None
    with working_precision(dps, guard=10):
        worst = max(abs(h(pt.policy[0])) for pt in found)
    digits = float(min(-mpx.log10(worst), dps)) if worst > 0 else float(dps)
    ok = (not below and len(found) == 2 and [pt.stable for pt in found] == [True, False]
          and found.completeness.complete and found.completeness.certified)
    return symbolic(ok, f"beta={b}: {len(found)} points, stable {[pt.stable for pt in found]}, "
                        f"|h| <= {mpx.nstr(worst, 2)}; {found.completeness.region}"), digits


def _triple(b, count, dps):
    found = _solve(b, 64, dps)
    if isinstance(found, SolverError):
        return symbolic(False, f"G=64, beta={b}: {found}")
    pattern = [True, False, True] if count == 3 else [True]
    ok = (len(found) == count and [pt.stable for pt in found] == pattern and found.completeness.complete
          and all(pt.residual <= mpx.mpf(10) ** -(dps - MARGIN) for pt in found))
    return symbolic(ok, f"G=64, beta={b}: {len(found)} points (expected {count}), stable {[pt.stable for pt in found]}, "
                        f"complete: {found.completeness.complete}")


@check("x-complete-roots")
def check_x_complete_roots(dps):
    with working_precision(dps, guard=10):
        star = bistability.critical_beta("0.5", dps)
        grid = [mpx.nstr(star * (1 + mpx.mpf(offset)), dps + 5) for offset in OFFSETS]
    outcomes, digits = [], []
    for b in grid:
        outcome, zero_digits = _large_g(b, dps)
        outcomes.append(outcome)
        if zero_digits is not None:
            digits.append(zero_digits)
    outcomes += [_triple(b, count, dps) for b, count in TRIPLES]
    joint = combine(*outcomes)
    worst = min(digits) if digits else None
    return Outcome(passed=joint.passed and (worst is None or worst >= dps - MARGIN), digits=worst,
                   verdict=joint.verdict, details=joint.details)


# --- x-complete-large-group -------------------------------------------------------------------

TINY_REFERENCE = ("0.999999999999999999999999999999", "1e-30")  # (15) at pi_ref(b) = 1e-30: pi*(b) ~ 1e-61


def _eq15_tiny(dps):
    """grpo at G = oo, eps = 0 (P_G unbounded near the faces): complete, and the one point is (15)."""
    problem = Problem(reference=list(TINY_REFERENCE), rewards=[1, 0], group_size="inf", beta="0.5")
    found = stationary_policies(problem, dps)
    with working_precision(dps, guard=60):
        printed = paper.POLICY_EQ15.subs({beta: sp.Rational(1, 2), rho: sp.Rational(TINY_REFERENCE[0])})
        b_part = 1 - mpx.mpf(sp.N(printed, dps + 60))
    ok = len(found) == 1 and found.completeness.complete and found.completeness.certified
    return [symbolic(ok, f"grpo, G=oo, eps=0, pi_ref(b)=1e-30: {len(found)} point, complete: {found.completeness.complete}"),
            agreement(found[0].policy[1], b_part, dps, what="pi*(b) vs 1 - (15)")]


def _three_values(dps):
    """direct, G = oo, rewards 1, 1/2, 0, beta = 4: complete, two points, the one near the vertex repelling."""
    problem = Problem(reference=["1/3", "1/3", "1/3"], rewards=[1, "1/2", 0], group_size="inf", beta=4, penalty="direct")
    found = stationary_policies(problem, dps)
    near = [pt for pt in found if pt.policy[0] > mpx.mpf("0.99")]
    ok = (len(found) == 2 and len(near) == 1 and near[0].stable is False and found.completeness.complete
          and all(pt.residual <= mpx.mpf(10) ** -(dps - MARGIN) for pt in found))
    return symbolic(ok, f"direct, G=oo, 3 reward values: {len(found)} points, near the vertex: "
                        f"{[mpx.nstr(x, 6) for x in near[0].policy] if near else None}; {found.completeness.region}")


def _fold_at_beta_star(dps):
    """At beta = beta* (to dps + 10 digits) the fold is one certified double root, at the minimiser of h."""
    with working_precision(dps, guard=20):
        star = mpx.nstr(bistability.critical_beta("0.5", dps + 10), dps + 10)
        h = paper.DIRECT_KL_H.subs({beta: sp.Rational(star), rho: sp.Rational(1, 2)})
        slope = mp_lambdify(x, sp.diff(h, x))
        minimiser = bracketed_newton(slope, mpx.mpf("0.85"), mpx.mpf("0.95"), what="the zero of h'")
    problem = Problem(reference=["0.5", "0.5"], rewards=[1, 0], group_size="inf", beta=star, penalty="direct")
    found = stationary_policies(problem, dps)
    ok = (len(found) == 1 and len(found.completeness.double_roots) == 1 and found.completeness.complete
          and found[0].stable is None)
    return [symbolic(ok, f"beta = beta* to {dps + 10} digits: {len(found)} point(s), "
                         f"{len(found.completeness.double_roots)} certified double root(s), stable {found[0].stable if found else None}"),
            agreement(found[0].policy[0], minimiser, dps, what="the double root vs the zero of h' (printed h)")]


@check("x-complete-large-group")
def check_x_complete_large_group(dps):
    return combine(*_eq15_tiny(dps), _three_values(dps), *_fold_at_beta_star(dps))


# --- x-boundary-kkt ---------------------------------------------------------------------------

def _edge_slope(problem, point, towards, dps):
    """d/dt J(π + t(e_towards − e_a); π_old = π) at t = 0+ (a the first output of the face), numerically."""
    P = preference_numeric(problem, point.policy, dps=dps - 2)
    ref, weight = [to_mpf(r) for r in problem.reference], to_mpf(problem.beta)
    pi = sp.symbols(f"x0:{problem.size}", positive=True)
    J = mp_lambdify(pi, objective(P, pi, ref, point.policy, weight, str(problem.penalty)))
    away = point.support[0]
    step = mpx.mpf(10) ** (-(dps // 3))
    return mpx.diff(lambda t: J(*[p + t * ((o == towards) - (o == away)) for o, p in enumerate(point.policy)]),
                       2 * step, h=step)


@check("x-boundary-kkt")
def check_x_boundary_kkt(dps):
    problem = Problem(reference=["0.2", "0.3", "0.5"], rewards=[1, 0, 2], group_size=4, beta="0.5")
    with working_precision(dps, guard=10):
        points = boundary_points(problem, dps)
        kkt = general.vertex_kkt(problem, 2)
        vertex = next(pt for pt in points if pt.support == (2,))
        derived = [mpx.mpf(sp.N(kkt["slacks"][o].subs(beta, sp.Rational(1, 2)), dps + 10)) for o in (0, 1)]
        slopes, slacks = [], []
        for pt in points:
            for o, gamma in zip([o for o in range(problem.size) if o not in pt.support], pt.slacks):
                slopes.append(-_edge_slope(problem, pt, o, dps))
                slacks.append(gamma)
    direct = boundary_points(problem.replace(penalty="direct"), dps)
    return combine(
        agreement(list(vertex.slacks), derived, dps, what="vertex 3: slacks vs App. A's vertex KKT (cases.general)"),
        agreement(slacks, slopes, dps // 3, margin=2, what="gamma_o vs minus the slope of J along the edge off the face "
                                                       "(numerical, step 10^-(dps/3))"),
        symbolic(len(points) == 6 and sum(pt.kkt for pt in points) == 3 and all(pt.kkt == all(g >= 0 for g in pt.slacks) for pt in points),
                 f"{len(points)} face points, {sum(pt.kkt for pt in points)} KKT points (signs checked); {points.statement}"),
        symbolic(direct == [], f"direct penalty: {direct.statement}"))
