"""Checks of Section 2.3 (general outputs): the stationarity condition (11) and its forms (12), (13),
the bound after (11), the zero-mean identity, App. A's multiplier, and slips 2–4 of notes.md.

Every check derives its left side from the model (:mod:`grpo_symbolic.cases.general` and the core
engine) and compares it with the paper's printed form from :mod:`grpo_symbolic.paper.forms`, read
at run time: symbolically where SymPy decides it, and numerically at the run's precision at the
solver's stationary policies of several examples.
"""

import random
from typing import Any

import sympy as sp

from grpo_symbolic.paper import forms as paper_forms
from grpo_symbolic.cases import general
from grpo_symbolic.theory import algebra
from grpo_symbolic.theory.algebra import expectation, is_zero
from grpo_symbolic.theory.objective import derive_stationarity
from grpo_symbolic.preference.engine import large_group_preference, pairwise_preference, preference_exact, preference_numeric
from grpo_symbolic.model.problem import Problem
from grpo_symbolic.numerics.precision import mpx, working_precision
from grpo_symbolic.numerics.roots import bracketed_newton
from grpo_symbolic.model.symbols import P_mean, P_o, beta, indexed, lam, lose, pi_o, pi_ref_o, r_mean, r_o, sigma, win

from paper_checks import fixtures
from paper_checks.checks_general import G2_CASE, R, TINY, _lhs_minus_rhs, _mpmath, _number
from paper_checks.registry import agreement, check, combine, disagreement, symbolic


# --- Section 2.3 ---------------------------------------------------------------------------------------

STATIONARY_EXAMPLES = ("three-values-G3", "small-beta-rare-G2", "likely-G4", "large-beta-G5", "bessel-eps-G3")


def _paper_symbols(st, o):
    return {pi_o: st.pi[o], pi_ref_o: st.pi_ref[o], P_o: st.preference[o], P_mean: lam}


def _eq11_residuals(name, dps):
    """(lhs, rhs) of the printed (11) at the solved example, P_mean = E_pi P_G."""
    problem, point, P = fixtures.solved_example(name, dps)
    lhs = _mpmath(paper_forms.STATIONARITY_EQ11.lhs, (pi_o, P_o, P_mean, beta))
    rhs = _mpmath(paper_forms.STATIONARITY_EQ11.rhs, (pi_ref_o,))
    mean = mpx.fsum(x * q for x, q in zip(point.policy, P))
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
    problem, point, P = fixtures.solved_example("three-values-G3", dps)
    mean = mpx.fsum(x * q for x, q in zip(point.policy, P))
    g_form = _mpmath(paper_forms.STATIONARITY_G_FORM, (P_o, P_mean, beta, pi_ref_o))
    b = _number(problem.beta)
    printed = [g_form(q, mean, b, _number(r)) for q, r in zip(P, problem.reference)]
    logs = [mpx.log(x / _number(r)) for x, r in zip(point.policy, problem.reference)]
    bend = mpx.det(mpx.matrix([[q, l, 1] for q, l in zip(P, logs)]))
    return combine(
        symbolic(exact, "derived pi(o) - g((P_o - Pbar)/beta) pi_ref(o) == 0 (lambda = Pbar)"),
        symbolic(curvature_grpo != 0 and curvature_direct == 0,
                 f"d^2 log pi / dP^2 = {curvature_grpo} (GRPO) vs 0 (log pooling, direct KL)"),
        agreement(point.policy, printed, dps, what="solver's pi* vs g-form, three-values-G3"),
        symbolic(abs(bend) > mpx.mpf(10) ** -6,
                 f"at pi*, (P_o, log(pi/pi_ref)) are not collinear (det {mpx.nstr(bend, 3)}): not log pooling"),
    )


def _bound_margins(names, dps):
    """Per example and output: P_o - E_pi P - beta and the derived value -beta pi_ref/pi."""
    rows = []
    for name in names:
        problem, point, P = fixtures.solved_example(name, dps)
        mean = mpx.fsum(x * q for x, q in zip(point.policy, P))
        b = _number(problem.beta)
        for x, q, r in zip(point.policy, P, problem.reference):
            rows.append((name, q - mean, b, -b * _number(r) / x))
    return rows


@check("eq11-bound")
def check_eq11_bound(dps):
    st = derive_stationarity("grpo", 3)
    P1 = st.preference[0]
    solved = algebra.solve_linear(general.stationarity_form(3)[0], P1)
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
                        f"(max P_o - Pbar - beta = {mpx.nstr(worst, 3)})"),
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
                              f"(e.g. {name}: P_o - Pbar = {mpx.nstr(gap, 6)}, beta = {mpx.nstr(b, 3)})"),
    )


