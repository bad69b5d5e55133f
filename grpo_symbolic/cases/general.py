"""Sections 1 and 2.1–2.3 of the paper, derived from the model for any number of outputs.

Each function derives one result with SymPy (or evaluates the engine where the claim is about the
engine's quantities); the paper checks compare the results with the printed forms of
:mod:`grpo_symbolic.paper.forms`.  Contents:

* Section 1: the advantage (2) of an explicit group; the RLHF maximiser (4) from the Lagrangian of
  (3); the NLHF equilibrium from the first-order condition of the regularised game (5).
* Section 2.1: expectations over every group (brute-force enumeration of outputs and reward
  outcomes) of the clipping-free surrogate, for (6); pairwise preference matrices for G = 2; the
  large-group error P_G − P_∞.
* Section 2.2: gradients (8)–(10) and of the reverse KL, by differentiation; the expectation (7)
  of the sampled penalty over groups.
* Section 2.3: the stationarity condition (11) in the paper's variables, its specialisations (12)
  and (13), the multiplier of Appendix A, and the KKT conditions at a vertex (where Appendix A's
  summation step fails), with the exact range of β in which a vertex satisfies them.
* Beyond the paper: G = 2 with the direct penalty against the NLHF equilibrium with weight τ (the
  gap between the two derived fixed-point conditions, and the τ that closes it).
"""

from dataclasses import dataclass
from functools import lru_cache
import itertools

import mpmath
import sympy as sp

from grpo_symbolic.theory.advantage import RULES, Group
from grpo_symbolic.numerics.precision import to_mpf
from grpo_symbolic.theory.objective import derive_stationarity, objective
from grpo_symbolic.theory.penalty import gradient, k3, kl, kl0
from grpo_symbolic.preference.engine import beats, preference_exact, preference_numeric
from grpo_symbolic.model.problem import Problem
from grpo_symbolic.solve.api import stationary_policies
from grpo_symbolic.model.symbols import beta, indexed, lam, pi_o, pi_old_o, pi_ref_o

# --- Helpers ------------------------------------------------------------------------------------


def radical_normal_form(expr):
    """``expr`` with the base of every square root (or other fractional power) factored.

    Factoring pulls positive factors out of the radical (sqrt(a²X) → a·sqrt(X) for a > 0) and gives
    equal radicands one canonical form, so ``cancel`` can then decide identities between them.

    >>> a, x = sp.symbols("a x", positive=True)
    >>> radical_normal_form(sp.sqrt(a**2 * x + a**2) / a)
    sqrt(x + 1)
    """
    return expr.replace(
        lambda e: e.is_Pow and e.exp.is_Rational and not e.exp.is_Integer,
        lambda e: sp.factor(sp.expand(e.base)) ** e.exp,
    )


def is_zero(expr):
    """True when SymPy decides ``expr`` ≡ 0 (expanded radicals factored, then cancel).

    >>> x = sp.Symbol("x", positive=True)
    >>> is_zero(sp.sqrt(x**2 + 2*x + 1) - x - 1), is_zero(x - 1)
    (True, False)
    """
    return sp.cancel(sp.expand(radical_normal_form(sp.expand(expr)))) == 0


def evaluate(expr, values):
    """``expr`` with exact ``values`` substituted, as an mpf at the current mpmath precision.

    >>> x = sp.Symbol("x", positive=True)
    >>> with mpmath.workdps(20):
    ...     print(evaluate(sp.sqrt(x), {x: 2}))
    1.4142135623730950488
    """
    return to_mpf(sp.sympify(expr).subs(values))


def expectation(weights, values):
    """Σ_o weights(o)·values(o): E_{o~weights}[values(o)].

    >>> expectation((sp.Rational(1, 4), sp.Rational(3, 4)), (4, 0))
    1
    """
    return sp.Add(*[w * v for w, v in zip(weights, values)])


# --- Section 1: advantages, RLHF, NLHF -----------------------------------------------------------


