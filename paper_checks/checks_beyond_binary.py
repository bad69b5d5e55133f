"""Beyond-the-paper checks on binary questions: shift-only advantages with GRPO's own penalty, and
reward noise at G → ∞ (notes.md "Beyond the paper" and slip 7).

Left sides are derived from the model by :mod:`grpo_symbolic.cases.binary` (engine P_G → J(p; p_o)
→ dJ/dp at p_o = p → polynomial → admissible root) and :mod:`grpo_symbolic.cases.shift_only`
(symbolic-G shift pattern → :func:`~grpo_symbolic.theory.objective.derive_stationarity`); right sides are
the forms of :mod:`grpo_symbolic.paper.forms` (or the notes' forms typed once in ``shift_only``);
the numeric solver is the independent route.  Points include π_ref near 0 and 1, small and large β.
"""

import sympy as sp

from grpo_symbolic.paper import forms as paper_forms
from grpo_symbolic.cases import binary, general, shift_only
from paper_checks import fixtures
from grpo_symbolic.theory import algebra
from grpo_symbolic.theory.algebra import evaluate, is_zero
from grpo_symbolic.numerics.precision import mp_lambdify, mpx, to_mpf, working_precision
from grpo_symbolic.numerics.roots import bracketed_newton
from grpo_symbolic.theory.objective import derive_stationarity
from grpo_symbolic.preference.engine import large_group_preference
from grpo_symbolic.model.problem import Problem
from grpo_symbolic.solve.api import stationary_policy
from grpo_symbolic.model.symbols import G, beta, delta, gamma, p, pi_o, pi_ref_o, r_mean, r_o, rho, sigma

from paper_checks.registry import agreement, check, combine, disagreement, symbolic

R = sp.Rational
TINY, NEAR_ONE = R(1, 10**6), R(999999, 10**6)
n = shift_only.group_excess

#: (G, ρ, β, (r(a), r(b))) for shift-only + GRPO penalty; reward gaps Δ = 2, 8 and 1/10.
SHIFT_POINTS = ((2, TINY, R(1, 20), (3, 1)), (3, R(3, 10), R(1, 2), (3, 1)), (8, NEAR_ONE, 2, (3, 1)),
                (64, R(3, 10), 20, (3, 1)), (3, R(1, 2), R(1, 100), (5, -3)), (64, TINY, R(1, 20), (R(1, 10), 0)))
#: The first SHIFT_POINTS also solved numerically (G = 2, 3, 8, 64).
SHIFT_SOLVED = 4
#: Three outputs with stochastic rewards (one with three values): (G, π_ref, β).
THREE_LAWS = ({1: "0.9", 0: "0.1"}, {0: "0.3", 1: "0.4", 2: "0.3"}, {1: "0.2", 0: "0.8"})
THREE_POINTS = ((5, ("0.000001", "0.3", "0.699999"), "0.25"), (64, ("0.999998", "0.000001", "0.000001"), "2"))

#: Bernoulli(0.9) vs Bernoulli(0.2) (Δ = 0.7, v_a = 0.09, v_b = 0.16), and the two-point laws
#: 4 ± 1, 1 ± 2 (Δ = 3, v_a = 1, v_b = 4).
BERNOULLI = (R(9, 10), R(1, 5))
SPREAD = {delta: 3, binary.r_b: 1, binary.v_a: 1, binary.v_b: 4}
#: (ρ, β) for G → ∞ with noise: π_ref near 0 and 1, β = 0.04 (TRL) to 5.
NOISY_POINTS = ((TINY, R(1, 25)), (R(3, 10), R(1, 2)), (NEAR_ONE, R(1, 2)), (R(3, 10), 5), (R(1, 2), R(1, 25)))


def _laws(rewards, values):
    """Hashable numeric reward laws for :func:`fixtures.solver_policy`: a reward model at ``values``."""
    laws = binary.binary_problem(2, rewards).rewards
    return tuple(tuple((v.subs(values), q.subs(values)) for v, q in law.outcomes) for law in laws)


# --- shift-only advantages with GRPO's penalty ---------------------------------------------------


def _shift_root_at(point):
    size, ref, weight, (high, low) = point
    return {n: size - 2, rho: ref, beta: weight, delta: high - low}


