"""Checks of Section 2.3.1 and Appendix B.1 (binary questions), and of slips 5–7 of notes.md.

The left sides come from :mod:`grpo_symbolic.cases.binary` (derived from the model: engine P_G →
J(p; p_o) → dJ/dp at p_o = p → polynomial → root selected by the sign condition) and, as a second
and independent route, from the numeric solver on the same numeric Problem.  The right sides are
the paper's printed forms, read from :mod:`grpo_symbolic.paper.forms` at run time (so a changed
form is seen).  Symbolic verdicts where SymPy decides; numbers at the run's precision at points
with π_ref(a) = 1e-6 and 0.999999, β = 0.01 and 10, γ = 0.05; properties on dense grids.
"""

import itertools

import mpmath  # noqa: F401  (doctests)
import sympy as sp

from grpo_symbolic.paper import forms as paper_forms
from grpo_symbolic.cases import binary
from grpo_symbolic.cases.binary import (admissible_root, floor_g2, floor_large_g, margin_rewards, on_unit_interval,
                                        policy_g2, policy_large_g, q_a, q_b, slope_sign)
from paper_checks.fixtures import solver_policy
from grpo_symbolic.theory.algebra import evaluate, is_zero
from grpo_symbolic.numerics.precision import mp_lambdify, mpx, to_mpf, working_precision
from grpo_symbolic.numerics.roots import bracketed_newton
from grpo_symbolic.preference.engine import preference_numeric
from grpo_symbolic.theory.objective import derive_stationarity
from grpo_symbolic.model.problem import Problem
from grpo_symbolic.model.symbols import beta, delta, gamma, p, p_old, rho

from paper_checks.registry import agreement, check, combine, disagreement, symbolic

R = sp.Rational
TINY, NEAR_ONE = R(1, 10**6), R(999999, 10**6)
#: (ρ, β, γ) for G = 2: π_ref near 0 and 1, β small and large, γ small.
G2_POINTS = ((TINY, R(1, 2), 1), (NEAR_ONE, R(1, 2), 1), (R(3, 10), R(1, 100), 1), (R(3, 10), 10, 1),
             (R(3, 10), R(1, 2), R(1, 20)), (TINY, 10, R(1, 20)), (NEAR_ONE, R(1, 100), R(1, 20)))
#: (ρ, β) for G → ∞.
LARGE_POINTS = ((TINY, R(1, 2)), (NEAR_ONE, R(1, 2)), (R(3, 10), R(1, 100)), (R(3, 10), 10),
                (TINY, 10), (NEAR_ONE, R(1, 100)))
#: (p, p_o) for the reward terms.
TERM_POINTS = ((R(7, 10), TINY), (TINY, NEAR_ONE), (NEAR_ONE, R(3, 10)), (R(1, 2), R(1, 2)))
GRID_RHO = (TINY, R(1, 1000), R(1, 10), R(3, 10), R(1, 2), R(7, 10), R(9, 10), R(999, 1000), NEAR_ONE)
GRID_BETA = (R(1, 100), R(1, 10), R(1, 2), 1, 2, 10)
GRID_GAMMA = (R(1, 20), R(1, 2), 1)
ratio = sp.Symbol("c", positive=True)  # β/γ


def _vanishing(dps):
    """10^-(dps+10): small enough that a limit is reached to the run's precision."""
    return R(1, 10 ** (dps + 10))


def _g2(point):
    return dict(zip((rho, beta, gamma), point))


def _large(point):
    return dict(zip((rho, beta), point))


def _values(expr, points):
    return [evaluate(expr, pt) for pt in points]


def _lhs_minus_rhs(equation):
    return equation.lhs - equation.rhs


def _grid(expr, symbols, grid):
    """``expr`` on every point of the product ``grid`` (one tuple per symbol), with guard digits."""
    function = mp_lambdify(symbols, expr)
    with working_precision(mpx.dps):
        return [function(*map(to_mpf, pt)) for pt in itertools.product(*grid)]


def _all_positive(values, what):
    worst = min(values)
    return symbolic(worst > 0, f"{what}: {len(values)} grid points, smallest {mpx.nstr(worst, 5)}")


def _solver_g2(point):
    r, b, g = point
    return solver_policy(2, r, b, margin_rewards(g), mpx.dps)


