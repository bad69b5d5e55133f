"""Trainers' conventions: the Bessel std is the paper's model with β_eff = β·sqrt(G/(G−1)); eps is not.

TRL, verl and OpenRLHF divide by the sample (Bessel) std and add an eps to it (see
:mod:`grpo_symbolic.model.presets`).  Derived here from the engine's advantage rules and stationarity
conditions:

* On a symbolic group (distinct values v_j, counts n_j, any focal member) the ratio of the
  sample-std advantage to the population-std advantage is c = sqrt((G−1)/G), the same for every
  non-degenerate group (degenerate groups have advantage 0 under both).  So P_G^sample = c·P_G^pop.
* Every stationarity equation is linear in (P, β, λ): replacing P by c·P equals c times the
  equation with β → β/c and λ → λ/c.  Hence the sample-std model at β is the population-std
  model at β_eff = β/c = β·sqrt(G/(G−1)) — for both penalties, every reward law, every K.
* With eps > 0 the per-group factor std/(std + eps) depends on the group's spread, so P_G^eps is
  not a multiple of P_G^0 and no single β_eff reproduces the eps model.  For two outputs the
  weight β' that puts the eps = 0 stationary point where the eps one is depends on ρ:
  :func:`matching_weight` computes it (:func:`paper_checks.fixtures.eps_effect` measures
  |π*(eps) − π*(0)| with the solver).

>>> bessel_factor()
sqrt(G - 1)/sqrt(G)
"""

from dataclasses import dataclass
from grpo_symbolic.model import inputs
from grpo_symbolic.model.caches import cached

import mpmath  # noqa: F401  (doctests)
import sympy as sp

from grpo_symbolic.theory.advantage import RULES, Group
from grpo_symbolic.model.errors import ParameterError
from grpo_symbolic.model.numbers import exact
from grpo_symbolic.numerics.precision import mp_lambdify, mpx, rounded, to_mpf, working_precision
from grpo_symbolic.theory.objective import derive_stationarity
from grpo_symbolic.preference.engine import preference_numeric
from grpo_symbolic.model.symbols import G, beta, indexed, lam


def symbolic_group(distinct=3):
    """A group seen from its first member: symbolic values v_j (real), counts n_j (integers ≥ 0).

    >>> symbolic_group(2).size
    n_1 + n_2 + 1
    """
    distinct = inputs.count(distinct, "distinct")
    values = indexed("v", distinct, real=True)
    counts = indexed("n", distinct, integer=True, nonnegative=True)
    return Group(values=values, focal_index=0, counts=counts)


@cached
def bessel_factor(distinct=3):
    """A_sample / A_population on a symbolic group at eps = 0, in terms of the group size G.

    Derived from the engine's rules (:data:`grpo_symbolic.theory.advantage.RULES`); the result has no
    v_j or n_j left, i.e. it is the same for every non-degenerate group.

    >>> bessel_factor(2)
    sqrt(G - 1)/sqrt(G)
    """
    if distinct < 2:
        raise ValueError("bessel_factor: a group with one distinct value has advantage 0 under both rules")
    group = symbolic_group(distinct)
    ratio = RULES["sample"](group, 0, sp.sqrt) / RULES["population"](group, 0, sp.sqrt)
    last = group.counts[-1]
    return sp.simplify(ratio.subs(last, G - 1 - sum(group.counts[:-1])))


def eps_factor(rewards, eps, normalisation="population"):
    """A(eps) / A(0) for the first member of an explicit group: std/(std + eps), or 1 when all equal.

    >>> e = sp.Symbol("epsilon", positive=True)
    >>> eps_factor((0, 1, 1, 1), e), eps_factor((0, 0, 1, 1), e)
    (sqrt(3)/(4*epsilon + sqrt(3)), 1/(2*epsilon + 1))
    """
    rewards, eps = inputs.numbers(rewards, "rewards"), exact(eps, "eps")
    if not rewards or eps.is_negative:
        raise ParameterError(f"rewards, eps: got {rewards}, {eps}; give a non-empty group of rewards and eps >= 0")
    values = tuple(sorted(set(rewards), key=sp.default_sort_key))
    counts = [0] * len(values)
    for r in rewards[1:]:
        counts[values.index(r)] += 1
    group = Group(values=values, focal_index=values.index(rewards[0]), counts=tuple(counts))
    rule = RULES[normalisation]
    at_zero = rule(group, 0, sp.sqrt)
    if at_zero == 0:
        return sp.Integer(1)
    return sp.cancel(rule(group, eps, sp.sqrt) / at_zero)


