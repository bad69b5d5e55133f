"""Group filtering worked out: the conditional objective by enumeration, and binary closed forms.

:mod:`grpo_symbolic.theory.filtering` writes the filtered objective with the kept-group weights
W_o and the degenerate-group probability Z.  Here it is held against the loss itself, summed over
every group (:func:`enumerated_objective`: each group's (1/G) Σ_i (ratio_i·A_i − β·D_i), dropped
or masked when its rewards are all equal, divided by P(not all equal) for ``drop-equal``), and the
binary question (deterministic rewards 1 and 0, p = π(a), ρ = π_ref(a)) is derived for each filter:

* W_a = 1 − p^(G−1), W_b = 1 − (1 − p)^(G−1) (finite-G binary sums), Z = p^G + (1 − p)^G;
* G = 2, GRPO penalty: keep gives β(p − ρ) = p(1 − p) (the paper's (17), hence (14)); both filters
  give the cubic β(p − ρ)(p² + (1 − p)²) = p(1 − p) (:func:`polynomial`), solvable in radicals
  (Cardano) but printed here as the polynomial, whose root in (ρ, 1) is the stationary p;
* G → ∞: W → 1 at every interior p, so all three filters give (19) and (15);
* β → 0⁺: all three go to p = 1 with the same slope, 1 − p = β(1 − ρ)/(P_a − P_b)|_(p=1) + O(β²);
  they differ from the β² term on (:func:`small_beta`).

>>> polynomial(2, "mask-penalty")
2*beta*p**3 - beta*rho + p**2*(-2*beta*rho - 2*beta + 1) + p*(2*beta*rho + beta - 1)
"""

from __future__ import annotations

from typing import Any

import mpmath  # noqa: F401  (doctests)
import sympy as sp

from grpo_symbolic.cases.general import advantage, group_expectation
from grpo_symbolic.model import inputs
from grpo_symbolic.model.caches import cached
from grpo_symbolic.model.numbers import exact
from grpo_symbolic.model.problem import Problem
from grpo_symbolic.numerics.precision import mpx, sympy_evalf, working_precision
from grpo_symbolic.model.symbols import beta, p, p_old, rho
from grpo_symbolic.preference.engine import exact_policy, mixture, preference_exact, problem_rule
from grpo_symbolic.theory.filtering import degenerate_probability, filtered_objective, kept_probability
from grpo_symbolic.theory.penalty import k3


def enumerated_objective(problem: Problem, pi: Any, pi_old: Any) -> sp.Expr:
    """J(π; π_old) summed over every group drawn from π_old, as the trainer's loss is written:
    per group (1/G) Σ_i [(π/π_old)(o_i)·A_i − β·D_i], D_i = k3 (``penalty="grpo"``) or (π/π_old)·k3
    (``"direct"``); an all-equal group counts in full (keep), not at all (mask-penalty), or is
    replaced by a redrawn one (drop-equal: the sum is divided by P(not all equal)).

    >>> prob = Problem(["1/2", "1/2"], [1, 0], 2, 1, group_filter="mask-penalty")
    >>> half = sp.Rational(1, 2)
    >>> enumerated_objective(prob, (half, half), (half, half))
    0
    """
    pi, pi_old = exact_policy(pi, problem.size), exact_policy(pi_old, problem.size)
    G, name, filt = problem.group_size, problem_rule(problem), problem.group_filter
    direct = problem.penalty == "direct"

    def loss(outputs, rewards):
        if filt != "keep" and len(set(rewards)) == 1:
            return 0
        ratio = [pi[o] / pi_old[o] for o in outputs]
        terms = [r * advantage(rewards, i, name, problem.eps)
                 - problem.beta * (r if direct else 1) * k3(pi[o], problem.reference[o])
                 for i, (o, r) in enumerate(zip(outputs, ratio))]
        return sp.Add(*terms) / G

    total = group_expectation(problem, pi_old, loss)
    if filt == "drop-equal":
        total = total / group_expectation(problem, pi_old, lambda outputs, rewards: int(len(set(rewards)) > 1))
    return total


