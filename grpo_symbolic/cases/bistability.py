"""Bistability of the direct KL penalty at G → ∞ (binary, r(a) > r(b)), and three views of its zeros.

:mod:`.direct_kl` derives h (dJ/dp = β·h(p) at p_o = p), its minimum h(x*), its zeros and the
best-response map T(t) = logit ρ + (e^{t/2} + e^{−t/2})/β in the coordinate t = logit p_o.
This module adds, from those derivations:

* where the two zeros exist: h(x*) decreases strictly in β, so for each ρ there is one threshold
  β_c(ρ) with two zeros iff β > β_c(ρ); computed from h(x*) = 0, and independently from the
  double-root condition h = h' = 0;
* which zero attracts repeated best responses: T'(t) = sinh(t/2)/β, so a zero attracts iff
  |sinh(t/2)| < β.  T' = 1 at x* and T' = −1 at 1 − x*, so the larger zero always repels and the
  smaller one attracts iff h(1 − x*) > 0; that fails for some β iff ρ < ρ_min, and then for a window
  of β around β = 1;
* :func:`logit_roots`, a sign-change scan in logit p, with which :mod:`paper_checks.fixtures` finds
  the same zeros as Mroueh's printed fixed point (logit p = logit ρ + 1/(β sqrt(p(1 − p)))) and as
  the stationary points of U(p) − β·KL((p, 1 − p)‖(ρ, 1 − ρ)) with U(p) = 2 arcsin sqrt(p).
"""

from __future__ import annotations

from grpo_symbolic.model import inputs
from grpo_symbolic.model.caches import cached
from typing import Any, Callable, NamedTuple

import mpmath  # noqa: F401  (doctests)
import sympy as sp

from grpo_symbolic.model.errors import SolverError
from grpo_symbolic.model.numbers import exact
from grpo_symbolic.numerics.precision import at_working_precision, mp_lambdify, mpx, rounded, to_mpf, tolerance, working_precision
from grpo_symbolic.numerics.roots import bracketed_newton, newton, scan_brackets, widen_bracket
from grpo_symbolic.model.symbols import beta, rho
from grpo_symbolic.cases import direct_kl


class ZeroStability(NamedTuple):
    """A zero of h (π(a)), the best-response slope T' there, and whether it attracts (|T'| < 1)."""

    policy: object
    slope: object
    attracting: bool


# --- Symbolic: existence and the threshold in β -------------------------------------------------


@cached
def minimum_slope_in_beta():
    """d h(x*)/dβ, reduced: negative for every β > 0, so h(x*) decreases strictly in β.

    >>> minimum_slope_in_beta()
    -2*sqrt(beta**2 + 1)/beta**2
    """
    return sp.factor(sp.radsimp(sp.together(sp.diff(direct_kl.h_minimum(), beta))))


@cached
def critical_beta_slope_in_rho():
    """dβ_c/dρ by implicit differentiation of h(x*) = 0: positive, so β_c increases with ρ.

    >>> critical_beta_slope_in_rho()
    -beta**2/(2*rho*sqrt(beta**2 + 1)*(rho - 1))
    """
    return sp.factor(-sp.diff(direct_kl.h_minimum(), rho) / minimum_slope_in_beta())


# --- Symbolic: stability under best response ---------------------------------------------------


@cached
def best_response_slope():
    """T'(t), the derivative of :func:`.direct_kl.best_response_logit` in t = logit p_o.

    >>> best_response_slope()
    exp(t/2)/(2*beta) - exp(-t/2)/(2*beta)
    """
    return sp.diff(direct_kl.best_response_logit(), direct_kl.logit_old)


def logit_in_odds_root():
    """logit x at x = u²/(1 + u²), reduced: 2 log u (so t* = logit x* = 2 log u*).

    >>> logit_in_odds_root()
    2*log(u)
    """
    u = direct_kl.odds_root
    point = u**2 / (1 + u**2)
    return sp.expand_log(sp.log(sp.cancel(point / (1 - point))), force=True)