def advantage(rewards, i, normalisation="population", eps=0):
    """The engine's advantage A_i of member i of the explicit group ``rewards``.

    The group is handed to the rule of :mod:`grpo_symbolic.theory.advantage` from member i's side.

    >>> advantage([1, 0], 0), advantage([3, 3, 3], 1), advantage([2, 0, 1], 2, "shift")
    (1, 0, 0)
    """
    values = tuple(dict.fromkeys(rewards))  # distinct values, first-seen order
    others = list(rewards[:i]) + list(rewards[i + 1:])
    counts = tuple(others.count(v) for v in values)
    return sp.sympify(RULES[normalisation](Group(values, values.index(rewards[i]), counts), eps, sp.sqrt))


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


@lru_cache(maxsize=None)
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
    K = len(pi)
    return sp.Add(*[pi[a] * opponent[b] * (prefers[a][b] - beta * sp.log(pi[a] / reference[a])
                                           + beta * sp.log(opponent[b] / reference[b]))
                    for a in range(K) for b in range(K)])


@lru_cache(maxsize=None)
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

    Returns (policy, multiplier) as mpf at the current precision; the unknowns are log π (on the
    simplex, so π' = π) and λ.  Newton starts at π_ref with a weight of at least 4, where the
    equilibrium is near π_ref, and follows it as the weight is halved down to ``weight``.

    >>> with mpmath.workdps(20):
    ...     policy, _ = nlhf_equilibrium_numeric(((0.5, 0.5), (0.5, 0.5)), (0.25, 0.75), 1)
    >>> [mpmath.nstr(x, 5) for x in policy]
    ['0.25', '0.75']
    """
    size = len(reference)
    equations, jacobian, data_symbols = _nlhf_system(size)
    matrix = _matrix_values(derive_nlhf(size).symbols["prefers"], prefers)
    data = [*(to_mpf(r) for r in reference), *(to_mpf(matrix[q]) for q in data_symbols[1 + size:])]
    target = to_mpf(weight)
    weights = [target]
    while weights[-1] < 4:
        weights.append(2 * weights[-1])
    root = [mpmath.log(r) for r in data[:size]] + [mpmath.mpf(0)]
    for w in reversed(weights):
        root = list(mpmath.findroot(lambda *z, w=w: equations(*z, w, *data), root,
                                    J=lambda *z, w=w: jacobian(*z, w, *data)))
    return tuple(mpmath.exp(root[i]) for i in range(size)), root[size]


@lru_cache(maxsize=None)
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
    return (sp.lambdify((*unknowns, *data_symbols), list(system), "mpmath"),
            sp.lambdify((*unknowns, *data_symbols), system.jacobian(unknowns), "mpmath"), data_symbols)


def _matrix_values(generic, numbers):
    values = {}
    for row, number_row in zip(generic, numbers):
        for entry, number in zip(row, number_row):
            if isinstance(entry, sp.Symbol):
                values[entry] = number
    return values


def solve_linear(equation, unknown):
    """The root of ``equation`` = 0, which must be linear in ``unknown`` (fast: no sp.solve).

    >>> y, a = sp.symbols("y a", positive=True)
    >>> solve_linear(a * y + 2 * a - 1, y)
    (1 - 2*a)/a
    """
    slope = sp.diff(equation, unknown)
    if slope.has(unknown) or slope == 0:
        raise ValueError(f"{equation} = 0 is not linear in {unknown}")
    return sp.cancel(-equation.subs(unknown, 0) / slope)


def only_solution(equation, unknown):
    """The single solution of ``equation`` = 0 for ``unknown`` (RuntimeError if SymPy finds 0 or several).

    >>> x = sp.Symbol("x", positive=True)
    >>> only_solution(2 / x - 1, x)
    2
    """
    solutions = sp.solve(equation, unknown)
    if len(solutions) != 1:
        raise RuntimeError(f"expected one solution for {unknown}, SymPy gave {solutions}")
    return solutions[0]


# --- Section 2.1: expectations over groups, pairwise preferences, large groups -------------------


def group_expectation(problem, weights, statistic):
    """E over groups o_1..o_G iid ~ ``weights`` and their reward outcomes of ``statistic(outputs, rewards)``.

    Brute force: every tuple of G outputs and every combination of their reward outcomes.  The
    weights need not sum to 1 (the result is then a homogeneous polynomial in them).

    >>> prob = Problem(reference=["0.5", "0.5"], rewards=[1, 0], group_size=2, beta=1)
    >>> w = sp.symbols("w_1 w_2", positive=True)
    >>> sp.factor(group_expectation(prob, w, lambda outputs, rewards: rewards[0]))
    w_1*(w_1 + w_2)
    """
    laws = [law.outcomes for law in problem.rewards]
    total = []
    for outputs in itertools.product(range(problem.size), repeat=problem.group_size):
        weight = sp.Mul(*[weights[o] for o in outputs])
        for outcome in itertools.product(*[laws[o] for o in outputs]):
            probability = sp.Mul(*[q for _, q in outcome])
            total.append(weight * probability * statistic(outputs, tuple(v for v, _ in outcome)))
    return sp.Add(*total)


def surrogate_reward_term(problem, pi, pi_old):
    """R_G = E_{groups ~ π_old}[(1/G) Σ_i (π(o_i)/π_old(o_i)) A_i], the clipping-free reward term of (1).

    >>> prob = Problem(reference=["0.5", "0.5"], rewards=[1, 0], group_size=2, beta=1)
    >>> p, q = sp.symbols("p q", positive=True)
    >>> sp.factor(surrogate_reward_term(prob, (p, 1 - p), (q, 1 - q)))
    p - q
    """
    G = problem.group_size

    def statistic(outputs, rewards):
        return sp.Add(*[pi[o] / pi_old[o] * advantage(rewards, i, problem.normalisation, problem.eps)
                        for i, o in enumerate(outputs)]) / G

    return group_expectation(problem, pi_old, statistic)


def sampled_penalty(problem, pi, pi_ref, pi_old):
    """D = E_{groups ~ π_old}[(1/G) Σ_i D_i] with GRPO's D_i = k3(π(o_i), π_ref(o_i)), over every group.

    >>> prob = Problem(reference=["0.5", "0.5"], rewards=[1, 0], group_size=2, beta=1)
    >>> half = sp.Rational(1, 2)
    >>> sampled_penalty(prob, (half, half), (half, half), (half, half))
    0
    """
    G = problem.group_size

    def statistic(outputs, rewards):
        return sp.Add(*[k3(pi[o], pi_ref[o]) for o in outputs]) / G

    return group_expectation(problem, pi_old, statistic)


def strict_preferences(problem):
    """P(o ≻ o') = Prob[r > r'] for independent rewards of o and o' (the diagonal included).

    >>> strict_preferences(Problem(reference=["0.5", "0.5"], rewards=[1, 0], group_size=2, beta=1))
    ((0, 1), (0, 0))
    """
    laws = problem.rewards
    return tuple(tuple(sp.sympify(beats(a, b)) for b in laws) for a in laws)


def tie_split_preferences(problem):
    """P(o ≻ o') = Prob[r > r'] + ½ Prob[r = r']: antisymmetric, ½ on the diagonal.

    >>> tie_split_preferences(Problem(reference=["0.5", "0.5"], rewards=[1, 0], group_size=2, beta=1))
    ((1/2, 1), (0, 1/2))
    """
    strict = strict_preferences(problem)
    K = problem.size
    return tuple(tuple((1 + strict[a][b] - strict[b][a]) / 2 for b in range(K)) for a in range(K))


def win_lose(problem, pi):
    """(w_o, l_o) per output: Prob_{o'~π}[r > r' | o] and Prob_{o'~π}[r < r' | o], the terms of (12).

    >>> p = sp.Symbol("p", positive=True)
    >>> win_lose(Problem(reference=["0.5", "0.5"], rewards=[1, 0], group_size=2, beta=1), (p, 1 - p))
    ((1 - p, 0), (0, p))
    """
    strict = strict_preferences(problem)
    K = problem.size
    win = tuple(sp.Add(*[pi[b] * strict[a][b] for b in range(K)]) for a in range(K))
    lose = tuple(sp.Add(*[pi[b] * strict[b][a] for b in range(K)]) for a in range(K))
    return win, lose


def reward_std(problem, policy):
    """σ(π): the std of the reward of an output drawn from π, from the laws' first two moments.

    >>> prob = Problem(reference=["0.5", "0.5"], rewards=[1, 0], group_size="inf", beta=1)
    >>> p = sp.Symbol("p", positive=True)
    >>> reward_std(prob, (p, 1 - p))
    sqrt(-p**2 + p)
    """
    laws = problem.rewards
    mean = expectation(policy, [law.mean for law in laws])
    return sp.sqrt(sp.expand(expectation(policy, [law.second_moment for law in laws]) - mean**2))


def large_group_error(problem, policy, sizes, dps):
    """P_G(o|π) − P_∞(o|π) per output for each G in ``sizes`` (mpf at ``dps`` digits).

    >>> prob = Problem(reference=["0.5", "0.5"], rewards=[1, 0], group_size=2, beta=1)
    >>> with mpmath.workdps(20):
    ...     [mpmath.nstr(e, 6) for e in large_group_error(prob, ("0.5", "0.5"), (2,), 20)[0]]
    ['-0.5', '0.5']
    """
    limit = preference_numeric(problem.replace(group_size="inf"), policy, dps)
    return [tuple(a - b for a, b in zip(preference_numeric(problem.replace(group_size=G), policy, dps), limit))
            for G in sizes]


# --- Section 2.2: the penalty's gradients ---------------------------------------------------------


@lru_cache(maxsize=None)
def penalty_gradients(size=2):
    """∂/∂π(o) of KL0 (8), KL (9), KL0 at π_old = π (10) and the reverse KL, in the paper's symbols.

    Differentiates the engine's penalties (generic ``size`` outputs) in π(o_1), then renames o_1's
    quantities π_o, π_old_o, π_ref_o.

    >>> penalty_gradients()["reverse"]
    -pi_ref_o/pi_o
    """
    pi = indexed("pi", size, positive=True)
    pi_old = indexed("pi_old", size, positive=True)
    ref = indexed("rho", size, positive=True)
    rename = {pi[0]: pi_o, pi_old[0]: pi_old_o, ref[0]: pi_ref_o}
    grads = {
        "kl0": sp.diff(kl0(pi, ref, pi_old), pi[0]),
        "kl": sp.diff(kl(pi, ref), pi[0]),
        "on_policy": sp.diff(kl0(pi, ref, pi_old), pi[0]).subs(dict(zip(pi_old, pi))),
        "reverse": sp.diff(kl(ref, pi), pi[0]),
    }
    return {name: g.subs(rename) for name, g in grads.items()}


# --- Section 2.3: stationarity ----------------------------------------------------------------------


@lru_cache(maxsize=None)
def stationarity_form(size=3):
    """The derived KKT condition in the paper's shape: −(π(o)/β)·∂L/∂π(o) at π_old = π, one per output.

    Each entry equals (1 − (P_o − λ)/β) π(o) − π_ref(o), the left minus right side of (11) with the
    multiplier λ in place of E_π[P_G].

    >>> stationarity_form(2)[0]
    -P_1*pi_1/beta + pi_1 - rho_1 + lambda*pi_1/beta
    """
    st = derive_stationarity("grpo", size)
    return tuple(sp.expand(-x * e / beta) for x, e in zip(st.pi, st.equations))


def stationarity_with_preference(preference, size):
    """The derived (11) (multiplier at App. A's value) with P_G(o|π) replaced by ``preference[o]`` (in the π_i).

    Returns the left-minus-right sides (1 − (P_o − E_π P)/β)π(o) − π_ref(o) as expressions in the
    generic symbols π_i, ρ_i, β of :func:`~grpo_symbolic.theory.objective.derive_stationarity`.

    >>> P = sp.symbols("Q_1 Q_2")
    >>> stationarity_with_preference(P, 2)[0]
    Q_1*pi_1**2/beta - Q_1*pi_1/beta + Q_2*pi_1*pi_2/beta + pi_1 - rho_1
    """
    st = derive_stationarity("grpo", size)
    at_multiplier = [f.subs(lam, st.multiplier) for f in stationarity_form(size)]
    return tuple(sp.expand(f.subs(dict(zip(st.preference, preference)))) for f in at_multiplier)


def zero_mean(problem, policy):
    """E_{o~π}[P_G(o|π)] from the engine's exact P_G (0 identically: see the zero-mean identity).

    >>> prob = Problem(reference=["0.2", "0.3", "0.5"], rewards=[2, 0, 1], group_size=3, beta=1)
    >>> pi = sp.symbols("pi_1:4", positive=True)
    >>> sp.expand(zero_mean(prob, pi))
    0
    """
    return expectation(policy, preference_exact(problem, policy))


def binary_vertex_problem():
    """The binary problem of slip 4: G = 2, r(a) = 1 > r(b) = 0, π_ref(a) = ρ and β symbolic.

    >>> binary_vertex_problem().reference
    (rho, 1 - rho)
    """
    rho = sp.Symbol("rho", positive=True)
    return Problem(reference=[rho, 1 - rho], rewards=[1, 0], group_size=2, beta=beta)


@lru_cache(maxsize=None)
def vertex_kkt(problem=None, vertex=0):
    """The KKT conditions of J(·; π_old = δ_a) at the vertex π = δ_a (a = ``vertex``), β symbolic.

    With π_old = δ_a the sampled penalty keeps only a's term (the terms of outputs with
    π_old(o) = 0 vanish), so J(π; δ_a) = Σ_o π(o) P_G(o|δ_a) − β k3(π(a), π_ref(a)): the penalty
    cannot see the other outputs.  KKT at δ_a: ∂J/∂π(a) = λ (a is the support) and
    ∂J/∂π(o) = λ − γ_o with γ_o ≥ 0 for o ≠ a.  ``problem`` (default
    :func:`binary_vertex_problem`) gives π_ref and the reward laws; its β is not used.

    Returns a dict: ``multiplier`` λ; ``slacks`` (γ_o per output, 0 at a); ``slack`` the smallest
    γ_o over o ≠ a (the binding one, λ − max_{o≠a} P_G(o|δ_a)); ``beta_edge`` its root in β;
    ``expected_preference`` E_{δ_a}[P_G]; ``preference`` P_G(·|δ_a) from the engine; ``rho`` π_ref(a);
    ``objective`` J(π; δ_a) in the policy ``symbols``.

    >>> kkt = vertex_kkt()
    >>> kkt["multiplier"], kkt["slack"], kkt["beta_edge"], kkt["expected_preference"]
    (beta*rho - beta, beta*rho - beta + 1, -1/(rho - 1), 0)
    """
    problem = binary_vertex_problem() if problem is None else problem
    K = problem.size
    policy = indexed("pi", K, nonnegative=True)
    at_vertex = tuple(sp.Integer(int(o == vertex)) for o in range(K))
    preference = preference_exact(problem, at_vertex)
    J = objective(preference, policy, problem.reference, at_vertex, beta, "grpo")
    slopes = [sp.diff(J, v).subs(dict(zip(policy, at_vertex))) for v in policy]
    multiplier = sp.expand(solve_linear(slopes[vertex] - lam, lam))  # γ_a = 0 on the support
    slacks = tuple(sp.expand(multiplier - s) for s in slopes)
    binding = sp.expand(multiplier - sp.Max(*[preference[o] for o in range(K) if o != vertex]))
    return dict(multiplier=multiplier, slacks=slacks, slack=binding, beta_edge=solve_linear(binding, beta),
                expected_preference=sp.expand(expectation(at_vertex, preference)), preference=preference,
                rho=problem.reference[vertex], objective=J, symbols=policy)


# --- Beyond the paper: G = 2 with the direct penalty is an NLHF equilibrium -------------------------

#: τ, the regularisation weight of the NLHF game (5) when it is compared with β.
tau = sp.Symbol("tau", positive=True)


def pairwise_scale(normalisation):
    """c: the engine's advantage of the better member of a G = 2 group (1 population, 1/√2 sample).

    >>> pairwise_scale("population"), pairwise_scale("sample")
    (1, sqrt(2)/2)
    """
    return advantage([1, 0], 0, normalisation)


@lru_cache(maxsize=None)
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


# --- Numeric examples shared by the checks -----------------------------------------------------------

#: Problems whose stationary policies the checks use: awkward π_ref and β included.
EXAMPLES = {
    "three-values-G3": dict(reference=["0.2", "0.3", "0.5"], rewards=[2, 0, 1], group_size=3, beta="0.3"),
    "noisy-ties-G2": dict(reference=["0.2", "0.3", "0.5"],
                          rewards=[{"0": "0.5", "1": "0.5"}, 1, {"0": "0.8", "1": "0.2"}], group_size=2, beta="0.3"),
    "noisy-large-G": dict(reference=["0.2", "0.3", "0.5"],
                          rewards=[{"0": "0.5", "1": "0.5"}, 1, {"0": "0.8", "1": "0.2"}], group_size="inf", beta="0.3"),
    "three-values-large-G": dict(reference=["0.6", "0.3", "0.1"], rewards=[0, 3, 1], group_size="inf", beta="0.7"),
    "small-beta-rare-G2": dict(reference=["0.001", "0.999"], rewards=[1, 0], group_size=2, beta="0.05"),
    "likely-G4": dict(reference=["0.999", "0.0005", "0.0005"], rewards=[0, 1, 2], group_size=4, beta="0.2"),
    "large-beta-G5": dict(reference=["0.1", "0.3", "0.6"], rewards=[5, -1, 0], group_size=5, beta="20"),
    "bessel-eps-G3": dict(reference=["0.25", "0.25", "0.5"], rewards=[1, 0, 2], group_size=3, beta="0.4",
                          normalisation="sample", eps="0.01"),
}


@lru_cache(maxsize=None)
def solved_example(name, dps):
    """(problem, stationary point, P_G(·|π*)) for :data:`EXAMPLES` ``[name]``, at ``dps`` digits.

    >>> problem, point, P = solved_example("small-beta-rare-G2", 20)
    >>> mpmath.nstr(point.policy[0], 8), mpmath.nstr(P[1], 8)
    ('0.95005263', '-0.95005263')
    """
    problem = Problem(**EXAMPLES[name])
    points = stationary_policies(problem, dps, stability=False)
    if len(points) != 1:
        raise RuntimeError(f"example {name}: expected one stationary policy, found {len(points)}")
    point = points[0]
    return problem, point, preference_numeric(problem, point.policy, dps)


def random_problem(rng, size, group_size, normalisation="population", eps=0):
    """A random Problem with exact rational data: π_ref, finite reward laws (some stochastic), β.

    >>> import random
    >>> prob = random_problem(random.Random(1), 3, 4)
    >>> prob.size, prob.group_size, sum(prob.reference)
    (3, 4, 1)
    """
    raw = [rng.randint(1, 20) for _ in range(size)]
    reference = [sp.Rational(v, sum(raw)) for v in raw]
    rewards = []
    for _ in range(size):
        values = rng.sample(range(-3, 5), rng.choice([1, 1, 2, 3]))
        weights = [rng.randint(1, 9) for _ in values]
        rewards.append({v: sp.Rational(w, sum(weights)) for v, w in zip(values, weights)})
    return Problem(reference=reference, rewards=rewards, group_size=group_size,
                   beta=sp.Rational(rng.randint(1, 40), 20), normalisation=normalisation, eps=eps)


def random_policy(rng, size):
    """A random exact interior policy (entries from 1e-9 to about 1).

    >>> import random
    >>> sum(random_policy(random.Random(0), 4))
    1
    """
    raw = [sp.Rational(rng.randint(1, 10**6), 10 ** rng.choice([0, 0, 3, 9])) for _ in range(size)]
    total = sp.Add(*raw)
    return tuple(v / total for v in raw)
