"""Group filtering: the objective when all-equal groups are dropped or masked, and its stationarity.

A group is *degenerate* when its G rewards are all equal.  Under the GRPO and leave-one-out rules
its advantages are all 0, so only the penalty still acts on it.  The trainers' settings:

* ``keep`` (TRL): every group counts; degenerate groups carry a penalty-only gradient.
* ``mask-penalty``: degenerate groups are kept in the batch but carry no loss at all.
* ``drop-equal`` (DAPO dynamic sampling, verl ``filter_groups``): degenerate groups are discarded and
  the batch refilled, so every expectation is conditional on a non-degenerate group.

Writing Z = P(all equal | π_old) = Σ_v m_v^G (m the reward mixture of π_old) and
W_o = P(the group is not all equal | o_1 = o) = Σ_v Prob[r(o) = v]·(1 − m_v^(G−1)), the expected
masked loss over groups is Σ_o π(o) P_G(o|π_old) − β Σ_o W_o·T_o(π) (T_o the penalty's per-output
term, e.g. π_old(o)·k3), and ``drop-equal`` divides all of it by 1 − Z (:func:`filtered_objective`;
the enumeration over groups that gives it is checked in :mod:`grpo_symbolic.cases.filtering`).
W_o and Z depend on π_old only, so they are constants under the gradient: SymPy then derives
(:func:`derive_filtered_stationarity`) that each output sees the **effective weight β·W_o** — a
policy-dependent, per-output β — and that ``drop-equal``'s factor 1/(1 − Z) only rescales the
multiplier (λ → λ·(1 − Z)).  So at one context ``drop-equal`` and ``mask-penalty`` have the same
stationary policies; they differ from ``keep`` whenever some W_o < 1, i.e. at every finite G, and
coincide with it as G → ∞ (W_o → 1 at an interior policy).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
import sympy as sp

from grpo_symbolic.model.caches import cached
from grpo_symbolic.model.symbols import beta, indexed, lam
from grpo_symbolic.theory.objective import objective
from grpo_symbolic.theory.penalty import expected_penalty, gradient
from grpo_symbolic.numerics.precision import mpx

FILTERS = ("keep", "mask-penalty", "drop-equal")
"""The group-filter settings, as :class:`grpo_symbolic.model.settings.GroupFilter` values."""


def filtered_objective(preference, pi, pi_ref, pi_old, weight, penalty, group_filter, kept=None, degenerate=0):
    """J(π; π_old) under ``group_filter``: ``kept[o]`` is W_o, ``degenerate`` is Z (see the module).

    The penalty's per-output term is the expected penalty of a one-output slice, so any estimator
    :func:`grpo_symbolic.theory.penalty.expected_penalty` knows is masked the same way.

    >>> from grpo_symbolic.model.symbols import p, p_old, rho, beta
    >>> W, Z = sp.symbols("W_a W_b", positive=True), sp.Symbol("Z", positive=True)
    >>> J = filtered_objective((1 - p_old, -p_old), (p, 1 - p), (rho, 1 - rho), (p_old, 1 - p_old), beta, "grpo",
    ...                        "drop-equal", W, Z)
    >>> sp.simplify(J * (1 - Z) - filtered_objective((1 - p_old, -p_old), (p, 1 - p), (rho, 1 - rho),
    ...                                              (p_old, 1 - p_old), beta, "grpo", "mask-penalty", W))
    0
    """
    if group_filter == "keep":
        return objective(preference, pi, pi_ref, pi_old, weight, penalty)
    reward = sum(x * P for x, P in zip(pi, preference))
    masked = sum(w * expected_penalty(penalty, (x,), (r,), (q,)) for w, x, r, q in zip(kept, pi, pi_ref, pi_old))
    total = reward - weight * masked
    return total / (1 - degenerate) if group_filter == "drop-equal" else total


@dataclass(frozen=True)
class FilteredStationarity:
    """The derived stationarity of one filter: ``equations[o]`` (∂L/∂π(o) at π_old = π), ``policy[o]``
    (solved for π(o)), ``effective_beta[o]`` (the β that output o sees) and ``multiplier_scale``
    (λ of the filtered form = scale × λ of the keep form with the effective β)."""

    group_filter: str
    penalty: str
    kept: tuple
    degenerate: sp.Symbol
    equations: tuple
    policy: tuple
    effective_beta: tuple
    multiplier_scale: sp.Expr


@cached
def derive_filtered_stationarity(penalty, group_filter, size=2):
    """Derive the stationarity of ``penalty`` ("grpo" or "direct") under ``group_filter``, K = ``size``.

    The effective β and the multiplier's scale are read off by matching the derived policy with the
    keep form (SymPy checks the match; a filter that is not "β → β·W_o" raises RuntimeError).

    >>> st = derive_filtered_stationarity("grpo", "drop-equal")
    >>> st.policy[0]
    -W_1*beta*rho_1/(P_1 - W_1*beta + Z*lambda - lambda)
    >>> st.effective_beta, st.multiplier_scale
    ((W_1*beta, W_2*beta), 1 - Z)
    >>> derive_filtered_stationarity("direct", "mask-penalty").policy[0]
    rho_1*exp((P_1 - lambda)/(W_1*beta))
    """
    pi = indexed("pi", size, positive=True)
    pi_old = indexed("pi_old", size, positive=True)
    pi_ref = indexed("rho", size, positive=True)
    preference = indexed("P", size, real=True)
    kept = indexed("W", size, positive=True)
    degenerate = sp.Symbol("Z", positive=True)
    J = filtered_objective(preference, pi, pi_ref, pi_old, beta, penalty, group_filter, kept, degenerate)
    lagrangian = J - lam * (sum(pi) - 1)
    on_policy = dict(zip(pi_old, pi))
    equations = tuple(sp.expand(sp.expand_log(e.subs(on_policy), force=True)) for e in gradient(lagrangian, pi))
    policy = tuple(_solve(e, x) for e, x in zip(equations, pi))
    keep = tuple(_solve(e, x) for e, x in zip(_keep_equations(penalty, pi, pi_ref, pi_old, preference), pi))
    scale = 1 - degenerate if group_filter == "drop-equal" else sp.Integer(1)
    effective = tuple(beta * w if group_filter != "keep" else beta for w in kept)
    for form, base, b in zip(policy, keep, effective):
        matched = base.subs({beta: b, lam: lam * scale}, simultaneous=True)
        if sp.simplify(form - matched) != 0:
            raise RuntimeError(f"{group_filter}: the stationary form {form} is not the keep form with beta -> {b}")
    return FilteredStationarity(group_filter, penalty, kept, degenerate, equations, policy, effective, scale)


def _keep_equations(penalty, pi, pi_ref, pi_old, preference):
    lagrangian = objective(preference, pi, pi_ref, pi_old, beta, penalty) - lam * (sum(pi) - 1)
    return tuple(sp.expand(sp.expand_log(e.subs(dict(zip(pi_old, pi))), force=True)) for e in gradient(lagrangian, pi))


def _solve(equation, unknown):
    solutions = sp.solve(equation, unknown)
    if len(solutions) != 1:
        raise RuntimeError(f"expected one solution for {unknown}, SymPy gave {solutions}")
    return sp.powsimp(sp.expand(solutions[0]))


def kept_probability(row: Any, m: Any, group_size: Any) -> Any:
    """W_o = Σ_v row[v]·(1 − m_v^(G−1)): the probability that a group whose first member has reward
    law ``row`` is not all equal, the others drawn from the mixture ``m`` (SymPy, mpmath or float).

    1 − m_v^(G−1) is computed as −expm1((G − 1)·log1p(−s_v)), s_v = Σ_{u≠v} m_u, in mpmath and
    float64, so a policy next to a vertex keeps its digits.  G = ∞ gives Σ_v row[v]·[m_v < 1].

    >>> kept_probability((0, 1), (sp.Rational(1, 4), sp.Rational(3, 4)), 3)
    7/16
    >>> mpmath.nstr(kept_probability((1, 0), (mpmath.mpf(1) - mpmath.mpf("1e-40"), mpmath.mpf("1e-40")), 5), 5)
    '4.0e-40'
    """
    total = 0 * m[0]
    for v, (q, mv) in enumerate(zip(row, m)):
        if q == 0:
            continue
        rest = sum((mu for u, mu in enumerate(m) if u != v), 0 * mv)
        total += q * _one_minus_power(mv, rest, group_size - 1)
    return total


def _one_minus_power(mv, rest, n):
    """1 − mv^n with mv = 1 − rest, without cancellation."""
    if n is sp.oo or n == sp.oo:
        return 0 * mv if rest == 0 else 1 + 0 * mv
    if isinstance(mv, mpmath.mpf):
        return -mpx.expm1(n * mpx.log1p(-rest))
    if isinstance(mv, (float, np.floating)):
        with np.errstate(divide="ignore"):  # rest = 1 (m_v underflowed to 0): log1p(−1) = −inf, W = 1
            return -float(np.expm1(n * np.log1p(-rest)))
    return 1 - mv ** n


def effective_betas(laws: Any, m: Any, group_size: Any, weight: Any) -> list[Any]:
    """β·W_c per reward law (row of ``laws``) at the mixture ``m``: the β each output sees under
    ``mask-penalty`` and ``drop-equal`` (see :func:`derive_filtered_stationarity`).

    >>> effective_betas(((1, 0), (0, 1)), (sp.Rational(1, 4), sp.Rational(3, 4)), 2, 2)
    [3/2, 1/2]
    """
    return [weight * kept_probability(row, m, group_size) for row in laws]


def degenerate_probability(m: Any, group_size: Any) -> Any:
    """Z = Σ_v m_v^G: the probability that a group drawn from the mixture ``m`` is all equal
    (G = ∞: 0 unless some m_v = 1).

    >>> degenerate_probability((sp.Rational(18, 100), sp.Rational(82, 100)), 2)
    881/1250
    """
    if group_size is sp.oo:  # m_v^G -> 0 unless m_v = 1
        return sum((1 + 0 * mv for mv in m if mv == 1), 0 * m[0])
    return sum((mv ** group_size for mv in m), 0 * m[0])