def mirror_in_odds_root():
    """x(1/u) − (1 − x(u)) for x(u) = u²/(1 + u²), reduced: 0, so u ↦ 1/u is x ↦ 1 − x.

    >>> mirror_in_odds_root()
    0
    """
    u = direct_kl.odds_root
    point = lambda v: v**2 / (1 + v**2)  # noqa: E731
    return sp.cancel(point(1 / u) - (1 - point(u)))


@cached
def slopes_at_turning_points():
    """(T' at x*, T' at 1 − x*), i.e. at t = ±2 log u*: (1, −1).

    >>> slopes_at_turning_points()
    (1, -1)
    """
    u_star = direct_kl.h_turning_point()[0]
    t_star = logit_in_odds_root().subs(direct_kl.odds_root, u_star)
    slope = best_response_slope()
    return tuple(sp.factor(sp.radsimp(sp.together(slope.subs(direct_kl.logit_old, s * t_star)))) for s in (1, -1))


@cached
def h_at_mirror():
    """h(1 − x*), derived at u = 1/u*: the smaller zero attracts iff this is > 0.

    >>> h_at_mirror()
    log(rho) - log(1 - rho) + 2*log(beta + sqrt(beta**2 + 1)) + 2*sqrt(beta**2 + 1)/beta
    """
    return direct_kl.h_at_odds_root(1 / direct_kl.h_turning_point()[0])


@cached
def oscillation_onset():
    """(β₀, ρ_min): h(1 − x*) − logit ρ is least at β₀ = 1; both zeros repel for some β iff ρ < ρ_min.

    >>> onset = oscillation_onset()
    >>> onset[0], sp.N(onset[1], 8)
    (1, 0.010039137)
    """
    free = h_at_mirror().subs(rho, sp.Rational(1, 2))  # logit ρ = 0
    slope = sp.factor(sp.radsimp(sp.together(sp.diff(free, beta))))
    (turning,) = [r for r in sp.solve(slope, beta) if r.is_positive]
    return turning, 1 / (1 + sp.exp(sp.radsimp(free.subs(beta, turning))))


# --- Numeric -------------------------------------------------------------------------------------


@cached
def _numeric_forms():
    u = direct_kl.odds_root
    h_u = direct_kl.h_in_odds_root()
    return dict(
        minimum=mp_lambdify((rho, beta), direct_kl.h_minimum()),
        mirror=mp_lambdify((rho, beta), h_at_mirror()),
        slope=mp_lambdify((direct_kl.logit_old, beta), best_response_slope()),
        h_u=mp_lambdify((u, rho, beta), h_u),
        h_s=mp_lambdify((u, rho, beta), u * sp.diff(h_u, u)),  # dh/d(log u)
    )


def parameter_numbers(reference: Any, weight: Any = None) -> list:
    """[π_ref(a)] or [π_ref(a), β] read exactly and evaluated at the current precision.

    >>> parameter_numbers("0.5", 3)
    [mpf('0.5'), mpf('3.0')]
    """
    values = [to_mpf(exact(reference, "reference"))]
    if weight is not None:
        values.append(to_mpf(exact(weight, "beta")))
    return values


def _root_beside(f: Callable, start: Any, direction: int, dps: int, what: str) -> Any:
    """The root of ``f`` met first when stepping from ``start`` in ``direction`` (doubling steps, at most 2^12)."""
    sign = f(start) > 0
    inner, outer = widen_bracket(lambda v: (f(v) > 0) == sign, start, direction * mpx.mpf(1), maxsteps=13, what=what)
    root = bracketed_newton(f, *sorted((inner, outer)), what=what)
    if abs(f(root)) > tolerance(dps, slack=3) * (1 + abs(start)):
        raise SolverError(f"{what}: the root near {mpx.nstr(root, 8)} did not converge to {dps} digits",
                          reason=SolverError.UNVERIFIED)
    return root


@at_working_precision
def critical_beta(reference: Any, dps: int = 50) -> Any:
    """β_c(ρ), the root of h(x*) = 0: h has two zeros iff β > β_c(ρ), none iff β < β_c(ρ).

    Solved in log β, where h(x*) decreases strictly (:func:`minimum_slope_in_beta`).

    >>> mpmath.nstr(critical_beta("0.5", dps=30), 10)
    '1.508879562'
    """
    minimum = _numeric_forms()["minimum"]
    (r,) = parameter_numbers(reference)
    f = lambda b: minimum(r, mpx.exp(b))  # noqa: E731
    return mpx.exp(_root_beside(f, mpx.mpf(0), 1 if f(0) > 0 else -1, dps, "critical beta"))


