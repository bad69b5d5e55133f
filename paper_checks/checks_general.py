"""Checks of Sections 1, 2.1, 2.2 and 2.3 (general outputs), and of slips 1–4 of notes.md.

Every check derives its left side from the model (:mod:`grpo_symbolic.cases.general` and the core
engine) and compares it with the paper's printed form from :mod:`grpo_symbolic.paper.forms`, read
at run time: symbolically where SymPy decides it, and numerically at the run's precision at
several points, awkward ones included (π_ref near 0 and 1, β small and large).
"""

import itertools
import random

import mpmath
import sympy as sp

from grpo_symbolic.paper import forms as paper_forms
from grpo_symbolic.cases import general
from grpo_symbolic.cases.general import evaluate, expectation, is_zero
from grpo_symbolic.theory.objective import derive_stationarity
from grpo_symbolic.theory.penalty import kl, kl0
from grpo_symbolic.preference.engine import (large_group_preference, pairwise_preference, preference_exact,
                                      preference_numeric)
from grpo_symbolic.model.problem import Problem
from grpo_symbolic.model.symbols import (P_mean, P_o, beta, indexed, lam, lose, pi_o, pi_old_o, pi_ref_o, pref_mean,
                                   r_mean, r_o, sigma, win)

from paper_checks.registry import agreement, check, combine, disagreement, symbolic

R = sp.Rational
TINY = R(1, 10**12)


def _lhs_minus_rhs(equation):
    return equation.lhs - equation.rhs


def _number(expr):
    """A SymPy expression without symbols as an mpf at the current precision."""
    return evaluate(expr, {})


def _mpmath(expr, symbols):
    return sp.lambdify(symbols, expr, "mpmath")


# --- Section 1 ---------------------------------------------------------------------------------

GROUPS = ([1, 0], [0, 0, 1], [R(5, 2), -1, 7, 0, 2], [TINY, 0, 0, 1], [3, 3, 3], [5, 5, 5, 4], [-2, 10**6, R(1, 3)])


@check("adv-population-std")
def check_adv_population_std(dps):
    r = sp.symbols("r_1:4", real=True)
    paper = [paper_forms.advantage_eq2(list(r), i) for i in range(3)]
    engine = [general.advantage(list(r), i) for i in range(3)]
    exact = symbolic(all(is_zero(e - a) for e, a in zip(engine, paper))
                     and is_zero(sp.Add(*paper)) and is_zero(sp.Add(*[a**2 for a in paper]) - 3),
                     "engine rule == (2) for symbolic r_1..r_3; sum A_i = 0 and sum A_i^2 = G (population std)")
    derived = [general.advantage(grp, i) for grp in GROUPS for i in range(len(grp))]
    printed = [paper_forms.advantage_eq2(grp, i) for grp in GROUPS for i in range(len(grp))]
    ties = [general.advantage([R(7, 3)] * n, 0) for n in (2, 3, 8)]
    bessel = general.advantage([0, 0, 1], 2, "sample")
    return combine(exact, agreement(derived, printed, dps, scale=1, what="engine A_i vs (2) on 7 groups"),
                   symbolic(all(a == 0 for a in ties), "all-equal groups: A = 0 exactly (0/0 := 0)"),
                   disagreement(bessel, paper_forms.advantage_eq2([0, 0, 1], 2), dps))


@check("adv-pairwise-form")
def check_adv_pairwise_form(dps):
    exact = all(is_zero(paper_forms.advantage_eq2(list(r), i) - paper_forms.advantage_pairwise(list(r), i))
                for r in (sp.symbols("r_1:4", real=True), sp.symbols("r_1:5", real=True)) for i in range(len(r)))
    derived = [paper_forms.advantage_pairwise(grp, i) for grp in GROUPS for i in range(len(grp))]
    engine = [general.advantage(grp, i) for grp in GROUPS for i in range(len(grp))]
    return combine(symbolic(exact, "(2) - pairwise form == 0 for symbolic groups of 3 and 4"),
                   agreement(derived, engine, dps, scale=1, what="pairwise form vs engine A_i on 7 groups"))


@check("adv-invariance")
def check_adv_invariance(dps):
    a, b = sp.Symbol("a", positive=True), sp.Symbol("b", real=True)
    r = sp.symbols("r_1:4", real=True)
    moved = [a * v + b for v in r]
    exact = all(is_zero(general.advantage(moved, i, rule) - general.advantage(list(r), i, rule))
                for rule in ("population", "sample") for i in range(3))
    outcomes = [symbolic(exact, "A_i(a r + b) - A_i(r) == 0 (a > 0), population and sample std")]
    rng = random.Random(6)
    policy = general.random_policy(rng, 3)
    for scale_, shift_, G in ((R(1, 10**6), 3, 3), (1000, -7, 4), (R(3, 7), R(-1, 2), 2)):
        prob = general.random_problem(rng, 3, G)
        moved_laws = [{scale_ * v + shift_: q for v, q in law.outcomes} for law in prob.rewards]
        outcomes.append(agreement(preference_numeric(prob.replace(rewards=moved_laws), policy, dps),
                                  preference_numeric(prob, policy, dps), dps, scale=1,
                                  what=f"P_G after r -> {scale_} r + {shift_}, G={G}"))
    return combine(outcomes)


RLHF_POINTS = (  # (rewards, reference, beta)
    ((1, 0, -2), (TINY, R(1, 2), R(1, 2) - TINY), R(1, 1000)),
    ((R(1, 3), 2, R(-5, 4)), (R(1, 5), R(3, 10), R(1, 2)), R(1, 2)),
    ((3, 1, 0), (1 - 2 * TINY, TINY, TINY), 1000),
)