def _solver_large(point):
    r, b = point
    return solver_policy(sp.oo, r, b, (1, 0), mpx.dps)


# --- G = 2 ---------------------------------------------------------------------------------------


@check("eq16")
def check_eq16(dps):
    derived, paper = binary.reward_term_g2(), paper_forms.REWARD_TERM_EQ16
    points = [{p: a, p_old: b, gamma: g} for (a, b), g in itertools.product(TERM_POINTS, (1, R(1, 20)))]
    numeric = []  # the engine's numeric P_2 on numeric problems, a route without symbols
    for (a, b), g in itertools.product(TERM_POINTS, (1, R(1, 20))):
        prob = Problem(reference=(R(1, 2), R(1, 2)), rewards=[dict(law) for law in margin_rewards(g)], group_size=2, beta=1)
        pa, pb = preference_numeric(prob, (b, 1 - b), dps)
        numeric.append(to_mpf(a) * pa + to_mpf(1 - a) * pb)
    return combine(symbolic(is_zero(derived - paper), f"derived {derived} == printed {paper}"),
                   agreement(_values(derived, points), _values(paper, points), dps, what="symbolic route at 8 (p, p_o, gamma)"),
                   agreement(numeric, _values(paper, points), dps, what="numeric P_2 at the same points"))


@check("eq17")
def check_eq17(dps):
    derived, printed = binary.stationarity_g2(), _lhs_minus_rhs(paper_forms.STATIONARITY_EQ17)
    points = [{p: x, **_g2(pt)} for x, pt in zip((R(1, 3), R(9, 10), TINY, NEAR_ONE, R(1, 2), R(2, 3), R(1, 7)), G2_POINTS)]
    # dJ/dp by mpmath differentiation of J(., p_o) at p = p_o: the derivative step without SymPy
    objective = binary.objective_binary(2)
    numeric = []
    for pt in points:
        fixed = objective.subs({k: v for k, v in pt.items() if k is not p}).subs(p_old, pt[p])
        f = mp_lambdify(p, fixed)
        with working_precision(dps):
            numeric.append(mpx.diff(f, to_mpf(pt[p])))
    return combine(symbolic(is_zero(derived + printed), f"dJ/dp at p_o = p is rhs - lhs of (17): {derived}"),
                   agreement(_values(derived, points), _values(-printed, points), dps, what="dJ/dp vs (17) at 7 points"),
                   agreement(numeric, _values(-printed, points), dps, what="mpmath.diff of J at p = p_o"))


def eq14_comparison(dps, normalisation="population"):
    """(14) against the model with ``normalisation`` (the paper: population std) and the solver."""
    quadratic, derived = binary.quadratic_g2(normalisation), binary.policy_g2(normalisation)
    paper = paper_forms.POLICY_EQ14
    other = [r for r in sp.solve(quadratic, p) if r != derived]
    points = [_g2(pt) for pt in G2_POINTS]
    return combine(
        symbolic(is_zero(quadratic - paper_forms.QUADRATIC_EQ17), f"quadratic from (17) == printed: {quadratic}"),
        symbolic(is_zero(derived - paper), "the root selected by p > rho == (14)"),
        symbolic(len(other) == 1 and sp.Poly(quadratic, p).nth(0).is_negative,
                 "the other root is negative (product of the roots -beta rho/gamma < 0): (14) is the only root in [0, 1]"),
        agreement(_values(derived, points), _values(paper, points), dps, what="derived vs (14) at 7 (rho, beta, gamma)"),
        agreement([_solver_g2(pt) for pt in G2_POINTS], _values(paper, points), dps, what="solver vs (14)"),
    )


@check("eq14-binary-g2")
def check_eq14_binary_g2(dps):
    return eq14_comparison(dps)


@check("eq14-tie")
def check_eq14_tie(dps):
    derived = admissible_root(2, "tie")
    term = binary.reward_term(2, "tie")
    points = (TINY, NEAR_ONE)
    solved = [solver_policy(2, r, R(1, 2), margin_rewards(0), dps) for r in points]
    limit = sp.limit(paper_forms.POLICY_EQ14, gamma, 0, "+")
    return combine(symbolic(term == 0 and derived == rho, f"equal reward laws: reward term {term}, stationary p = {derived}"),
                   symbolic(limit == rho, f"(14) as gamma -> 0+: {limit}"),
                   agreement(solved, list(points), dps, what="solver with q_a = q_b = 1/2 vs pi_ref(a)"))