@check("x-shift-only-grpo-penalty")
def check_x_shift_only_grpo_penalty(dps):
    multiplier, gaps = fixtures.shift_only_grpo_gaps(3)
    outcomes = [symbolic(multiplier == 0 and gaps == (0, 0, 0),
                         "K=3, symbolic G: derived stationarity with P_G = (1 - 1/G)(r(o) - E_pi r) has lambda = 0 and "
                         "pi(o) = pi_ref(o)/(1 - (1 - 1/G)(r(o) - E_pi r)/beta) for every output")]
    group = shift_only.SYMBOLIC_GROUP_SIZE  # G = n + 2, n >= 0
    quadratic = sp.Poly(binary.polynomial_condition(group, "ranked", "shift"), p).monic().as_expr()
    printed_quadratic = paper_forms.QUADRATIC_EQ17.subs(gamma, (1 - 1 / G) * delta)
    root = binary.admissible_root(group, "ranked", "shift")
    printed = paper_forms.SHIFT_ONLY_GRPO_BINARY
    outcomes += [
        symbolic(is_zero(quadratic - printed_quadratic.subs(G, group)),
                 "binary, G = n + 2 symbolic: the derived quadratic is B.1's with gamma -> (1 - 1/G) Delta"),
        symbolic(is_zero(root - printed.subs(G, group)),
                 f"the root selected by p > rho is (14) with gamma -> (1 - 1/G) Delta for every G >= 2: {binary.tidy(sp.expand(root.subs(n, G - 2)))}"),
    ]
    derived = [evaluate(root, _shift_root_at(pt)) for pt in SHIFT_POINTS]
    paper = [evaluate(printed, {**_shift_root_at(pt), G: pt[0]}) for pt in SHIFT_POINTS]
    solved = [fixtures.solver_policy(size, ref, weight, rewards, dps, "shift") for size, ref, weight, rewards in SHIFT_POINTS[:SHIFT_SOLVED]]
    what = "G = 2, 3, 8, 64, 3, 64 with Delta = 2, 2, 2, 2, 8, 1/10"
    outcomes += [agreement(derived, paper, dps, what=f"derived root vs (14) with gamma -> (1 - 1/G) Delta ({what})"),
                 agreement(solved, paper[:SHIFT_SOLVED], dps, what="solver (shift-only, GRPO penalty) vs the same at G = 2, 3, 8, 64")]
    for size, reference, weight in THREE_POINTS:
        problem = Problem(reference=reference, rewards=THREE_LAWS, group_size=size, beta=weight, normalisation="shift")
        outcomes.append(agreement(list(stationary_policy(problem, dps)), list(fixtures.shift_only_grpo_policy(problem, dps)), dps,
                                  what=f"3 stochastic outputs, G={size}, beta={weight}, pi_ref={reference}: solver vs fixed point of the g-form"))
    population = stationary_policy(problem.replace(normalisation="population"), dps)
    outcomes.append(disagreement(list(population), list(fixtures.shift_only_grpo_policy(problem, dps)), dps,
                                 what="control: with the std (population) the solver is off the shift-only form"))
    return combine(outcomes)


# --- reward noise at G → ∞ -------------------------------------------------------------------------


def _root_finder(equation, variance, values):
    """ρ, β ↦ the root in (ρ, 1) of rhs − lhs of the derived noisy equation (> 0 at ρ, < 0 at 1)."""
    gap = (equation.rhs - equation.lhs).subs(sigma, sp.sqrt(variance)).subs(values)
    f = mp_lambdify((p, rho, beta), gap)

    def root(ref, weight):
        dps = mpx.dps
        with working_precision(dps):
            r, b = to_mpf(ref), to_mpf(weight)
            return bracketed_newton(lambda x: f(x, r, b), r, 1 - mpx.mpf(10) ** -(dps + 10), what="the noisy root")
    return root


def _noisy_routes(rewards, values, points, dps):
    """(roots of the derived equation, solver's π(a)) at (ρ, β) ``points`` for one reward model."""
    equation, variance = binary.large_g_equation(rewards)
    root = _root_finder(equation, variance, values)
    laws = _laws(rewards, values)
    return [root(r, b) for r, b in points], [fixtures.solver_policy(sp.oo, r, b, laws, dps) for r, b in points]


def _three_output_eq13(dps):
    """(13) with noisy laws for 3 outputs: derived symbolically (σ from the laws' moments), and its
    residual at the solver's policy with π_ref(o1) = 1e-6."""
    st = derive_stationarity("grpo", 3)
    symbolic_problem = Problem(reference=THREE_POINTS[0][1], rewards=THREE_LAWS, group_size="inf", beta=1)
    simplex = {st.pi[2]: 1 - st.pi[0] - st.pi[1]}
    policy = tuple(x.subs(simplex) for x in st.pi)
    derived = general.stationarity_with_preference(large_group_preference(symbolic_problem, policy), 3)
    means = [law.mean for law in symbolic_problem.rewards]
    mean, std = algebra.expectation(policy, means), general.reward_std(symbolic_problem, policy)
    printed = [(paper_forms.STATIONARITY_EQ13.lhs - paper_forms.STATIONARITY_EQ13.rhs).subs(
        {r_o: m, r_mean: mean, sigma: std, pi_o: x, pi_ref_o: ref}) for m, x, ref in zip(means, policy, st.pi_ref)]
    same = all(is_zero(a.subs(simplex) - b) for a, b in zip(derived, printed))
    size, reference, weight = THREE_POINTS[0]
    problem = Problem(reference=reference, rewards=THREE_LAWS, group_size="inf", beta=weight)
    pi = stationary_policy(problem, dps)
    at = dict(zip(st.pi, pi))
    lhs = mp_lambdify((r_o, r_mean, sigma, beta, pi_o), paper_forms.STATIONARITY_EQ13.lhs)
    with working_precision(dps):
        values = [lhs(to_mpf(m), to_mpf(mean.subs(at)), to_mpf(std.subs(at)), to_mpf(problem.beta), x) for m, x in zip(means, pi)]
    return [symbolic(same, "K=3 noisy laws (one with 3 values): derived (11) with the engine's P_inf == (13), "
                           "sigma^2 = E_pi[r^2] - (E_pi r)^2 from the laws' moments (within-output variance included)"),
            agreement(values, [to_mpf(v) for v in problem.reference], dps,
                      what=f"(13) at the solver's pi, K=3, beta={weight}, pi_ref={reference}: (1 - (r - E r)/(beta sigma)) pi vs pi_ref")]


