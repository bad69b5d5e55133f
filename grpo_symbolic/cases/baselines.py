"""The baselines of Section 1 derived from first-order conditions, and GRPO at G = 2 against NLHF.

* RLHF: the maximiser (4) of the objective (3), by Lagrangian and solve (:func:`derive_rlhf`).
* NLHF: the symmetric equilibrium of the regularised game (5), from player 1's first-order
  conditions (:func:`derive_nlhf`), and numerically (:func:`nlhf_equilibrium_numeric`).
* Beyond the paper: G = 2 with the direct penalty against the NLHF equilibrium with weight τ (the
  gap between the two derived fixed-point conditions, and the τ that closes it).
"""

from __future__ import annotations

from dataclasses import dataclass
from grpo_symbolic.model.caches import cached
import itertools
from typing import Any

import mpmath
import sympy as sp

from grpo_symbolic.cases.general import advantage, tie_split_preferences
from grpo_symbolic.model.problem import Problem
from grpo_symbolic.model.symbols import beta, indexed, lam
from grpo_symbolic.model import inputs
from grpo_symbolic.model.errors import ParameterError
from grpo_symbolic.numerics.precision import mp_lambdify, mpx, rounded, to_mpf, working_precision
from grpo_symbolic.numerics.roots import newton
from grpo_symbolic.preference.engine import preference_exact
from grpo_symbolic.theory.algebra import expectation, is_zero, only_solution, solve_linear
from grpo_symbolic.theory.objective import derive_stationarity
from grpo_symbolic.theory.penalty import gradient, kl


@dataclass(frozen=True)
class PoolingDerivation:
    """A policy derived from first-order conditions, with the conditions and the Hessian.

    ``policy[o]``: π(o) normalised on the simplex (RLHF), or log π(o) up to a constant common to
    every o (NLHF); ``first_order``: the conditions derived by differentiation; ``hessian``: the
    Hessian of the maximised objective in the policy (RLHF) or in player 1's policy (NLHF);
    ``symbols``: the generic symbols used.
    """

    policy: tuple
    first_order: tuple
    hessian: sp.Matrix
    symbols: dict


@cached
def derive_rlhf(size=3):
    """The maximiser of the RLHF objective (3) over the simplex, by Lagrangian and solve.

    (3) is E_{o~π}[r(o)] − β KL(π‖π_ref); the Lagrangian adds −λ(Σπ − 1), each first-order condition
    (linear in log π(o)) is solved for π(o), and Σ π(o) = 1 is solved for λ.

    >>> d = derive_rlhf(2)
    >>> d.policy[0]
    rho_1*exp(r_1/beta)/(rho_1*exp(r_1/beta) + rho_2*exp(r_2/beta))
    >>> d.hessian
    Matrix([
    [-beta/pi_1,          0],
    [         0, -beta/pi_2]])
    """
    pi = indexed("pi", size, positive=True)
    ref = indexed("rho", size, positive=True)
    rewards = indexed("r", size, real=True)
    rlhf = expectation(pi, rewards) - beta * kl(pi, ref)
    first_order = gradient(rlhf - lam * (sp.Add(*pi) - 1), pi)
    log_pi = sp.Dummy("log_pi")
    in_lambda = [sp.exp(solve_linear(sp.expand(sp.expand_log(e, force=True)).subs(sp.log(x), log_pi), log_pi))
                 for e, x in zip(first_order, pi)]
    multiplier = only_solution(sp.Add(*in_lambda) - 1, lam)
    policy = tuple(sp.expand(v.subs(lam, multiplier)) for v in in_lambda)
    return PoolingDerivation(policy, first_order, sp.hessian(rlhf, pi),
                             dict(pi=pi, reference=ref, rewards=rewards))


def luce(rewards):
    """The Luce (softmax) law e^{r(o)} / Σ e^{r}.

    >>> luce((0, 0))
    (1/2, 1/2)
    """
    weights = [sp.exp(r) for r in rewards]
    total = sp.Add(*weights)
    return tuple(w / total for w in weights)


def preference_matrix(size):
    """A generic antisymmetric preference matrix: P(o ≻ o') = q_{oo'}, P(o' ≻ o) = 1 − q_{oo'}, ½ on the diagonal.

    >>> preference_matrix(2)
    ((1/2, q_12), (1 - q_12, 1/2))
    """
    size = inputs.count(size, "size")
    rows = [[sp.Rational(1, 2)] * size for _ in range(size)]
    for a, b in itertools.combinations(range(size), 2):
        q = sp.Symbol(f"q_{a + 1}{b + 1}", positive=True)
        rows[a][b], rows[b][a] = q, 1 - q
    return tuple(tuple(row) for row in rows)