def beta_eff():
    """β_eff = β / c: the population-std weight that reproduces the sample-std model at β.

    >>> beta_eff()
    sqrt(G)*beta/sqrt(G - 1)
    """
    return beta / bessel_factor()


@cached
def rescaling_holds(penalty):
    """True when SymPy decides eq(c·P; β, λ) ≡ c·eq(P; β/c, λ/c) for the derived stationarity equations.

    >>> rescaling_holds("grpo"), rescaling_holds("direct")
    (True, True)
    """
    st = derive_stationarity(penalty)
    c = sp.Symbol("c", positive=True)
    scaled = [e.subs({P: c * P for P in st.preference}, simultaneous=True) for e in st.equations]
    rescaled = [c * e.subs({beta: beta / c, lam: lam / c}, simultaneous=True) for e in st.equations]
    return all(sp.expand(a - b) == 0 for a, b in zip(scaled, rescaled))


@cached
def _weight_form():
    """From the derived stationary form π_1 = f(P_1, ρ_1, λ, β): ρ_1 and β solved for, and λ."""
    st = derive_stationarity("grpo")
    equation = sp.Eq(st.pi[0], st.policy[0])
    weight, = sp.solve(equation, beta)
    reference, = sp.solve(equation, st.pi_ref[0])
    state = (*st.pi, *st.preference, lam)
    return (mp_lambdify((*state, st.pi_ref[0]), weight),
            mp_lambdify((*state, beta), reference),
            mp_lambdify((*st.pi, *st.preference), st.multiplier))


@dataclass(frozen=True)
class MatchedWeight:
    """For a two-output problem with eps and a policy π(a) = p: the reference ρ at which p is
    stationary, and the weight β' at which the same problem with eps = 0 is stationary at (p, ρ)."""

    policy: object
    reference: object
    weight: object


def matching_weight(problem, p, dps=50):
    """:class:`MatchedWeight` for ``problem`` (two outputs, GRPO penalty) at π(a) = ``p``.

    If eps acted as a rescaling of β, ``weight`` would not depend on p.  A ``p`` that is stationary
    for no reference in (0, 1) (below the floor of π(a)) raises :class:`ParameterError`.

    >>> from grpo_symbolic import Problem
    >>> prob = Problem(reference=["0.5", "0.5"], rewards=[1, 0], group_size=4, beta=1, eps="0.1")
    >>> m = matching_weight(prob, "0.7", dps=20)
    >>> mpmath.nstr(m.reference, 8), mpmath.nstr(m.weight, 8)
    ('0.41836572', '1.2188281')
    """
    if problem.size != 2 or problem.penalty != "grpo":
        raise ParameterError("problem: matching_weight needs a two-output problem with the GRPO penalty")
    problem.require_paper_penalty("matching_weight")
    problem.require_unfiltered("matching_weight")
    weight_of, reference_of, multiplier_of = _weight_form()
    with working_precision(inputs.dps(dps)):
        pa = to_mpf(exact(p, "p"))
        pi = (pa, 1 - pa)
        with_eps = preference_numeric(problem, pi, dps)
        without = preference_numeric(problem.replace(eps=0), pi, dps)
        rho = reference_of(*pi, *with_eps, multiplier_of(*pi, *with_eps), to_mpf(problem.beta))
        if not 0 < rho < 1:
            raise ParameterError(
                f"p: {mpx.nstr(pa, 10)} is stationary for no reference in (0, 1) (it would need "
                f"pi_ref(a) = {mpx.nstr(rho, 10)}); choose p above the floor of pi(a)"
            )
        weight = weight_of(*pi, *without, multiplier_of(*pi, *without), rho)
    return rounded(MatchedWeight(pa, rho, weight), dps)
