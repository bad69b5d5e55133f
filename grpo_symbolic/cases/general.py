"""Sections 1 and 2.1–2.3 of the paper, derived from the model for any number of outputs.

Each function derives one result with SymPy (or evaluates the engine where the claim is about the
engine's quantities); the paper checks compare the results with the printed forms of
:mod:`grpo_symbolic.paper.forms`.  The RLHF and NLHF baselines of Section 1 are in
:mod:`.baselines`; the generic SymPy helpers in :mod:`grpo_symbolic.theory.algebra`.  Contents:

* Section 1: the advantage (2) of an explicit group.
* Section 2.1: expectations over every group (brute-force enumeration of outputs and reward
  outcomes) of the clipping-free surrogate, for (6); pairwise preference matrices for G = 2; the
  large-group error P_G − P_∞.
* Section 2.2: gradients (8)–(10) and of the reverse KL, by differentiation; the expectation (7)
  of the sampled penalty over groups.
* Section 2.3: the stationarity condition (11) in the paper's variables, its specialisations (12)
  and (13), the multiplier of Appendix A, and the KKT conditions at a vertex (where Appendix A's
  summation step fails), with the exact range of β in which a vertex satisfies them.
* Numeric examples (exact data) shared by the checks, random problems and policies.
"""

from __future__ import annotations

from grpo_symbolic.model import inputs
from grpo_symbolic.model.errors import ParameterError
from grpo_symbolic.model.numbers import exact
from grpo_symbolic.model.caches import cached
import itertools
from typing import Any

import sympy as sp

from grpo_symbolic.model.problem import Problem
from grpo_symbolic.model.symbols import beta, indexed, lam, pi_o, pi_old_o, pi_ref_o
from grpo_symbolic.preference.engine import beats, preference_exact, preference_numeric
from grpo_symbolic.theory.advantage import Group, rule, rule_name
from grpo_symbolic.theory.algebra import expectation, solve_linear
from grpo_symbolic.theory.objective import derive_stationarity, objective
from grpo_symbolic.theory.penalty import k3, kl, kl0


# --- Section 1: advantages -----------------------------------------------------------------------


