"""Checks of the paper's Sec. 3 extensions (direct KL penalty, shift-only advantages) and slips 8, 10.

Each check derives its left side from the model (:mod:`grpo_symbolic.cases.direct_kl`,
:mod:`grpo_symbolic.cases.shift_only`), compares it with the printed form of
:mod:`grpo_symbolic.paper.forms` symbolically, and numerically at points that include π_ref near 0
and 1, small and large β and a small margin γ; numeric solutions come from the general solver.
"""

import itertools

import sympy as sp

from grpo_symbolic.paper import forms as paper
from grpo_symbolic.cases import binary, direct_kl, shift_only
from paper_checks import fixtures
from grpo_symbolic.theory.objective import derive_stationarity
from grpo_symbolic.theory.penalty import direct_penalty, kl, kl0
from grpo_symbolic.preference.engine import preference_exact, preference_numeric
from grpo_symbolic.model.problem import Problem
from grpo_symbolic.solve.api import stationary_policies, stationary_policy
from grpo_symbolic.model.symbols import G, P_o, beta, gamma, indexed, lam, p, p_old, pi_ref_o, r_mean, r_old_mean, rho, x
from grpo_symbolic.numerics.precision import mp_lambdify, mpx, working_precision
from paper_checks.registry import agreement, check, combine, symbolic

#: (π_ref(a), β, γ) for the binary G = 2 comparisons: π_ref near 0 and 1, β small and large, γ small.
G2_POINTS = [("0.000001", "0.05", "1"), ("0.3", "0.5", "0.5"), ("0.999999", "2", "1"),
             ("0.5", "0.01", "0.02"), ("0.2", "20", "1")]
#: (π_ref(a), β) with h > 0 on (0, 1) (small β) and with two zeros (large β), G → ∞.
SMALL_BETA = [("0.001", "0.1"), ("0.9", "1")]
LARGE_BETA = [("0.5", "3"), ("0.99", "50")]
#: The G2_POINTS also solved numerically (each solve costs ~0.1 s).
G2_SOLVED = (0, 3, 4)


def _value(expr, values, dps):
    with working_precision(dps) as working:
        return mpx.mpf(sp.N(expr.subs(values), working))


def _rational(text):
    return sp.Rational(text)


# --- direct KL penalty ----------------------------------------------------------------------------


@check("direct-kl-penalty")
def check_direct_kl_penalty(dps):
    outcomes = [symbolic(direct_kl.penalty_gap(size) == 0, f"K={size}: E[(pi/pi_old) k3] - KL(pi||pi_ref) reduces to 0 on the simplex, whatever pi_old")
                for size in (2, 3, 4)]
    pi, ref, old = (indexed(stem, 3, positive=True) for stem in ("pi", "rho", "pi_old"))
    penalty, divergence, grpo = direct_penalty(pi, ref, old), kl(pi, ref), kl0(pi, ref, old)
    points = [  # (pi, pi_ref, pi_old): pi_ref near 0 and near 1, pi_old far from pi
        (("0.2", "0.3", "0.5"), ("0.000001", "0.5", "0.499999"), ("0.7", "0.2", "0.1")),
        (("0.999998", "0.000001", "0.000001"), ("0.999999", "0.0000005", "0.0000005"), ("0.1", "0.1", "0.8")),
        (("0.05", "0.9", "0.05"), ("1/3", "1/3", "1/3"), ("0.05", "0.9", "0.05")),
    ]
    for a, r, q in points:
        at = dict(zip(pi + ref + old, map(_rational, a + r + q)))
        derived, printed = _value(penalty, at, dps), _value(divergence, at, dps)
        outcomes.append(agreement(derived, printed, dps, scale=1e-30, what=f"direct penalty vs KL at pi={a}, pi_ref={r}, pi_old={q}"))
    # The comparison discriminates: GRPO's own KL0 is not KL when pi_old != pi.
    at = dict(zip(pi + ref + old, map(_rational, points[0][0] + points[0][1] + points[0][2])))
    off = abs(_value(grpo, at, dps) - _value(divergence, at, dps))
    outcomes.append(symbolic(off > 1e-3, f"control: KL0 - KL = {mpx.nstr(off, 5)} at the first point (pi_old != pi)"))
    return combine(outcomes)


