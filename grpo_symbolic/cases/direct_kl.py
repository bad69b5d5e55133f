"""The direct KL penalty (paper Sec. 3 and App. B.2), derived from the model.

The importance-weighted penalty D_i = (π(o_i)/π_old(o_i))·k3 has expectation KL(π‖π_ref)
exactly, and its stationary policies are logarithmic pools π ∝ π_ref·exp(P_G/β).  For a binary
question (p = π(a), p_o = π_old(a), ρ = π_ref(a)) this module derives, from the engine's P_G and
the direct penalty:

* G = 2: dJ/dp at p_o = p and its root, the paper's "Z formula" (continuous at ρ = 0);
* G → ∞: dJ/dp = β·h(p), the shape of h (decreasing, then increasing, minimum at x*), its zeros
  and the best-response map p_o ↦ argmax_p J(p; p_o) whose fixed points they are.

P_G(· | π_old) comes from :func:`.binary.preference_values` (the engine's exact or large-group form
for :mod:`.binary`'s reward models); only the penalty differs from :mod:`.binary`.  The shape of h
is decided in the coordinate u = sqrt(x/(1 − x)) (u > 0 ⇔ 0 < x < 1, increasing), where every sign
question becomes one SymPy can decide.
"""

from __future__ import annotations

from grpo_symbolic.model import inputs
from grpo_symbolic.model.caches import cached
from typing import Any, Callable

import mpmath  # noqa: F401  (doctests)
import sympy as sp

from grpo_symbolic.model.errors import ParameterError, SolverError
from grpo_symbolic.model.numbers import exact
from grpo_symbolic.numerics.precision import mp_lambdify, mpx, rounded, to_mpf, tolerance, working_precision
from grpo_symbolic.numerics.roots import bracketed_newton, widen_bracket
from grpo_symbolic.theory.objective import derive_stationarity, objective
from grpo_symbolic.theory.penalty import direct_penalty, kl
from grpo_symbolic.model.problem import Problem
from grpo_symbolic.model.symbols import beta, indexed, lam, p, p_old, rho, x
from grpo_symbolic.cases.binary import preference_values

#: u = sqrt(x/(1 − x)): an increasing bijection (0, 1) → (0, ∞).
odds_root = sp.Symbol("u", positive=True)
#: t = log(p_o/(1 − p_o)), the coordinate in which the best-response map is iterated.
logit_old = sp.Symbol("t", real=True)

# --- Helpers ---------------------------------------------------------------------------------


def _tidy(expr, variable):
    """Split the logs of ``expr`` (arguments in ``variable`` cancelled), factor the algebraic rest."""
    expr = sp.expand_log(expr, force=True)
    expr = expr.replace(lambda a: isinstance(a, sp.log) and a.args[0].has(variable),
                        lambda a: sp.log(sp.cancel(a.args[0])))
    expr = sp.expand(sp.expand_log(expr, force=True))
    logs = sp.Add(*[t for t in sp.Add.make_args(expr) if t.has(sp.log)])
    return sp.factor(expr - logs) + sp.collect(logs, beta)


def solve_in_logit(condition, variable):
    """The root in logit coordinates s = log(v/(1 − v)) of a ``condition`` in ``variable`` v.

    With the direct penalty the condition is linear in log(v) − log(1 − v), so SymPy solves it
    as a linear equation in s (one root).

    >>> solve_in_logit(sp.log(p) - sp.log(1 - p) - 2, p)
    2
    """
    logit = sp.Dummy("s", real=True)
    (root,) = sp.solve(_tidy(condition.subs(variable, 1 / (1 + sp.exp(-logit))), logit), logit)
    return root


def binary_objective(group_size, rewards="margin"):
    """J(p; p_o) with the direct penalty, from the engine's P_G(· | π_old) (:mod:`.binary`'s reward models).

    >>> binary_objective(2).has(sp.log)
    True
    """
    preference = preference_values(group_size, rewards)
    return objective(preference, (p, 1 - p), (rho, 1 - rho), (p_old, 1 - p_old), beta, "direct")


def numeric_binary_problem(reference, weight, group_size, rewards=(1, 0)):
    """A numeric binary Problem with the direct penalty, for the solver.

    >>> numeric_binary_problem("0.3", 2, "inf").penalty
    <Penalty.DIRECT: 'direct'>
    """
    reference = exact(reference, "reference")
    return Problem(reference=(reference, 1 - reference), rewards=tuple(rewards), group_size=group_size,
                   beta=weight, penalty="direct")


def _on_policy_slope(group_size, rewards):
    """dJ/dp of the symbolic binary objective, then π_old = π (p_o = p), tidied."""
    slope = _tidy(sp.diff(binary_objective(group_size, rewards), p), p)
    return _tidy(slope.subs(p_old, p), p)


# --- Sec. 3: the penalty and the stationary form ---------------------------------------------------


