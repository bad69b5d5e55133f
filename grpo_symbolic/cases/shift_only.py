"""Shift-only advantages A_i = r_i − mean(r) (paper Sec. 3), derived from the model.

The shift rule is affine in the group's rewards, so the expected advantage of an output o against
G − 1 outputs drawn from π_old is the rule applied to r(o) and G − 1 copies of E_{π_old} r: this
gives P_G(o|π_old) = (1 − 1/G)(r(o) − E_{π_old} r) for symbolic G, and the reward term
E_{o~π}[P_G(o|π_old)] = (1 − 1/G)(E_π r − E_{π_old} r).  :func:`engine_preference_gap` holds the
pattern against the engine's exact P_G at concrete G.  With the direct penalty the stationary
policy is the log pool π ∝ π_ref·exp((1 − 1/G) r/β), i.e. RLHF's (4) with β' = βG/(G − 1); with
GRPO's own penalty it keeps the paper's g(x) = 1/(1 − x) (:func:`grpo_stationary_form`).
The comparisons with the printed forms are in :mod:`paper_checks.fixtures`.
"""

from __future__ import annotations

from grpo_symbolic.model import inputs
from grpo_symbolic.model.caches import cached
from typing import Any, Callable

import mpmath  # noqa: F401  (doctests)
import sympy as sp

from grpo_symbolic.theory.advantage import RULES, Group
from grpo_symbolic.numerics.precision import mp_lambdify, mpx, rounded, to_mpf, working_precision
from grpo_symbolic.numerics.roots import bracketed_newton, widen_bracket
from grpo_symbolic.theory.objective import derive_stationarity
from grpo_symbolic.preference.engine import preference_exact
from grpo_symbolic.model.errors import ParameterError
from grpo_symbolic.model.problem import Problem
from grpo_symbolic.model.symbols import G, beta, indexed, lam, r_mean, r_o, r_old_mean

#: The number of outputs of the generic derivations.
OUTPUTS = 3

#: A symbolic group size that SymPy knows to be ≥ 2: G = n + 2, n a non-negative integer.
group_excess = sp.Symbol("n", integer=True, nonnegative=True)
SYMBOLIC_GROUP_SIZE = group_excess + 2


@cached
def expected_advantage():
    """E[A_1 | o_1 = o] for symbolic G: the shift rule at reward r(o) and G − 1 rewards E_{π_old} r.

    Valid because the rule is affine in the rewards (:func:`rule_is_affine`).

    >>> expected_advantage()
    (G - 1)*(r_o - rbar_old)/G
    """
    advantage = RULES["shift"](Group((r_o, r_old_mean), 0, (0, G - 1)), 0, sp.sqrt)
    return sp.factor(advantage)


def rule_is_affine(group_size):
    """True when the shift rule is affine in all ``group_size`` rewards of a symbolic group.

    >>> rule_is_affine(4)
    True
    """
    group_size = inputs.count(group_size, "group_size", 2)
    rewards = indexed("r", group_size, real=True)
    advantage = RULES["shift"](Group(rewards, 0, (0,) + (1,) * (group_size - 1)), 0, sp.sqrt)
    return sp.Poly(sp.expand(advantage), *rewards).total_degree() <= 1


@cached
def reward_term(size: int = OUTPUTS) -> sp.Expr:
    """E_{o~π}[P_G(o|π_old)] over ``size`` outputs from the shift pattern, on the simplex, expanded.

    >>> sp.factor(reward_term(2))
    (G - 1)*(pi_1 - pi_old_1)*(r_1 - r_2)/G
    """
    pi, pi_old, rewards = (indexed(stem, size, positive=True) for stem in ("pi", "pi_old", "r"))
    old_mean = sum(q * r for q, r in zip(pi_old, rewards))
    derived = sum(x * expected_advantage().subs({r_o: r, r_old_mean: old_mean}) for x, r in zip(pi, rewards))
    simplex = {pi[-1]: 1 - sum(pi[:-1]), pi_old[-1]: 1 - sum(pi_old[:-1])}
    return sp.expand(derived.subs(simplex))


def engine_problem(group_size, rewards):
    """A shift-only Problem with uniform π_ref (π_ref plays no role in P_G).

    >>> engine_problem(3, [1, 0]).normalisation
    <Normalisation.SHIFT: 'shift'>
    """
    size = len(rewards)
    return Problem(reference=(sp.Rational(1, size),) * size, rewards=tuple(rewards), group_size=group_size,
                   beta=1, normalisation="shift")


