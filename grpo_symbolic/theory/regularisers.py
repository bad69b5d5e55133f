"""The trainers' regularisers: every KL estimator × placement, clamped or not, with the entropy bonus.

A :class:`Regulariser` is what a trainer's settings add to GRPO's reward term: a per-sample KL
estimator (:data:`grpo_symbolic.model.settings.Estimator`, written once in
:func:`grpo_symbolic.theory.penalty.per_sample`), where it enters
(:data:`grpo_symbolic.model.settings.Placement`), an optional clamp, and an optional entropy bonus
c·H(π).  :func:`derive_regularised` derives the stationarity the same way
:func:`grpo_symbolic.theory.objective.derive_stationarity` derives (11): the expected loss over
o ~ π_old as the trainer writes it (detached factors are fresh symbols, set to π only after
differentiating), the Lagrangian with λ(Σπ − 1), ∂/∂π(o), then π_old = π, and SymPy solves for π(o).

The placements (``weight`` is β):

* ``loss`` — β·k(o) is added to the per-sample loss and differentiated through (TRL; verl
  ``use_kl_loss``): E_{π_old}[β k] enters J.
* ``reward-post`` — the advantage becomes A_i − β·k(o_i) with k from π_old, detached (OpenRLHF's
  default): J gains −β Σ_o π(o) k(π_old(o)), the KL's VALUE only, and the IS weight is π_old/π_old.
* ``reward-pre`` — the reward becomes r − β·k(π_old(o)) BEFORE the group normalisation (verl
  ``use_kl_in_reward``): the reward term is Σ_o π(o) Q_o with Q_o = P_G(o | π_old) of the shifted
  rewards; the conditions are Q_o = λ, and since advantages sum to zero in every group λ = 0.  For
  deterministic rewards Q_o = 0 on the support exactly when every shifted reward r(o) − β k(π(o))
  is the same (a group with unequal shifted rewards gives its best output a positive advantage), so
  ``condition[o]`` is r_o − β k(π_o) − λ = 0, λ the common shifted reward, and ``policy`` solves it.

>>> st = derive_regularised(Regulariser(Estimator.K3_FLIPPED, Placement.LOSS))
>>> sp.factor(st.policy[0]), st.link
(rho_1*(P_1 + beta - lambda)/beta, 'linear')
>>> derive_regularised(Regulariser(Estimator.K1, Placement.REWARD_PRE)).link
'exponential'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sympy as sp

from grpo_symbolic.model.caches import cached
from grpo_symbolic.model.settings import Estimator, Placement
from grpo_symbolic.model.symbols import beta, entropy_coef, indexed, kl_bound, lam, link_arg
from grpo_symbolic.theory.penalty import per_sample
from grpo_symbolic.theory.objective import Stationarity, _multiplier
from grpo_symbolic.theory.penalty import gradient

if TYPE_CHECKING:
    from grpo_symbolic.model.problem import Problem

LINKS = ("reciprocal", "exponential", "linear", "softmax", "none", "lambert", "branches", "implicit")
"""The family names :func:`derive_regularised` reports, from SymPy's solution π(o) = π_ref(o)·g(x),
x = (P_o − λ)/β: g = 1/(1 − x), e^x (also π_ref^a·e^{bx}, log pooling), 1 + x; ``softmax`` π ∝ e^{P/c}
(no π_ref); ``none`` (π(o) absent from the condition); ``lambert`` / ``branches`` (several explicit
solutions, with / without Lambert W); ``implicit`` (SymPy finds none)."""


TEMPLATES = {"reciprocal": 1 / (1 - link_arg), "exponential": sp.exp(link_arg), "linear": 1 + link_arg}
"""The links g(x), π(o) = π_ref(o)·g(x), that :func:`derive_regularised` recognises exactly."""


@dataclass(frozen=True)
class Regulariser:
    """A trainer's regularisation: the KL ``estimator``, its ``placement``, whether its value is
    ``clamped`` (torch.clamp(k, −C, C)), and whether the ``entropy`` bonus c·H(π) is on.

    >>> Regulariser(Estimator.K3, Placement.LOSS).name
    'k3@loss'
    """

    estimator: Estimator
    placement: Placement
    clamped: bool = False
    entropy: bool = False

    @property
    def name(self) -> str:
        """``estimator@placement``, with ``+clamp`` and ``+entropy`` when on."""
        return (f"{self.estimator}@{self.placement}" + ("+clamp" if self.clamped else "")
                + ("+entropy" if self.entropy else ""))


def regulariser_of(problem: Problem) -> Regulariser:
    """The :class:`Regulariser` of a :class:`~grpo_symbolic.model.problem.Problem`'s settings.

    >>> from grpo_symbolic.model.problem import Problem
    >>> regulariser_of(Problem(["0.3", "0.7"], [1, 0], 8, 1, penalty="direct")).name
    'is_k3@loss'
    """
    return Regulariser(problem.kl_estimator, problem.kl_placement, problem.kl_clamp is not None,
                       problem.entropy != 0)


@dataclass(frozen=True)
class _Symbols:
    pi: tuple
    pi_old: tuple
    pi_ref: tuple
    detached: tuple
    preference: tuple
    rewards: tuple


def _symbols(size: int, placement: Placement) -> _Symbols:
    stem = "Q" if placement is Placement.REWARD_PRE else "P"
    return _Symbols(indexed("pi", size, positive=True), indexed("pi_old", size, positive=True),
                    indexed("rho", size, positive=True), indexed("pi_d", size, positive=True),
                    indexed(stem, size, real=True), indexed("r", size, real=True))


def objective(reg: Regulariser, pi: tuple, pi_ref: tuple, pi_old: tuple, detached: tuple, preference: tuple,
              weight: Any = beta) -> sp.Expr:
    """J(π; π_old) for ``reg``: Σ π(o)·P_o minus the weighted KL as placed, plus c·H(π).

    ``detached`` stands for π under ``.detach()``; ``preference`` is P_G(o|π_old) (for ``reward-pre``
    the P_G of the KL-shifted rewards).

    >>> from grpo_symbolic.model.symbols import p, p_old, rho
    >>> d, P = sp.Symbol("d", positive=True), sp.symbols("P_a P_b")
    >>> J = objective(Regulariser(Estimator.K1, Placement.REWARD_POST), (p, 1 - p), (rho, 1 - rho), (p_old, 1 - p_old), (d, 1 - d), P)
    >>> sp.expand(sp.diff(J, p)).has(p)
    False
    """
    bound = kl_bound if reg.clamped else None
    rows = zip(pi, pi_ref, pi_old, detached, preference)
    if reg.placement is Placement.LOSS:
        terms = [x * P - weight * q * per_sample(reg.estimator, x, r, q, d, bound) for x, r, q, d, P in rows]
    elif reg.placement is Placement.REWARD_POST:
        terms = [x * (P - weight * per_sample(reg.estimator, q, r, q, q, bound)) for x, r, q, d, P in rows]
    else:
        terms = [x * Q for x, r, q, d, Q in rows]
    entropy = -sp.Add(*[x * sp.log(x) for x in pi]) if reg.entropy else 0
    return sp.Add(*terms) + entropy_coef * entropy


def _tidy(expr: sp.Expr) -> sp.Expr:
    return sp.expand(sp.expand_log(expr, force=True))


def unclamped(expr: sp.Expr) -> sp.Expr:
    """``expr`` on the pieces where no clamp acts (the last piece of every Piecewise).

    >>> v, C = sp.symbols("v C", positive=True)
    >>> unclamped(sp.Piecewise((0, v > C), (2*v, True)) + 1)
    2*v + 1
    """
    return expr.replace(lambda e: isinstance(e, sp.Piecewise), lambda e: e.args[-1].expr)


@cached
def derive_conditions(reg: Regulariser, size: int = 2, weight: Any = beta) -> tuple[sp.Expr, tuple, tuple]:
    """(Lagrangian, best response, conditions at π_old = π) of :func:`derive_regularised`, without
    solving for π(o): the expected gradient is ``equations[o] + λ``.

    >>> derive_conditions(Regulariser(Estimator.K2, Placement.LOSS))[2][0]
    P_1 - beta*log(pi_1) + beta*log(rho_1) - lambda
    """
    s = _symbols(size, reg.placement)
    lagrangian = objective(reg, s.pi, s.pi_ref, s.pi_old, s.detached, s.preference, weight) - lam * (sum(s.pi) - 1)
    best_response = gradient(lagrangian, s.pi)
    on_policy = {**dict(zip(s.pi_old, s.pi)), **dict(zip(s.detached, s.pi))}
    return lagrangian, best_response, tuple(_tidy(e.subs(on_policy)) for e in best_response)


def _solved(equations: tuple, s: _Symbols) -> list:
    """Each output's solutions: output 1's solved by SymPy, carried to output o by renaming the
    symbols when (and only when) output o's condition is output 1's renamed."""
    first = _solutions(equations[0], s.pi[0])
    found = [first]
    for o in range(1, len(equations)):
        rename = {a[0]: a[o] for a in (s.pi, s.pi_ref, s.preference, s.rewards)}
        if sp.expand(equations[0].xreplace(rename) - equations[o]) == 0:
            found.append([f.xreplace(rename) for f in first])
        else:
            found.append(_solutions(equations[o], s.pi[o]))
    return found


@cached
def derive_regularised(reg: Regulariser, size: int = 2, weight: Any = beta) -> Stationarity:
    """Derive the stationarity of GRPO's reward term with ``reg``, for ``size`` outputs.

    ``weight`` is β (``sp.Integer(0)`` derives β = 0: the entropy bonus alone, or nothing).
    (k3, loss) and (is_k3, loss) give exactly :func:`derive_stationarity`'s "grpo" and "direct" forms.

    >>> derive_regularised(Regulariser(Estimator.K3, Placement.LOSS)).policy[0]
    beta*rho_1/(-P_1 + beta + lambda)
    >>> st = derive_regularised(Regulariser(Estimator.K2, Placement.LOSS, entropy=True), weight=sp.Integer(0))
    >>> st.policy[0], st.link
    (exp(P_1/c - 1 - lambda/c), 'softmax')
    >>> derive_regularised(Regulariser(Estimator.K3, Placement.LOSS, clamped=True)).clamp_active[0]
    Abs(x_o + log(1 - x_o)) >= C
    """
    s = _symbols(size, reg.placement)
    lagrangian, best_response, equations = derive_conditions(reg, size, weight)
    inactive = tuple(unclamped(e) for e in equations)
    condition = _reward_pre_condition(reg, s, weight)
    drive = s.rewards if condition else s.preference
    solved = _solved(condition or inactive, s)
    policy, branches = _policy(solved, condition or inactive)
    link = _link((condition or inactive)[0], solved[0], s.pi[0], s.pi_ref[0], drive[0], weight)
    active = tuple(_clamp_active(reg, x, r, found, P, weight) for x, r, found, P in
                   zip(s.pi, s.pi_ref, solved, drive)) if reg.clamped else ()
    return Stationarity(
        reg.name, s.pi, s.pi_old, s.pi_ref, s.preference, lagrangian, best_response, equations, policy,
        _multiplier(inactive, s.pi, s.pi_ref, s.preference), link=link, implicit=bool(branches),
        entropy_symbol=entropy_coef if reg.entropy else None, branches=branches,
        condition=condition, clamp_active=active)


def _policy(solved: list, equations: tuple) -> tuple[tuple, tuple]:
    """(policy, branches): the unique solutions, or (the equations, every output's solutions)."""
    if all(len(found) == 1 for found in solved):
        return tuple(found[0] for found in solved), ()
    return tuple(sp.Eq(e, 0) for e in equations), tuple(tuple(found) for found in solved)


def _reward_pre_condition(reg: Regulariser, s: _Symbols, weight: Any) -> tuple:
    """r_o − β·k(π_o) − λ: the deterministic-reward form of Q_o = λ (see the module docstring)."""
    if reg.placement is not Placement.REWARD_PRE or reg.entropy:
        return ()
    return tuple(_tidy(unclamped(r - weight * per_sample(reg.estimator, x, rr, x, x, kl_bound if reg.clamped else None)) - lam)
                 for x, rr, r in zip(s.pi, s.pi_ref, s.rewards))


def _solutions(equation: sp.Expr, unknown: sp.Symbol) -> list:
    """SymPy's solutions for ``unknown`` (empty when ``unknown`` is absent or SymPy finds none)."""
    if unknown not in equation.free_symbols:
        return []
    try:
        found = [sp.powsimp(sp.expand(x)) for x in sp.solve(equation, unknown)]
    except NotImplementedError:
        return []
    return found + [lower for lower in map(_lower_branch, found) if lower is not None]


def _lower_branch(solution: sp.Expr) -> sp.Expr | None:
    """``solution`` on Lambert W's other real branch W_{−1}, when its argument is negative (SymPy's
    solve gives the principal branch W_0 only; both solve w·e^w = z for −1/e ≤ z < 0).

    >>> z = sp.Symbol("z", positive=True)
    >>> _lower_branch(sp.LambertW(-z)), _lower_branch(sp.LambertW(z))
    (LambertW(-z, -1), None)
    """
    arguments = {w.args[0] for w in solution.atoms(sp.LambertW) if len(w.args) == 1}
    if len(arguments) != 1 or not next(iter(arguments)).is_negative:
        return None
    return solution.replace(lambda e: isinstance(e, sp.LambertW), lambda e: sp.LambertW(e.args[0], -1))


def _link(equation: sp.Expr, found: list, pi: sp.Symbol, rho: sp.Symbol, drive: sp.Symbol, weight: Any) -> str:
    """The family of output 1's solutions (see :data:`LINKS`), read off SymPy's π(o) = π_ref(o)·g(x)."""
    if not found:
        return "implicit" if equation.has(pi) else "none"
    if len(found) > 1:
        return "lambert" if any(f.has(sp.LambertW) for f in found) else "branches"
    form = found[0]
    if form.has(sp.LambertW):
        return "lambert"
    scale = weight if weight != 0 else entropy_coef
    g = sp.simplify(form.subs(drive, lam + scale * link_arg) / rho)
    for name, template in TEMPLATES.items():
        if sp.simplify(g - template) == 0:
            return name
    if sp.diff(_tidy(sp.log(form)), drive, 2) == 0:
        return "exponential" if form.has(rho) else "softmax"
    return "implicit"


def _clamp_active(reg: Regulariser, pi: sp.Symbol, rho: sp.Symbol, found: list, drive: sp.Symbol, weight: Any) -> Any:
    """|k(o)| ≥ C at output o of the stationary form (in x = (P_o − λ)/β when it is explicit)."""
    shown = Estimator.K3 if reg.estimator in (Estimator.K3_PLUS, Estimator.IS_K3) else reg.estimator
    value = per_sample(shown, pi, rho, pi)
    if len(found) == 1 and weight != 0:
        value = sp.simplify(_tidy(value.subs(pi, found[0]).subs(drive, lam + weight * link_arg)))
    return sp.Abs(value) >= kl_bound
