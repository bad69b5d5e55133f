"""Fixtures of the checks that need the numeric solver or the paper's printed forms.

:mod:`grpo_symbolic.cases` derives closed forms from the model and never imports the solver or
:mod:`grpo_symbolic.paper.forms`; the comparisons of those derivations with the solver (the
independent numeric route) and with the printed forms live here, next to the checks that use them.

* The solver's answers: :func:`solver_policy` (binary), :func:`solved_example` (the shared
  examples of :data:`~grpo_symbolic.cases.general.EXAMPLES`), :func:`eps_effect` (trainers' eps),
  :func:`runs_to_vertex` (direct KL penalty, G → ∞).
* Derived over printed: :func:`log_pooling` (direct penalty), :func:`shift_only_reward_terms`,
  :func:`shift_only_direct_ratios`, :func:`shift_only_grpo_gaps`; the printed forms evaluated
  numerically: :func:`rlhf_policy`, :func:`shift_only_grpo_policy`.
* Mroueh's printed fixed point and arcsin utility against the derived h of
  :mod:`grpo_symbolic.cases.direct_kl`: :func:`utility_slope`, :func:`regularised_utility_gap`,
  :func:`mroueh_gap`, :func:`mroueh_roots`, :func:`utility_stationary_points`.
"""

from __future__ import annotations

from dataclasses import dataclass
from grpo_symbolic.model.caches import cached
from typing import Any, Callable, Sequence

import mpmath  # noqa: F401  (doctests)
import sympy as sp

from grpo_symbolic.cases import direct_kl, shift_only
from grpo_symbolic.cases.bistability import logit_roots, parameter_numbers
from grpo_symbolic.cases.general import EXAMPLES
from grpo_symbolic.model.errors import SolverError
from grpo_symbolic.model.problem import Problem
from grpo_symbolic.model.symbols import G, P_o, beta, indexed, p, pi_ref_o, r_mean, r_o, r_old_mean, rho, x
from grpo_symbolic.numerics.precision import mp_lambdify, mpx, rounded, to_mpf, working_precision
from grpo_symbolic.paper import forms as paper_forms
from grpo_symbolic.preference.engine import preference_numeric
from grpo_symbolic.solve.api import StationaryPoint, stationary_policies, stationary_policy
from grpo_symbolic.theory.objective import derive_stationarity
from grpo_symbolic.theory.penalty import kl

# --- The solver's answers ----------------------------------------------------------------------


@cached
def solver_policy(group_size: Any, rho_value: Any, beta_value: Any, rewards: tuple = (1, 0), dps: int = 50,
                  normalisation: str = "population") -> Any:
    """π(a) from :func:`stationary_policy` on the numeric binary Problem (the independent route).

    ``rewards``: per answer a number or a tuple of (value, probability) pairs (hashable for the cache).

    >>> mpmath.nstr(solver_policy(2, sp.Rational(1, 4), sp.Rational(1, 1)), 15)
    '0.5'
    >>> mpmath.nstr(solver_policy(4, sp.Rational(1, 4), sp.Rational(3, 2), (3, 1), 30, "shift"), 15)
    '0.5'
    """
    laws = [dict(r) if isinstance(r, tuple) else r for r in rewards]
    rho_value = sp.Rational(rho_value)
    problem = Problem(reference=(rho_value, 1 - rho_value), rewards=tuple(laws), group_size=group_size,
                      beta=beta_value, normalisation=normalisation)
    return stationary_policy(problem, dps)[0]