def penalty_gap(size=3):
    """E[direct penalty] − KL(π‖π_ref) on the simplex, reduced by SymPy (0: they are equal).

    >>> penalty_gap(3)
    0
    """
    size = inputs.count(size, "size", 2)
    pi = indexed("pi", size, positive=True)
    ref = indexed("rho", size, positive=True)
    old = indexed("pi_old", size, positive=True)
    gap = sp.expand(sp.expand_log(direct_penalty(pi, ref, old) - kl(pi, ref), force=True))
    return sp.expand(gap.subs({pi[-1]: 1 - sum(pi[:-1]), ref[-1]: 1 - sum(ref[:-1])}))


@cached
def log_pool_multiplier(size: int = 3) -> sp.Expr:
    """λ from Σπ = 1 for the derived direct-penalty stationary form: β·log Σ_o π_ref(o) e^{P_o/β}.

    So π = π_ref e^{P/β} / Z with Z = e^{λ/β} (:func:`paper_checks.fixtures.log_pooling` holds the
    derived form against the printed one).

    >>> log_pool_multiplier(2)
    beta*log(rho_1*exp(P_1/beta) + rho_2*exp(P_2/beta))
    """
    st = derive_stationarity("direct", size)
    (multiplier,) = sp.solve(sp.expand(sum(st.policy)) - 1, lam)
    return sp.expand(sp.expand_log(multiplier, force=True))


# --- Binary, G = 2 ---------------------------------------------------------------------------


@cached
def g2_slope():
    """dJ/dp at p_o = p for G = 2, Bernoulli rewards with confidence margin γ = q_a − q_b.

    >>> g2_slope()
    beta*(-log(p) + log(rho) + log(1 - p) - log(1 - rho)) + gamma
    """
    return _on_policy_slope(2, "margin")


@cached
def g2_policy():
    """π(a) for G = 2 with the direct penalty: the unique root of :func:`g2_slope`.

    >>> g2_policy()
    rho*exp(gamma/beta)/(rho*exp(gamma/beta) - rho + 1)
    """
    return sp.cancel(1 / (1 + sp.exp(-solve_in_logit(g2_slope(), p))))


# --- Binary, G → ∞ --------------------------------------------------------------------------


@cached
def large_group_slope(rewards="ranked"):
    """dJ/dp at p_o = p for G → ∞ with deterministic rewards ("ranked": r(a) = r(b) + Δ, Δ > 0).

    >>> large_group_slope()
    beta*(-log(p) + log(rho) + log(1 - p) - log(1 - rho)) + 1/(sqrt(p)*sqrt(1 - p))
    """
    return _on_policy_slope(sp.oo, rewards)


@cached
def large_group_reward_slope(rewards="ranked"):
    """d/dp of the reward term E_{o~π}[P_∞(o|π_old)], a function of p_o only ("reversed": r(a) < r(b)).

    >>> large_group_reward_slope("reversed")
    -1/(sqrt(p_o)*sqrt(1 - p_o))
    """
    reward = sum(a * b for a, b in zip((p, 1 - p), preference_values(sp.oo, rewards)))
    return _tidy(sp.diff(reward, p), p_old)


@cached
def h():
    """h(x) with dJ/dp = β·h(p) (G → ∞, r(a) > r(b)), derived from :func:`large_group_slope`.

    >>> h()
    log(rho) - log(x) - log(1 - rho) + log(1 - x) + 1/(beta*sqrt(x)*sqrt(1 - x))
    """
    return sp.expand(large_group_slope() / beta).subs(p, x)


@cached
def h_in_odds_root():
    """h as a function of u = sqrt(x/(1 − x)).

    >>> h_in_odds_root()
    log(rho) - 2*log(u) - log(1 - rho) + (u**2 + 1)/(beta*u)
    """
    u = odds_root
    return _tidy(h().subs(x, u**2 / (1 + u**2)), u)


@cached
def h_slope_sign():
    """S(u), a polynomial with sign(h'(x)) = sign(S(u)) on 0 < x < 1 (u = sqrt(x/(1 − x))).

    S = β u² · dh/du, and du/dx > 0, so the signs agree.

    >>> h_slope_sign()
    -2*beta*u + u**2 - 1
    """
    return sp.expand(sp.cancel(sp.diff(h_in_odds_root(), odds_root) * beta * odds_root**2))


@cached
def h_turning_point():
    """(u*, x*, other_root): the positive root u* of S, x* = u*²/(1 + u*²), and S's other root.

    S has leading coefficient 1 and root product −1 (:func:`h_slope_sign`), so exactly one root is
    positive: S < 0 on (0, u*) and S > 0 beyond, i.e. h decreases on (0, x*] and increases on [x*, 1).

    >>> h_turning_point()[0]
    beta + sqrt(beta**2 + 1)
    """
    roots = sp.roots(sp.Poly(h_slope_sign(), odds_root))
    positive = [r for r in roots if r.is_positive]
    if len(positive) != 1 or sum(roots.values()) != 2:
        raise RuntimeError(f"expected one positive root of S among two, SymPy gave {roots}")
    (u_star,) = positive
    (other,) = [r for r in roots if r != u_star]
    return u_star, u_star**2 / (1 + u_star**2), other


