"""Numeric stationary policies of a Problem, to ``dps`` digits, residual-verified.

The stationary form derived in :mod:`grpo_symbolic.theory.objective` gives π(o) from P_G(o|π), π_ref(o),
β and the multiplier λ.  P_G(o|π) depends on π only through the mixture law m of the rewards,
so the fixed-point problem is solved in m (one unknown per distinct reward value, whatever the
number of outputs K):  m ↦ π(m) ↦ mixture(π(m)).  With two reward values all roots are
bracketed by a scan in logit coordinates and refined; with more, a multi-start Newton search is
used; distinct float64 roots are refined once each at full precision.  Each root is then checked
by the residual of the stationarity equations at the requested precision, and classified by the
linearised best-response map π_old ↦ argmax_π J(π; π_old).

Per evaluation of the map: one P_G table sum (:mod:`grpo_symbolic.preference.moments` for rational
rewards), then λ from Σ π = 1 by Newton from a float64 start, in the shifted coordinate
u = λ − max P + β (no cancellation when π_ref of the top output is tiny), over classes of outputs
with equal reward laws (the stationary form is proportional to π_ref, so a class acts as one
output): the cost grows with the number of distinct laws, not with K.

Limits: the two-value scan steps 0.25 in logit coordinates over [−60, 60], so two roots closer
than one step (e.g. just past a fold, where two roots are born together) can be missed, and a
double root is not bracketed; with three or more values the multistart finds the roots its
starting points reach.  "Found" means exactly that; every root reported is verified.
"""

from dataclasses import dataclass
from functools import lru_cache
import itertools
import math

import mpmath
import numpy as np
import sympy as sp

from grpo_symbolic.model.errors import ParameterError, SolverError
from grpo_symbolic.numerics.precision import to_mpf
from grpo_symbolic.theory.objective import derive_stationarity
from grpo_symbolic.preference.engine import expected_advantages_float, expected_advantages_numeric, mixture
from grpo_symbolic.model.symbols import beta as beta_symbol, lam


@dataclass(frozen=True)
class StationaryPoint:
    """One interior stationary policy with its diagnostics.

    ``policy``: π*(o) per output; ``multiplier``: λ*; ``residual``: max |stationarity equation|;
    ``spectral_radius``: of the best-response map's Jacobian (on the simplex) at π*;
    ``stable``: spectral radius < 1 (attracting under repeated best responses);
    ``is_local_maximum``: π* is a local maximiser of J(·; π_old = π*) on the simplex.
    """

    policy: tuple
    multiplier: object
    residual: object
    spectral_radius: object
    stable: bool
    is_local_maximum: bool


def stationary_policy(problem, dps=50):
    """The unique interior stationary policy of ``problem``, as mpmath numbers.

    Raises :class:`SolverError` when none is found, or when several are (use
    :func:`stationary_policies` to get them all).

    >>> from grpo_symbolic import Problem
    >>> prob = Problem(reference=["0.3", "0.7"], rewards=[1, 0], group_size=2, beta="0.5")
    >>> [mpmath.nstr(x, 20) for x in stationary_policy(prob, dps=30)]
    ['0.7109772228646443655', '0.2890227771353556345']
    """
    points = stationary_policies(problem, dps, stability=False)
    if len(points) > 1:
        shown = "; ".join(", ".join(mpmath.nstr(x, 8) for x in pt.policy) for pt in points)
        raise SolverError(
            f"problem: {len(points)} stationary policies found ({shown}); "
            "use stationary_policies() to get all of them with their stability"
        )
    return points[0].policy


def stationary_policies(problem, dps=50, stability=True):
    """All interior stationary policies found, each a :class:`StationaryPoint`.

    >>> from grpo_symbolic import Problem
    >>> prob = Problem(reference=["0.5", "0.5"], rewards=[1, 0], group_size="inf", beta=3, penalty="direct")
    >>> [(mpmath.nstr(pt.policy[0], 6), pt.stable) for pt in stationary_policies(prob, dps=30)]
    [('0.670179', True), ('0.996514', False)]
    """
    _check(problem, dps)
    with mpmath.workdps(dps + 15):
        system = _System(problem, dps)
        roots = system.roots()
        if not roots:
            raise SolverError(
                "problem: no interior stationary policy found; the maximiser may lie on the boundary "
                "(e.g. pi(a) = 1 for a small beta with the direct penalty and a large group)",
                reason=SolverError.NO_INTERIOR_POINT,
            )
        points = [system.point(s, stability) for s in roots]
    with mpmath.workdps(dps):  # round to the requested digits; mpf values keep them afterwards
        return sorted((_rounded(pt) for pt in points), key=lambda pt: pt.policy)