@check("direct-kl-log-pooling")
def check_direct_kl_log_pooling(dps):
    outcomes = []
    for size in (2,):  # K = 3 in tests/test_cases_direct_kl.py (the derivation takes ~1 s)
        ratios, multiplier = fixtures.log_pooling(size)
        st = derive_stationarity("direct", size)
        same = all(sp.simplify(r - ratios[0]) == 0 for r in ratios)
        free = not (ratios[0].free_symbols & set(st.preference + st.pi_ref))
        total = sp.simplify(sp.expand(sum(st.policy)).subs(lam, multiplier)) == 1
        outcomes.append(symbolic(same and free and total,
                                 f"K={size}: derived pi(o) / (pi_ref(o) exp(P_o/beta)) is one o-free factor exp(-lambda/beta); "
                                 f"Sum pi = 1 gives lambda = {multiplier}"))
    # Numeric: the solver's stationary policy of a 3-output problem with Bernoulli rewards is the pool.
    problem = Problem(reference=["0.000001", "0.3", "0.699999"], rewards=[{1: "0.9", 0: "0.1"}, {1: "0.5", 0: "0.5"}, {1: "0.2", 0: "0.8"}],
                      group_size=3, beta="0.25", penalty="direct")
    policy = stationary_policy(problem, dps)
    preference = preference_numeric(problem, policy, dps)
    form = mp_lambdify((pi_ref_o, P_o, beta), paper.DIRECT_KL_POLICY)
    with working_precision(dps):
        pooled = [form(mpx.mpf(_rational_mpf(r)), P, mpx.mpf(1) / 4) for r, P in zip(problem.reference, preference)]
        pooled = [v / mpx.fsum(pooled) for v in pooled]
    outcomes.append(agreement(list(policy), pooled, dps, what="solver pi* vs pi_ref exp(P_G(pi*)/beta)/Z, K=3, G=3, beta=1/4, pi_ref(o1)=1e-6"))
    return combine(outcomes)


def _rational_mpf(value):
    return mpx.mpf(int(value.p)) / int(value.q)


@check("direct-kl-g2-binary")
def check_direct_kl_g2_binary(dps):
    derived, printed = direct_kl.g2_policy(), paper.DIRECT_KL_POLICY_G2
    slope = direct_kl.g2_slope()
    outcomes = [
        symbolic(not slope.has(binary.q_b) and slope.has(gamma), f"dJ/dp at p_o = p depends on the rewards only through gamma: {slope}"),
        symbolic(binary.on_unit_interval(sp.diff(slope, p), p).is_negative,
                 "dJ/dp at p_o = p decreases strictly in p on (0, 1): the root is unique"),
        symbolic(sp.simplify(derived - printed) == 0, f"derived root {derived} equals the printed Z formula"),
    ]
    at_zero = derive_stationarity("direct").policy[0].subs(derive_stationarity("direct").pi_ref[0], 0)
    limit = sp.limit(derived, rho, 0, "+")
    outcomes.append(symbolic(limit == 0 and at_zero == 0,
                             f"continuous at pi_ref(a) = 0: limit {limit} equals the value {at_zero} of the stationary form"))
    for index, (ref, weight, margin) in enumerate(G2_POINTS):
        at = {rho: _rational(ref), beta: _rational(weight), gamma: _rational(margin)}
        if index in G2_SOLVED:
            laws = [dict(law) for law in binary.margin_rewards(_rational(margin))]
            problem = direct_kl.numeric_binary_problem(ref, weight, 2, rewards=laws)
            solved = stationary_policy(problem, dps)[0]
            outcomes.append(agreement(solved, _value(printed, at, dps), dps, what=f"solver vs Z formula at rho={ref}, beta={weight}, gamma={margin}"))
        outcomes.append(agreement(_value(derived, at, dps), _value(printed, at, dps), dps, what=f"derived vs printed at rho={ref}, beta={weight}, gamma={margin}"))
    return combine(outcomes)