@at_working_precision
def double_root(reference: Any, start: tuple = (1, 1), dps: int = 50) -> tuple:
    """(x, β) solving h(x) = h'(x) = 0 jointly (Newton in log u and log β from ``start`` = (u, β)).

    Independent of h(x*): the tangency where two zeros of h are born, so β = β_c(ρ) and x = x*.

    >>> [mpmath.nstr(v, 10) for v in double_root("0.5", dps=30)]
    ['0.9167782798', '1.508879562']
    """
    forms = _numeric_forms()
    (r,) = parameter_numbers(reference)

    def system(v: list) -> list:
        u, b = mpx.exp(v[0]), mpx.exp(v[1])
        return [forms["h_u"](u, r, b), forms["h_s"](u, r, b)]

    s, b = newton(system, [mpx.log(to_mpf(exact(v, "start"))) for v in start], tol=tolerance(dps, slack=3),
                  what=f"double root: Newton from {start}")
    u2 = mpx.exp(2 * s)
    return (u2 / (1 + u2), mpx.exp(b))


def classify_zeros(reference: Any, weight: Any, dps: int = 50) -> list[ZeroStability]:
    """Each zero of h with T' = sinh(t/2)/β there (t its logit) and whether it attracts (|T'| < 1).

    >>> [(mpmath.nstr(z.policy, 6), mpmath.nstr(z.slope, 5), z.attracting) for z in classify_zeros("0.5", 3, dps=30)]
    [('0.670179', '0.12066', True), ('0.996514', '2.808', False)]
    """
    slope = _numeric_forms()["slope"]
    with working_precision(inputs.dps(dps)) as working:
        zeros = direct_kl.h_zeros(reference, weight, working)
        (b,) = parameter_numbers(weight)
        rates = [slope(mpx.log(z / (1 - z)), b) for z in zeros]
    return [ZeroStability(*rounded((z, rate), dps), bool(abs(rate) < 1)) for z, rate in zip(zeros, rates)]


@at_working_precision
def oscillation_window(reference: Any, dps: int = 50) -> tuple | None:
    """(β_lo, β_hi) where h(1 − x*) < 0, i.e. both zeros repel; None when ρ ≥ ρ_min (no such β).

    >>> [mpmath.nstr(v, 8) for v in oscillation_window("0.01", dps=30)]
    ['0.94898405', '1.0547393']
    >>> oscillation_window("0.5") is None
    True
    """
    mirror = _numeric_forms()["mirror"]
    (r,) = parameter_numbers(reference)
    f = lambda b: mirror(r, mpx.exp(b))  # noqa: E731  (least at b = 0, i.e. β = 1)
    if f(mpx.mpf(0)) >= 0:
        return None
    return tuple(mpx.exp(_root_beside(f, mpx.mpf(0), d, dps, "oscillation window")) for d in (-1, 1))


def logit_roots(function: Callable, dps: int = 50, span: int = 30, step: Any = mpx.mpf(1) / 2) -> list:
    """Zeros of ``function(p)`` in (0, 1), found by sign changes on a grid of logit p over [−span, span].

    The grid is scanned at 20 digits and each bracketed root refined at ``dps`` + guard digits, so two
    zeros closer than ``step`` in logit p are missed.

    >>> [mpmath.nstr(v, 8) for v in logit_roots(lambda q: q - mpmath.mpf(1) / 3, dps=20)]
    ['0.33333333']
    """
    dps = inputs.dps(dps)
    policy = lambda t: 1 / (1 + mpx.exp(-t))  # noqa: E731
    g = lambda t: function(policy(t))  # noqa: E731
    with working_precision(20, guard=0):
        brackets = scan_brackets(g, [-span + k * step for k in range(int(2 * span / step) + 1)])
    with working_precision(dps):
        roots = [policy(bracketed_newton(g, mpx.mpf(a), mpx.mpf(b), what="a zero in logit p")) for a, b in brackets]
    return rounded(roots, dps)
