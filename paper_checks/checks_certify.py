"""Certification checks: interval Newton in ball arithmetic proves the 50-digit values right.

These run only with ``--certify`` (and python-flint installed), as extra rows ``<claim>:certified``.
They are registered with :func:`certification` in :data:`CERTIFICATIONS`, a registry of their own,
so the ordinary run never sees them.  Each row certifies that a function has exactly one root in a
small ball around the package's mpmath value and bounds the distance from that value to the root;
it passes when the certified digits reach dps − 5 (and any stated interval holds in ball
arithmetic).
"""

import sympy as sp

from grpo_symbolic.paper import forms as paper
from grpo_symbolic.model.numbers import exact
from grpo_symbolic.theory.objective import derive_stationarity
from grpo_symbolic.preference.engine import preference_exact
from grpo_symbolic.model.problem import Problem
from grpo_symbolic.solve.api import stationary_policies, stationary_policy
from grpo_symbolic.model.symbols import beta, gamma, lam, p, rho, x
from grpo_symbolic.numerics.precision import mpx, working_precision
from paper_checks.registry import MARGIN, Outcome, Registry

#: The certification checks, by claim ID (shown as ``<ID>:certified``).
CERTIFICATIONS = Registry(package=None)


def certification(claim_id):
    """Decorator registering ``f(dps) -> Outcome`` as the certification of ``claim_id``."""
    return CERTIFICATIONS.check(claim_id)


def _exact(text):
    return exact(text, "point")


def _value(expr, values, dps):
    with working_precision(dps) as working:
        return mpx.mpf(sp.N(expr.subs(values), working))


def _certified(cases, dps):
    """Outcome of certifying (label, f, variable, x0, interval or None) for every case."""
    from grpo_symbolic.numerics.certify import certify_root

    worst, details, passed = float("inf"), [], True
    for label, f, variable, x0, interval in cases:
        with working_precision(dps, guard=0):
            x0 = +x0  # the dps-digit value is what is certified
        root = certify_root(f, variable, x0, dps)
        inside = interval is None or _within(root.enclosure, *interval)
        passed = passed and root.digits >= dps - MARGIN and inside
        worst = min(worst, root.digits)
        details.append(f"{label}: radius {mpx.nstr(root.radius, 2)}, {root.digits:.0f} digits"
                       + ("" if interval is None else f", inside [{interval[0]}, {interval[1]}]: {inside}"))
    return Outcome(passed=passed, digits=min(worst, float(dps)), verdict="certified" if passed else "not certified",
                   details="; ".join(details))


def _within(ball, low, high):
    """True when ball arithmetic proves low <= every point of ``ball`` <= high (exact rationals)."""
    from flint import arb, fmpq

    low, high = (arb(fmpq(int(v.p), int(v.q))) for v in (sp.Rational(low), sp.Rational(high)))
    return bool(ball.lower() >= low) and bool(ball.upper() <= high)


def _cleared(equation):
    """lhs − rhs of a printed equation with its denominators cleared (the polynomial it gives)."""
    return sp.numer(sp.together(equation.lhs - equation.rhs))


def binary_residual(problem):
    """The engine's 1-D stationarity residual in p = π(a) for a two-output numeric problem.

    Output a's derived condition ∂L/∂π(a) at π_old = π, with the preference P_G(o|p) of the engine
    and the multiplier of Appendix A; on the simplex it vanishes exactly at the stationary p.
    """
    st = derive_stationarity(problem.penalty)
    P = preference_exact(problem, (p, 1 - p))
    values = {st.pi[0]: p, st.pi[1]: 1 - p, st.pi_ref[0]: problem.reference[0],
              st.pi_ref[1]: problem.reference[1], beta: problem.beta,
              st.preference[0]: P[0], st.preference[1]: P[1]}
    return st.equations[0].subs(lam, st.multiplier).subs(values)


EQ14_POINTS = [("0.3", "0.5", "1"), ("1e-6", "0.04", "1"), ("0.999", "2", "1"), ("0.5", "0.05", "0.1"), ("0.2", "1", "1")]
EQ15_POINTS = [("0.3", "0.5"), ("1e-6", "0.04"), ("0.999", "2"), ("0.5", "10")]


@certification("eq14-binary-g2")
def certify_eq14_binary_g2(dps):
    quadratic = _cleared(paper.STATIONARITY_EQ17)
    cases = []
    for r, b, g in EQ14_POINTS:
        at = {rho: _exact(r), beta: _exact(b), gamma: _exact(g)}
        cases.append((f"(14) at rho={r}, beta={b}, gamma={g}", quadratic.subs(at), p,
                      _value(paper.POLICY_EQ14, at, dps), (0, 1)))
    return _certified(cases, dps)


@certification("eq15-binary-large-g")
def certify_eq15_binary_large_g(dps):
    squared = sp.expand(paper.STATIONARITY_EQ19.lhs**2 - paper.STATIONARITY_EQ19.rhs**2)
    cases = []
    for r, b in EQ15_POINTS:
        at = {rho: _exact(r), beta: _exact(b)}
        cases.append((f"(15) at rho={r}, beta={b}", squared.subs(at), p, _value(paper.POLICY_EQ15, at, dps),
                      (_exact(r), 1)))
    return _certified(cases, dps)


@certification("direct-kl-g2-binary")
def certify_direct_kl_g2_binary(dps):
    cases = []
    for r, b in [("1e-6", "0.1"), ("0.3", "1"), ("0.99", "5")]:
        ref = _exact(r)
        problem = Problem(reference=[ref, 1 - ref], rewards=[1, 0], group_size=2, beta=_exact(b), penalty="direct")
        at = {rho: ref, beta: _exact(b), gamma: 1}
        cases.append((f"Z formula at rho={r}, beta={b}", binary_residual(problem), p,
                      _value(paper.DIRECT_KL_POLICY_G2, at, dps), (0, 1)))
    return _certified(cases, dps)


@certification("direct-kl-large-g-h")
def certify_direct_kl_large_g_h(dps):
    ref, weight = sp.Rational(1, 2), sp.Integer(3)  # bistable: two zeros of h
    problem = Problem(reference=[ref, 1 - ref], rewards=[1, 0], group_size="inf", beta=weight, penalty="direct")
    zeros = [pt.policy[0] for pt in stationary_policies(problem, dps, stability=False)]
    h = paper.DIRECT_KL_H.subs({rho: ref, beta: weight})
    outcome = _certified([(f"zero {i + 1} of h at rho=1/2, beta=3", h, x, z, (0, 1)) for i, z in enumerate(zeros)], dps)
    from grpo_symbolic.numerics.certify import certify_root

    first, second = (certify_root(h, x, z, dps).enclosure for z in zeros)
    apart = len(zeros) == 2 and bool(first.upper() < second.lower())
    return Outcome(passed=outcome.passed and apart, digits=outcome.digits, verdict=outcome.verdict,
                   details=f"{outcome.details}; two disjoint enclosures: {apart}")


@certification("x-general-g-binary")
def certify_x_general_g_binary(dps):
    cases = []
    for size, r, b in [(2, "0.3", "0.5"), (8, "1e-6", "0.04"), ("inf", "0.9", "2")]:
        ref = _exact(r)
        problem = Problem(reference=[ref, 1 - ref], rewards=[1, 0], group_size=size, beta=_exact(b))
        cases.append((f"solver pi(a) at G={size}, rho={r}, beta={b}", binary_residual(problem), p,
                      stationary_policy(problem, dps)[0], (ref, 1)))
    return _certified(cases, dps)