@check("direct-kl-large-g-h")
def check_direct_kl_large_g_h(dps):
    derived = direct_kl.h()
    gap = sp.expand(sp.expand_log(derived - paper.DIRECT_KL_H, force=True))
    u = direct_kl.odds_root
    S = sp.Poly(direct_kl.h_slope_sign(), u)
    u_star, x_star, other = direct_kl.h_turning_point()
    minimum = direct_kl.h_minimum()
    outcomes = [
        symbolic(gap == 0, f"dJ/dp / beta at p_o = p equals the printed h: difference {gap}"),
        symbolic(S.LC() == 1 and S.eval(0) == -1 and sp.expand(u_star * other) == -1,
                 f"sign h'(x) = sign S(u), S = {S.as_expr()}: S(0) = -1 < 0 and one positive root, "
                 "so h decreases on (0, x*] and increases on [x*, 1)"),
        symbolic(sp.simplify(x_star - paper.DIRECT_KL_X_STAR) == 0, f"derived x* = {x_star} equals the printed x*"),
        symbolic(sp.limit(direct_kl.h_in_odds_root(), u, 0, "+") is sp.oo and sp.limit(direct_kl.h_in_odds_root(), u, sp.oo) is sp.oo,
                 "h -> +oo as x -> 0+ and x -> 1-"),
        symbolic(sp.limit(minimum, beta, 0, "+") is sp.oo, "h(x*) -> +oo as beta -> 0+: for small beta, h > 0 on (0, 1)"),
        symbolic(sp.limit(minimum, beta, sp.oo) is -sp.oo, "h(x*) -> -oo as beta -> oo: for large beta, two zeros"),
    ]
    for weight in ("0.01", "1", "100"):
        at = {beta: _rational(weight)}
        outcomes.append(agreement(_value(x_star, at, dps), _value(paper.DIRECT_KL_X_STAR, at, dps), dps, what=f"x* at beta={weight}"))
    for point in ("0.000001", "0.4", "0.999999"):
        at = {x: _rational(point), rho: sp.Rational(3, 10), beta: sp.Rational(7, 4)}
        outcomes.append(agreement(_value(derived, at, dps), _value(paper.DIRECT_KL_H, at, dps), dps, what=f"h at x={point}"))
    for ref, weight in SMALL_BETA:
        at = {rho: _rational(ref), beta: _rational(weight)}
        positive = _value(minimum, at, dps) > 0
        vertex = fixtures.runs_to_vertex(ref, weight, dps)
        path = direct_kl.iterate_best_response(ref, weight, ref, dps=dps)
        outcomes.append(symbolic(positive and vertex and 1 - path[-1] < mpx.mpf(10) ** (-dps + 5),
                                 f"rho={ref}, beta={weight}: h(x*) > 0, the solver finds no interior point, best response from pi_ref runs to pi(a)=1"))
    for ref, weight in LARGE_BETA:
        zeros = direct_kl.h_zeros(ref, weight, dps)
        solved = [pt.policy[0] for pt in stationary_policies(direct_kl.numeric_binary_problem(ref, weight, "inf"), dps, stability=False)]
        if len(zeros) != 2 or len(solved) != 2:
            outcomes.append(symbolic(False, f"rho={ref}, beta={weight}: {len(zeros)} zeros of h, {len(solved)} solver points (expected 2 and 2)"))
            continue
        outcomes.append(agreement(zeros, solved, dps, what=f"two zeros of h vs the solver's stationary points at rho={ref}, beta={weight}"))
    return combine(outcomes)


# --- shift-only advantages --------------------------------------------------------------------------