ZERO_MEAN_CASES: tuple[dict[str, Any], ...] = (
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
        values.append(mpx.fsum(_number(x) * q for x, q in zip(policy, P)))
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
        problem, point, _ = fixtures.solved_example(name, dps)
        strict = general.strict_preferences(problem)
        K = problem.size
        ws = [mpx.fsum(point.policy[b] * _number(strict[a][b]) for b in range(K)) for a in range(K)]
        ls = [mpx.fsum(point.policy[b] * _number(strict[b][a]) for b in range(K)) for a in range(K)]
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
        problem, point, _ = fixtures.solved_example(name, dps)
        laws = problem.rewards
        means = [_number(law.mean) for law in laws]
        mean_ = mpx.fsum(x * m for x, m in zip(point.policy, means))
        second = mpx.fsum(x * _number(law.second_moment) for x, law in zip(point.policy, laws))
        lhs = _mpmath(paper_forms.STATIONARITY_EQ13.lhs, (r_o, r_mean, sigma, beta, pi_o))
        b = _number(problem.beta)
        outcomes.append(agreement([lhs(m, mean_, mpx.sqrt(second - mean_**2), b, x) for m, x in zip(means, point.policy)],
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
        with working_precision(dps, guard=20):  # the bracket's lower end sits beta*pi_ref (1e-14) above a pole
            P_, ref_, b = [_number(v) for v in P], [_number(v) for v in reference], _number(weight)
            policy_at = lambda m: [f(q, r, m, b) for f, q, r in zip(policy_forms, P_, ref_)]  # noqa: E731
            lo, hi = max(q - b + b * r for q, r in zip(P_, ref_)), max(P_)
            root = bracketed_newton(lambda m: mpx.fsum(policy_at(m)) - 1, lo, hi, what="lambda from sum pi = 1")
            mean = mpx.fsum(x * q for x, q in zip(policy_at(root), P_))
        outcomes.append(agreement(root, mean, dps, scale=1, what=f"lambda from sum pi = 1 vs E_pi P, beta={weight}"))
    return combine(outcomes + _direct_multiplier(dps))


def _direct_multiplier(dps):
    """The direct penalty's multiplier, derived the same way: E_pi P - beta KL(pi || pi_ref), and at
    pi = pi_ref exp((P - lambda)/beta) it is lambda = beta log sum pi_ref exp(P/beta) (normalisation)."""
    st = derive_stationarity("direct", 3)
    kl_form = expectation(st.pi, st.preference) - beta * sum(x * (sp.log(x) - sp.log(r)) for x, r in zip(st.pi, st.pi_ref))
    on_simplex = {st.pi[-1]: 1 - sum(st.pi[:-1])}
    outcomes = [symbolic(is_zero((st.multiplier - kl_form).subs(on_simplex)),
                         "direct penalty: derived lambda == E_pi P - beta KL(pi || pi_ref) on the simplex")]
    for P, reference, weight in MULTIPLIER_POINTS:
        with working_precision(dps, guard=10):
            P_, ref_, b = [_number(v) for v in P], [_number(v) for v in reference], _number(weight)
            normaliser = b * mpx.log(mpx.fsum(r * mpx.exp(q / b) for q, r in zip(P_, ref_)))
            policy = [r * mpx.exp((q - normaliser) / b) for q, r in zip(P_, ref_)]
            values = {**dict(zip(st.pi, policy)), **dict(zip(st.pi_ref, ref_)), **dict(zip(st.preference, P_)), beta: b}
            derived = _mpmath(st.multiplier, tuple(values))(*values.values())
        outcomes.append(agreement(derived, normaliser, dps, scale=1,
                                  what=f"direct: derived lambda at the log-pooled pi vs beta log sum pi_ref e^(P/beta), beta={weight}"))
    return outcomes


@check("slip-2")
def check_slip_2(dps):
    outcomes = []
    for case in ZERO_MEAN_CASES[:2]:
        prob = Problem(**case)
        st = derive_stationarity("grpo", prob.size)
        P = preference_exact(prob, st.pi)
        derived = general.stationarity_with_preference(P, prob.size)
        corrected_form = [(1 - P[o] / beta) * st.pi[o] - st.pi_ref[o] for o in range(prob.size)]
        outcomes.append(symbolic(is_zero(expectation(st.pi, P)) and all(is_zero(a - b) for a, b in zip(derived, corrected_form)),
                                 f"E_pi P_G == 0, so (11) == (1 - P_G/beta) pi = pi_ref, G={prob.group_size}"))
    multipliers: list = []
    policies: list = []
    corrected: list = []
    for name in STATIONARY_EXAMPLES:
        problem, point, P = fixtures.solved_example(name, dps)
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
        symbolic(is_zero(algebra.solve_linear(kkt["slack"], beta) - 1 / (1 - rho))
                 and is_zero(sp.diff(kkt["slack"], beta) - (rho - 1)),
                 f"delta_a satisfies KKT (slack gamma_b = {kkt['slack']} >= 0) iff beta <= 1/(1 - rho)"),
        symbolic(all(_number(along[0]) >= _number(v) for v in along[1:]),
                 "at rho = 3/10, beta = 1/2 the vertex maximises J(.; pi_old = delta_a) along the simplex"),
        disagreement(printed_residual.subs(point), 0, dps),
    )