@check("eq14-ratio-only")
def check_eq14_ratio_only(dps):
    derived = binary.tidy(binary.policy_g2().subs(beta, ratio * gamma))
    quadratic = binary.tidy(binary.quadratic_g2().subs(beta, ratio * gamma))
    printed = binary.tidy(paper_forms.POLICY_EQ14.subs(beta, ratio * gamma))
    scaled = [(R(3, 10), R(1, 2), R(1, 20)), (R(3, 10), 10, 1)]  # beta/gamma = 10 for both
    return combine(symbolic(derived.free_symbols <= {ratio, rho} and quadratic.free_symbols <= {ratio, rho, p},
                            f"with beta = c gamma the derived root and quadratic are free of gamma: {derived}"),
                   symbolic(printed.free_symbols <= {ratio, rho}, "and so is (14)"),
                   agreement(_solver_g2(scaled[0]), _solver_g2(scaled[1]), dps,
                             what="solver at (beta, gamma) = (1/2, 1/20) vs (10, 1)"))


@check("eq14-monotone")
def check_eq14_monotone(dps):
    derived = binary.policy_g2()
    signs = {v: slope_sign(2, v) for v in (beta, gamma, rho)}
    outcomes = [symbolic(signs == {beta: -1, gamma: 1, rho: 1},
                         f"implicit differentiation of the quadratic at the root: signs {signs}")]
    grid = (GRID_RHO, GRID_BETA, GRID_GAMMA)
    for v, sign in {beta: -1, gamma: 1, rho: 1}.items():  # the printed (14) on the grid
        slopes = _grid(sign * sp.diff(paper_forms.POLICY_EQ14, v), (rho, beta, gamma), grid)
        outcomes.append(_all_positive(slopes, f"{'-' if sign < 0 else ''}d(14)/d{v}"))
    point = _g2((R(3, 10), R(1, 2), R(1, 20)))
    explicit = [evaluate(sp.diff(derived, v), point) for v in signs]
    implicit = [evaluate(binary.implicit_derivative(2, v).subs(p, derived), point) for v in signs]
    outcomes.append(agreement(explicit, implicit, dps, what="explicit vs implicit derivatives"))
    return combine(outcomes)


@check("eq14-limits")
def check_eq14_limits(dps):
    vanishing = _vanishing(dps)
    derived, printed = binary.policy_g2(), paper_forms.POLICY_EQ14
    limits = [sp.limit(e, beta, 0, "+") for e in (derived, printed)] + [sp.limit(e, beta, sp.oo) for e in (derived, printed)]
    near = [(R(3, 10), vanishing, 1), (TINY, vanishing, R(1, 20)),
            (R(3, 10), 1 / vanishing, 1), (NEAR_ONE, 1 / vanishing, R(1, 20))]
    values = _values(derived, [_g2(pt) for pt in near])
    return combine(symbolic(limits == [1, 1, rho, rho], f"beta -> 0+: {limits[:2]}; beta -> oo: {limits[2:]}"),
                   agreement(values, [1, 1, R(3, 10), NEAR_ONE], dps, what="(14) at beta = 10^-(dps+10) and 10^(dps+10)"))


@check("eq14-sqrt")
def check_eq14_sqrt(dps):
    derived = binary.policy_g2().subs(beta, gamma)
    printed = paper_forms.POLICY_EQ14.subs(beta, gamma)
    points = [(TINY, 1, 1), (R(3, 10), R(1, 20), R(1, 20)), (NEAR_ONE, R(1, 2), R(1, 2))]
    solved = [_solver_g2(pt) for pt in points]
    return combine(symbolic(is_zero(derived - sp.sqrt(rho)) and is_zero(printed - sp.sqrt(rho)),
                            f"derived at beta = gamma: {derived}; printed: {printed}"),
                   agreement(_values(derived, [_g2(pt) for pt in points]), [sp.sqrt(pt[0]) for pt in points], dps,
                             what="derived at beta = gamma"),
                   agreement(solved, [sp.sqrt(pt[0]) for pt in points], dps, what="solver at beta = gamma"))