@check("shift-only-reward-term")
def check_shift_only_reward_term(dps):
    derived, printed = fixtures.shift_only_reward_terms()
    outcomes = [
        symbolic(all(shift_only.rule_is_affine(size) for size in range(2, 9)), "the shift rule is affine in the rewards (G = 2..8)"),
        symbolic(sp.expand(derived - printed) == 0,
                 f"symbolic G: E_pi[P_G(o|pi_old)] from the rule equals (1 - 1/G)(E_pi r - E_old r); P_G(o|pi_old) = {shift_only.expected_advantage()}"),
    ]
    values = sp.symbols("u v w", real=True)
    a, b = sp.symbols("a b", positive=True)
    exact = all(gap == 0 for size in range(2, 6) for gap in shift_only.engine_preference_gap(size, list(values), (a, b, 1 - a - b)))
    outcomes.append(symbolic(exact, "engine's exact P_G (3 outputs, symbolic rewards and pi_old) equals the pattern for G = 2..5"))
    old = (sp.Rational(1, 10**6), sp.Rational(1, 3), 1 - sp.Rational(1, 10**6) - sp.Rational(1, 3))
    exact = all(gap == 0 for size in range(6, 9) for gap in shift_only.engine_preference_gap(size, list(values), old))
    outcomes.append(symbolic(exact, "same for G = 6..8 at pi_old = (1e-6, 1/3, rest), symbolic rewards"))
    s = sp.Symbol("s", positive=True)
    noisy = [values[0], {values[1]: sp.Rational(1, 4), values[2]: sp.Rational(3, 4)}, {values[0]: s, values[2]: 1 - s}]
    exact = all(gap == 0 for size in range(2, 5) for gap in shift_only.engine_preference_gap(size, noisy, (sp.Rational(1, 5), sp.Rational(3, 10), sp.Rational(1, 2))))
    outcomes.append(symbolic(exact, "same with stochastic rewards (symbolic law probability) for G = 2..4"))
    outcomes.extend(_against_brute_force(noisy))
    problem = Problem(reference=["0.2", "0.3", "0.5"], rewards=[{0: "0.3", 1: "0.7"}, 2, {0: "0.999999", 5: "0.000001"}],
                      group_size=6, beta=1, normalisation="shift")
    policy, old = ("0.000001", "0.5", "0.499999"), ("0.6", "0.1", "0.3")
    preference = preference_numeric(problem, old, dps)
    with working_precision(dps):
        means = [mpx.mpf(_rational_mpf(law.mean)) for law in problem.rewards]
        pi = [mpx.mpf(_rational_mpf(_rational(v))) for v in policy]
        pi_old = [mpx.mpf(_rational_mpf(_rational(v))) for v in old]
        term = mpx.fsum(x * P for x, P in zip(pi, preference))
    at = {G: 6, r_mean: mpx.fsum(x * m for x, m in zip(pi, means)),
          r_old_mean: mpx.fsum(x * m for x, m in zip(pi_old, means))}
    outcomes.append(agreement(term, _value(paper.SHIFT_ONLY_REWARD_TERM, at, dps), dps, scale=1e-30,
                              what="engine's numeric E_pi[P_6(o|pi_old)] vs printed, stochastic rewards, pi(o1)=1e-6"))
    return combine(outcomes)


def _against_brute_force(rewards):
    """Engine P_G and the printed reward term against E[r_1 - mean | o_1 = o] summed over every ordered
    group: independent of the shift rule and of the engine."""
    policy = (sp.Rational(1, 5), sp.Rational(3, 10), sp.Rational(1, 2))
    pi = (p, sp.Rational(1, 2) - p, sp.Rational(1, 2))
    outcomes = []
    for size in (2, 3, 4):
        problem = shift_only.engine_problem(size, rewards)
        brute = _shift_brute_force([law.outcomes for law in problem.rewards], policy, size)
        engine = preference_exact(problem, policy)
        term = sp.expand(sum(x * b for x, b in zip(pi, brute)) - _printed_reward_term(problem, pi, policy, size))
        outcomes.append(symbolic(all(sp.expand(a - b) == 0 for a, b in zip(engine, brute)) and term == 0,
                                 f"G={size}: engine P_G(o|pi_old) == brute-force E[r_1 - mean | o_1 = o] over all groups, "
                                 "and E_pi of it == printed reward term (symbolic rewards and pi)"))
    return outcomes


