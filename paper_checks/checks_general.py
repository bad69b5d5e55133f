"""Checks of Sections 1, 2.1 and 2.2 (general outputs), and of slip 1 of notes.md.

Section 2.3 (the stationarity condition and its forms) and slips 2–4 are in
:mod:`paper_checks.checks_general_stationarity`.

Every check derives its left side from the model (:mod:`grpo_symbolic.cases.general` and the core
engine) and compares it with the paper's printed form from :mod:`grpo_symbolic.paper.forms`, read
at run time: symbolically where SymPy decides it, and numerically at the run's precision at
several points, awkward ones included (π_ref near 0 and 1, β small and large).
"""

import itertools
import random
from typing import Any

import sympy as sp

from grpo_symbolic.paper import forms as paper_forms
from grpo_symbolic.cases import general
from grpo_symbolic.cases import baselines
from grpo_symbolic.theory import algebra
from grpo_symbolic.theory.algebra import evaluate, expectation, is_zero
from grpo_symbolic.theory.objective import derive_stationarity
from grpo_symbolic.theory.penalty import kl, kl0
from grpo_symbolic.preference.engine import large_group_preference, preference_exact, preference_numeric
from grpo_symbolic.model.problem import Problem
from grpo_symbolic.model.symbols import (beta, indexed, lam, pi_o, pi_old_o, pi_ref_o, pref_mean, r_mean, r_o,
                                         sigma)
from grpo_symbolic.numerics.precision import mpx, mp_lambdify

from paper_checks.registry import agreement, check, combine, disagreement, symbolic

R = sp.Rational
TINY = R(1, 10**12)


def _lhs_minus_rhs(equation):
    return equation.lhs - equation.rhs


def _number(expr):
    """A SymPy expression without symbols as an mpf at the current precision."""
    return evaluate(expr, {})


def _mpmath(expr, symbols):
    return mp_lambdify(symbols, expr)


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
    d = baselines.derive_rlhf(3)
    r, ref, pi = d.symbols["rewards"], d.symbols["reference"], d.symbols["pi"]
    unnormalised = [paper_forms.RLHF_POLICY_EQ4.subs({pi_ref_o: ref[i], r_o: r[i]}) for i in range(3)]
    printed = [v / sp.Add(*unnormalised) for v in unnormalised]
    pooled = paper_forms.log_opinion_pool([ref, baselines.luce(r)], [1, 1 / beta])
    outcomes = [symbolic(all(is_zero(a - b) for a, b in zip(d.policy, printed)), "derived maximiser - (4)/Z == 0"),
                symbolic(all(is_zero(a - b) for a, b in zip(d.policy, pooled)),
                         "derived maximiser == log pool of pi_ref and Luce(r), weights 1 and 1/beta"),
                symbolic(_diagonal_negative(d.hessian),
                         "Hessian of (3) is diagonal with entries -beta/pi < 0: the KKT point is the maximiser")]
    rlhf = expectation(pi, r) - beta * kl(pi, ref)
    rng = random.Random(3)
    for rewards, reference, weight in RLHF_POINTS:
        values = {beta: weight, **dict(zip(r, rewards)), **dict(zip(ref, reference))}
        derived = [evaluate(v, values) for v in d.policy]
        outcomes.append(agreement(derived, [evaluate(v, values) for v in printed], dps, what=f"(4) at beta={weight}"))
        outcomes.append(agreement(derived, [evaluate(v, values) for v in pooled], dps, what="log pool"))
        beaten = _perturbations_beating(_mpmath(rlhf.subs(values), pi), derived, rng, dps)
        outcomes.extend([symbolic(False, f"a perturbed policy beats (4) at beta={weight}")] * beaten)
    return combine(outcomes)


def _diagonal_negative(hessian):
    """True when the 3 x 3 ``hessian`` is diagonal with negative entries (strictly concave objective)."""
    return all(hessian[i, j] == 0 if i != j else sp.cancel(hessian[i, i]).is_negative for i in range(3) for j in range(3))