def _branches(expr):
    """``expr`` with β = γt for t < 1 (t = s/(1+s)), and for t > 1 (t = 1 + s), s > 0."""
    s = sp.Dummy("s", positive=True)
    return [sp.simplify(expr.subs(beta, gamma * t)) for t in (s / (1 + s), 1 + s)], s


@check("eq14-jump")
def check_eq14_jump(dps):
    vanishing = _vanishing(dps)
    limit = floor_g2()
    (below, above), s = _branches(limit)
    at_zero = derive_stationarity("grpo").policy[0]
    rho_1 = derive_stationarity("grpo").pi_ref[0]
    printed_limit = sp.limit(paper_forms.POLICY_EQ14, rho, 0, "+")
    near = [(vanishing, R(1, 2), 1), (vanishing, R(1, 40), R(1, 20)), (vanishing, 2, 1)]
    expected = [R(1, 2), R(1, 2), 0]
    return combine(
        symbolic(is_zero(below - 1 / (1 + s)) and below.is_positive and above == 0,
                 f"lim rho->0+ = {limit}: 1 - beta/gamma > 0 when beta < gamma (a jump), 0 when beta > gamma"),
        symbolic(is_zero(printed_limit - limit), "(14) has the same limit"),
        symbolic(at_zero.subs(rho_1, 0) == 0, f"at pi_ref(a) = 0 the stationary form {at_zero} gives pi(a) = 0"),
        agreement(_values(binary.policy_g2(), [_g2(pt) for pt in near]), expected, dps, scale=1,
                  what="(14) at rho = 10^-(dps+10) vs max(1 - beta/gamma, 0)"),
        agreement(_solver_g2((vanishing, R(1, 2), 1)), R(1, 2), dps, what="solver at rho = 10^-(dps+10), beta/gamma = 1/2"))


@check("eq14-bound")
def check_eq14_bound(dps):
    quadratic, derived = binary.quadratic_g2(), binary.policy_g2()
    gap = binary.sign_condition(2)
    at_floor = sp.factor(quadratic.subs(p, paper_forms.FLOOR_G2))
    grid = (GRID_RHO, GRID_BETA, GRID_GAMMA)
    above_rho = _grid(derived - rho, (rho, beta, gamma), grid)
    above_floor = _grid(derived - paper_forms.FLOOR_G2, (rho, beta, gamma), grid)
    return combine(symbolic(on_unit_interval(gap, p).is_positive, f"p - rho = {gap} > 0 at the stationary p"),
                   symbolic(at_floor.is_negative, f"Q(1 - beta/gamma) = {at_floor} < 0, so 1 - beta/gamma < root"),
                   _all_positive(above_rho, "(14) - pi_ref(a)"),
                   _all_positive(above_floor, "(14) - (1 - beta/gamma)"))


@check("eq14-rank-only")
def check_eq14_rank_only(dps):
    problem = binary.binary_problem(2, "ranked")
    term, derived = binary.reward_term(2, "ranked"), admissible_root(2, "ranked")
    cases = [((R(3, 10), R(1, 2)), (1, 0)), ((R(3, 10), R(1, 2)), (5, -3)), ((R(3, 10), R(1, 2)), (R(7, 2), R(1, 2))),
             ((TINY, 10), (5, -3))]
    solved = [solver_policy(2, *point, rewards, dps) for point, rewards in cases]
    printed = [evaluate(paper_forms.POLICY_EQ14, {**_large(point), gamma: 1}) for point, _ in cases]
    return combine(symbolic(binary.margin(problem) == 1, f"r(a) = r_b + Delta, r(b) = r_b: margin {binary.margin(problem)}"),
                   symbolic(is_zero(term - binary.reward_term_g2().subs(gamma, 1)), f"reward term {term}: (16) with gamma = 1"),
                   symbolic(is_zero(derived - paper_forms.POLICY_EQ14.subs(gamma, 1)), "stationary p is (14) with gamma = 1"),
                   agreement(solved, printed, dps, what="solver with rewards (1, 0), (5, -3), (7/2, 1/2) vs (14), gamma = 1"))


