"""The penalty: GRPO's per-sample term D_i, its expectation KL0, the direct KL and the estimators.

All functions build SymPy expressions from the symbols (or numbers) passed in; gradients are
obtained by differentiating these expressions, never typed in.
"""

import sympy as sp

from grpo_symbolic.model.settings import Estimator


def k3(pi, pi_ref):
    """Schulman's k3 estimator, the paper's D_i: π_ref/π − log(π_ref/π) − 1.

    >>> from grpo_symbolic.model.symbols import p, rho
    >>> k3(p, rho)
    -log(rho/p) - 1 + rho/p
    """
    return pi_ref / pi - sp.log(pi_ref / pi) - 1


def k1(pi, pi_ref):
    """The k1 estimator log(π/π_ref)."""
    return sp.log(pi / pi_ref)


def k2(pi, pi_ref):
    """The k2 estimator ½ log²(π/π_ref)."""
    return sp.log(pi / pi_ref) ** 2 / 2


def per_sample(name, x, r, q, detached=None, bound=None):
    """One sample's KL term as the trainer's code writes it (without β), the one place it is written.

    ``x`` is π(o) (differentiated), ``r`` π_ref(o), ``q`` π_old(o) (detached: the trainers take it
    from the sampling pass), ``detached`` a stand-in for x under ``.detach()`` (a fresh symbol the
    caller sets to x AFTER differentiating; default x, for the estimators without a detach), and
    ``bound`` the clamp C of ``torch.clamp(value, -C, C)`` (None: no clamp).  In log-probabilities
    the code reads (verl ``kl_penalty``/``kl_penalty_forward``, verl/trainer/ppo/core_algos.py at
    b178a3cd; TRL ``_compute_loss``, trl/trainer/grpo_trainer.py at f2cd5771):

    * k1 = logp − ref;  k2 = ½(logp − ref)²;  k3 = exp(ref − logp) − (ref − logp) − 1;
    * is_k3 = k3·exp(logp − old) (TRL ``use_bias_correction_kl``: ``per_token_kl * coef_1``);
    * k3-flipped = exp(logp − ref) − (logp − ref) − 1 (the ratio π/π_ref);
    * k3-plus = k2 − k2.detach() + k3.detach() (verl's "+" straight-through: k3's value, k2's
      gradient; the clamp acts on the detached k3 only).

    exp(ref − logp) = π_ref/π, so these are this module's :func:`k1`, :func:`k2`, :func:`k3`.

    >>> from grpo_symbolic.model.symbols import p, p_old, rho
    >>> per_sample("k3-flipped", p, rho, p_old)
    p/rho - log(p/rho) - 1
    >>> d = sp.Symbol("d", positive=True)
    >>> sp.diff(per_sample("k3-plus", p, rho, p_old, d), p).subs(d, p)
    log(p/rho)/p
    """
    d = x if detached is None else detached
    clamp = (lambda v: v) if bound is None else (lambda v: clamped(v, bound))
    if name == Estimator.K3_PLUS:
        return k2(x, r) - k2(d, r) + clamp(k3(d, r))
    value = {Estimator.K1: k1, Estimator.K2: k2, Estimator.K3: k3, Estimator.IS_K3: k3,
             Estimator.K3_FLIPPED: lambda a, b: k3(b, a)}[Estimator.parse(name, "estimator")](x, r)
    return clamp(value) * (x / q if name == Estimator.IS_K3 else 1)


def clamped(value, bound):
    """``torch.clamp(value, -bound, bound)`` as a Piecewise whose LAST piece is the unclamped value
    (its derivative is 0 on the clamped pieces, as autograd's).

    >>> v, C = sp.symbols("v C", positive=True)
    >>> sp.diff(clamped(v**2, C), v)
    Piecewise((0, C <= v**2), (2*v, True))
    """
    return sp.Piecewise((bound, value >= bound), (-bound, value <= -bound), (value, True))


def kl0(pi, pi_ref, pi_old):
    """KL0(π‖π_ref; π_old) = E_{o~π_old}[D(o)], the expectation (7) of GRPO's penalty.

    >>> from grpo_symbolic.model.symbols import p, rho, p_old
    >>> on_policy = kl0((p, 1 - p), (rho, 1 - rho), (p, 1 - p)) - kl((p, 1 - p), (rho, 1 - rho))
    >>> sp.simplify(sp.expand_log(on_policy.subs({p: sp.Rational(1, 5), rho: sp.Rational(1, 3)}), force=True))
    0
    """
    return sum(q * k3(x, r) for x, r, q in zip(pi, pi_ref, pi_old))


def direct_penalty(pi, pi_ref, pi_old):
    """E_{o~π_old}[(π/π_old)·D(o)]: the importance-weighted penalty, = KL(π‖π_ref) on the simplex."""
    return sum(q * (x / q) * k3(x, r) for x, r, q in zip(pi, pi_ref, pi_old))


def kl(pi, pi_other):
    """KL(π‖π') = Σ π log(π/π')."""
    return sum(x * sp.log(x / y) for x, y in zip(pi, pi_other))


def expected_penalty(kind, pi, pi_ref, pi_old):
    """The expected penalty of ``kind`` ("grpo" or "direct") as a function of π given π_old."""
    return {"grpo": kl0, "direct": direct_penalty}[kind](pi, pi_ref, pi_old)


def gradient(expr, variables):
    """(∂expr/∂v for v in variables), by SymPy differentiation.

    >>> from grpo_symbolic.model.symbols import p, rho, p_old
    >>> gradient(p_old * k3(p, rho), (p,))
    (p_o*(1/p - rho/p**2),)
    """
    return tuple(sp.diff(expr, v) for v in variables)
