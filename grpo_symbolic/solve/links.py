"""The derived per-output stationary form of a Problem's regulariser, compiled for the solver.

Every regulariser the trainers use (a KL estimator in a placement, optionally with an entropy
bonus) gives, at π_old = π, one condition per output: E_o(π(o)) = P_o − λ − g_o(π(o)) = 0, derived
by :mod:`grpo_symbolic.theory.objective` (the paper's two penalties) or
:mod:`grpo_symbolic.theory.regularisers` (the others).  The solver needs π(o) explicitly as a
function of (P_o, ρ_o, λ, β, c) — the *link* — and decreasing in λ, so that Σ π = 1 fixes λ.

:func:`forms_of` picks the form; :func:`compile_forms` lambdifies it in the shifted coordinates
gap = P_o − max P and u = λ − max P + β (no cancellation when π_ref of the top output is tiny).
A form the solver cannot use is refused with a :class:`ParameterError` naming the parameter:
a condition not strictly decreasing in π(o) (several π(o) per λ: k2 and k3 as detached rewards),
or one SymPy does not solve for π(o).  The linear link (k3 with the flipped ratio, a χ² penalty)
is cut at 0: π(o) = max(0, ρ_o(1 + (P_o − λ)/β)), the KKT form, whose zeros are face points.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import mpmath  # noqa: F401  (doctests)
import numpy as np
import sympy as sp

from grpo_symbolic.model.errors import ParameterError
from grpo_symbolic.model.problem import Problem
from grpo_symbolic.model.settings import Estimator, Placement
from grpo_symbolic.model.symbols import beta as beta_symbol, lam
from grpo_symbolic.numerics.precision import mp_lambdify, mpx, to_mpf
from grpo_symbolic.numerics.roots import array_newton
from grpo_symbolic.solve.presentation import output_labels
from grpo_symbolic.theory.objective import derive_stationarity
from grpo_symbolic.theory.regularisers import Regulariser, derive_regularised, regulariser_of

ENTROPY = sp.Symbol("c", positive=True)
"""The entropy weight c in the compiled forms (the derivation's own symbol is substituted by it)."""


def unregularised(problem: Problem) -> bool:
    """True when nothing pulls the policy back: β = 0 (or k1 in the loss, a constant gradient)
    and no entropy bonus.  Then no interior point exists unless P_G is the same for every output.

    >>> unregularised(Problem(["0.5", "0.5"], [1, 0], 4, 0)), unregularised(Problem(["0.5", "0.5"], [1, 0], 4, 1))
    (True, False)
    """
    if problem.entropy != 0:
        return False
    return problem.beta == 0 or (problem.kl_estimator is Estimator.K1 and problem.kl_placement is Placement.LOSS)


def paper_equivalent(problem: Problem) -> Problem | None:
    """The same problem with the paper's penalty whose stationary form the regulariser's derived form
    equals identically (e.g. k2, k3+ in the loss and k1 after the normalisation give the direct
    penalty's log pooling), so that the certified search solves it; None when there is none.
    The clamp is left out: the caller checks it with the original estimator.

    >>> paper_equivalent(Problem(["0.3", "0.7"], [1, 0], 4, 1, kl_estimator="k2")).penalty
    <Penalty.DIRECT: 'direct'>
    """
    if problem.penalty is not None or problem.entropy != 0 or problem.beta == 0:
        return None
    if problem.kl_placement is Placement.REWARD_PRE:
        return None
    penalty = _paper_penalty_of(problem.kl_estimator, problem.kl_placement)
    return None if penalty is None else problem.replace(penalty=penalty, kl_placement=Placement.LOSS, kl_clamp=None)


@lru_cache(maxsize=None)
def _paper_penalty_of(estimator: Estimator, placement: Placement) -> str | None:
    """The paper's penalty whose derived stationary form equals the regulariser's, or None (derived once)."""
    st = derive_regularised(Regulariser(estimator, placement))
    if st.implicit:
        return None
    return next((penalty for penalty in ("grpo", "direct")
                 if sp.simplify(st.policy[0] - derive_stationarity(penalty).policy[0]) == 0), None)


def forms_of(problem: Problem) -> dict[str, Any]:
    """The compiled stationary form of ``problem``'s regulariser.

    β = 0 with an entropy bonus: the estimator contributes nothing (derived with weight 0), and the
    form is π ∝ exp(P_G/c).

    >>> forms_of(Problem(["0.5", "0.5"], [1, 0], 4, 1, penalty="grpo"))["link"]
    'paper grpo'
    """
    if problem.penalty is not None and problem.entropy == 0:
        return paper_forms(str(problem.penalty))
    reg = regulariser_of(problem)
    # the solver solves the unclamped form and checks that no clamp is active (active_clamp)
    reg = Regulariser(reg.estimator, reg.placement, clamped=False, entropy=reg.entropy)
    return derived_forms(reg, problem.beta == 0)


@lru_cache(maxsize=None)
def paper_forms(penalty: str) -> dict[str, Any]:
    """The form of one of the paper's penalties ("grpo": reciprocal link, "direct": log pooling).

    >>> paper_forms("grpo")["proportional_to_rho"]
    True
    """
    st = derive_stationarity(penalty)
    return compile_forms(st, st.policy[0], f"paper {penalty}", sp.Integer(0),
                         {"grpo": "reciprocal", "direct": "exponential"}[penalty])


@lru_cache(maxsize=None)
def derived_forms(reg: Regulariser, zero_weight: bool = False) -> dict[str, Any]:
    """The form derived for ``reg`` (explicit and strictly decreasing in π(o), else refused);
    ``zero_weight``: derived with β = 0 (the entropy bonus alone)."""
    st = derive_regularised(reg, weight=sp.Integer(0)) if zero_weight else derive_regularised(reg)
    name = f"{reg.estimator} in {reg.placement}" + (" with entropy" if reg.entropy else "")
    name = "entropy alone (beta = 0)" if zero_weight else name
    symbol = st.entropy_symbol if st.entropy_symbol is not None else sp.Integer(0)
    policy = st.policy[0]
    if st.implicit or not isinstance(policy, sp.Expr) or isinstance(policy, sp.Eq):
        raise ParameterError(f"kl_estimator: the stationary condition of {name} is not solved for pi(o) by SymPy "
                             f"({st.equations[0]} = 0); the solver does not support it yet")
    if sp.diff(st.equations[0], st.pi[0]).subs(symbol, ENTROPY).is_negative is not True:
        raise ParameterError(
            f"kl_estimator: with {name} the stationary condition {st.equations[0]} = 0 is not monotone in pi(o) "
            "(several pi(o) for one multiplier); the solver does not support it yet: use the loss placement")
    return compile_forms(st, policy, name, symbol, st.link if symbol == 0 else f"{st.link} with entropy")


def compile_forms(st: Any, policy: sp.Expr, name: str, entropy: sp.Expr, family: str) -> dict[str, Any]:
    """Lambdify ``policy`` (= π(o) of output 0) and the conditions of ``st`` for the solver.

    ``family``: the link's name (:data:`grpo_symbolic.theory.regularisers.LINKS`, "with entropy"
    appended when the bonus is on); the reciprocal and the pure exponential link have their own
    brackets for the multiplier (see :meth:`~grpo_symbolic.solve.reduced.ReducedMap.shift`).

    Arguments of the compiled functions: ``policy_u``/``policy_u_slope`` (gap, ρ, u, β, c);
    ``equation`` (P, π, ρ, λ, β, c); ``br_dpi``/``br_dq``/``br_dP`` (P, π, π_old, ρ, λ, β, c).
    """
    rename = {entropy: ENTROPY} if isinstance(entropy, sp.Symbol) else {}
    P, rho, pi, q = st.preference[0], st.pi_ref[0], st.pi[0], st.pi_old[0]
    policy = policy.subs(rename)
    top, gap, u = sp.symbols("top gap u", real=True)
    shifted = policy.subs({P: top + gap, lam: top - beta_symbol + u})
    for tidy in (lambda e: sp.powsimp(sp.expand(e), combine="exp"), sp.simplify):  # exp(−P/c)·exp(λ/c) etc.
        if top in shifted.free_symbols:
            shifted = tidy(shifted)
    if top in shifted.free_symbols:
        raise RuntimeError(f"the stationary form {policy} does not reduce to the shifted coordinates")
    u_args = (gap, rho, u, beta_symbol, ENTROPY)
    br_args = (P, pi, q, rho, lam, beta_symbol, ENTROPY)
    br = st.best_response[0].subs(rename)

    def both(expr: sp.Expr) -> dict[str, Any]:
        return {"mpmath": mp_lambdify(u_args, expr),
                "numpy": sp.lambdify(u_args, expr, [{"LambertW": lambert_w_float}, "numpy"])}

    def br_part(var: sp.Symbol) -> Any:
        # cancel() first: unsimplified, the terms in ρ/π² cancel catastrophically when π is tiny
        return mp_lambdify(br_args, sp.cancel(sp.diff(br, var)))

    linear = sp.diff(shifted, u, 2) == 0 and sp.diff(shifted, u) != 0
    return dict(
        link=name,
        family=family,
        paper=name.startswith("paper"),
        cut_at_zero=bool(linear),  # the linear link: π = max(0, ·), the KKT form
        policy_u=both(shifted),
        policy_u_slope=both(sp.diff(shifted, u)),
        proportional_to_rho=sp.simplify(shifted - rho * sp.diff(shifted, rho)) == 0,
        equation=mp_lambdify((P, pi, rho, lam, beta_symbol, ENTROPY), st.equations[0].subs(rename)),
        br_dpi=br_part(pi), br_dq=br_part(q), br_dP=br_part(P),
        best_response_degenerate=sp.simplify(sp.diff(br, pi)) == 0,
    )


def lambert_w_float(x: Any) -> Any:
    """The principal branch W(x) (x ≥ −1/e) in float64 numpy, for the float scans of links with
    Lambert W (entropy with k3 or the flipped k3): Newton on w − x·e^(−w) = 0 by the root core.

    >>> round(float(lambert_w_float(np.e)), 12), round(float(lambert_w_float(-0.2)), 12)
    (1.0, -0.259171101819)
    """
    x = np.asarray(x, dtype=float)
    if not np.all(np.isfinite(x)):  # overflow upstream: NaN, without iterating on it
        return np.where(np.isfinite(x), lambert_w_float(np.where(np.isfinite(x), x, 0.0)), np.nan)

    def f(w: Any, value: Any) -> tuple[Any, Any]:
        decay = value * np.exp(-w)
        return w - decay, 1 + decay

    start = np.log1p(np.maximum(x, 0.0)) + np.minimum(x, 0.0)
    with np.errstate(over="ignore", invalid="ignore"):
        roots, converged = array_newton(f, start, args=(x,), lower=-1.0, what="Lambert W", flags=True)
    return np.where(converged, roots, np.nan)  # NaN (overflow): the float scan brackets nothing there


def active_clamp(problem: Problem, policy: Any) -> str:
    """Why a stationary policy of the unclamped form is none of the clamped (piecewise) form ('' if it is).

    torch.clamp(k, −X, X) changes nothing where |k| < X, so the solver solves the unclamped form and
    keeps a point when no output's value reaches the clamp there.  Where the clamp acts, output o's
    KL term is flat (gradient 0, or a constant detached value): its condition loses π(o) and reads
    P_G(o) − λ = const, which holds at no isolated point, so the point is not stationary for the
    clamped loss; the pull it lost pointed back towards π_ref, so below π_ref the output's mass keeps
    falling towards 0, above it keeps rising.

    >>> prob = Problem(["0.3", "0.7"], [1, 0], 4, "0.01", kl_estimator="k3", kl_clamp=2)
    >>> active_clamp(prob, [mpmath.mpf("0.999"), mpmath.mpf("0.001")])[:60]
    'kl_clamp: the clamp 2 is active at output 2 of the unclamped'
    """
    if problem.kl_clamp is None or (problem.kl_estimator is Estimator.K3_PLUS and problem.kl_placement is Placement.LOSS):
        return ""  # k3+ in the loss: the clamp acts on the detached k3 value, the gradient is k2's, never clamped
    bound = to_mpf(problem.kl_clamp)
    labels = output_labels(problem.names, problem.size)
    for o, (x, r) in enumerate(zip(policy, problem.reference)):
        value = _clamped_value(problem.kl_estimator, x, to_mpf(r))
        if value is None or abs(value) >= bound:
            shown = mpx.nstr(value, 8) if value is not None else "infinite"
            where = "falling towards 0 (the face pi(o) = 0)" if x < to_mpf(r) else "rising towards its vertex"
            return (f"kl_clamp: the clamp {problem.kl_clamp} is active at output {labels[o]} of the unclamped stationary policy "
                    f"(pi = {mpx.nstr(x, 8)}, KL value {shown}): there the clamped KL exerts no pull, so it is no "
                    f"stationary policy of the clamped loss and pi({labels[o]}) keeps {where}; raise kl_clamp for an interior one")
    return ""


def _clamped_value(estimator: Estimator, pi: Any, rho: Any) -> Any:
    """The per-sample value the trainer clamps, at π(o) = ``pi`` (None where it is infinite)."""
    if pi <= 0:
        return None
    log_ratio = mpx.log(pi / rho)
    if estimator is Estimator.K1:
        return log_ratio
    if estimator is Estimator.K2:
        return log_ratio**2 / 2
    ratio = pi / rho if estimator is Estimator.K3_FLIPPED else rho / pi
    return ratio - mpx.log(ratio) - 1
