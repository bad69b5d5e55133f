"""Checks of the trainers' advantage rules (rloo, rloo-std, pass@k) and of group filtering.

x-advantage-brute-force, x-advantage-zero-mean, x-advantage-passk-gradient, x-advantage-large-group,
x-filter-objective, x-filter-effective-beta, x-filter-three-policies.
"""

from __future__ import annotations

import itertools
import math

import sympy as sp

from grpo_symbolic.cases import filtering as binary_filtering
from grpo_symbolic.cases.general import group_expectation
from grpo_symbolic.model.errors import ParameterError
from grpo_symbolic.model.problem import Problem
from grpo_symbolic.model.symbols import beta, p, p_old, rho
from grpo_symbolic.numerics.precision import mpx, working_precision
from grpo_symbolic.preference.engine import large_group_preference, preference_exact, preference_numeric, problem_rule
from grpo_symbolic.theory.advantage import ZERO_MEAN
from grpo_symbolic.theory.filtering import derive_filtered_stationarity
from paper_checks.registry import agreement, check, combine, disagreement, symbolic

REFERENCE = ("1/5", "3/10", "1/2")
REWARDS = (1, {"0": "1/2", "1": "1/2"}, 0)  # binary values, one output stochastic: pass@k applies
GRADED = (2, {"0": "1/3", "1": "2/3"}, 0)  # three reward values for the leave-one-out rules
RULES = (("rloo", None), ("rloo-std", None), ("passk", 1), ("passk", 2), ("passk", 3))
POLICY = ("3/10", "1/2", "1/5")


def _problem(group_size, advantage_, pass_k=None, rewards=REWARDS, **settings):
    return Problem(REFERENCE, rewards, group_size, "1/2", advantage=advantage_, pass_k=pass_k, **settings)


def trainer_advantage(rewards, name, eps):
    """A_1 of the group ``rewards`` written as the trainers write it, independently of the engine's
    rules: RLOO's r_1 − mean of the others; NeMo-RL's baseline and std of the others from their
    first and second moments, divided only where std > 0; PKPO's s^(loo−1) summed over the subsets
    I ∋ 1 of size k (max over an empty set: 0), times G."""
    G, r = len(rewards), rewards[0]
    others = rewards[1:]
    if name == "rloo":
        return r - sp.Add(*others) / (G - 1)
    if name == "rloo-std":
        b, square = sp.Add(*others) / (G - 1), sp.Add(*[x**2 for x in others]) / (G - 1)
        std = sp.sqrt(sp.nsimplify(square - b**2))
        return (r - b) / (std + eps) if std > 0 else r - b
    k = int(name.split("-")[1])
    total = sp.Integer(0)
    for rest in itertools.combinations(range(1, G), k - 1):
        best_rest = max((rewards[j] for j in rest), default=0)
        total += max(r, best_rest) - best_rest
    return sp.Integer(G) * total / math.comb(G, k)


def brute_force_preference(problem, policy):
    """P_G(o|π) = E[A_1 | o_1 = o] summed over every group and reward outcome, with
    :func:`trainer_advantage` (member 1 moved to the front of each group)."""
    name = problem_rule(problem)
    pi = tuple(sp.Rational(x) for x in policy)
    result = []
    for o in range(problem.size):
        total = group_expectation(problem, pi, lambda outputs, rewards: trainer_advantage(list(rewards), name, problem.eps)
                                  if outputs[0] == o else 0)
        result.append(total / pi[o])
    return result


@check("x-advantage-brute-force")
def check_x_advantage_brute_force(dps):
    outcomes = []
    for (name, k), rewards, eps in [(rule, REWARDS, 0) for rule in RULES] + [(("rloo-std", None), GRADED, "1/10"),
                                                                             (("rloo", None), GRADED, 0)]:
        for size in (2, 3, 4):
            if k is not None and k > size:
                continue
            problem = _problem(size, name, k, rewards, eps=eps)
            brute = brute_force_preference(problem, POLICY)
            exact = preference_exact(problem, POLICY)
            what = f"{problem_rule(problem)}, G={size}, eps={eps}, rewards {rewards}"
            outcomes.append(symbolic(all(sp.simplify(a - b) == 0 for a, b in zip(exact, brute)),
                                     f"{what}: exact table = brute force over groups"))
            with working_precision(dps) as working:
                expected = [sp.N(b, working) for b in brute]
            outcomes.append(agreement(preference_numeric(problem, POLICY, dps), expected, dps,
                                      what=f"{what}: numeric engine at {dps} digits"))
    return combine(outcomes)