@check("x-stochastic-large-g")
def check_x_stochastic_large_g(dps):
    equation, variance = binary.large_g_equation("spread")
    noise = sp.collect(sp.expand(variance - delta**2 * p * (1 - p)), binary.v_b, sp.factor)
    excess = binary.on_unit_interval(noise, p)
    deterministic = variance.subs({binary.v_a: 0, binary.v_b: 0})
    at_zero = (equation.lhs - equation.rhs).subs(sigma, sp.sqrt(deterministic)) / (delta * sp.sqrt(p * (1 - p)))
    printed_19 = paper_forms.STATIONARITY_EQ19.lhs - paper_forms.STATIONARITY_EQ19.rhs
    bernoulli_equation, _ = binary.large_g_equation("noisy")
    outcomes = [
        symbolic(is_zero(variance - binary.total_variance_noisy("spread").subs(binary.p_old, p)),
                 f"derived (two-point noise): {equation.lhs} = {equation.rhs}, sigma^2 = {variance} "
                 "= Delta^2 p(1-p) + p v_a + (1-p) v_b"),
        symbolic(is_zero(at_zero - printed_19), "v_a = v_b = 0: the equation divided by Delta sqrt(p(1-p)) is (19), so (15) is exact"),
        symbolic(excess.is_positive, f"v_a, v_b > 0: sigma(p)^2 - Delta^2 p(1-p) = {noise} > 0 on (0, 1); at (15)'s root "
                                     "(where (19) holds) rhs - lhs = beta (p - rho)(Delta sqrt(p(1-p)) - sigma(p)) < 0, at p = rho it is "
                                     "Delta rho(1-rho) > 0: noise moves the root into (rho, (15))"),
        symbolic(is_zero(bernoulli_equation.lhs.subs(sigma, 1) - equation.lhs.subs(sigma, 1))
                 and is_zero(bernoulli_equation.rhs - equation.rhs.subs(delta, binary.q_a - binary.q_b)),
                 "Bernoulli(q_a), Bernoulli(q_b): the same equation with Delta = q_a - q_b"),
    ]
    bernoulli_values = dict(zip((binary.q_a, binary.q_b), BERNOULLI))
    roots, solved = _noisy_routes("noisy", bernoulli_values, NOISY_POINTS, dps)
    outcomes.append(agreement(roots, solved, dps, what="Bernoulli(0.9)/(0.2): root of the derived equation vs solver at 5 (rho, beta)"))
    spread_roots, spread_solved = _noisy_routes("spread", SPREAD, NOISY_POINTS[2:3], dps)
    outcomes.append(agreement(spread_roots, spread_solved, dps, what="laws 4 +- 1, 1 +- 2 at rho = 0.999999, beta = 1/2: root vs solver"))
    printed = [evaluate(paper_forms.POLICY_EQ15, {rho: r, beta: b}) for r, b in NOISY_POINTS]
    exact = fixtures.solver_policy(sp.oo, *NOISY_POINTS[1], BERNOULLI, dps)
    outcomes.append(agreement(exact, printed[1], dps, what="control, deterministic rewards 0.9, 0.2 (same means, v = 0) at rho = 0.3, beta = 1/2: solver vs (15)"))
    gaps = [s - f for s, f in zip(solved, printed)]
    shown = ", ".join(f"rho={mpx.nstr(to_mpf(r), 6)}, beta={b}: {mpx.nstr(g, 6)}" for (r, b), g in zip(NOISY_POINTS, gaps))
    outcomes.append(symbolic(all(g < 0 for g in gaps) and min(gaps) < -R(1, 20),
                             f"noisy pi(a) - (15) (Bernoulli 0.9/0.2): {shown}"))
    vanishing = R(1, 10 ** (dps + 10))
    equation, variance = binary.large_g_equation("noisy")
    floor_root = _root_finder(equation, variance, bernoulli_values)(vanishing, paper_forms.TRL_BETA)
    floor_solved = fixtures.solver_policy(sp.oo, vanishing, paper_forms.TRL_BETA, _laws("noisy", bernoulli_values), dps)
    outcomes.append(agreement(floor_root, floor_solved, dps,
                              what=f"floor at beta = 0.04, rho = 10^-(dps+10): noisy {mpx.nstr(floor_root, 8)} "
                                   f"vs (15)'s {mpx.nstr(to_mpf(paper_forms.TRL_FLOOR_LARGE_G), 8)}, root vs solver"))
    return combine(outcomes + _three_output_eq13(dps))