def nlhf_payoff(pi, opponent, reference, prefers):
    """Payoff of the NLHF regularised game (5) to the player of ``pi`` against ``opponent``.

    E_{o~π, o'~π'}[P(o ≻ o') − β log(π(o)/π_ref(o)) + β log(π'(o')/π_ref(o'))].

    >>> half = sp.Rational(1, 2)
    >>> nlhf_payoff((half, half), (half, half), (half, half), preference_matrix(2))
    1/2
    """
    K = len(inputs.sequence(prefers, "prefers"))
    pi, opponent, reference = (inputs.policy(v, K, n) for v, n in ((pi, "pi"), (opponent, "opponent"), (reference, "reference")))
    return sp.Add(*[pi[a] * opponent[b] * (prefers[a][b] - beta * sp.log(pi[a] / reference[a])
                                           + beta * sp.log(opponent[b] / reference[b]))
                    for a in range(K) for b in range(K)])


@cached
def derive_nlhf(size=3):
    """The symmetric NLHF equilibrium condition, from player 1's first-order conditions.

    Player 1 best-responds to an opponent policy π' on the simplex (Lagrangian with −λ(Σπ − 1));
    each first-order condition is linear in log π(o) and is solved for it; π' is then set to π.
    ``policy[o]`` is log π(o) at the equilibrium up to a constant common to every o (λ and the
    opponent's own terms); ``first_order`` are the conditions at π' = π.

    >>> d = derive_nlhf(2)
    >>> sp.collect(sp.expand(d.policy[0] - d.policy[1]), beta)
    log(rho_1) - log(rho_2) + (q_12 - 1/2)/beta
    """
    pi = indexed("pi", size, positive=True)
    other = indexed("sigma", size, positive=True)
    ref = indexed("rho", size, positive=True)
    prefers = preference_matrix(size)
    opponent = (*other[:-1], 1 - sp.Add(*other[:-1]))  # the opponent's policy, on the simplex
    payoff = nlhf_payoff(pi, opponent, ref, prefers)
    first_order = gradient(payoff - lam * (sp.Add(*pi) - 1), pi)
    log_pi = sp.Dummy("log_pi")
    best_response = []
    for e, x in zip(first_order, pi):
        linear = sp.expand(sp.expand_log(e, force=True)).subs(sp.log(x), log_pi)
        best_response.append(solve_linear(linear, log_pi))
    symmetric = dict(zip(other[:-1], pi[:-1]))
    return PoolingDerivation(tuple(sp.expand(v.subs(symmetric)) for v in best_response),
                             tuple(e.subs(symmetric) for e in first_order),
                             sp.hessian(payoff, pi), dict(pi=pi, reference=ref, prefers=prefers))


def nlhf_equilibrium_numeric(prefers, reference, weight):
    """The symmetric NLHF equilibrium for numeric data, by Newton on the derived first-order conditions.

    Returns (policy, multiplier) as mpf to the current precision (computed with guard digits and
    rounded); the unknowns are log π (on the simplex, so π' = π) and λ.  Newton (with the derived
    Jacobian) starts at π_ref with a weight of at least 4, where the equilibrium is near π_ref,
    and follows it as the weight is halved down to ``weight``.

    >>> with mpmath.workdps(20):
    ...     policy, _ = nlhf_equilibrium_numeric(((0.5, 0.5), (0.5, 0.5)), (0.25, 0.75), 1)
    >>> [mpmath.nstr(x, 5) for x in policy]
    ['0.25', '0.75']
    """
    reference = inputs.policy(reference, len(inputs.sequence(prefers, "prefers")), "reference")  # the input gate
    size, dps = len(reference), mpx.dps
    equations, jacobian, data_symbols = _nlhf_system(size)
    matrix = _matrix_values(derive_nlhf(size).symbols["prefers"], prefers)
    with working_precision(dps):
        data = [*(to_mpf(r) for r in reference), *(to_mpf(matrix[q]) for q in data_symbols[1 + size:])]
        target = to_mpf(weight)
        if not target > 0:
            raise ParameterError(f"weight: got {weight}; the NLHF regularisation weight must be > 0")
        halvings = max(0, int(mpx.ceil(mpx.log(4 / target, 2))))
        root = [mpx.log(r) for r in data[:size]] + [mpx.mpf(0)]
        for k in range(halvings, -1, -1):
            root = _nlhf_newton(equations, jacobian, (target * 2**k, *data), root)
        policy = tuple(mpx.exp(root[i]) for i in range(size))
    return rounded((policy, root[size]), dps)


def _nlhf_newton(equations, jacobian, params, start):
    """(log π, λ) solving the derived conditions at ``params`` = (β, π_ref, q), by Newton from ``start``."""
    return newton(lambda z: [_real(v) for v in equations(*z, *params)], start,
                  jacobian=lambda z: [[_real(v) for v in row] for row in jacobian(*z, *params).tolist()],
                  what="the NLHF equilibrium")


def _real(value: Any) -> Any:
    """``value`` without a rounding-level imaginary part; a genuinely complex value (a trial step
    left the equations' real domain) is +inf, so Newton's line search rejects that step."""
    if isinstance(value, mpmath.mpc):
        if abs(value.imag) > mpx.mpf(2) ** (10 - mpx.prec) * max(1, abs(value.real)):
            return mpx.inf
        return value.real
    return value