def _perturbations_beating(value, policy, rng, dps):
    """How many of 5 random simplex points within 10^(-dps/4) of ``policy`` have ``value`` beyond rounding above it."""
    best = value(*policy)
    beaten = 0
    for _ in range(5):
        step = [mpx.mpf(rng.uniform(-1, 1)) * mpx.mpf(10) ** (-dps // 4) for _ in range(3)]
        mean = sum(step) / 3
        trial = [x + (s - mean) * x for x, s in zip(policy, step)]
        trial = [t / sum(trial) for t in trial]
        beaten += value(*trial) > best + abs(best) * mpx.mpf(10) ** (3 - dps)  # beyond rounding
    return beaten


NLHF_POINTS = (  # (P(1>2), P(1>3), P(2>3)), reference, beta
    ((R(7, 10), R(2, 5), R(9, 10)), (R(1, 5), R(3, 10), R(1, 2)), R(1, 2)),
    ((R(1, 2), 1, R(1, 10)), (R(1, 1000), R(1, 2), R(499, 1000)), R(1, 5)),
    ((R(3, 5), R(3, 5), R(3, 5)), (R(98, 100), R(1, 100), R(1, 100)), 20),
)


@check("nlhf-fixed-point")
def check_nlhf_fixed_point(dps):
    d = baselines.derive_nlhf(3)
    pi, ref, prefers = d.symbols["pi"], d.symbols["reference"], d.symbols["prefers"]
    on_simplex = (*pi[:-1], 1 - sp.Add(*pi[:-1]))
    mean_pref = [sp.Add(*[on_simplex[b] * prefers[a][b] for b in range(3)]) for a in range(3)]
    printed = [paper_forms.NLHF_POLICY.subs({pi_ref_o: ref[a], pref_mean: mean_pref[a]}) for a in range(3)]
    ratios = all(is_zero(sp.expand_log((d.policy[a] - d.policy[b]) - sp.log(printed[a] / printed[b]), force=True))
                 for a, b in itertools.combinations(range(3), 2))
    outcomes = [symbolic(ratios, "derived equilibrium log pi(a) - log pi(b) == that of pi_ref exp(Qbar/beta) (5)"),
                symbolic(_diagonal_negative(d.hessian), "player 1's payoff is strictly concave in pi (diagonal Hessian -beta/pi)")]
    entries = sorted({q for row in prefers for q in row if isinstance(q, sp.Symbol)}, key=str)
    data_symbols = (beta, *ref, *entries)
    printed_at = _mpmath(printed, (*pi, *data_symbols))
    payoff_at = _mpmath(baselines.nlhf_payoff(pi, indexed("s", 3), ref, prefers), (*pi, *indexed("s", 3), *data_symbols))
    return combine(outcomes + _nlhf_equilibria(printed_at, payoff_at, dps))


def _nlhf_equilibria(printed_at, payoff_at, dps):
    """At NLHF_POINTS: the numeric equilibrium against the printed (5), and no profitable deviation from it."""
    outcomes = []
    rng = random.Random(5)
    for (q12, q13, q23), reference, weight in NLHF_POINTS:
        matrix = ((R(1, 2), q12, q13), (1 - q12, R(1, 2), q23), (1 - q13, 1 - q23, R(1, 2)))
        policy, _ = baselines.nlhf_equilibrium_numeric(matrix, reference, weight)
        data = [_number(v) for v in (weight, *reference, q12, q13, q23)]
        unnormalised = printed_at(*policy, *data)
        paper = [u / mpx.fsum(unnormalised) for u in unnormalised]
        outcomes.append(agreement(policy, paper, dps, what=f"NLHF equilibrium vs (5) at beta={weight}"))
        best = payoff_at(*policy, *policy, *data)
        deviations = [[mpx.mpf(rng.randint(1, 100)) for _ in range(3)] for _ in range(6)]
        gain = max(payoff_at(*[v / sum(dev) for v in dev], *policy, *data) - best for dev in deviations)
        outcomes.append(symbolic(gain <= 0, f"no profitable deviation (max gain {mpx.nstr(gain, 3)})"))
    return outcomes


# --- Section 2.1 ---------------------------------------------------------------------------------

EQ6_CASES: tuple[dict[str, Any], ...] = (
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


G2_CASE: dict[str, Any] = dict(reference=["0.2", "0.3", "0.5"], rewards=[{"0": "0.5", "1": "0.5"}, 1, {"0": "0.8", "1": "0.2"}],
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


LARGE_G_CASE: dict[str, Any] = dict(reference=["0.2", "0.3", "0.5"],
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
    first_order = all(abs(q - 2) < mpx.mpf("0.02") for row in ratios for q in row)
    shown = ", ".join(mpx.nstr(max(abs(q - 2) for q in row), 2) for row in ratios)
    return combine(
        symbolic(is_zero(symbolic_form[0] - paper_binary), "engine G=inf form == (r(o) - E r)/sigma, binary symbolic p"),
        agreement(preference_numeric(prob, policy, dps), [_number(v) for v in printed], dps,
                  what="engine P_inf vs (r(o) - E_pi r)/sigma(pi), noisy rewards"),
        symbolic(first_order, f"(P_G - P_inf)/(P_2G - P_inf) -> 2 (O(1/G)), |ratio - 2| per doubling from G=125: {shown} "
                           "(< 0.02 asked: the ratio is 2 + O(1/G), about 1/G here; an asymptotic error, not --dps)"),
        symbolic(all(abs(c2 - c1) < abs(c1) * mpx.mpf("0.02") for c1, c2 in zip(richardson[-2], richardson[-1])),
                 "G (P_G - P_inf) converges to a constant c (Richardson: the last two estimates within 2 %, "
                 "their O(1/G^2) error at G = 500, 1000; an asymptotic error, not --dps)"),
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
    return algebra.only_solution(sp.diff(lagrangian, st.pi[0]), st.pi[0])