def _check(problem, dps):
    if not problem.is_numeric:
        raise ParameterError("problem: the numeric solver needs numbers; substitute the symbols first")
    if isinstance(dps, bool) or not isinstance(dps, int) or dps < 5:
        raise ParameterError(f"dps: got {dps!r}; give a whole number of digits >= 5 (default 50)")


def _rounded(pt):
    return StationaryPoint(tuple(+x for x in pt.policy), +pt.multiplier, +pt.residual,
                           pt.spectral_radius, pt.stable, pt.is_local_maximum)


@lru_cache(maxsize=None)
def _stationary_forms(penalty):
    """The derived per-output stationary form and best-response condition, lambdified.

    Besides π(o) as a function of (P_o, ρ_o, λ, β), the form is also given in the shifted
    coordinates gap = P_o − max_o' P_o' and u = λ − max_o' P_o' + β (``policy_u``), in which the
    multiplier is solved: for the grpo penalty the denominator β + λ − P_o is then u − gap, with
    no cancellation however small π_ref of the top output is.
    """
    st = derive_stationarity(penalty)
    P, rho, pi, q = st.preference[0], st.pi_ref[0], st.pi[0], st.pi_old[0]
    args = (P, rho, lam, beta_symbol)
    br = st.best_response[0]
    br_args = (P, pi, q, rho, lam, beta_symbol)
    top, gap, u = sp.symbols("top gap u", real=True)
    shifted = st.policy[0].subs({P: top + gap, lam: top - beta_symbol + u})
    if top in shifted.free_symbols:
        raise RuntimeError(f"the stationary form {st.policy[0]} does not reduce to the shifted coordinates")
    u_args = (gap, rho, u, beta_symbol)
    return dict(
        policy=sp.lambdify(args, st.policy[0], "mpmath"),
        policy_u=sp.lambdify(u_args, shifted, "mpmath"),
        policy_u_float=sp.lambdify(u_args, shifted, "numpy"),
        policy_u_slope=sp.lambdify(u_args, sp.diff(shifted, u), "mpmath"),
        policy_u_slope_float=sp.lambdify(u_args, sp.diff(shifted, u), "numpy"),
        proportional_to_rho=sp.simplify(shifted - rho * sp.diff(shifted, rho)) == 0,
        equation=sp.lambdify((P, pi, rho, lam, beta_symbol), st.equations[0], "mpmath"),
        # cancel() first: unsimplified, the terms in ρ/π² cancel catastrophically when π is tiny
        br_dpi=sp.lambdify(br_args, sp.cancel(sp.diff(br, pi)), "mpmath"),
        br_dq=sp.lambdify(br_args, sp.cancel(sp.diff(br, q)), "mpmath"),
        br_dP=sp.lambdify(br_args, sp.cancel(sp.diff(br, P)), "mpmath"),
    )


