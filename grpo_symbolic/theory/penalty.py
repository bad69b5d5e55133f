"""The penalty: GRPO's per-sample term D_i, its expectation KL0, the direct KL and the estimators.

All functions build SymPy expressions from the symbols (or numbers) passed in; gradients are
obtained by differentiating these expressions, never typed in.
"""

import sympy as sp


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