@check("rlhf-log-pooling")
def check_rlhf_log_pooling(dps):
    d = general.derive_rlhf(3)
    r, ref, pi = d.symbols["rewards"], d.symbols["reference"], d.symbols["pi"]
    unnormalised = [paper_forms.RLHF_POLICY_EQ4.subs({pi_ref_o: ref[i], r_o: r[i]}) for i in range(3)]
    printed = [v / sp.Add(*unnormalised) for v in unnormalised]
    pooled = paper_forms.log_opinion_pool([ref, general.luce(r)], [1, 1 / beta])
    hessian = d.hessian
    concave = all(hessian[i, j] == 0 if i != j else hessian[i, i].is_negative for i in range(3) for j in range(3))
    outcomes = [symbolic(all(is_zero(a - b) for a, b in zip(d.policy, printed)), "derived maximiser - (4)/Z == 0"),
                symbolic(all(is_zero(a - b) for a, b in zip(d.policy, pooled)),
                         "derived maximiser == log pool of pi_ref and Luce(r), weights 1 and 1/beta"),
                symbolic(concave, "Hessian of (3) is diagonal with entries -beta/pi < 0: the KKT point is the maximiser")]
    rlhf = expectation(pi, r) - beta * kl(pi, ref)
    rng = random.Random(3)
    for rewards, reference, weight in RLHF_POINTS:
        values = {beta: weight, **dict(zip(r, rewards)), **dict(zip(ref, reference))}
        derived = [evaluate(v, values) for v in d.policy]
        outcomes.append(agreement(derived, [evaluate(v, values) for v in printed], dps, what=f"(4) at beta={weight}"))
        outcomes.append(agreement(derived, [evaluate(v, values) for v in pooled], dps, what="log pool"))
        value = _mpmath(rlhf.subs(values), pi)
        best = value(*derived)
        for _ in range(5):  # no simplex point nearby does better
            step = [mpmath.mpf(rng.uniform(-1, 1)) * mpmath.mpf(10) ** (-dps // 4) for _ in range(3)]
            mean = sum(step) / 3
            trial = [x + (s - mean) * x for x, s in zip(derived, step)]
            trial = [t / sum(trial) for t in trial]
            if value(*trial) > best + abs(best) * mpmath.mpf(10) ** (3 - dps):  # beyond rounding
                outcomes.append(symbolic(False, f"a perturbed policy beats (4) at beta={weight}"))
    return combine(outcomes)


NLHF_POINTS = (  # (P(1>2), P(1>3), P(2>3)), reference, beta
    ((R(7, 10), R(2, 5), R(9, 10)), (R(1, 5), R(3, 10), R(1, 2)), R(1, 2)),
    ((R(1, 2), 1, R(1, 10)), (R(1, 1000), R(1, 2), R(499, 1000)), R(1, 5)),
    ((R(3, 5), R(3, 5), R(3, 5)), (R(98, 100), R(1, 100), R(1, 100)), 20),
)


@check("nlhf-fixed-point")
def check_nlhf_fixed_point(dps):
    d = general.derive_nlhf(3)
    pi, ref, prefers = d.symbols["pi"], d.symbols["reference"], d.symbols["prefers"]
    on_simplex = (*pi[:-1], 1 - sp.Add(*pi[:-1]))
    mean_pref = [sp.Add(*[on_simplex[b] * prefers[a][b] for b in range(3)]) for a in range(3)]
    printed = [paper_forms.NLHF_POLICY.subs({pi_ref_o: ref[a], pref_mean: mean_pref[a]}) for a in range(3)]
    ratios = all(is_zero(sp.expand_log((d.policy[a] - d.policy[b]) - sp.log(printed[a] / printed[b]), force=True))
                 for a, b in itertools.combinations(range(3), 2))
    concave = all(d.hessian[i, j] == 0 if i != j else sp.cancel(d.hessian[i, i]).is_negative
                  for i in range(3) for j in range(3))
    outcomes = [symbolic(ratios, "derived equilibrium log pi(a) - log pi(b) == that of pi_ref exp(Qbar/beta) (5)"),
                symbolic(concave, "player 1's payoff is strictly concave in pi (diagonal Hessian -beta/pi)")]
    entries = sorted({q for row in prefers for q in row if isinstance(q, sp.Symbol)}, key=str)
    data_symbols = (beta, *ref, *entries)
    printed_at = _mpmath(printed, (*pi, *data_symbols))
    payoff_at = _mpmath(general.nlhf_payoff(pi, indexed("s", 3), ref, prefers), (*pi, *indexed("s", 3), *data_symbols))
    rng = random.Random(5)
    for (q12, q13, q23), reference, weight in NLHF_POINTS:
        matrix = ((R(1, 2), q12, q13), (1 - q12, R(1, 2), q23), (1 - q13, 1 - q23, R(1, 2)))
        policy, _ = general.nlhf_equilibrium_numeric(matrix, reference, weight)
        data = [_number(v) for v in (weight, *reference, q12, q13, q23)]
        unnormalised = printed_at(*policy, *data)
        paper = [u / mpmath.fsum(unnormalised) for u in unnormalised]
        outcomes.append(agreement(policy, paper, dps, what=f"NLHF equilibrium vs (5) at beta={weight}"))
        best = payoff_at(*policy, *policy, *data)
        deviations = [[mpmath.mpf(rng.randint(1, 100)) for _ in range(3)] for _ in range(6)]
        gain = max(payoff_at(*[v / sum(dev) for v in dev], *policy, *data) - best for dev in deviations)
        outcomes.append(symbolic(gain <= 0, f"no profitable deviation (max gain {mpmath.nstr(gain, 3)})"))
    return combine(outcomes)


# --- Section 2.1 ---------------------------------------------------------------------------------

EQ6_CASES = (
    dict(reference=["0.2", "0.3", "0.5"], rewards=[2, 0, 1], group_size=3, beta=1),
    dict(reference=["0.2", "0.3", "0.5"], rewards=[{"0": "0.5", "1": "0.5"}, 1, 2], group_size=3, beta=1),
    dict(reference=["0.4", "0.6"], rewards=[{"0": "0.3", "1": "0.7"}, {"0": "0.6", "2": "0.4"}], group_size=4, beta=1),
    dict(reference=["0.2", "0.3", "0.5"], rewards=[2, 0, 1], group_size=3, beta=1, normalisation="sample", eps="0.1"),
)


@check("eq6-reward-term")
def check_eq6_reward_term(dps):
    outcomes = []
    for case in EQ6_CASES:
        prob = Problem(**case)
        pi, pi_old = indexed("pi", prob.size, positive=True), indexed("pi_old", prob.size, positive=True)
        brute = general.surrogate_reward_term(prob, pi, pi_old)
        engine = expectation(pi, preference_exact(prob, pi_old))
        setting = f"K={prob.size}, G={prob.group_size}, {prob.normalisation}, eps={prob.eps}"
        outcomes.append(symbolic(is_zero(brute - engine),
                                 f"E_groups[(1/G) sum (pi/pi_old) A_i] - E_pi P_G(.|pi_old) == 0, {setting}"))
        near_vertex = (1 - TINY * (prob.size - 1),) + (TINY,) * (prob.size - 1)
        for new, old in ((general.random_policy(random.Random(1), prob.size), near_vertex),
                         (prob.reference, general.random_policy(random.Random(2), prob.size))):
            values = {**dict(zip(pi, new)), **dict(zip(pi_old, old))}
            outcomes.append(agreement(evaluate(brute, values), evaluate(engine, values), dps, scale=1, what=setting))
    return combine(outcomes)


@check("g2-sign")
def check_g2_sign(dps):
    r2 = sp.Symbol("r_2", real=True)
    outcomes = []
    for d in (sp.Symbol("d", positive=True), sp.Symbol("d", negative=True), sp.Integer(0)):
        printed = paper_forms.G2_ADVANTAGE(r2 + d, r2)
        outcomes.append(symbolic(is_zero(paper_forms.advantage_eq2([r2 + d, r2], 0) - printed)
                                 and is_zero(general.advantage([r2 + d, r2], 0) - printed),
                                 f"(2) at G=2 and engine A_1 == sign(r_1 - r_2) for r_1 - r_2 = {d}"))
    pairs = ((1, 0), (0, 1), (R(1, 3), R(1, 3) + TINY), (-10**6, 10**6), (R(5, 7), R(5, 7)))
    outcomes.append(agreement([general.advantage(list(pair), 0) for pair in pairs],
                              [paper_forms.G2_ADVANTAGE(*pair) for pair in pairs], dps, scale=1, what="5 pairs"))
    outcomes.append(disagreement(general.advantage([1, 0], 0, "sample"), paper_forms.G2_ADVANTAGE(1, 0), dps))
    return combine(outcomes)


G2_CASE = dict(reference=["0.2", "0.3", "0.5"], rewards=[{"0": "0.5", "1": "0.5"}, 1, {"0": "0.8", "1": "0.2"}],
               group_size=2, beta=1)


def _g2_terms():
    prob = Problem(**G2_CASE)
    pi, pi_old = indexed("pi", 3, positive=True), indexed("pi_old", 3, positive=True)
    on_simplex = {pi[2]: 1 - pi[0] - pi[1], pi_old[2]: 1 - pi_old[0] - pi_old[1]}
    return prob, pi, pi_old, on_simplex


@check("g2-pairwise")
def check_g2_pairwise(dps):
    prob, pi, pi_old, on_simplex = _g2_terms()
    engine = expectation(pi, preference_exact(prob, pi_old))
    difference_form = paper_forms.pairwise_reward_term_printed(pi, pi_old, general.strict_preferences(prob))
    nlhf_form = paper_forms.nlhf_reward_term_printed(pi, pi_old, general.tie_split_preferences(prob))
    outcomes = [symbolic(is_zero(engine - difference_form), "R_2 (engine P_2) - E[P(o>o') - P(o'>o)] == 0"),
                symbolic(is_zero((engine - nlhf_form).subs(on_simplex)),
                         "R_2 - (2 E[P] - 1) == 0 with P(o>o') = Prob[r > r'] + Prob[r = r']/2 (antisymmetric)")]
    for new, old in ((prob.reference, general.random_policy(random.Random(4), 3)),
                     ((TINY, R(1, 2), R(1, 2) - TINY), (R(1, 3), R(1, 3), R(1, 3)))):
        values = {**dict(zip(pi, new)), **dict(zip(pi_old, old))}
        outcomes.append(agreement([evaluate(engine, values)] * 2,
                                  [evaluate(difference_form, values), evaluate(nlhf_form, values)], dps, scale=1,
                                  what="R_2 vs both printed forms"))
    return combine(outcomes)


@check("slip-1")
def check_slip_1(dps):
    prob, pi, pi_old, on_simplex = _g2_terms()
    strict, split = general.strict_preferences(prob), general.tie_split_preferences(prob)
    engine = expectation(pi, preference_exact(prob, pi_old))
    printed = paper_forms.nlhf_reward_term_printed(pi, pi_old, strict)
    tie = sp.Add(*[pi[a] * pi_old[b] * (1 - strict[a][b] - strict[b][a]) for a in range(3) for b in range(3)])
    antisymmetric = all(split[a][b] + split[b][a] == 1 for a in range(3) for b in range(3))
    diagonal = [strict[a][a] for a in range(3)]
    values = {**dict(zip(pi, prob.reference)), **dict(zip(pi_old, (R(1, 3),) * 3))}
    corrected = paper_forms.nlhf_reward_term_printed(pi, pi_old, split)
    return combine(
        symbolic(not all(strict[a][b] + strict[b][a] == 1 for a in range(3) for b in range(3)),
                 f"Prob[r > r'] is not antisymmetric: diagonal P(o>o) = {diagonal}"),
        symbolic(antisymmetric, "tie-split P(o>o') + P(o'>o) = 1 everywhere, 1/2 on the diagonal"),
        symbolic(is_zero((engine - printed - tie).subs(on_simplex)),
                 "R_2 - (2E[Prob[r>r']] - 1) == Prob[tie] exactly"),
        disagreement(evaluate(printed, values), evaluate(engine, values), dps),
        agreement(evaluate(corrected, values), evaluate(engine, values), dps, scale=1, what="corrected 2E[P] - 1"),
    )


LARGE_G_CASE = dict(reference=["0.2", "0.3", "0.5"],
                    rewards=[{"0": "0.1", "1": "0.9"}, {"0": "0.5", "1": "0.5"}, {"0": "0.8", "1": "0.2"}],
                    group_size="inf", beta=1)
LARGE_G_SIZES = (125, 250, 500, 1000)


@check("large-g-limit")
def check_large_g_limit(dps):
    prob = Problem(**LARGE_G_CASE)
    policy = (R(3, 10), R(3, 5), R(1, 10))
    mean = expectation(policy, [law.mean for law in prob.rewards])
    printed = [paper_forms.LARGE_G_PREFERENCE.subs({r_o: law.mean, r_mean: mean, sigma: general.reward_std(prob, policy)})
               for law in prob.rewards]
    p = sp.Symbol("p", positive=True)
    binary = Problem(reference=["0.5", "0.5"], rewards=[1, 0], group_size="inf", beta=1)
    symbolic_form = large_group_preference(binary, (p, 1 - p))
    paper_binary = paper_forms.LARGE_G_PREFERENCE.subs({r_o: 1, r_mean: p, sigma: general.reward_std(binary, (p, 1 - p))})
    errors = general.large_group_error(prob.replace(group_size=2), policy, LARGE_G_SIZES, dps)
    ratios = [[e1 / e2 for e1, e2 in zip(errors[k], errors[k + 1])] for k in range(len(errors) - 1)]
    scaled = [[G * e for e in errs] for G, errs in zip(LARGE_G_SIZES, errors)]
    richardson = [[2 * b - a for a, b in zip(scaled[k], scaled[k + 1])] for k in range(len(scaled) - 1)]
    first_order = all(abs(q - 2) < mpmath.mpf("0.02") for row in ratios for q in row)
    shown = ", ".join(mpmath.nstr(max(abs(q - 2) for q in row), 2) for row in ratios)
    return combine(
        symbolic(is_zero(symbolic_form[0] - paper_binary), "engine G=inf form == (r(o) - E r)/sigma, binary symbolic p"),
        agreement(preference_numeric(prob, policy, dps), [_number(v) for v in printed], dps,
                  what="engine P_inf vs (r(o) - E_pi r)/sigma(pi), noisy rewards"),
        symbolic(first_order, f"(P_G - P_inf)/(P_2G - P_inf) -> 2 (O(1/G)), |ratio - 2| per doubling from G=125: {shown}"),
        symbolic(all(abs(c2 - c1) < abs(c1) * mpmath.mpf("0.02") for c1, c2 in zip(richardson[-2], richardson[-1])),
                 "G (P_G - P_inf) converges to a constant c (Richardson)"),
    )


# --- Section 2.2 -----------------------------------------------------------------------------------


@check("eq7-kl0")
def check_eq7_kl0(dps):
    pi, ref = indexed("pi", 3, positive=True), indexed("rho", 3, positive=True)
    a, b = sp.symbols("a b", positive=True)
    pi_old = (a, b, 1 - a - b)
    outcomes = []
    for G in (2, 3):
        prob = Problem(reference=["0.2", "0.3", "0.5"], rewards=[0, 1, 2], group_size=G, beta=1)
        sampled = general.sampled_penalty(prob, pi, ref, pi_old)
        printed = paper_forms.kl0_eq7(pi, ref, pi_old)
        outcomes.append(symbolic(is_zero(sampled - printed) and is_zero(kl0(pi, ref, pi_old) - printed),
                                 f"E_groups[(1/G) sum D_i] == KL0 (7) == engine kl0, G={G}"))
        for new, reference, old in (((R(1, 2), R(1, 3), R(1, 6)), (TINY, R(1, 2), R(1, 2) - TINY), (R(1, 10), R(1, 5))),
                                    ((TINY, R(1, 2), 3), (R(1, 3), R(1, 3), R(1, 3)), (1 - 2 * TINY, TINY))):
            values = {**dict(zip(pi, new)), **dict(zip(ref, reference)), a: old[0], b: old[1]}
            outcomes.append(agreement(evaluate(sampled, values), evaluate(printed, values), dps, what=f"G={G}"))
    return combine(outcomes)


@check("kl0-unbiased-on-policy")
def check_kl0_unbiased_on_policy(dps):
    p1, p2, s1, s2 = sp.symbols("p_1 p_2 s_1 s_2", positive=True)
    pi, ref = (p1, p2, 1 - p1 - p2), (s1, s2, 1 - s1 - s2)
    on_policy = paper_forms.kl0_eq7(pi, ref, pi)
    exact = is_zero(sp.expand_log(on_policy - kl(pi, ref), force=True))
    outcomes = [symbolic(exact, "KL0(pi||pi_ref; pi) - KL(pi||pi_ref) == 0 on the simplex")]
    for policy, reference in (((R(1, 5), R(3, 10)), (R(1, 2), R(1, 4))), ((TINY, R(1, 2)), (R(1, 2), TINY)),
                              ((1 - 2 * TINY, TINY), (R(1, 3), R(1, 3)))):
        values = {p1: policy[0], p2: policy[1], s1: reference[0], s2: reference[1]}
        outcomes.append(agreement(evaluate(on_policy, values), evaluate(kl(pi, ref), values), dps))
    old = (R(1, 3), R(1, 3), R(1, 3))
    values = {p1: R(1, 5), p2: R(3, 10), s1: R(1, 2), s2: R(1, 4)}
    outcomes.append(disagreement(evaluate(paper_forms.kl0_eq7(pi, ref, old), values), evaluate(kl(pi, ref), values), dps))
    return combine(outcomes)


GRADIENT_POINTS = ((R(1, 2), R(1, 4), R(1, 3)), (TINY, R(1, 2), R(1, 7)), (R(1, 3), 1 - TINY, TINY),
                   (1 - TINY, TINY, 1 - TINY))  # (pi_o, pi_ref_o, pi_old_o)


def _gradient_agreement(derived, printed, dps, what):
    symbols = (pi_o, pi_ref_o, pi_old_o)
    f, g = _mpmath(derived, symbols), _mpmath(printed, symbols)
    points = [[_number(v) for v in point] for point in GRADIENT_POINTS]
    return agreement([f(*x) for x in points], [g(*x) for x in points], dps, scale=1, what=what)


@check("eq8-kl0-gradient")
def check_eq8_kl0_gradient(dps):
    derived, printed = general.penalty_gradients()["kl0"], paper_forms.GRADIENT_KL0_EQ8
    return combine(symbolic(is_zero(derived - printed), "d KL0 / d pi(o) - (8) == 0"),
                   _gradient_agreement(derived, printed, dps, "(8) at 4 points"))


@check("eq9-kl-gradient")
def check_eq9_kl_gradient(dps):
    derived, printed = general.penalty_gradients()["kl"], paper_forms.GRADIENT_KL_EQ9
    return combine(symbolic(is_zero(sp.expand_log(derived - printed, force=True)), "d KL / d pi(o) - (9) == 0"),
                   _gradient_agreement(derived, printed, dps, "(9) at 4 points"))


@check("eq10-on-policy-gradient")
def check_eq10_on_policy_gradient(dps):
    grads = general.penalty_gradients()
    derived, printed = grads["on_policy"], paper_forms.GRADIENT_ON_POLICY_EQ10
    slope = sp.cancel(sp.diff(grads["on_policy"] - grads["kl"], pi_o))
    point = {pi_o: R(1, 2), pi_ref_o: R(1, 4)}
    return combine(symbolic(is_zero(derived - printed), "d KL0 / d pi(o) at pi_old = pi, - (10) == 0"),
                   _gradient_agreement(derived, printed, dps, "(10) at 4 points"),
                   symbolic(slope != 0, f"(10) - (9) is not a constant a multiplier could absorb: d/dpi_o = {slope}"),
                   disagreement(derived.subs(point), grads["kl"].subs(point), dps))


@check("reverse-kl-gradient")
def check_reverse_kl_gradient(dps):
    grads = general.penalty_gradients()
    reverse_policy = _reverse_kl_policy()
    grpo_policy = derive_stationarity("grpo", 2).policy[0]
    return combine(
        symbolic(is_zero(grads["reverse"] - paper_forms.GRADIENT_REVERSE_KL), "d KL(pi_ref||pi) / d pi(o) == -pi_ref/pi"),
        symbolic(is_zero(grads["on_policy"] - (grads["reverse"] + 1)), "(10) derived == reverse-KL gradient + 1"),
        symbolic(is_zero(reverse_policy - grpo_policy.subs(lam, lam - beta)),
                 "the constant is absorbed: reverse-KL stationary pi(o) == GRPO's with lambda -> lambda - beta"),
        _gradient_agreement(grads["on_policy"], paper_forms.GRADIENT_REVERSE_KL + 1, dps, "(10) vs reverse + 1"),
    )


def _reverse_kl_policy():
    st = derive_stationarity("grpo", 2)
    lagrangian = expectation(st.pi, st.preference) - beta * kl(st.pi_ref, st.pi) - lam * (sp.Add(*st.pi) - 1)
    return general.only_solution(sp.diff(lagrangian, st.pi[0]), st.pi[0])


# --- Section 2.3 ---------------------------------------------------------------------------------------

STATIONARY_EXAMPLES = ("three-values-G3", "small-beta-rare-G2", "likely-G4", "large-beta-G5", "bessel-eps-G3")


def _paper_symbols(st, o):
    return {pi_o: st.pi[o], pi_ref_o: st.pi_ref[o], P_o: st.preference[o], P_mean: lam}


def _eq11_residuals(name, dps):
    """(lhs, rhs) of the printed (11) at the solved example, P_mean = E_pi P_G."""
    problem, point, P = general.solved_example(name, dps)
    lhs = _mpmath(paper_forms.STATIONARITY_EQ11.lhs, (pi_o, P_o, P_mean, beta))
    rhs = _mpmath(paper_forms.STATIONARITY_EQ11.rhs, (pi_ref_o,))
    mean = mpmath.fsum(x * q for x, q in zip(point.policy, P))
    b = _number(problem.beta)
    return ([lhs(x, q, mean, b) for x, q in zip(point.policy, P)],
            [rhs(_number(r)) for r in problem.reference])


@check("eq11-stationarity")
def check_eq11_stationarity(dps):
    st = derive_stationarity("grpo", 3)
    derived = general.stationarity_form(3)
    exact = all(is_zero(derived[o] - _lhs_minus_rhs(paper_forms.STATIONARITY_EQ11).subs(_paper_symbols(st, o)))
                for o in range(3))
    outcomes = [symbolic(exact, "-(pi/beta) dL/dpi(o) at pi_old = pi == (11) with lambda for E_pi P_G, K=3")]
    for name in STATIONARY_EXAMPLES:
        lhs, rhs = _eq11_residuals(name, dps)
        outcomes.append(agreement(lhs, rhs, dps, what=f"(11) at the solver's stationary policy, {name}"))
    return combine(outcomes)


@check("eq11-g-form")
def check_eq11_g_form(dps):
    st = derive_stationarity("grpo", 3)
    direct = derive_stationarity("direct", 3)
    exact = all(is_zero(st.policy[o] - paper_forms.STATIONARITY_G_FORM.subs(_paper_symbols(st, o))) for o in range(3))
    P1 = st.preference[0]
    curvature_grpo = sp.cancel(sp.diff(sp.log(st.policy[0]), P1, 2))
    curvature_direct = sp.cancel(sp.diff(sp.expand_log(sp.log(direct.policy[0]), force=True), P1, 2))
    problem, point, P = general.solved_example("three-values-G3", dps)
    mean = mpmath.fsum(x * q for x, q in zip(point.policy, P))
    g_form = _mpmath(paper_forms.STATIONARITY_G_FORM, (P_o, P_mean, beta, pi_ref_o))
    b = _number(problem.beta)
    printed = [g_form(q, mean, b, _number(r)) for q, r in zip(P, problem.reference)]
    logs = [mpmath.log(x / _number(r)) for x, r in zip(point.policy, problem.reference)]
    bend = mpmath.det(mpmath.matrix([[q, l, 1] for q, l in zip(P, logs)]))
    return combine(
        symbolic(exact, "derived pi(o) - g((P_o - Pbar)/beta) pi_ref(o) == 0 (lambda = Pbar)"),
        symbolic(curvature_grpo != 0 and curvature_direct == 0,
                 f"d^2 log pi / dP^2 = {curvature_grpo} (GRPO) vs 0 (log pooling, direct KL)"),
        agreement(point.policy, printed, dps, what="solver's pi* vs g-form, three-values-G3"),
        symbolic(abs(bend) > mpmath.mpf(10) ** -6,
                 f"at pi*, (P_o, log(pi/pi_ref)) are not collinear (det {mpmath.nstr(bend, 3)}): not log pooling"),
    )


def _bound_margins(names, dps):
    """Per example and output: P_o - E_pi P - beta and the derived value -beta pi_ref/pi."""
    rows = []
    for name in names:
        problem, point, P = general.solved_example(name, dps)
        mean = mpmath.fsum(x * q for x, q in zip(point.policy, P))
        b = _number(problem.beta)
        for x, q, r in zip(point.policy, P, problem.reference):
            rows.append((name, q - mean, b, -b * _number(r) / x))
    return rows


@check("eq11-bound")
def check_eq11_bound(dps):
    st = derive_stationarity("grpo", 3)
    P1 = st.preference[0]
    solved = general.solve_linear(general.stationarity_form(3)[0], P1)
    excess = sp.factor(solved - lam - beta)  # P_1 - lambda - beta at a stationary point
    printed = paper_forms.BOUND_AFTER_EQ11
    rows = _bound_margins(STATIONARY_EXAMPLES, dps)
    excess_printed = _mpmath(printed.lhs - printed.rhs, (P_o, P_mean, beta))
    holds = all(excess_printed(gap, 0, b) < 0 for _, gap, b, _ in rows)  # gap = P_o - Pbar
    worst = max(gap - b for _, gap, b, _ in rows)
    return combine(
        symbolic(excess.is_negative, f"(11) solved for P_o: P_o - Pbar - beta = {excess} < 0 for pi, pi_ref > 0"),
        agreement([gap - b for _, gap, b, _ in rows], [d for *_, d in rows], dps, scale=1,
                  what="P_o - Pbar - beta == -beta pi_ref/pi at solved policies"),
        symbolic(holds, f"printed bound P_o < Pbar + beta at {len(rows)} outputs of 5 solved problems "
                        f"(max P_o - Pbar - beta = {mpmath.nstr(worst, 3)})"),
    )


@check("slip-3")
def check_slip_3(dps):
    rows = _bound_margins(STATIONARY_EXAMPLES, dps)
    upper = all(gap < b for _, gap, b, _ in rows)
    below = [(name, gap, b) for name, gap, b, _ in rows if gap < -b]
    name, gap, b = min(below, key=lambda row: row[1] / row[2]) if below else ("none", 0, 1)
    return combine(
        symbolic(upper, "upper bound P_o - Pbar < beta holds at every solved stationary policy"),
        symbolic(bool(below), f"no lower bound: {len(below)} outputs have P_o - Pbar < -beta "
                              f"(e.g. {name}: P_o - Pbar = {mpmath.nstr(gap, 6)}, beta = {mpmath.nstr(b, 3)})"),
    )


ZERO_MEAN_CASES = (
    dict(reference=["0.2", "0.3", "0.5"], rewards=[2, 0, 1], group_size=3, beta=1),
    dict(reference=["0.2", "0.3", "0.5"], rewards=[{"0": "0.5", "1": "0.5"}, 1, {"1": "0.25", "2": "0.75"}], group_size=3, beta=1),
    dict(reference=["0.4", "0.6"], rewards=[{"0": "0.3", "1": "0.7"}, 1], group_size=5, beta=1, normalisation="sample"),
    dict(reference=["0.2", "0.3", "0.5"], rewards=[2, 0, 1], group_size=4, beta=1, normalisation="shift"),
    dict(reference=["0.2", "0.3", "0.5"], rewards=[2, 0, 1], group_size=3, beta=1, eps="0.1"),
)


@check("zero-mean-identity")
def check_zero_mean_identity(dps):
    outcomes = []
    for case in ZERO_MEAN_CASES:
        prob = Problem(**case)
        pi = indexed("pi", prob.size, positive=True)
        outcomes.append(symbolic(is_zero(general.zero_mean(prob, pi)),
                                 f"sum_o pi(o) P_G(o|pi) == 0, K={prob.size}, G={prob.group_size}, "
                                 f"{prob.normalisation}, eps={prob.eps}"))
    p1, p2 = sp.symbols("p_1 p_2", positive=True)
    large = Problem(reference=["0.2", "0.3", "0.5"], rewards=[{"0": "0.5", "1": "0.5"}, 3, -1], group_size="inf", beta=1)
    simplex = (p1, p2, 1 - p1 - p2)
    outcomes.append(symbolic(is_zero(expectation(simplex, large_group_preference(large, simplex))), "G = inf form"))
    rng = random.Random(2025)
    values = []
    for k in range(12):
        normalisation = ("population", "sample", "shift")[k % 3]
        prob = general.random_problem(rng, rng.randint(2, 5), rng.choice([2, 3, 5, 8]), normalisation,
                                      rng.choice([0, 0, R(1, 10**4)]))
        policy = general.random_policy(rng, prob.size)
        P = preference_numeric(prob, policy, dps + 5)
        values.append(mpmath.fsum(_number(x) * q for x, q in zip(policy, P)))
    outcomes.append(agreement(values, [0] * len(values), dps, scale=1, what="12 random problems and policies"))
    return combine(outcomes)


@check("eq12-g2")
def check_eq12_g2(dps):
    prob = Problem(**G2_CASE)
    st = derive_stationarity("grpo", 3)
    P2 = preference_exact(prob, st.pi)
    w, l = general.win_lose(prob, st.pi)
    derived = general.stationarity_with_preference(P2, 3)
    printed = [_lhs_minus_rhs(paper_forms.STATIONARITY_EQ12).subs(
        {win: w[o], lose: l[o], pi_o: st.pi[o], pi_ref_o: st.pi_ref[o]}) for o in range(3)]
    outcomes = [
        symbolic(all(is_zero(P2[o] - (w[o] - l[o])) and is_zero(P2[o] - pairwise_preference(prob, st.pi)[o])
                     for o in range(3)),
                 "engine P_G at G=2 == w_o - l_o == pairwise form (noisy rewards with ties)"),
        symbolic(all(is_zero(a - b) for a, b in zip(derived, printed)), "derived (11) with P_2 substituted == (12)"),
    ]
    for name in ("small-beta-rare-G2", "noisy-ties-G2"):
        problem, point, _ = general.solved_example(name, dps)
        strict = general.strict_preferences(problem)
        K = problem.size
        ws = [mpmath.fsum(point.policy[b] * _number(strict[a][b]) for b in range(K)) for a in range(K)]
        ls = [mpmath.fsum(point.policy[b] * _number(strict[b][a]) for b in range(K)) for a in range(K)]
        lhs = _mpmath(paper_forms.STATIONARITY_EQ12.lhs, (win, lose, beta, pi_o))
        b = _number(problem.beta)
        outcomes.append(agreement([lhs(w_, l_, b, x) for w_, l_, x in zip(ws, ls, point.policy)],
                                  [_number(r) for r in problem.reference], dps, what=f"(12) at pi*, {name}"))
    return combine(outcomes)


@check("eq13-large-g")
def check_eq13_large_g(dps):
    r = sp.symbols("r_1:4", real=True)
    prob = Problem(reference=["0.2", "0.3", "0.5"], rewards=list(r), group_size="inf", beta=1)
    st = derive_stationarity("grpo", 3)
    simplex = {st.pi[2]: 1 - st.pi[0] - st.pi[1]}
    policy = tuple(x.subs(simplex) for x in st.pi)
    derived = [f.subs(simplex) for f in general.stationarity_with_preference(large_group_preference(prob, policy), 3)]
    mean, std = expectation(policy, r), general.reward_std(prob, policy)
    printed = [_lhs_minus_rhs(paper_forms.STATIONARITY_EQ13).subs(
        {r_o: r[o], r_mean: mean, sigma: std, pi_o: policy[o], pi_ref_o: st.pi_ref[o]}) for o in range(3)]
    p, gap = sp.Symbol("p", positive=True), sp.Symbol("Delta", positive=True)
    binary_std = general.reward_std(Problem(reference=["0.5", "0.5"], rewards=[gap, 0], group_size="inf", beta=1), (p, 1 - p))
    outcomes = [
        symbolic(all(is_zero(a - b) for a, b in zip(derived, printed)),
                 "derived (11) with the G=inf preference (symbolic rewards, K=3) == (13)"),
        symbolic(sp.limit(binary_std, p, 1, "-") == 0 and sp.limit(binary_std, p, 0, "+") == 0,
                 f"beta_eff = beta sigma(pi) -> 0 as the policy concentrates (binary: sigma = {binary_std})"),
    ]
    for name in ("noisy-large-G", "three-values-large-G"):
        problem, point, _ = general.solved_example(name, dps)
        laws = problem.rewards
        means = [_number(law.mean) for law in laws]
        mean_ = mpmath.fsum(x * m for x, m in zip(point.policy, means))
        second = mpmath.fsum(x * _number(law.second_moment) for x, law in zip(point.policy, laws))
        lhs = _mpmath(paper_forms.STATIONARITY_EQ13.lhs, (r_o, r_mean, sigma, beta, pi_o))
        b = _number(problem.beta)
        outcomes.append(agreement([lhs(m, mean_, mpmath.sqrt(second - mean_**2), b, x) for m, x in zip(means, point.policy)],
                                  [_number(v) for v in problem.reference], dps, what=f"(13) at pi*, {name}"))
    return combine(outcomes)


MULTIPLIER_POINTS = (  # arbitrary P (not zero-mean), reference, beta
    ((R(3, 10), R(-1, 10), R(1, 2)), (R(1, 5), R(3, 10), R(1, 2)), R(1, 4)),
    ((2, -3, R(1, 7)), (TINY, R(1, 2), R(1, 2) - TINY), R(1, 100)),
    ((R(1, 2), R(1, 3), 0), (1 - 2 * TINY, TINY, TINY), 50),
)


@check("app-a-multiplier")
def check_app_a_multiplier(dps):
    st = derive_stationarity("grpo", 3)
    printed = paper_forms.MULTIPLIER_APP_A.subs(P_mean, expectation(st.pi, st.preference))
    outcomes = [symbolic(is_zero(st.multiplier - printed), "derived lambda (sum of pi(o) x condition o) == E_pi P_G")]
    policy_forms = [_mpmath(f, (st.preference[o], st.pi_ref[o], lam, beta)) for o, f in enumerate(st.policy)]
    for P, reference, weight in MULTIPLIER_POINTS:
        with mpmath.workdps(dps + 20):  # the bracket's lower end sits beta*pi_ref above a pole
            P_, ref_, b = [_number(v) for v in P], [_number(v) for v in reference], _number(weight)
            policy_at = lambda m: [f(q, r, m, b) for f, q, r in zip(policy_forms, P_, ref_)]  # noqa: E731
            lo, hi = max(q - b + b * r for q, r in zip(P_, ref_)), max(P_)
            root = mpmath.findroot(lambda m: mpmath.fsum(policy_at(m)) - 1, (lo, hi), solver="anderson")
            mean = mpmath.fsum(x * q for x, q in zip(policy_at(root), P_))
        outcomes.append(agreement(root, mean, dps, scale=1, what=f"lambda from sum pi = 1 vs E_pi P, beta={weight}"))
    return combine(outcomes)


@check("slip-2")
def check_slip_2(dps):
    outcomes = []
    for case in ZERO_MEAN_CASES[:2]:
        prob = Problem(**case)
        st = derive_stationarity("grpo", prob.size)
        P = preference_exact(prob, st.pi)
        derived = general.stationarity_with_preference(P, prob.size)
        corrected = [(1 - P[o] / beta) * st.pi[o] - st.pi_ref[o] for o in range(prob.size)]
        outcomes.append(symbolic(is_zero(expectation(st.pi, P)) and all(is_zero(a - b) for a, b in zip(derived, corrected)),
                                 f"E_pi P_G == 0, so (11) == (1 - P_G/beta) pi = pi_ref, G={prob.group_size}"))
    multipliers, policies, corrected = [], [], []
    for name in STATIONARY_EXAMPLES:
        problem, point, P = general.solved_example(name, dps)
        b = _number(problem.beta)
        multipliers.append(point.multiplier)
        policies.extend(point.policy)
        corrected.extend(_number(r) / (1 - q / b) for r, q in zip(problem.reference, P))
    outcomes.append(agreement(multipliers, [0] * len(multipliers), dps, scale=1, what="solver's lambda is 0"))
    outcomes.append(agreement(policies, corrected, dps, what="pi* == pi_ref/(1 - P_G/beta)"))
    return combine(outcomes)


@check("slip-4")
def check_slip_4(dps):
    kkt = general.vertex_kkt()
    rho = kkt["rho"]
    support_sum = 1 - (kkt["expected_preference"] - kkt["multiplier"]) / beta  # sum over supp of (11) with lambda
    printed_residual = _lhs_minus_rhs(paper_forms.STATIONARITY_EQ11).subs(
        {pi_o: 1, pi_ref_o: rho, P_o: kkt["preference"][0], P_mean: kkt["expected_preference"]})
    point = {rho: R(3, 10), beta: R(1, 2)}
    pa, pb = kkt["symbols"]
    J = kkt["objective"].subs(point)
    along = [J.subs({pa: 1 - t, pb: t}) for t in (0, R(1, 1000), R(1, 10), R(1, 2), R(9, 10))]
    return combine(
        symbolic(not is_zero(kkt["multiplier"] - kkt["expected_preference"]),
                 f"vertex delta_a: lambda = {kkt['multiplier']} != E_pi P_2 = {kkt['expected_preference']}"),
        symbolic(is_zero(support_sum - rho),
                 "summing (11) over the support gives sum_supp pi_ref = rho, not 1: lambda = E_pi P - beta(1 - rho)"),
        symbolic(is_zero(general.solve_linear(kkt["slack"], beta) - 1 / (1 - rho))
                 and is_zero(sp.diff(kkt["slack"], beta) - (rho - 1)),
                 f"delta_a satisfies KKT (slack gamma_b = {kkt['slack']} >= 0) iff beta <= 1/(1 - rho)"),
        symbolic(all(_number(along[0]) >= _number(v) for v in along[1:]),
                 "at rho = 3/10, beta = 1/2 the vertex maximises J(.; pi_old = delta_a) along the simplex"),
        disagreement(printed_residual.subs(point), 0, dps),
    )