def engine_preference_gap(group_size, rewards, policy):
    """Per output, the engine's exact P_G(o|policy) minus the symbolic-G pattern at this G, expanded.

    >>> u, v = sp.symbols("u v", real=True)
    >>> engine_preference_gap(4, [u, v], (sp.Rational(1, 3), sp.Rational(2, 3)))
    (0, 0)
    """
    problem = engine_problem(group_size, rewards)
    policy = inputs.policy(policy, problem.size)
    old_mean = sum(x * law.mean for x, law in zip(policy, problem.rewards))
    pattern = expected_advantage().subs({G: group_size, r_old_mean: old_mean})
    return tuple(sp.expand(value - pattern.subs(r_o, law.mean))
                 for value, law in zip(preference_exact(problem, policy), problem.rewards))


@cached
def grpo_stationary_form(size: int = OUTPUTS) -> tuple[sp.Expr, tuple, dict]:
    """(λ, π(o) per output, symbols): the derived GRPO stationary form with P_G = the shift pattern.

    :func:`~grpo_symbolic.theory.objective.derive_stationarity` with P_G(o|π) the shift pattern at
    π_old = π: λ = E_π[P_G] on the simplex comes out 0 (zero-mean identity), and each π(o) is given
    in π_ref(o), r(o), β, G and the on-policy mean reward ``r_mean`` (E_π r).  ``symbols``: the
    generic ``pi``, ``reference`` and ``rewards``.

    >>> multiplier, policies, _ = grpo_stationary_form(2)
    >>> multiplier, policies[0]
    (0, beta*rho_1/(beta - (G - 1)*(r_1 - rbar)/G))
    """
    st = derive_stationarity("grpo", size)
    rewards = indexed("r", size, real=True)

    def shift_at(mean: sp.Expr) -> dict:
        return {P: expected_advantage().subs({r_o: r, r_old_mean: mean}) for P, r in zip(st.preference, rewards)}

    on_policy_mean = sum(x * r for x, r in zip(st.pi, rewards))
    simplex = {st.pi[-1]: 1 - sum(st.pi[:-1])}
    multiplier = sp.factor(sp.expand(st.multiplier.subs(shift_at(on_policy_mean)).subs(simplex)))
    policies = tuple(policy.subs(shift_at(r_mean)).subs(lam, multiplier) for policy in st.policy)
    return multiplier, policies, dict(pi=st.pi, reference=st.pi_ref, rewards=rewards)


def grpo_policy(problem: Problem, dps: int = 50) -> tuple:
    """The fixed point of the derived GRPO stationary form (:func:`grpo_stationary_form`), numeric Problem.

    >>> prob = Problem(reference=["0.25", "0.75"], rewards=[3, 1], group_size=4, beta="1.5",
    ...                normalisation="shift")
    >>> [mpmath.nstr(v, 10) for v in grpo_policy(prob, dps=20)]
    ['0.5', '0.5']
    """
    dps = inputs.dps(dps)
    problem.require_paper_penalty("grpo_policy")
    _, policies, symbols = grpo_stationary_form(2)
    form = mp_lambdify((symbols["reference"][0], symbols["rewards"][0], r_mean, beta, G), policies[0])
    return pool_fixed_point(form, problem, dps)


def pool_fixed_point(form: Callable, problem: Problem, dps: int = 50) -> tuple:
    """The policy π(o) = ``form(π_ref(o), r̄(o), t, β, G)`` with t = E_π r, for a numeric Problem.

    ``form`` is π_ref(o)/(1 − c(r̄(o) − t)/β), c = 1 − 1/G, decreasing in t where every denominator
    is > 0 (t > max r̄ − β/c); Σ_o π(o; t) = 1 there has one root, found by safeguarded Newton
    (:func:`~grpo_symbolic.numerics.roots.bracketed_newton`), and then
    E_π r = t holds by summing the form.
    """
    problem.require_unfiltered("pool_fixed_point")
    if problem.advantage != "grpo":
        raise ParameterError(f"advantage: pool_fixed_point is the shift-only GRPO form (got {problem.advantage}); use the solver")
    with working_precision(inputs.dps(dps)):
        refs = [to_mpf(ref) for ref in problem.reference]
        means = [to_mpf(law.mean) for law in problem.rewards]
        weight, size = to_mpf(problem.beta), to_mpf(problem.group_size)

        def excess(t: Any) -> Any:
            return mpx.fsum(form(ref, m, t, weight, size) for ref, m in zip(refs, means)) - 1

        pole = max(means) - weight * size / (size - 1)  # below: a denominator is <= 0
        lo, hi = widen_bracket(lambda t: excess(t) > 0, pole, weight, what="the mean reward of the fixed point")
        t = bracketed_newton(excess, lo, hi, increasing=False, what="the mean reward of the fixed point")
        result = tuple(form(ref, m, t, weight, size) for ref, m in zip(refs, means))
    return rounded(result, dps)