@check("x-advantage-zero-mean")
def check_x_advantage_zero_mean(dps):
    from grpo_symbolic.solve.api import stationary_policies

    outcomes = []
    q = sp.Symbol("q", positive=True)
    policy = (q, (1 - q) / 2, (1 - q) / 2)
    for name, k in RULES:
        for size in (3, 4):
            problem = _problem(size, name, k, GRADED if name != "passk" else REWARDS)
            mean = sp.simplify(sum(x * P for x, P in zip(policy, preference_exact(problem, policy))))
            zero = problem_rule(problem) in ZERO_MEAN
            outcomes.append(symbolic((mean == 0) == zero, f"{problem_rule(problem)}, G={size}: E_pi[P_G] "
                                     f"{'= 0 identically' if zero else '!= 0'} ({mean if not zero else 0})"))
            if zero:
                continue
            (point,) = stationary_policies(problem, dps, stability=False)
            expected = mpx.fsum(x * P for x, P in zip(point.policy, preference_numeric(problem, point.policy, dps)))
            outcomes.append(agreement(point.multiplier, expected, dps, scale=1,
                                      what=f"{problem_rule(problem)}, G={size}: solver's lambda = E_pi[P_G] != 0"))
            outcomes.append(symbolic(abs(point.multiplier) > mpx.mpf("1e-3"), f"  lambda = {mpx.nstr(point.multiplier, 8)}"))
    return combine(outcomes)


@check("x-advantage-passk-gradient")
def check_x_advantage_passk_gradient(dps):
    outcomes = []
    pi = sp.symbols("x1:4", positive=True)
    for k in (1, 2, 3):
        success = sum(x * law.probability(sp.Integer(1)) for x, law in zip(pi, _problem(3, "passk", k).rewards))
        pass_at_k = 1 - (1 - success) ** k
        for size in range(max(k, 2), 6):
            problem = _problem(size, "passk", k)
            exact = preference_exact(problem, pi + ())
            gradient = [sp.diff(pass_at_k, x) for x in pi]
            on_simplex = {pi[2]: 1 - pi[0] - pi[1]}
            same = all(sp.simplify((a - b).subs(on_simplex)) == 0 for a, b in zip(exact, gradient))
            outcomes.append(symbolic(same, f"pass@{k}, G={size}: P_G(o|pi) = d pass@k / d pi(o) exactly"))
        limit = large_group_preference(_problem("inf", "passk", k), pi)
        outcomes.append(symbolic(all(sp.simplify((a - b).subs({pi[2]: 1 - pi[0] - pi[1]})) == 0
                                     for a, b in zip(limit, [sp.diff(pass_at_k, x) for x in pi])),
                                 f"pass@{k}, G=oo: the same form"))
    try:
        _problem(4, "passk", 2, GRADED)
        outcomes.append(symbolic(False, "pass@k with a reward 2 was accepted"))
    except ParameterError as error:
        outcomes.append(symbolic(str(error).startswith("rewards:"), f"non-binary rewards refused: {error}"))
    return combine(outcomes)


@check("x-advantage-large-group")
def check_x_advantage_large_group(dps):
    outcomes = []
    for size in (2, 3, 5):  # rloo = G/(G − 1) · shift, exactly
        rloo = preference_exact(_problem(size, "rloo", rewards=GRADED), POLICY)
        shift = preference_exact(_problem(size, "grpo", rewards=GRADED, normalisation="shift"), POLICY)
        outcomes.append(symbolic(all(sp.simplify(a - sp.Rational(size, size - 1) * b) == 0 for a, b in zip(rloo, shift)),
                                 f"G={size}: rloo P_G = G/(G-1) x shift-only P_G"))
    for name, limit_of in (("rloo", "shift"), ("rloo-std", "population")):
        limit = large_group_preference(_problem("inf", "grpo", rewards=GRADED, normalisation=limit_of), POLICY)
        ours = large_group_preference(_problem("inf", name, rewards=GRADED), POLICY)
        outcomes.append(symbolic(all(sp.simplify(a - b) == 0 for a, b in zip(ours, limit)),
                                 f"{name}: G -> oo form = the {limit_of} rule's"))
        errors = []
        for size in (8, 24, 72):
            finite = preference_numeric(_problem(size, name, rewards=GRADED), POLICY, dps)
            errors.append(max(abs(a - sp.N(b, dps)) for a, b in zip(finite, limit)))
        if name == "rloo":  # (G/(G − 1))·(1 − 1/G) = 1: the limit holds at every G
            outcomes.append(symbolic(all(e < mpx.mpf(10) ** (5 - dps) for e in errors),
                                     f"rloo: P_G = its G -> oo form at G=8, 24, 72 (|error| {mpx.nstr(max(errors), 3)})"))
        else:
            outcomes.append(symbolic(errors[0] > errors[1] > errors[2] > 0,
                                     f"{name}: |P_G - P_oo| at G=8, 24, 72: {', '.join(mpx.nstr(e, 3) for e in errors)}"))
    return combine(outcomes)


def _filter_problem(size, group_filter, penalty, rewards):
    return Problem(REFERENCE[:len(rewards)] if len(rewards) == 3 else ("1/3", "2/3"), rewards, size, "1/2",
                   penalty=penalty, group_filter=group_filter)


