"""The per-context objective J(π; π_old), its Lagrangian and the stationarity conditions.

The stationarity conditions are derived, never typed: J is built from the reward term (6) and the
expected penalty, the Lagrangian adds λ(Σπ − 1), SymPy differentiates, π_old is set to π, and
SymPy solves for π(o).  The derivation is generic in the number of outputs K; P_o stands for
P_G(o | π_old), which does not depend on π.
"""

from __future__ import annotations

from dataclasses import dataclass
from grpo_symbolic.model.caches import cached

import sympy as sp

from grpo_symbolic.theory.penalty import expected_penalty, gradient
from grpo_symbolic.model.symbols import beta, indexed, lam


def objective(preference, pi, pi_ref, pi_old, weight, penalty):
    """J(π; π_old) = Σ_o π(o) P_G(o|π_old) − β·(expected penalty): the paper's (1) without clipping.

    >>> from grpo_symbolic.model.symbols import p, p_old, rho, beta
    >>> P = sp.symbols("P_a P_b")
    >>> objective(P, (p, 1 - p), (rho, 1 - rho), (p_old, 1 - p_old), beta, "direct").has(sp.log)
    True
    """
    reward = sum(x * P for x, P in zip(pi, preference))
    return reward - weight * expected_penalty(penalty, pi, pi_ref, pi_old)


@dataclass(frozen=True)
class Stationarity:
    """The derived stationarity conditions for K outputs and one penalty.

    ``equations[o]`` is ∂L/∂π(o) at π_old = π (= 0 at a stationary policy); ``policy[o]`` solves it
    for π(o); ``multiplier`` is λ at a stationary policy; ``best_response[o]`` is the first-order
    condition of max_π J(π; π_old) before π_old is set to π.

    Filled by :func:`grpo_symbolic.theory.regularisers.derive_regularised` (defaults here):
    ``link`` names the family of π(o)/π_ref(o) as a function of (P_o − λ)/β; ``implicit`` is True
    when SymPy finds no unique explicit π(o) (``policy[o]`` is then the equation, and ``branches[o]``
    the explicit solutions when there are several); ``entropy_symbol`` is c of c·H(π) (None without
    the bonus); ``condition[o]`` the equation ``policy`` solves when it is not ``equations[o]``
    (the KL in the reward before normalisation, deterministic rewards); ``clamp_active[o]`` the
    relation under which the clamp acts at output o of the stationary form.
    """

    penalty: str
    pi: tuple
    pi_old: tuple
    pi_ref: tuple
    preference: tuple
    lagrangian: sp.Expr
    best_response: tuple
    equations: tuple
    policy: tuple
    multiplier: sp.Expr
    link: str = ""
    implicit: bool = False
    entropy_symbol: sp.Symbol | None = None
    branches: tuple = ()
    condition: tuple = ()
    clamp_active: tuple = ()


@cached
def derive_stationarity(penalty, size=2):
    """Derive the stationarity conditions for ``penalty`` ("grpo" or "direct") with ``size`` outputs.

    >>> st = derive_stationarity("grpo")
    >>> st.policy[0]
    beta*rho_1/(-P_1 + beta + lambda)
    >>> st.multiplier
    P_1*pi_1 + P_2*pi_2
    >>> derive_stationarity("direct").policy[0]
    rho_1*exp((P_1 - lambda)/beta)
    """
    pi = indexed("pi", size, positive=True)
    pi_old = indexed("pi_old", size, positive=True)
    pi_ref = indexed("rho", size, positive=True)
    preference = indexed("P", size, real=True)
    lagrangian = objective(preference, pi, pi_ref, pi_old, beta, penalty) - lam * (sum(pi) - 1)
    best_response = gradient(lagrangian, pi)
    on_policy = dict(zip(pi_old, pi))
    equations = tuple(sp.expand(sp.expand_log(e.subs(on_policy), force=True)) for e in best_response)
    policy = tuple(_solve_one(e, x) for e, x in zip(equations, pi))
    multiplier = _multiplier(equations, pi, pi_ref, preference)
    return Stationarity(penalty, pi, pi_old, pi_ref, preference, lagrangian, best_response,
                        equations, policy, multiplier)


def _solve_one(equation, unknown):
    solutions = sp.solve(equation, unknown)
    if len(solutions) != 1:
        raise RuntimeError(f"expected one solution for {unknown}, SymPy gave {solutions}")
    return sp.powsimp(sp.expand(solutions[0]))


def _multiplier(equations, pi, pi_ref, preference):
    """λ at a stationary policy: Appendix A's sum of π(o)·(condition o) over o, on the simplex."""
    total = sp.expand(sum(x * e for x, e in zip(pi, equations)))
    simplex = {pi[-1]: 1 - sum(pi[:-1]), pi_ref[-1]: 1 - sum(pi_ref[:-1])}
    total = sp.expand(total.subs(simplex))
    solved = sp.solve(total, lam)
    if len(solved) != 1:
        raise RuntimeError(f"expected one multiplier, SymPy gave {solved}")
    collected = sp.collect(sp.expand(solved[0]), preference)
    return collected.subs({1 - sum(pi[:-1]): pi[-1], 1 - sum(pi_ref[:-1]): pi_ref[-1]})