# --- G → ∞ ---------------------------------------------------------------------------------------


@check("eq18")
def check_eq18(dps):
    derived, reversed_, paper = binary.reward_term_large_g(), binary.reward_term_large_g("reversed"), paper_forms.REWARD_TERM_EQ18
    points = [{p: a, p_old: b} for a, b in TERM_POINTS]
    numeric = []  # the engine's numeric large-group P on r = (5, -3)
    for a, b in TERM_POINTS:
        pa, pb = preference_numeric(Problem(reference=(R(1, 2), R(1, 2)), rewards=(5, -3), group_size="inf", beta=1), (b, 1 - b), dps)
        numeric.append(to_mpf(a) * pa + to_mpf(1 - a) * pb)
    return combine(symbolic(is_zero(derived - paper), f"r(a) = r_b + Delta > r(b): {derived}"),
                   symbolic(is_zero(reversed_ + paper), f"r(a) < r(b): {reversed_} (the sign flips)"),
                   agreement(_values(derived, points), _values(paper, points), dps, what="symbolic route at 4 (p, p_o)"),
                   agreement(numeric, _values(paper, points), dps, what="numeric large-group P, rewards (5, -3)"))


def _monic(polynomial):
    return sp.Poly(polynomial, p).monic().as_expr()


@check("eq19")
def check_eq19(dps):
    cleared = binary.cleared_stationarity(sp.oo, "ranked")
    printed = _lhs_minus_rhs(paper_forms.STATIONARITY_EQ19)
    quadratic = binary.quadratic_large_g()
    points = [{p: x, **_large(pt)} for x, pt in zip((R(1, 3), R(9, 10), TINY, NEAR_ONE, R(1, 2), R(2, 3)), LARGE_POINTS)]
    ratio_ = sp.cancel(cleared / printed)
    return combine(symbolic(ratio_ == -1, f"p(1 - p) dJ/dp at p_o = p = rhs - lhs of (19) (ratio {ratio_})"),
                   symbolic(is_zero(quadratic - paper_forms.QUADRATIC_EQ19), f"(19) squared == printed quadratic: {quadratic}"),
                   agreement(_values(cleared, points), _values(-printed, points), dps, what="p(1-p) dJ/dp vs (19) at 6 points"),
                   agreement(_values(quadratic, points), _values(paper_forms.QUADRATIC_EQ19, points), dps, scale=1,
                             what="squared quadratic vs printed at 6 points"))


@check("eq15-binary-large-g")
def check_eq15_binary_large_g(dps):
    quadratic, derived, paper = binary.quadratic_large_g(), policy_large_g(), paper_forms.POLICY_EQ15
    gap = binary.sign_condition(sp.oo, "ranked")
    at_rho = on_unit_interval(quadratic.subs(p, rho), rho)
    points = [_large(pt) for pt in LARGE_POINTS]
    return combine(
        symbolic(on_unit_interval(gap, p).is_positive and at_rho.is_negative,
                 f"(19) forces p - rho = {gap} > 0 and Q(rho) < 0: only the larger root is admissible"),
        symbolic(is_zero(derived - paper), "the admissible root == (15)"),
        agreement(_values(derived, points), _values(paper, points), dps, what="derived vs (15) at 6 (rho, beta)"),
        agreement([_solver_large(pt) for pt in LARGE_POINTS], _values(paper, points), dps, what="solver vs (15)"))


@check("eq15-tie")
def check_eq15_tie(dps):
    term, derived = binary.reward_term(sp.oo, "equal"), admissible_root(sp.oo, "equal")
    points = (TINY, R(3, 10), NEAR_ONE)
    solved = [solver_policy(sp.oo, r, R(1, 2), (1, 1), dps) for r in points]
    return combine(symbolic(term == 0 and derived == rho, f"r(a) = r(b) = r_b: reward term {term}, stationary p = {derived}"),
                   agreement(solved, list(points), dps, what="solver with rewards (1, 1) vs pi_ref(a)"))