@check("x-filter-objective")
def check_x_filter_objective(dps):
    outcomes = []
    q = sp.Symbol("q", positive=True)
    old3 = (sp.Rational(1, 5), sp.Rational(3, 10), sp.Rational(1, 2))
    for group_filter in ("keep", "mask-penalty", "drop-equal"):
        for penalty in ("grpo", "direct"):
            for size, rewards, pi, old in [(2, (1, 0), (q, 1 - q), (sp.Rational(2, 5), sp.Rational(3, 5))),
                                           (3, (1, 0), (q, 1 - q), (sp.Rational(1, 4), sp.Rational(3, 4))),
                                           (3, REWARDS, (q, (1 - q) / 3, 2 * (1 - q) / 3), old3)]:
                problem = _filter_problem(size, group_filter, penalty, rewards)
                enumerated = binary_filtering.enumerated_objective(problem, pi, old)
                derived = binary_filtering.derived_objective(problem, pi, old)
                same = sp.simplify(sp.expand_log(enumerated - derived, force=True)) == 0
                outcomes.append(symbolic(same, f"{group_filter}, {penalty}, G={size}, K={len(rewards)}: "
                                               "sum over groups = W/Z form"))
    return combine(outcomes)


@check("x-filter-effective-beta")
def check_x_filter_effective_beta(dps):
    from grpo_symbolic.solve.api import stationary_policy

    outcomes = []
    for penalty in ("grpo", "direct"):
        for group_filter in ("mask-penalty", "drop-equal"):
            for size in (2, 3):
                st = derive_filtered_stationarity(penalty, group_filter, size)  # raises unless beta -> beta*W_o
                outcomes.append(symbolic(st.effective_beta == tuple(beta * w for w in st.kept),
                                         f"{penalty}, {group_filter}, K={size}: beta_o = beta*W_o, lambda scale {st.multiplier_scale}"))
    for group_filter in ("mask-penalty", "drop-equal"):  # the solver's policy zeroes the enumerated gradient
        for size in (2, 3, 5):
            problem = Problem(("3/10", "7/10"), (1, 0), size, "1/2", group_filter=group_filter)
            J = binary_filtering.enumerated_objective(problem, (p, 1 - p), (p_old, 1 - p_old))
            slope = sp.diff(J, p).subs(p_old, p)
            star = stationary_policy(problem, dps)[0]
            with working_precision(dps) as working:
                value = sp.N(slope.subs(p, sp.Float(star, working)), working)
            outcomes.append(agreement(value, 0, dps, scale=1,
                                      what=f"{group_filter}, G={size}: dJ/dp of the enumerated loss at the solver's p*"))
    return combine(outcomes)


@check("x-filter-three-policies")
def check_x_filter_three_policies(dps):
    from grpo_symbolic.solve.api import stationary_policy

    outcomes = []
    for size in (2, 4, 8):
        policies = {f: stationary_policy(Problem(("3/10", "7/10"), (1, 0), size, "1/2", group_filter=f), dps)[0]
                    for f in ("keep", "mask-penalty", "drop-equal")}
        outcomes.append(disagreement(policies["keep"], policies["mask-penalty"], dps, what=f"G={size}: keep vs filtered"))
        outcomes.append(agreement(policies["mask-penalty"], policies["drop-equal"], dps,
                                  what=f"G={size}: mask-penalty = drop-equal (one context)"))
        if size == 2:
            for f, value in policies.items():
                outcomes.append(agreement(value, binary_filtering.stationary_p(2, "3/10", "1/2", dps, f), dps,
                                          what=f"G=2 {f}: solver = root of the derived polynomial"))
    limits = {f: sp.simplify(binary_filtering.stationarity("inf", f)) for f in ("keep", "mask-penalty", "drop-equal")}
    outcomes.append(symbolic(len(set(limits.values())) == 1, "G=oo: the three stationarity conditions are identical"))
    for size in (2, 3):
        series = {f: binary_filtering.small_beta(size, f) for f in ("keep", "mask-penalty", "drop-equal")}
        first = {s[0] for s in series.values()}
        outcomes.append(symbolic(len(first) == 1, f"G={size}, beta -> 0+: 1 - p = {first.pop()}*beta + O(beta^2) for all three"))
        outcomes.append(symbolic(sp.simplify(series["keep"][1] - series["mask-penalty"][1]) != 0
                                 and series["mask-penalty"] == series["drop-equal"],
                                 f"G={size}: the beta^2 terms differ: keep {series['keep'][1]}, filtered {series['mask-penalty'][1]}"))
    outcomes.append(symbolic(binary_filtering.polynomial(2, "keep").free_symbols <= {p, rho, beta}, "G=2 polynomials in p, rho, beta"))
    return combine(outcomes)