def derived_objective(problem: Problem, pi: Any, pi_old: Any) -> sp.Expr:
    """The same objective from :func:`~grpo_symbolic.theory.filtering.filtered_objective`: the engine's
    P_G(o|π_old), W_o and Z of π_old's reward mixture.

    >>> prob = Problem(["1/2", "1/2"], [1, 0], 2, 1, group_filter="drop-equal")
    >>> pi, old = (sp.Rational(1, 3), sp.Rational(2, 3)), (sp.Rational(1, 2),) * 2
    >>> sp.simplify(derived_objective(prob, pi, old) - enumerated_objective(prob, pi, old))
    0
    """
    pi, pi_old = exact_policy(pi, problem.size), exact_policy(pi_old, problem.size)
    laws = problem.law_matrix
    m = mixture(laws, pi_old)
    kept = [kept_probability(row, m, problem.group_size) for row in laws]
    return filtered_objective(preference_exact(problem, pi_old), pi, problem.reference, pi_old, problem.beta,
                              str(problem.penalty), str(problem.group_filter), kept,
                              degenerate_probability(m, problem.group_size))


def binary_problem(group_size: Any, group_filter: str = "keep", penalty: str = "grpo") -> Problem:
    """The symbolic binary Problem: π_ref = (ρ, 1 − ρ), rewards 1 and 0, weight β.

    >>> binary_problem(2, "drop-equal").group_filter
    <GroupFilter.DROP_EQUAL: 'drop-equal'>
    """
    return Problem((rho, 1 - rho), (1, 0), group_size, beta, penalty=penalty, group_filter=group_filter)


@cached
def stationarity(group_size: Any, group_filter: str = "keep", penalty: str = "grpo") -> sp.Expr:
    """dJ/dp at p_o = p for the binary problem under ``group_filter`` (derived; W and Z from π_old).

    >>> sp.factor(stationarity(2, "keep"))
    (beta*p - beta*rho + p**2 - p)/(p*(p - 1))
    """
    problem = binary_problem(group_size, group_filter, penalty)
    J = derived_objective(problem, (p, 1 - p), (p_old, 1 - p_old))
    return sp.together(sp.diff(J, p).subs(p_old, p))


@cached
def polynomial(group_size: int, group_filter: str = "keep") -> sp.Expr:
    """A polynomial in p (finite G, GRPO penalty) vanishing at every interior stationary p:
    the numerator of :func:`stationarity`, signed so that it is < 0 at p = ρ (where the reward
    term pulls p up) — the stationary p is its root in (ρ, 1)."""
    numerator = sp.numer(sp.together(stationarity(group_size, group_filter)))
    at_rho = sp.factor(numerator.subs(p, rho))
    if sp.simplify(at_rho.subs({rho: sp.Rational(1, 3), beta: 1})) > 0:
        numerator = -numerator
    return sp.collect(sp.expand(numerator), p)


def stationary_p(group_size: int, reference: Any, weight: Any, dps: int, group_filter: str = "keep") -> Any:
    """The root in (ρ, 1) of :func:`polynomial` at numbers ρ and β (mpmath, ``dps`` digits).

    >>> mpmath.nstr(stationary_p(2, "0.3", "0.5", 20), 15)  # (14)
    '0.710977222864644'
    """
    dps = inputs.dps(dps)
    values = {rho: exact(reference, "reference"), beta: exact(weight, "beta")}
    poly = sp.Poly(polynomial(group_size, group_filter).subs(values), p)
    roots = [r for r in sp.real_roots(poly) if values[rho] < r < 1]
    if len(roots) != 1:
        raise RuntimeError(f"expected one root in (rho, 1), got {roots}")
    with working_precision(dps) as working:
        return mpx.mpf(sympy_evalf(roots[0], working)._mpf_)


@cached
def small_beta(group_size: int, group_filter: str = "keep", order: int = 2) -> tuple[sp.Expr, ...]:
    """(c_1, …, c_order) with 1 − p = c_1·β + c_2·β² + … at the stationary p as β → 0⁺ (finite G).

    >>> small_beta(2, "keep"), small_beta(2, "mask-penalty")
    ((1 - rho, rho*(rho - 1)), (1 - rho, -(rho - 2)*(rho - 1)))
    """
    c = sp.symbols(f"c1:{order + 1}")
    eps = sum(ci * beta ** (i + 1) for i, ci in enumerate(c))
    series = sp.expand(sp.series(polynomial(group_size, group_filter).subs(p, 1 - eps), beta, 0, order + 2).removeO())
    solution: dict[Any, Any] = {}
    for i in range(order):
        coefficient = sp.expand(series.coeff(beta, i + 1 + _lowest(series)).subs(solution))
        (value,) = sp.solve(coefficient, c[i])
        solution[c[i]] = sp.factor(value)
    return tuple(sp.factor(solution[ci]) for ci in c)


def _lowest(series):
    """The power of β of the first coefficient that involves c_1 (the β⁰ term vanishes)."""
    powers = sorted(int(t.as_coeff_exponent(beta)[1]) for t in sp.Add.make_args(series))
    return powers[0] - 1