class _System:
    """The fixed-point problem of one numeric Problem, reduced to the reward mixture.

    Outputs with the same reward law have the same P_G; when the stationary form is proportional
    to π_ref (both penalties), they are merged into one class with their summed π_ref for the
    reduced map, so its cost per evaluation grows with the number of distinct laws, not with K.
    """

    def __init__(self, problem, dps):
        self.problem = problem
        self.dps = dps
        self.forms = _stationary_forms(problem.penalty)
        self.rho = tuple(to_mpf(r) for r in problem.reference)
        self.beta = to_mpf(problem.beta)
        self.laws = tuple(tuple(to_mpf(x) for x in row) for row in problem.law_matrix)
        self.values = len(problem.reward_values)
        classes = {}
        for o, row in enumerate(problem.law_matrix):
            classes.setdefault(row if self.forms["proportional_to_rho"] else o, []).append(o)
        self.members = list(classes.values())
        self.class_of = [0] * problem.size
        for c, outputs in enumerate(self.members):
            for o in outputs:
                self.class_of[o] = c
        self.class_laws = tuple(self.laws[outputs[0]] for outputs in self.members)
        self.class_rho = tuple(mpmath.fsum(self.rho[o] for o in outputs) for outputs in self.members)
        self.class_rho_f = np.array([float(r) for r in self.class_rho])
        self.class_laws_f = np.array([[float(x) for x in row] for row in self.class_laws])
        self.beta_f = float(self.beta)

    # --- the reduced map -------------------------------------------------------------
    def preferences(self, m):
        """P_G per class of outputs at the reward mixture m."""
        q = expected_advantages_numeric(self.problem, m, self.dps)
        return tuple(mpmath.fsum(a * b for a, b in zip(row, q)) for row in self.class_laws)

    def policy(self, P):
        """π per class from the stationary form, with λ fixed by Σ π = 1; returns (π, λ, u).

        λ = max P − β + u; u is found by safeguarded Newton from a float64 start.
        """
        top = max(P)
        gaps = [x - top for x in P]
        u = self._shift(gaps)
        form, b = self.forms["policy_u"], self.beta
        return tuple(form(g, r, u, b) for g, r in zip(gaps, self.class_rho)), top - b + u, u

    def _shift(self, gaps):
        """The u solving Σ_classes π(gap, ρ, u) = 1 at the working precision, from a float64 start."""
        form, slope, b = self.forms["policy_u"], self.forms["policy_u_slope"], self.beta
        lo, hi = self._shift_bracket(gaps, self.class_rho, b)
        start = self._shift_float(np.array([float(g) for g in gaps]), float(lo), float(hi))
        return _bracketed_newton(
            lambda u: mpmath.fsum(form(g, r, u, b) for g, r in zip(gaps, self.class_rho)) - 1,
            lambda u: mpmath.fsum(slope(g, r, u, b) for g, r in zip(gaps, self.class_rho)),
            mpmath.mpf(start), lo, hi, _middle, mpmath.mpf(2) ** (-(mpmath.mp.prec // 2) - 8))

    def _shift_float(self, gaps, lo, hi):
        """:meth:`_shift` in float64 (a start for it, and the float map's multiplier)."""
        form, slope, rho, b = self.forms["policy_u_float"], self.forms["policy_u_slope_float"], self.class_rho_f, self.beta_f
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            return _bracketed_newton(lambda u: form(gaps, rho, u, b).sum() - 1, lambda u: slope(gaps, rho, u, b).sum(),
                                     (lo + hi) / 2, lo, hi, _middle_float, 1e-15)

    def _shift_bracket(self, gaps, rho, b):
        """An interval of u in which Σ π − 1 changes sign (Σ π decreases in u)."""
        if self.problem.penalty == "direct":
            return b + min(gaps), b
        return b * max(r for g, r in zip(gaps, rho) if g == 0), b

    def residual_map(self, s):
        """log(m'_j / m'_V) − s_j: zero exactly at a fixed point m = softmax(s, 0)."""
        m = _softmax(s)
        pi, _, _ = self.policy(self.preferences(m))
        m_new = mixture(self.class_laws, pi)
        return [mpmath.log(m_new[j] / m_new[-1]) - s[j] for j in range(len(s))]

    def residual_map_float(self, s):
        """:meth:`residual_map` in float64, for scanning and multistart (never for results)."""
        s = np.asarray(s, dtype=float)
        w = np.exp(np.append(s, 0.0) - max(0.0, s.max()))
        m = w / w.sum()
        P = self.class_laws_f @ expected_advantages_float(self.problem, m, self.dps)
        gaps, rho, b = P - P.max(), self.class_rho_f, self.beta_f
        lo, hi = self._shift_bracket(gaps, rho, b)
        u = self._shift_float(gaps, lo, hi)
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            m_new = self.forms["policy_u_float"](gaps, rho, u, b) @ self.class_laws_f
            return np.log(m_new[:-1] / m_new[-1]) - s

    # --- finding the roots -----------------------------------------------------------
    def roots(self):
        if self.values == 1:
            return [()]
        if self.values == 2:
            return self._roots_1d()
        return self._roots_multistart()

    def _roots_1d(self):
        f = lambda s: self.residual_map([s])[0]
        grid = np.linspace(-60, 60, 481)
        signs = np.array([self.residual_map_float([s])[0] for s in grid])
        roots = []
        for k in np.flatnonzero(np.sign(signs[:-1]) * np.sign(signs[1:]) <= 0):
            a, b = mpmath.mpf(grid[k]), mpmath.mpf(grid[k + 1])
            if f(a) * f(b) <= 0:  # confirm the bracket at full precision
                roots.append(mpmath.findroot(f, (a, b), solver="anderson", verify=False))
        return [(s,) for s in self._verified(roots, lambda s: abs(f(s)))]

    def _roots_multistart(self):
        """Float64 Newton from a grid of starts; each distinct float root refined once at full precision."""
        dim = self.values - 1
        starts = [tuple(c) for c in itertools.product([-4, 0, 4], repeat=dim)]
        rough = []
        for start in starts:
            with mpmath.workdps(12):
                s = _newton(lambda t: [mpmath.mpf(x) for x in self.residual_map_float([float(y) for y in t])],
                            [mpmath.mpf(c) for c in start])
            if s is not None and not any(max(abs(float(a - b)) for a, b in zip(s, t)) < 1e-6 for t in rough):
                rough.append(s)
        found = []
        for s in rough:
            s = _newton(self.residual_map, [mpmath.mpf(x) for x in s])
            if s is not None and not any(max(abs(a - b) for a, b in zip(s, t)) < mpmath.mpf(10) ** (-self.dps // 2) for t in found):
                found.append(s)
        return [tuple(s) for s in found]

    def _verified(self, roots, error):
        tol = mpmath.mpf(10) ** (-self.dps - 5)
        unique = []
        for s in roots:
            if error(s) > tol:
                raise SolverError(f"the root near s = {mpmath.nstr(s, 8)} did not converge to {self.dps} digits")
            if all(abs(s - t) > mpmath.mpf(10) ** (-self.dps // 2) for t in unique):
                unique.append(s)
        return unique

    # --- a verified point --------------------------------------------------------------
    def point(self, s, stability):
        m = _softmax(list(s)) if s else (mpmath.mpf(1),)
        at_root = self.preferences(m)
        _, multiplier, u = self.policy(at_root)
        top, form = max(at_root), self.forms["policy_u"]
        pi = tuple(form(at_root[c] - top, r, u, self.beta) for c, r in zip(self.class_of, self.rho))
        again = self.preferences(mixture(self.laws, pi))
        P = [again[c] for c in self.class_of]
        eq = self.forms["equation"]
        residual = max(abs(eq(Po, x, r, multiplier, self.beta)) for Po, x, r in zip(P, pi, self.rho))
        if residual > mpmath.mpf(10) ** (-self.dps) or abs(mpmath.fsum(pi) - 1) > mpmath.mpf(10) ** (-self.dps):
            raise SolverError(
                f"the stationary policy did not verify to {self.dps} digits (residual {mpmath.nstr(residual, 3)}); "
                "raise dps or check the problem"
            )
        radius, local_max = self._stability(pi, P, multiplier) if stability else (None, None)
        stable = None if radius is None else bool(radius < 1)
        return StationaryPoint(pi, multiplier, residual, radius, stable, local_max)

    def _stability(self, pi, P, multiplier):
        """Spectral radius of d(best response)/d(π_old) on the simplex; and the second-order test."""
        K, b = len(pi), self.beta
        args = [(Po, x, x, r, multiplier, b) for Po, x, r in zip(P, pi, self.rho)]
        a = [self.forms["br_dpi"](*t) for t in args]
        dq = [self.forms["br_dq"](*t) for t in args]
        dP = [self.forms["br_dP"](*t) for t in args]
        JP = self._preference_jacobian(pi)
        # Linearised best response: a_o dπ_o − dλ = −(dq_o dq_o + dP_o Σ_j JP[o][j] dq_j), Σ dπ = 0.
        rhs = [[-(dP[o] * JP[o][j] + (dq[o] if o == j else 0)) for j in range(K)] for o in range(K)]
        inv_a = [1 / x for x in a]
        norm = mpmath.fsum(inv_a)
        D = mpmath.matrix(K, K)
        for j in range(K):
            dlam = -mpmath.fsum(rhs[o][j] * inv_a[o] for o in range(K)) / norm
            for o in range(K):
                D[o, j] = (rhs[o][j] + dlam) * inv_a[o]
        reduced = np.array([[float(D[o, j] - D[o, K - 1]) for j in range(K - 1)] for o in range(K - 1)])
        radius = mpmath.mpf(float(max(abs(np.linalg.eigvals(reduced))))) if K > 1 else mpmath.mpf(0)
        return radius, _negative_definite_on_simplex(a)

    def _preference_jacobian(self, pi):
        """dP_o/dπ_j through the mixture, by central differences at doubled precision."""
        V = self.values
        with mpmath.workdps(2 * mpmath.mp.dps):
            m = mixture(self.laws, pi)
            h = mpmath.mpf(10) ** (-self.dps - 10)
            dQ = []
            for u in range(V):
                up = [x + (h if j == u else 0) for j, x in enumerate(m)]
                down = [x - (h if j == u else 0) for j, x in enumerate(m)]
                qu = expected_advantages_numeric(self.problem, up, self.dps)
                qd = expected_advantages_numeric(self.problem, down, self.dps)
                dQ.append([(x - y) / (2 * h) for x, y in zip(qu, qd)])
        K = len(pi)
        return [[mpmath.fsum(self.laws[o][v] * dQ[u][v] * self.laws[j][u] for v in range(V) for u in range(V))
                 for j in range(K)] for o in range(K)]


def _middle(lo, hi):
    """Bisection point: geometric for a positive interval (u spans many decades), else arithmetic."""
    return mpmath.sqrt(lo * hi) if lo > 0 else (lo + hi) / 2


def _middle_float(lo, hi):
    return math.sqrt(lo) * math.sqrt(hi) if lo > 0 else (lo + hi) / 2  # lo·hi may underflow


def _bracketed_newton(excess, slope, u, lo, hi, middle, close, steps=400):
    """The root of a decreasing ``excess`` in (lo, hi): Newton steps, bisection whenever a step
    would leave the bracket or fails to halve the previous one (as in Numerical Recipes' rtsafe).

    Stops once a Newton step is below ``close``·scale (the error is then about its square), the
    scale being |u| on a positive bracket (bisected geometrically) and the bracket's width otherwise.
    """
    floor = 0 if lo > 0 else hi - lo
    u = u if lo < u < hi else middle(lo, hi)
    previous = hi - lo
    for _ in range(steps):
        value = excess(u)
        if value == 0:
            return u
        lo, hi = (u, hi) if value > 0 else (lo, u)
        step = value / slope(u)
        new = u - step
        if lo < new < hi and 0 < abs(step) <= previous / 2:  # a zero step: the slope overflowed
            if abs(step) <= close * (abs(new) + floor):
                return new
        else:
            new = middle(lo, hi)
            if not lo < new < hi:
                return u  # the bracket is as narrow as the arithmetic allows
        previous, u = abs(new - u), new
    raise SolverError("the multiplier lambda did not converge; check the problem's parameters")


def _negative_definite_on_simplex(curvatures):
    """Is Σ_o a_o v_o² < 0 for every v ≠ 0 with Σ_o v_o = 0?  (J's Hessian is diagonal in π.)

    Exact test, free of rounding: yes iff every a_o < 0, or exactly one a_j > 0 and
    Σ_o 1/a_o > 0 (with v_j = 1 the best the others can do is −1/Σ_{o≠j} 1/|a_o|).

    >>> _negative_definite_on_simplex([-1, -2]), _negative_definite_on_simplex([3, -1, -1])
    (True, False)
    >>> _negative_definite_on_simplex([1, -4, -4])
    True
    """
    positive = [x for x in curvatures if x >= 0]
    if not positive:
        return True
    if len(positive) > 1 or positive[0] == 0:
        return False
    return mpmath.fsum(1 / mpmath.mpf(x) for x in curvatures) > 0


def _softmax(s):
    top = max([0, *s])
    w = [mpmath.exp(x - top) for x in s] + [mpmath.exp(-top)]
    total = mpmath.fsum(w)
    return tuple(x / total for x in w)


def _newton(f, s, steps=60):
    """Damped Newton with a finite-difference Jacobian; None when it does not converge."""
    n = len(s)
    tol = mpmath.mpf(10) ** (-mpmath.mp.dps + 3)
    h = mpmath.mpf(10) ** (-mpmath.mp.dps // 2)
    try:
        fs = f(s)
        for _ in range(steps):
            if max(abs(x) for x in fs) < tol:
                return s
            J = mpmath.matrix(n, n)
            for j in range(n):
                shifted = list(s)
                shifted[j] += h
                fj = f(shifted)
                for i in range(n):
                    J[i, j] = (fj[i] - fs[i]) / h
            step = mpmath.lu_solve(J, mpmath.matrix(fs))
            t = 1
            while t > mpmath.mpf(1) / 1024:
                trial = [x - t * d for x, d in zip(s, step)]
                ft = f(trial)
                if max(abs(x) for x in ft) < max(abs(x) for x in fs):
                    s, fs = trial, ft
                    break
                t /= 2
            else:
                return None
        return s if max(abs(x) for x in fs) < tol else None
    except (ZeroDivisionError, ValueError, OverflowError):
        return None