@check("eq15-bound")
def check_eq15_bound(dps):
    vanishing = _vanishing(dps)
    derived, limit = policy_large_g(), floor_large_g()
    gap = binary.sign_condition(sp.oo, "ranked")
    at_zero = derive_stationarity("grpo")
    grid = (GRID_RHO, GRID_BETA)
    return combine(
        symbolic(slope_sign(sp.oo, rho, "ranked") == 1 and on_unit_interval(gap, p).is_positive,
                 "p increases in rho (implicit differentiation) and p > rho, so inf_rho p = lim_{rho->0+} p"),
        symbolic(is_zero(limit - paper_forms.FLOOR_LARGE_G), f"lim rho->0+ of (15) = {limit} == printed floor"),
        symbolic(limit.is_positive and at_zero.policy[0].subs(at_zero.pi_ref[0], 0) == 0,
                 "the floor is > 0 for every beta > 0 while pi(a) = 0 at pi_ref(a) = 0: a jump for every beta"),
        _all_positive(_grid(derived - rho, (rho, beta), grid), "(15) - pi_ref(a)"),
        _all_positive(_grid(derived - paper_forms.FLOOR_LARGE_G, (rho, beta), grid), "(15) - 1/(1 + beta^2)"),
        agreement(_solver_large((vanishing, R(1, 2))), paper_forms.FLOOR_LARGE_G.subs(beta, R(1, 2)), dps,
                  what="solver at rho = 10^-(dps+10), beta = 1/2 vs the floor"))


def _positive_for_positive_beta(expr):
    """True when SymPy shows ``expr`` > 0 for every β > 0 (no positive real root of the numerator or denominator)."""
    numerator, denominator = sp.fraction(sp.together(expr))
    for part in (numerator, denominator):
        poly = sp.Poly(part, beta)
        if any(r > 0 for r in poly.real_roots()) or not part.subs(beta, 1).is_positive:
            return False
    return True


@check("eq15-vs-g2")
def check_eq15_vs_g2(dps):
    derived = floor_large_g() - floor_g2().subs(gamma, 1)
    s = sp.Dummy("s", positive=True)
    small, large = (sp.factor(sp.simplify(derived.subs(beta, b))) for b in (s / (1 + s), 1 + s))
    printed = paper_forms.FLOOR_LARGE_G - paper_forms.FLOOR_G2.subs(gamma, 1)
    values = _grid(printed, (beta,), ((R(1, 1000), R(1, 100), R(1, 10), R(1, 2), R(9, 10), 1, 2, 10, 1000),))
    return combine(symbolic(small.is_positive and large.is_positive,
                            f"derived floors: difference {small} (beta < 1), {large} (beta > 1)"),
                   symbolic(_positive_for_positive_beta(printed), f"printed: {sp.factor(printed)} > 0 for all beta > 0"),
                   _all_positive(values, "1/(1 + beta^2) - (1 - beta)"))


@check("trl-default-floors")
def check_trl_default_floors(dps):
    vanishing = _vanishing(dps)
    b = paper_forms.TRL_BETA
    floors = (floor_g2().subs({beta: b, gamma: 1}), floor_large_g().subs(beta, b))
    printed = (paper_forms.TRL_FLOOR_G2, paper_forms.TRL_FLOOR_LARGE_G)
    solved = [solver_policy(2, vanishing, b, (1, 0), dps), solver_policy(sp.oo, vanishing, b, (1, 0), dps)]
    return combine(symbolic(floors == printed, f"exact floors at beta = {b}: {floors} == printed {printed}"),
                   symbolic(mpx.nstr(evaluate(floors[1], {}), 6) == "0.998403", "1/1.0016 ~ 0.998403"),
                   agreement(solved, list(printed), dps, what="solver at rho = 10^-(dps+10) (G = 2, G -> oo)"))


# --- slips 5–7 -----------------------------------------------------------------------------------


@check("slip-5")
def check_slip_5(dps):
    general = sp.Poly(binary.cleared_stationarity(2, "noisy"), p)
    tie = sp.Poly(binary.cleared_stationarity(2, "tie"), p)
    printed_at_zero = paper_forms.QUADRATIC_EQ17.subs(gamma, 0)
    lead = sp.cancel(general.LC() / (q_a - q_b))
    return combine(
        symbolic(general.degree() == 2 and lead.is_number and lead != 0,
                 f"coefficient of p^2 = {general.LC()}: a quadratic exactly when gamma = q_a - q_b != 0"),
        symbolic(tie.degree() == 1 and admissible_root(2, "tie") == rho,
                 f"gamma = 0: the condition is linear, {tie.as_expr()} = 0, root pi_ref(a)"),
        symbolic(printed_at_zero.has(sp.zoo, sp.nan), f"the printed quadratic at gamma = 0 is undefined: {printed_at_zero}"),
        symbolic(is_zero(binary.quadratic_g2() - paper_forms.QUADRATIC_EQ17), "for gamma != 0 it is the printed quadratic"))