def h_at_odds_root(value):
    """h at u = ``value`` (x = value²/(1 + value²)): logs split, the algebraic rest rationalised.

    >>> h_at_odds_root(1)
    log(rho) - log(1 - rho) + 2/beta
    """
    value = exact(value, "value")  # the exact reader: .subs would parse (and run) a string
    value = sp.expand(sp.expand_log(h_in_odds_root().subs(odds_root, value), force=True))
    algebraic = sp.Add(*[t for t in sp.Add.make_args(value) if not t.has(sp.log)])
    return sp.factor(sp.radsimp(sp.together(algebraic))) + (value - algebraic)


@cached
def h_minimum():
    """h(x*), the minimum of h over (0, 1): h > 0 everywhere iff h(x*) > 0.

    >>> h_minimum()
    log(rho) - log(1 - rho) - 2*log(beta + sqrt(beta**2 + 1)) + 2*sqrt(beta**2 + 1)/beta
    """
    return h_at_odds_root(h_turning_point()[0])


@cached
def best_response_logit():
    """t ↦ logit of argmax_p J(p; p_o) at p_o = 1/(1 + e^{−t}) (G → ∞, r(a) > r(b)), derived.

    Its fixed points are the zeros of h; iterating it is repeated best response.

    >>> best_response_logit()
    log(rho) - log(1 - rho) + exp(t/2)/beta + exp(-t/2)/beta
    """
    response = solve_in_logit(sp.diff(binary_objective(sp.oo, "ranked"), p), p)
    mapped = response.subs(p_old, 1 / (1 + sp.exp(-logit_old)))
    logs = sp.Add(*[t for t in sp.Add.make_args(mapped) if t.has(sp.log)])
    return logs + sp.expand(sp.powsimp(sp.expand(sp.factor(mapped - logs))))


@cached
def _numeric_forms():
    return dict(
        h_u=mp_lambdify((odds_root, rho, beta), h_in_odds_root()),
        u_star=mp_lambdify((beta,), h_turning_point()[0]),
        best_response=mp_lambdify((logit_old, rho, beta), best_response_logit()),
    )


def h_zeros(reference, weight, dps=50):
    """The zeros of h in (0, 1) for π_ref(a) = ``reference`` and β = ``weight`` (0 or 2 of them).

    One zero is sought on each monotone piece, in log u, where h → +∞ at both ends.

    >>> [mpmath.nstr(z, 10) for z in h_zeros("0.5", 3, dps=30)]
    ['0.6701794767', '0.9965139572']
    >>> h_zeros("0.5", "0.5", dps=30)
    []
    """
    forms = _numeric_forms()
    with working_precision(inputs.dps(dps)):
        r, b = to_mpf(exact(reference, "reference")), to_mpf(exact(weight, "beta"))
        f = lambda s: forms["h_u"](mpx.exp(s), r, b)  # noqa: E731
        s_star = mpx.log(forms["u_star"](b))
        if f(s_star) >= 0:
            return []
        zeros = [_zero_beside(f, s_star, direction, dps, r) for direction in (-1, 1)]
    return rounded(zeros, dps)


def _zero_beside(f: Callable, s_star: Any, direction: int, dps: int, reference: Any) -> Any:
    """The zero x of h on one monotone piece: h(u) = f(log u) < 0 at s*, → +∞ away from it."""
    inner, outer = widen_bracket(lambda s: f(s) <= 0, s_star, direction * mpx.mpf(1), what="the zero of h")
    s = bracketed_newton(f, *sorted((inner, outer)), what="the zero of h")
    if abs(f(s)) > tolerance(dps, slack=5) * (1 + abs(mpx.log(reference / (1 - reference)))):
        raise SolverError(f"the zero of h near u = {mpx.nstr(mpx.exp(s), 8)} did not converge to {dps} digits",
                          reason=SolverError.UNVERIFIED)
    u2 = mpx.exp(2 * s)
    return u2 / (1 + u2)


def iterate_best_response(reference, weight, start, steps=200, dps=50):
    """Repeated best response from π_old(a) = ``start``: the list of iterates π(a).

    Stops after ``steps`` updates, when an update moves π(a) by less than 10^−dps, or when
    1 − π(a) < 10^−dps (the iterates ran to π(a) = 1).  Computed in logit coordinates.

    >>> path = iterate_best_response("0.5", 3, "0.9966")
    >>> mpmath.nstr(path[-1], 5), len(path) < 30
    ('1.0', True)
    """
    br = _numeric_forms()["best_response"]
    steps = inputs.count(steps, "steps")
    with working_precision(inputs.dps(dps)):
        r, b = to_mpf(exact(reference, "reference")), to_mpf(exact(weight, "beta"))
        start = to_mpf(exact(start, "start"))
        if not 0 < start < 1:
            raise ParameterError(f"start: got {mpx.nstr(start, 10)}; start from a policy with 0 < pi_old(a) < 1")
        t = mpx.log(start / (1 - start))
        ceiling = dps * mpx.log(10)
        path = [start]
        for _ in range(steps):
            t_new = br(t, r, b)
            path.append(1 / (1 + mpx.exp(-t_new)))
            if t_new > ceiling or abs(t_new - t) < mpx.mpf(10) ** (-dps - 5):
                break
            t = t_new
    return rounded(path, dps)