@cached
def solved_example(name: str, dps: int) -> tuple[Problem, StationaryPoint, tuple]:
    """(problem, stationary point, P_G(· | π*)) for :data:`EXAMPLES` ``[name]``, at ``dps`` digits.

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


@dataclass(frozen=True)
class EpsEffect:
    """The stationary policy with ``eps`` and its largest deviation from the eps = 0 policy."""

    eps: object
    policy: tuple
    shift: object


def eps_effect(problem: Problem, eps_values: Sequence[Any], dps: int = 50, base: tuple | None = None) -> list[EpsEffect]:
    """|π*(eps) − π*(0)| (max over outputs) for each eps, with the problem's other settings.

    ``base`` is π*(0) when already known (it is solved for otherwise).

    >>> prob = Problem(reference=["0.5", "0.5"], rewards=["0.001", 0], group_size=8, beta="0.5",
    ...                normalisation="sample")
    >>> [mpmath.nstr(e.shift, 3) for e in eps_effect(prob, ["1e-4", "1e-9"], dps=30)]
    ['0.024', '2.52e-7']
    """
    if base is None:
        base = stationary_policy(problem.replace(eps=0), dps)
    effects = []
    for eps in eps_values:
        policy = stationary_policy(problem.replace(eps=eps), dps)
        with working_precision(dps):
            shift = max(abs(a - b) for a, b in zip(policy, base))
        shift = rounded(shift, dps)
        effects.append(EpsEffect(eps, policy, shift))
    return effects


def runs_to_vertex(reference: Any, weight: Any, dps: int = 50) -> bool:
    """True when the numeric solver finds no interior stationary policy (large G, direct penalty).

    >>> runs_to_vertex("0.5", "0.5", dps=20)
    True
    """
    problem = direct_kl.numeric_binary_problem(reference, weight, "inf")
    try:
        stationary_policies(problem, dps=dps, stability=False)
    except SolverError as exc:
        if exc.reason == SolverError.NO_INTERIOR_POINT:
            return True
        raise
    return False


# --- Derived over printed: the direct penalty and shift-only advantages ------------------------


@cached
def log_pooling(size: int = 3) -> tuple[tuple, sp.Expr]:
    """(ratios, normaliser): derived π(o) over the printed π_ref(o)·e^{P_o/β}, and λ from Σπ = 1.

    Every ratio is e^{−λ/β}, the same for all outputs, and λ = β·log Σ_o π_ref(o) e^{P_o/β}, so
    π = π_ref e^{P/β} / Z with Z = e^{λ/β}.

    >>> ratios, multiplier = log_pooling(2)
    >>> ratios
    (exp(-lambda/beta), exp(-lambda/beta))
    >>> multiplier
    beta*log(rho_1*exp(P_1/beta) + rho_2*exp(P_2/beta))
    """
    st = derive_stationarity("direct", size)
    ratios = tuple(
        sp.powsimp(sp.expand(policy / paper_forms.DIRECT_KL_POLICY.subs({pi_ref_o: ref, P_o: pref})))
        for policy, ref, pref in zip(st.policy, st.pi_ref, st.preference)
    )
    return ratios, direct_kl.log_pool_multiplier(size)


@cached
def shift_only_reward_terms(size: int = shift_only.OUTPUTS) -> tuple[sp.Expr, sp.Expr]:
    """(derived, printed) E_{o~π}[P_G(o|π_old)] over ``size`` outputs, on the simplex, expanded.

    >>> derived, printed = shift_only_reward_terms(2)
    >>> sp.expand(derived - printed)
    0
    """
    pi, pi_old, rewards = (indexed(stem, size, positive=True) for stem in ("pi", "pi_old", "r"))
    old_mean = sum(q * r for q, r in zip(pi_old, rewards))
    printed = paper_forms.SHIFT_ONLY_REWARD_TERM.subs(
        {r_mean: sum(v * r for v, r in zip(pi, rewards)), r_old_mean: old_mean})
    simplex = {pi[-1]: 1 - sum(pi[:-1]), pi_old[-1]: 1 - sum(pi_old[:-1])}
    return shift_only.reward_term(size), sp.expand(printed.subs(simplex))


@cached
def shift_only_direct_ratios(size: int = shift_only.OUTPUTS) -> tuple:
    """Derived direct-penalty π(o) with P_G = shift pattern at π_old = π, over RLHF's (4) at β'.

    All ratios are the same expression (the normaliser), so π ∝ π_ref·e^{r/β'}, β' = βG/(G − 1).

    >>> ratios = shift_only_direct_ratios(2)
    >>> sp.simplify(ratios[0] - ratios[1])
    0
    """
    st = derive_stationarity("direct", size)
    rewards = indexed("r", size, real=True)
    on_policy_mean = sum(v * r for v, r in zip(st.pi, rewards))
    effective = {beta: paper_forms.SHIFT_ONLY_DIRECT_BETA}
    ratios = []
    for policy, ref, pref, r in zip(st.policy, st.pi_ref, st.preference, rewards):
        shift = shift_only.expected_advantage().subs({r_o: r, r_old_mean: on_policy_mean})
        rlhf = paper_forms.RLHF_POLICY_EQ4.subs(effective).subs({pi_ref_o: ref, r_o: r})
        ratios.append(sp.powsimp(sp.expand(policy.subs(pref, shift) / rlhf)))
    return tuple(ratios)


def rlhf_policy(problem: Problem, dps: int = 50) -> tuple:
    """RLHF's (4) at β' = βG/(G − 1) for a numeric shift-only Problem: π ∝ π_ref·e^{r̄/β'}.

    >>> prob = Problem(reference=["0.5", "0.5"], rewards=[1, 0], group_size=2, beta=1,
    ...                normalisation="shift", penalty="direct")
    >>> [mpmath.nstr(v, 10) for v in rlhf_policy(prob, dps=20)]
    ['0.6224593312', '0.3775406688']
    """
    form = mp_lambdify((pi_ref_o, r_o, beta), paper_forms.RLHF_POLICY_EQ4)
    with working_precision(dps):
        weight = to_mpf(paper_forms.SHIFT_ONLY_DIRECT_BETA.subs({beta: problem.beta, G: problem.group_size}))
        pooled = [form(to_mpf(ref), to_mpf(law.mean), weight) for ref, law in zip(problem.reference, problem.rewards)]
        total = mpx.fsum(pooled)
        result = tuple(v / total for v in pooled)
    return rounded(result, dps)


@cached
def shift_only_grpo_gaps(size: int = shift_only.OUTPUTS) -> tuple[sp.Expr, tuple]:
    """(λ, per output: derived π(o) − :data:`~grpo_symbolic.paper.forms.SHIFT_ONLY_GRPO_POLICY`), symbolic G.

    The derived stationary form (:func:`~grpo_symbolic.cases.shift_only.grpo_stationary_form`) against
    the printed one; λ = E_π[P_G] comes out 0 (zero-mean identity).

    >>> shift_only_grpo_gaps(2)
    (0, (0, 0))
    """
    multiplier, policies, symbols = shift_only.grpo_stationary_form(size)
    simplex = {symbols["pi"][-1]: 1 - sum(symbols["pi"][:-1])}
    gaps = []
    for policy, ref, r in zip(policies, symbols["reference"], symbols["rewards"]):
        printed = paper_forms.SHIFT_ONLY_GRPO_POLICY.subs({pi_ref_o: ref, r_o: r})
        gaps.append(sp.cancel(sp.together(policy - printed).subs(simplex)))
    return multiplier, tuple(gaps)


def shift_only_grpo_policy(problem: Problem, dps: int = 50) -> tuple:
    """The fixed point of the printed :data:`~grpo_symbolic.paper.forms.SHIFT_ONLY_GRPO_POLICY`.

    Solved as :func:`~grpo_symbolic.cases.shift_only.grpo_policy` solves the derived form.

    >>> prob = Problem(reference=["0.25", "0.75"], rewards=[3, 1], group_size=4, beta="1.5",
    ...                normalisation="shift")
    >>> [mpmath.nstr(v, 10) for v in shift_only_grpo_policy(prob, dps=20)]
    ['0.5', '0.5']
    """
    form = mp_lambdify((pi_ref_o, r_o, r_mean, beta, G), paper_forms.SHIFT_ONLY_GRPO_POLICY)
    return shift_only.pool_fixed_point(form, problem, dps)


# --- Mroueh's fixed point and the arcsin utility against the derived h ---------------------------


def utility_slope() -> sp.Expr:
    """dU/dp for the printed utility U(p) = 2 arcsin sqrt(p).

    >>> utility_slope()
    1/(sqrt(p)*sqrt(1 - p))
    """
    return sp.diff(paper_forms.ARCSIN_UTILITY, p)


def regularised_utility() -> sp.Expr:
    """U(p) − β KL((p, 1 − p)‖(ρ, 1 − ρ)) with the printed U.

    >>> regularised_utility().has(sp.asin)
    True
    """
    return paper_forms.ARCSIN_UTILITY - beta * kl((p, 1 - p), (rho, 1 - rho))


def regularised_utility_gap() -> sp.Expr:
    """d/dp [U − β KL] − β h(p), reduced: 0 (the stationary points are the zeros of h).

    >>> regularised_utility_gap()
    0
    """
    slope = sp.diff(regularised_utility(), p)
    return sp.expand(sp.expand_log(slope - beta * direct_kl.h().subs(x, p), force=True))


def mroueh_gap() -> sp.Expr:
    """(lhs − rhs of Mroueh's fixed-point equation) + h(p), reduced: 0 (it is h(p) = 0 rearranged).

    >>> mroueh_gap()
    0
    """
    equation = paper_forms.MROUEH_FIXED_POINT
    return sp.expand(sp.expand_log(equation.lhs - equation.rhs + direct_kl.h().subs(x, p), force=True))


@cached
def _printed_numeric_forms() -> dict[str, Callable]:
    equation = paper_forms.MROUEH_FIXED_POINT
    return dict(
        mroueh=mp_lambdify((p, rho, beta), equation.lhs - equation.rhs),
        utility=mp_lambdify((p, rho, beta), regularised_utility()),
    )


def _roots_in_policy(function: Callable, reference: Any, weight: Any, dps: int) -> list:
    """:func:`~grpo_symbolic.cases.bistability.logit_roots` of ``function``(p, ρ, β) at exact ρ, β."""
    with working_precision(dps):
        r, b = parameter_numbers(reference, weight)
    return logit_roots(lambda q: function(q, r, b), dps)


def mroueh_roots(reference: Any, weight: Any, dps: int = 50) -> list:
    """Solutions p of Mroueh's printed fixed-point equation, by sign changes in logit p.

    >>> [mpmath.nstr(v, 6) for v in mroueh_roots("0.5", 3, dps=30)]
    ['0.670179', '0.996514']
    """
    return _roots_in_policy(_printed_numeric_forms()["mroueh"], reference, weight, dps)


def utility_stationary_points(reference: Any, weight: Any, dps: int = 50) -> list:
    """Stationary points of U(p) − β KL, from its numerical derivative (mpmath.diff), in logit p.

    >>> [mpmath.nstr(v, 6) for v in utility_stationary_points("0.5", 3, dps=30)]
    ['0.670179', '0.996514']
    """
    utility = _printed_numeric_forms()["utility"]
    return _roots_in_policy(lambda q, r, b: mpx.diff(lambda v: utility(v, r, b), q), reference, weight, dps)