@cached
def _nlhf_system(size):
    """The derived equilibrium conditions and Σπ = 1, and their Jacobian, as mpmath functions of
    (log π, λ, β, π_ref, q); also the data symbols (β, π_ref, q) in that order."""
    d = derive_nlhf(size)
    pi = d.symbols["pi"]
    log_pi = indexed("s", size, real=True)
    entries = sorted({q for row in d.symbols["prefers"] for q in row if isinstance(q, sp.Symbol)}, key=str)
    data_symbols = (beta, *d.symbols["reference"], *entries)
    in_logs = {x: sp.exp(s) for x, s in zip(pi, log_pi)}
    system = sp.Matrix([sp.expand_log(e.subs(in_logs), force=True) for e in (*d.first_order, sp.Add(*pi) - 1)])
    unknowns = (*log_pi, lam)
    return (mp_lambdify((*unknowns, *data_symbols), list(system)),
            mp_lambdify((*unknowns, *data_symbols), system.jacobian(unknowns)), data_symbols)


def _matrix_values(generic, numbers):
    values = {}
    for row, number_row in zip(generic, numbers):
        for entry, number in zip(row, number_row):
            if isinstance(entry, sp.Symbol):
                values[entry] = number
    return values


# --- Beyond the paper: G = 2 with the direct penalty is an NLHF equilibrium -------------------------

#: τ, the regularisation weight of the NLHF game (5) when it is compared with β.
tau = sp.Symbol("tau", positive=True)


def pairwise_scale(normalisation):
    """c: the engine's advantage of the better member of a G = 2 group (1 population, 1/√2 sample).

    >>> pairwise_scale("population"), pairwise_scale("sample")
    (1, sqrt(2)/2)
    """
    return advantage([1, 0], 0, normalisation)


@cached
def direct_nlhf_gaps(problem, prefers=None):
    """How far the G = 2 direct-penalty stationary policy is from the NLHF equilibrium with weight τ.

    Both are derived log pools, log π(o) = log π_ref(o) + e(o) + const: the direct penalty's
    (:func:`~grpo_symbolic.theory.objective.derive_stationarity`) has e(o) = P_2(o|π)/β with the engine's
    P_2 of ``problem``; NLHF's (:func:`derive_nlhf`) has e(o) = E_{o'~π}[P(o ≻ o')]/τ with
    ``prefers`` (default: the tie-split preferences of ``problem``).  Returns, for o = o_2 … o_K,
    [e_direct(o_1) − e_direct(o)] − [e_NLHF(o_1) − e_NLHF(o)] in the generic π_i (on the simplex),
    β and τ: all vanish iff the two fixed-point conditions are the same.

    >>> prob = Problem(reference=["0.5", "0.5"], rewards=[1, 0], group_size=2, beta=1)
    >>> sp.factor(direct_nlhf_gaps(prob)[0])
    -(beta - 2*tau)/(2*beta*tau)
    """
    if problem.group_size != 2:
        raise ValueError(f"problem: group_size must be 2, got {problem.group_size}")
    problem.require_unfiltered("direct_nlhf_gaps")
    K = problem.size
    d, st = derive_nlhf(K), derive_stationarity("direct", K)
    pi = d.symbols["pi"]
    on_simplex = (*pi[:-1], 1 - sp.Add(*pi[:-1]))
    prefers = tie_split_preferences(problem) if prefers is None else prefers
    generic = d.symbols["prefers"]
    entries = {}
    for a, b in itertools.product(range(K), repeat=2):
        if isinstance(generic[a][b], sp.Symbol):
            entries[generic[a][b]] = prefers[a][b]
        elif sp.expand(generic[a][b].subs(entries) - prefers[a][b]) != 0:
            raise ValueError(f"prefers: NLHF needs antisymmetric preferences with 1/2 on the diagonal; entry {a, b}")
    at_pi = dict(zip(st.preference, preference_exact(problem, on_simplex)))
    direct = [sp.expand_log(sp.log(v), force=True).subs(at_pi) for v in st.policy]
    nlhf = [v.subs(entries).subs(beta, tau) for v in d.policy]
    return tuple(sp.expand((direct[0] - direct[o]) - (nlhf[0] - nlhf[o])) for o in range(1, K))


def matching_tau(problem):
    """The weights τ for which the direct G = 2 and NLHF fixed-point conditions coincide, solved from the gaps.

    Each gap is linear in 1/τ; the solution of the first gap is returned if it makes every gap
    vanish (None otherwise).

    >>> matching_tau(Problem(reference=["0.5", "0.5"], rewards=[1, 0], group_size=2, beta=1, normalisation="sample"))
    sqrt(2)*beta/2
    """
    inverse = sp.Dummy("u", positive=True)
    gaps = [g.subs(tau, 1 / inverse) for g in direct_nlhf_gaps(problem)]
    solved = sp.cancel(1 / solve_linear(gaps[0], inverse))
    return solved if all(is_zero(g.subs(inverse, 1 / solved)) for g in gaps) else None
