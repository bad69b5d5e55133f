"""Binary questions under the trainers' regularisers: closed forms at G = 2 and G → ∞ where SymPy finds them.

Two answers a, b; ``p`` = π(a), ``rho`` = π_ref(a).  The reward term comes from the engine through
:func:`grpo_symbolic.cases.binary.preference_values` (G = 2 with the margin γ; G → ∞ with
deterministic rewards r(a) > r(b)); the regulariser's J(p; p_o) from
:func:`grpo_symbolic.theory.regularisers.objective`; SymPy differentiates along (p, 1 − p), sets
p_o = p (and the detached copy to p) and solves dJ/dp = 0 for p.  Where ``sp.solve`` returns no
root, :func:`closed_form` says so and :func:`stationarity` is the equation.  ``weight`` is β
(``sp.Integer(0)`` for β = 0, where only the entropy bonus regularises).

Families (each keyed by the link name of :data:`grpo_symbolic.theory.regularisers.LINKS`):

>>> sorted(FAMILIES)
['exponential', 'lambert', 'linear', 'none', 'reciprocal', 'softmax']
>>> closed_form("linear", 2)
(rho*(beta - gamma*rho + gamma)/beta,)
>>> closed_form("softmax", 2)
(exp(gamma/c)/(exp(gamma/c) + 1),)
>>> closed_form("softmax", "inf") is None
True
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from grpo_symbolic.cases import binary
from grpo_symbolic.model.caches import cached
from grpo_symbolic.model.errors import ParameterError
from grpo_symbolic.model.settings import Estimator, Placement
from grpo_symbolic.model.symbols import beta, p, p_old, rho
from grpo_symbolic.theory.regularisers import Regulariser, objective, unclamped

FAMILIES: dict[str, tuple[Regulariser, Any]] = {
    "reciprocal": (Regulariser(Estimator.K3, Placement.LOSS), beta),
    "exponential": (Regulariser(Estimator.K2, Placement.LOSS), beta),
    "linear": (Regulariser(Estimator.K3_FLIPPED, Placement.LOSS), beta),
    "none": (Regulariser(Estimator.K1, Placement.LOSS), beta),
    "lambert": (Regulariser(Estimator.K3, Placement.REWARD_POST), beta),
    "softmax": (Regulariser(Estimator.K1, Placement.LOSS, entropy=True), sp.Integer(0)),
}
"""One trainer setting per family (with its weight β, or 0 for the entropy bonus alone)."""

_detached = sp.Symbol("p_d", positive=True)
_one_minus_p = sp.Dummy("q", positive=True)  # 1 − p, positive in the interior


def _group(group_size: Any) -> Any:
    return sp.oo if group_size in ("inf", sp.oo) else group_size


@cached
def stationarity(family: str, group_size: Any) -> sp.Expr:
    """dJ/dp at p_o = p for ``family``'s setting (zero at an interior stationary p).

    G = 2: margin γ; G → ∞ (``"inf"``): deterministic rewards r(a) > r(b).

    >>> sp.factor(stationarity("linear", 2))
    (beta*p - beta*rho + gamma*rho**2 - gamma*rho)/(rho*(rho - 1))
    """
    if family not in FAMILIES:
        raise ParameterError(f"family: got {family!r}; use one of {', '.join(FAMILIES)}")
    reg, weight = FAMILIES[family]
    g = _group(group_size)
    preference = binary.preference_values(g, "margin" if g == 2 else "ranked")
    J = objective(reg, (p, 1 - p), (rho, 1 - rho), (p_old, 1 - p_old), (_detached, 1 - _detached), preference, weight)
    derivative = sp.diff(J, p).subs({p_old: p, _detached: p})
    return unclamped(sp.expand(sp.expand_log(derivative, force=True)))


@cached
def polynomial(family: str, group_size: Any) -> sp.Poly | None:
    """A polynomial in p vanishing at every interior stationary p (p(1 − p)·dJ/dp, its square root
    squared away as in :func:`grpo_symbolic.cases.binary.polynomial_condition`), or None when the
    condition has a logarithm (transcendental in p).

    >>> polynomial("linear", "inf").degree()
    4
    """
    equation = stationarity(family, group_size)
    if equation.has(sp.log) or p not in equation.free_symbols:
        return None
    radical, rest = binary._split_radical(sp.expand(equation))
    cleared = sp.together(sp.expand(rest**2 - radical**2) if radical != 0 else equation).as_numer_denom()[0]
    _, factors = sp.factor_list(sp.expand(cleared), p)
    kept = [f**k for f, k in factors if f.has(p) and not _boundary(f)]
    return sp.Poly(sp.expand(sp.Mul(*kept)), p)


def _boundary(factor: sp.Expr) -> bool:
    """True for ±p and ±(1 − p): factors from the denominators, zero only on the boundary."""
    return any(sp.expand(factor - sign * edge) == 0 for edge in (p, 1 - p) for sign in (1, -1))


@cached
def closed_form(family: str, group_size: Any) -> tuple[sp.Expr, ...] | None:
    """Candidate roots in p of :func:`stationarity` (for G → ∞ those of the squared
    :func:`polynomial`, which may add roots of the other sign), or None when SymPy gives no closed
    form: a transcendental condition SymPy cannot solve, or a polynomial of degree > 2 (the quartic
    of the linear link at G → ∞ is solvable by Ferrari's radicals in principle; the polynomial is
    the answer given).

    >>> closed_form("exponential", 2)
    (rho*exp(gamma/beta)/(rho*exp(gamma/beta) - rho + 1),)
    """
    equation = stationarity(family, group_size)
    poly = polynomial(family, group_size)
    if p not in equation.free_symbols or (poly is not None and not 0 < poly.degree() <= 2):
        return None
    if poly is not None:
        return tuple(sp.factor(r) for r in sp.solve(poly.as_expr(), p))
    try:  # logs combined first: β·log(ρ(1 − p)/(p(1 − ρ))) + γ is solved, the sum of logs is not
        roots = sp.solve(sp.logcombine(equation, force=True), p)
    except (NotImplementedError, TypeError):  # TypeError: SymPy cannot order a symbolic comparison
        return None
    return tuple(sp.factor(sp.powdenest(r, force=True)) for r in roots) if roots else None