def advantage(rewards, i, normalisation="population", eps=0):
    """The engine's advantage A_i of member i of the explicit group ``rewards`` under the rule
    called ``normalisation`` (a normalisation, or any name :func:`~grpo_symbolic.theory.advantage.rule` knows).

    The group is handed to the rule of :mod:`grpo_symbolic.theory.advantage` from member i's side.

    >>> advantage([1, 0], 0), advantage([3, 3, 3], 1), advantage([2, 0, 1], 2, "shift")
    (1, 0, 0)
    """
    rewards, eps = inputs.numbers(rewards, "rewards"), exact(eps, "eps")
    i = inputs.index(i, len(rewards), "i")
    if eps.is_negative:
        raise ParameterError(f"eps: got {eps}; eps is added to the std and must be >= 0")
    values = tuple(dict.fromkeys(rewards))  # distinct values, first-seen order
    others = list(rewards[:i]) + list(rewards[i + 1:])
    counts = tuple(others.count(v) for v in values)
    return sp.sympify(rule(normalisation)(Group(values, values.index(rewards[i]), counts), eps, sp.sqrt), strict=True)


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
    G, name = problem.group_size, rule_name(problem.advantage, problem.normalisation, problem.pass_k)
    pi, pi_old = inputs.policy(pi, problem.size, "pi"), inputs.policy(pi_old, problem.size, "pi_old")

    def statistic(outputs, rewards):
        return sp.Add(*[pi[o] / pi_old[o] * advantage(rewards, i, name, problem.eps)
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
    pi, pi_ref, pi_old = (inputs.policy(v, problem.size, n) for v, n in ((pi, "pi"), (pi_ref, "pi_ref"), (pi_old, "pi_old")))

    def statistic(outputs, rewards):
        return sp.Add(*[k3(pi[o], pi_ref[o]) for o in outputs]) / G

    return group_expectation(problem, pi_old, statistic)


def strict_preferences(problem):
    """P(o ≻ o') = Prob[r > r'] for independent rewards of o and o' (the diagonal included).

    >>> strict_preferences(Problem(reference=["0.5", "0.5"], rewards=[1, 0], group_size=2, beta=1))
    ((0, 1), (0, 0))
    """
    laws = problem.rewards
    return tuple(tuple(sp.sympify(beats(a, b), strict=True) for b in laws) for a in laws)


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
    pi = inputs.policy(pi, K, "pi")
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
    policy = inputs.policy(policy, problem.size)
    mean = expectation(policy, [law.mean for law in laws])
    return sp.sqrt(sp.expand(expectation(policy, [law.second_moment for law in laws]) - mean**2))


def large_group_error(problem, policy, sizes, dps):
    """P_G(o|π) − P_∞(o|π) per output for each G in ``sizes`` (mpf at ``dps`` digits).

    >>> import mpmath
    >>> prob = Problem(reference=["0.5", "0.5"], rewards=[1, 0], group_size=2, beta=1)
    >>> with mpmath.workdps(20):
    ...     [mpmath.nstr(e, 6) for e in large_group_error(prob, ("0.5", "0.5"), (2,), 20)[0]]
    ['-0.5', '0.5']
    """
    limit = preference_numeric(problem.replace(group_size="inf"), policy, dps)
    return [tuple(a - b for a, b in zip(preference_numeric(problem.replace(group_size=G), policy, dps), limit))
            for G in sizes]


# --- Section 2.2: the penalty's gradients ---------------------------------------------------------


@cached
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


@cached
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
    size = inputs.count(size, "size", 2)
    preference = inputs.numbers(preference, "preference")
    if len(preference) != size:
        raise ParameterError(f"preference: got {len(preference)} entries for {size} outputs; give one per output")
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
    return Problem(reference=(rho, 1 - rho), rewards=(1, 0), group_size=2, beta=beta)


@cached
def vertex_kkt(problem=None, vertex=0):
    """The KKT conditions of J(·; π_old = δ_a) at the vertex π = δ_a (a = ``vertex``), β symbolic.

    With π_old = δ_a the sampled penalty keeps only a's term (the terms of outputs with
    π_old(o) = 0 vanish), so J(π; δ_a) = Σ_o π(o) P_G(o | δ_a) − β k3(π(a), π_ref(a)): the penalty
    cannot see the other outputs.  KKT at δ_a: ∂J/∂π(a) = λ (a is the support) and
    ∂J/∂π(o) = λ − γ_o with γ_o ≥ 0 for o ≠ a.  ``problem`` (default
    :func:`binary_vertex_problem`) gives π_ref and the reward laws; its β is not used.

    Returns a dict: ``multiplier`` λ; ``slacks`` (γ_o per output, 0 at a); ``slack`` the smallest
    γ_o over o ≠ a (the binding one, λ − max_{o≠a} P_G(o | δ_a)); ``beta_edge`` its root in β;
    ``expected_preference`` E_{δ_a}[P_G]; ``preference`` P_G(· | δ_a) from the engine; ``rho`` π_ref(a);
    ``objective`` J(π; δ_a) in the policy ``symbols``.

    >>> kkt = vertex_kkt()
    >>> kkt["multiplier"], kkt["slack"], kkt["beta_edge"], kkt["expected_preference"]
    (beta*rho - beta, beta*rho - beta + 1, -1/(rho - 1), 0)
    """
    problem = binary_vertex_problem() if problem is None else problem
    problem.require_unfiltered("vertex_kkt")
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


# --- Numeric examples shared by the checks -----------------------------------------------------------

#: Problems whose stationary policies the checks use: awkward π_ref and β included.
EXAMPLES: dict[str, dict[str, Any]] = {
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


def random_problem(rng, size, group_size, normalisation="population", eps=0):
    """A random Problem with exact rational data: π_ref, finite reward laws (some stochastic), β.

    >>> import random
    >>> prob = random_problem(random.Random(1), 3, 4)
    >>> prob.size, prob.group_size, sum(prob.reference)
    (3, 4, 1)
    """
    size = inputs.count(size, "size", 2)
    raw = [rng.randint(1, 20) for _ in range(size)]
    reference = [sp.Rational(v, sum(raw)) for v in raw]
    rewards = []
    for _ in range(size):
        values = rng.sample(range(-3, 5), rng.choice([1, 1, 2, 3]))
        weights = [rng.randint(1, 9) for _ in values]
        rewards.append({v: sp.Rational(w, sum(weights)) for v, w in zip(values, weights)})
    return Problem(reference=tuple(reference), rewards=tuple(rewards), group_size=group_size,
                   beta=sp.Rational(rng.randint(1, 40), 20), normalisation=normalisation, eps=eps)


def random_policy(rng, size):
    """A random exact interior policy (entries from 1e-9 to about 1).

    >>> import random
    >>> sum(random_policy(random.Random(0), 4))
    1
    """
    size = inputs.count(size, "size")
    raw = [sp.Rational(rng.randint(1, 10**6), 10 ** rng.choice([0, 0, 3, 9])) for _ in range(size)]
    total = sp.Add(*raw)
    return tuple(v / total for v in raw)