def _without_square_roots(expr):
    """``expr`` with every sqrt(x) replaced by x (x^(k/2) → x^k)."""
    return expr.replace(lambda e: e.is_Pow and e.exp.is_Rational and e.exp.q == 2, lambda e: e.base ** (2 * e.exp))


@check("slip-6")
def check_slip_6(dps):
    point = (R(3, 10), 2)
    values, solved = _large(point), _solver_large(point)
    # variant A: the std without its square root (the variance) in the model
    variance_root = admissible_root(sp.oo, "ranked", "variance")
    # variant B: (19) printed without its square root, then solved like (19)
    variant_b = _without_square_roots(_lhs_minus_rhs(paper_forms.STATIONARITY_EQ19))
    root_b = policy_g2().subs(gamma, 1)  # its polynomial is the G = 2 one, and p > rho again selects (14)
    return combine(
        agreement(evaluate(paper_forms.POLICY_EQ15, values), solved, dps, what="with the square root: (15) vs solver"),
        symbolic(sp.Poly(binary.cleared_stationarity(sp.oo, "ranked", "variance"), p).degree() == 1,
                 f"variance-normalised: the condition is linear, root {variance_root}, not (15)"),
        disagreement(evaluate(variance_root.subs(delta, 1), values), solved, dps, what="variance-normalised root vs solver"),
        symbolic(is_zero(_monic(variant_b) - binary.quadratic_g2().subs(gamma, 1)),
                 "(19) without the root is the G = 2 quadratic (gamma = 1): it gives (14), not (15)"),
        disagreement(evaluate(root_b, values), solved, dps, what="root of (19) without the square root vs solver"),
        disagreement(evaluate(_without_square_roots(paper_forms.REWARD_TERM_EQ18), {p: R(9, 10), p_old: R(3, 10)}),
                 evaluate(binary.reward_term_large_g(), {p: R(9, 10), p_old: R(3, 10)}), dps,
                 what="(18) without the root vs derived reward term"))


@check("slip-7")
def check_slip_7(dps):
    engine, total = binary.variance_large_g_noisy(), binary.total_variance_noisy()
    printed = paper_forms.SIGMA_SQUARED_APP_B1.subs(delta, q_a - q_b)
    excess = on_unit_interval(sp.expand(engine - printed), q_a, q_b, p_old)
    laws, point = (R(9, 10), R(1, 5)), (R(3, 10), R(1, 2))
    noisy = tuple(tuple((v, law[v]) for v in law) for law in map(binary.bernoulli, laws))
    solved = solver_policy(sp.oo, *point, noisy, dps)
    corrected = binary.stationarity(sp.oo, "noisy").subs({q_a: laws[0], q_b: laws[1], **_large(point)})
    f = mp_lambdify(p, corrected)
    with working_precision(dps):
        root = bracketed_newton(f, mpx.mpf(3) / 10, 1 - mpx.mpf(10) ** -30, what="the noisy stationarity's root")
    return combine(
        symbolic(is_zero(engine - total), f"engine sigma^2 = Delta^2 p(1-p) + p v_a + (1-p) v_b: {sp.factor(engine)}"),
        symbolic(excess.is_positive, "it exceeds the printed Delta^2 p_o (1 - p_o) whenever q_a, q_b lie in (0, 1)"),
        symbolic(is_zero((engine - printed).subs({q_a: 1, q_b: 0})), "they agree for deterministic rewards (q_a = 1, q_b = 0)"),
        disagreement(evaluate(paper_forms.POLICY_EQ15, _large(point)), solved, dps, what="(15) vs solver, Bernoulli(0.9), Bernoulli(0.2)"),
        agreement(root, solved, dps, what="root of the derived noisy stationarity vs solver"))