def _shift_brute_force(laws, policy, size):
    """E[r_1 - (r_1 + ... + r_G)/G | o_1 = o] per output, summed over every ordered group of the others."""
    members = [(v, q * x) for law, x in zip(laws, policy) for v, q in law]
    result = []
    for law in laws:
        total = sp.Integer(0)
        for v, q in law:
            for others in itertools.product(members, repeat=size - 1):
                weight = q * sp.Mul(*[w for _, w in others])
                total += weight * (v - (v + sum(r for r, _ in others)) / size)
        result.append(sp.expand(total))
    return result


def _printed_reward_term(problem, pi, pi_old, size):
    """The printed (1 - 1/G)(E_pi r - E_old r) with the outputs' mean rewards."""
    means = [law.mean for law in problem.rewards]
    at = {G: size, r_mean: sum(x * m for x, m in zip(pi, means)), r_old_mean: sum(x * m for x, m in zip(pi_old, means))}
    return sp.expand(paper.SHIFT_ONLY_REWARD_TERM.subs(at))


@check("shift-only-direct-kl-rlhf")
def check_shift_only_direct_kl_rlhf(dps):
    outcomes = []
    for size in (2,):  # K = 3 in tests/test_cases_direct_kl.py (the derivation takes ~1 s)
        ratios = fixtures.shift_only_direct_ratios(size)
        st = derive_stationarity("direct", size)
        same = all(sp.simplify(r - ratios[0]) == 0 for r in ratios)
        outcomes.append(symbolic(same and not (ratios[0].free_symbols & set(st.pi_ref)),
                                 f"K={size}: derived pi(o) over pi_ref(o) exp(r(o)/beta'), beta' = beta G/(G-1), is one o-free factor"))
    laws = [{1: "0.9", 0: "0.1"}, {1: "0.5", 0: "0.5"}, {1: "0.2", 0: "0.8"}]
    for size, weight, reference in ((2, "0.05", ["0.000001", "0.5", "0.499999"]), (4, "0.5", ["0.2", "0.5", "0.3"]),
                                    (16, "3", ["0.999998", "0.000001", "0.000001"])):
        problem = Problem(reference=reference, rewards=laws, group_size=size, beta=weight, normalisation="shift", penalty="direct")
        outcomes.append(agreement(list(stationary_policy(problem, dps)), list(fixtures.rlhf_policy(problem, dps)), dps,
                                  what=f"solver vs RLHF (4) at beta'=beta G/(G-1), G={size}, beta={weight}, pi_ref={reference}"))
    return combine(outcomes)


# --- slips 8 and 10 --------------------------------------------------------------------------------


@check("slip-8")
def check_slip_8(dps):
    outcomes = []
    root = 1 / (sp.sqrt(p_old) * sp.sqrt(1 - p_old))
    for rewards in ("ranked", "reversed"):
        a, b = (law.mean for law in binary.binary_problem(sp.oo, rewards).rewards)
        slope = direct_kl.large_group_reward_slope(rewards)
        corrected = sp.sign(a - b) * root
        printed = paper.printed_b2_sign(a, b) * root
        outcomes.append(symbolic(sp.simplify(slope - corrected) == 0, f"{rewards}: reward slope {slope} = sign(r(a) - r(b))/sqrt(p_o(1-p_o))"))
        outcomes.append(symbolic((sp.simplify(slope - printed) == 0) == (rewards == "ranked"),
                                 f"{rewards}: printed sign(r(a) > r(b)) gives {printed} ({'agrees' if rewards == 'ranked' else 'wrong: a truth value has no sign -1'})"))
    h = direct_kl.h()
    u = direct_kl.odds_root
    outcomes.append(symbolic(sp.limit(direct_kl.h_in_odds_root(), u, 0, "+") is sp.oo and sp.limit(direct_kl.h_in_odds_root(), u, sp.oo) is sp.oo,
                             "one-sided limits: h -> +oo as x decreases to 0 and as x increases to 1"))
    outside = [h.subs({x: sp.Rational(v), rho: sp.Rational(1, 2), beta: 1}).evalf(20) for v in ("-0.1", "1.1")]
    outcomes.append(symbolic(all(not v.is_real for v in outside), f"h is not real for x < 0 or x > 1 ({outside}): only x -> 0+ and x -> 1- make sense"))
    ends = [h.subs({x: v, rho: sp.Rational(1, 2), beta: 1}) for v in (0, 1)]
    outcomes.append(symbolic(all(v.is_finite is not True for v in ends), f"h is undefined at x = 0 and x = 1 (SymPy gives {ends}): h > 0 holds on (0, 1), not [0, 1]"))
    with working_precision(dps):
        grows = [_value(h, {x: 1 - sp.Rational(1, 10**k), rho: sp.Rational(1, 2), beta: 1}, dps) for k in (4, 8, 16)]
    outcomes.append(symbolic(grows[0] < grows[1] < grows[2], f"h(1 - 10^-k), k = 4, 8, 16: {[mpx.nstr(v, 6) for v in grows]} increases (SymPy 1.14's limit(h, x, 1, '-') wrongly gives -oo; the u-coordinate limit is used)"))
    return combine(outcomes)


@check("slip-10")
def check_slip_10(dps):
    t = direct_kl.logit_old
    mapped = direct_kl.best_response_logit()
    in_t = direct_kl.h_in_odds_root().subs(direct_kl.odds_root, sp.exp(t / 2))
    outcomes = [symbolic(sp.simplify(sp.expand(mapped - t - in_t)) == 0,
                         "best response in logit t: T(t) - t = h(x(t)), so its fixed points are the zeros of h and "
                         "T'(t) - 1 has the sign of h': > 1 at the larger zero (repelling), < 1 at the smaller")]
    slope = mp_lambdify((t, beta), sp.diff(mapped, t))
    for ref, weight in LARGE_BETA[:2]:
        points = stationary_policies(direct_kl.numeric_binary_problem(ref, weight, "inf"), dps)
        smaller, larger = (pt.policy[0] for pt in points)
        outcomes.append(symbolic([pt.stable for pt in points] == [True, False],
                                 f"rho={ref}, beta={weight}: solver's stability of the two zeros {[pt.stable for pt in points]}, expected [True, False]"))
        with working_precision(dps, guard=0):
            rates = [abs(slope(mpx.log(z / (1 - z)), _rational_mpf(_rational(weight)))) for z in (smaller, larger)]
        outcomes.append(agreement([pt.spectral_radius for pt in points], rates, 12, margin=2,
                                  what=f"solver's spectral radius vs |T'| at the zeros, 10 digits (the solver's spectral radius is a "
                                       f"float64 eigenvalue, not --dps digits), rho={ref}, beta={weight}"))
        offset = mpx.mpf(10) ** -10
        above = direct_kl.iterate_best_response(ref, weight, larger + offset, dps=dps)
        below = direct_kl.iterate_best_response(ref, weight, larger - offset, dps=dps)
        outcomes.append(symbolic(1 - above[-1] < mpx.mpf(10) ** (-dps + 5) and all(u < v for u, v in zip(above, above[1:])),
                                 f"from the larger zero + 1e-10 the iterates increase to pi(a) = 1 ({len(above) - 1} updates)"))
        outcomes.append(agreement(below[-1], smaller, dps, what=f"from the larger zero - 1e-10, {len(below) - 1} updates reach the smaller zero"))
    # Refinement: the smaller zero is attracting only while T'(t) > -1 there; with pi_ref(a) small it can fail.
    points = stationary_policies(direct_kl.numeric_binary_problem("0.01", "1", "inf"), dps)
    with working_precision(dps, guard=0):
        rate = slope(mpx.log(points[0].policy[0] / (1 - points[0].policy[0])), mpx.mpf(1))
    outcomes.append(symbolic(rate < -1 and points[0].stable is False,
                             f"refinement: rho=0.01, beta=1: T' = {mpx.nstr(rate, 6)} < -1 at the smaller zero, which is then also repelling (oscillating)"))
    return combine(outcomes)
