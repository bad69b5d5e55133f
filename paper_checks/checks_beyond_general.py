"""Checks beyond the paper for general outputs: degenerate vertex points, and G = 2 with the
direct penalty as an NLHF equilibrium (notes.md, "Beyond the paper").

Every check derives its result from the model (:mod:`grpo_symbolic.cases.general` and the core
engine), decides it symbolically, and confirms it numerically at the run's precision, at awkward
points included, with a case where the statement must fail.
"""

from dataclasses import dataclass

import sympy as sp

from grpo_symbolic.paper import forms as paper_forms
from grpo_symbolic.cases import general
from grpo_symbolic.cases import baselines
from grpo_symbolic.theory.algebra import evaluate, is_zero
from grpo_symbolic.cases.baselines import tau
from grpo_symbolic.theory.penalty import kl
from grpo_symbolic.preference.engine import pairwise_preference, preference_exact
from grpo_symbolic.model.problem import Problem
from grpo_symbolic.numerics.precision import mp_lambdify, mpx, working_precision
from grpo_symbolic.numerics.roots import bracketed_newton
from grpo_symbolic.solve.api import stationary_policies
from grpo_symbolic.model.symbols import beta, indexed, pi_ref_o, pref_mean

from paper_checks.registry import agreement, check, combine, disagreement, symbolic

R = sp.Rational
TINY = R(1, 10**12)


def _number(expr):
    return evaluate(expr, {})


# --- x-vertex-kkt ------------------------------------------------------------------------------

_rho1, _rho2 = indexed("rho", 2, positive=True)
THREE_OUTPUTS = Problem(reference=[_rho1, _rho2, 1 - _rho1 - _rho2],
                        rewards=[2, {0: R(1, 2), 2: R(1, 2)}, 0], group_size=3, beta=beta)
#: (name, problem, vertex, reference points: values of the reference's symbols, awkward ones included)
VERTEX_CASES = (
    ("binary G=2, delta_a", general.binary_vertex_problem(), 0, ((TINY,), (R(3, 10),), (1 - TINY,))),
    ("3 outputs G=3, delta_a", THREE_OUTPUTS, 0, ((TINY, R(1, 2)), (R(1, 5), R(3, 10)), (1 - 2 * TINY, TINY))),
    ("3 outputs G=3, delta_b", THREE_OUTPUTS, 1, ((R(1, 5), R(1, 3)), (R(1, 2), 1 - TINY))),
)


def _reference_values(problem, point):
    symbols = sorted(set().union(*[r.free_symbols for r in problem.reference]), key=str)
    return dict(zip(symbols, point))


def _edge_slope(kkt, problem, vertex, towards, values):
    """β ↦ d/dt J(δ_a + t(e_o − e_a); δ_a) at t = 0, by numerical differentiation of the objective."""
    J = mp_lambdify((*kkt["symbols"], beta), kkt["objective"].subs(values))

    def slope(weight):
        def along(t):
            return J(*[(o == vertex) * (1 - t) + (o == towards) * t for o in range(problem.size)], weight)
        return mpx.diff(along, 0)

    return slope


@dataclass(frozen=True)
class _Vertex:
    """One vertex case: its name, problem, vertex, reference points, KKT data, other outputs and binding one."""

    name: str
    problem: Problem
    vertex: int
    points: tuple
    kkt: dict
    others: list
    best: int


def _vertex_case(name, problem, vertex, points, dps):
    kkt = general.vertex_kkt(problem, vertex)
    others = [o for o in range(problem.size) if o != vertex]
    best = max(others, key=lambda o: _number(kkt["preference"][o]))
    case = _Vertex(name, problem, vertex, points, kkt, others, best)
    outcomes = _vertex_exact(case)
    if _number(kkt["preference"][best]) >= 0:  # the vertex is not the best output: the range is empty
        return outcomes + [_empty_range(case)]
    return outcomes + _edge_range(case, dps)


def _vertex_exact(case):
    """P_G at the vertex is 0, the binding slack, and beta_edge = -max_o P_G(o|delta)/(1 - pi_ref(vertex)), exactly."""
    kkt, name, others = case.kkt, case.name, case.others
    P, edge, slack = kkt["preference"], kkt["beta_edge"], kkt["slack"]
    unseen = sp.Add(*[case.problem.reference[o] for o in others])  # 1 - pi_ref(a) > 0
    return [
        symbolic(P[case.vertex] == 0 and kkt["expected_preference"] == 0 and
                 all(not (kkt["slacks"][o] - slack).free_symbols and _number(kkt["slacks"][o] - slack) >= 0
                     for o in others),
                 f"{name}: engine P_G(.|delta) = {P}, lambda = {kkt['multiplier']}, binding slack: output {case.best + 1}'s"),
        symbolic(is_zero(slack + unseen * (beta - edge)) and is_zero(edge + P[case.best] / unseen),
                 f"{name}: binding slack == -(1 - pi_ref(vertex)) (beta - beta_edge), beta_edge = -max_o P_G(o|delta)"
                 f"/(1 - pi_ref(vertex)) = {-P[case.best]}/({unseen}): KKT iff beta <= beta_edge"),
    ]


def _empty_range(case):
    """beta_edge < 0: at beta = 1e-12 the slack is negative and J increases towards the binding output."""
    tiny = _number(TINY)
    kkt, best = case.kkt, case.best
    fails = [evaluate(kkt["slack"], {**_reference_values(case.problem, point), beta: tiny}) < 0
             and _edge_slope(kkt, case.problem, case.vertex, best, _reference_values(case.problem, point))(tiny) > 0
             for point in case.points]
    return symbolic(all(fails), f"{case.name}: max P_G(o|delta) = {kkt['preference'][best]} >= 0, so beta_edge < 0: KKT fails for "
                                f"every beta > 0 (gamma < 0, d J/dt toward output {best + 1} > 0 at beta = "
                                f"1e-12, {len(case.points)} reference points)")


def _edge_range(case, dps):
    """beta_edge against the root of the numerical slope along the binding edge, and the KKT verdict either side of it."""
    derived_edges, numeric_edges, verdicts = [], [], []
    step = mpx.mpf(10) ** (-(dps // 5))
    for point in case.points:
        values = _reference_values(case.problem, point)
        derived = evaluate(case.kkt["beta_edge"], values)
        slopes = {o: _edge_slope(case.kkt, case.problem, case.vertex, o, values) for o in case.others}
        derived_edges.append(derived)
        with working_precision(dps):  # the numerical d J/dt is noisy in its last digits
            numeric_edges.append(bracketed_newton(slopes[case.best], derived / 2, 2 * derived, what="the root of d J/dt"))
        verdicts.append(_strict_maximum_up_to(case, values, slopes, derived * (1 - step), derived * (1 + step)))
    shown = ", ".join(mpx.nstr(e, 8) for e in derived_edges)
    return [agreement(derived_edges, numeric_edges, dps,
                      what=f"{case.name}: beta_edge derived vs root of the numerical d J/dt along the binding edge"),
            symbolic(all(verdicts), f"{case.name}: at beta = beta_edge (1 -+ 1e-{dps // 5}), beta_edge = {shown}: "
                                    "inside every gamma_o > 0 and J decreases along every edge (strict local "
                                    "maximum); outside gamma < 0 and J increases along the binding edge")]


def _strict_maximum_up_to(case, values, slopes, inside, outside):
    """At beta = inside every slack is > 0 and J decreases along every edge; at outside the binding ones turn."""
    slacks_in = [evaluate(case.kkt["slacks"][o], {**values, beta: inside}) for o in case.others]
    return (all(g > 0 for g in slacks_in) and all(slopes[o](inside) < 0 for o in case.others)
            and evaluate(case.kkt["slack"], {**values, beta: outside}) < 0 and slopes[case.best](outside) > 0)


@check("x-vertex-kkt")
def check_x_vertex_kkt(dps):
    outcomes = []
    for name, problem, vertex, points in VERTEX_CASES:
        outcomes.extend(_vertex_case(name, problem, vertex, points, dps))
    binary = general.binary_vertex_problem()
    rho = binary.reference[0]
    edges = [general.vertex_kkt(binary.replace(group_size=G), 0)["beta_edge"] for G in range(2, 7)]
    explicit = [general.advantage([0] + [1] * (G - 1), 0) for G in range(2, 7)]  # b among G - 1 copies of a
    outcomes.append(symbolic(all(is_zero(e * (1 - rho) + a) for e, a in zip(edges, explicit)),
                             "deterministic binary, G = 2..6: beta_edge (1 - rho) == -A_1 of the explicit group "
                             f"(b, a, ..., a) = {[-a for a in explicit]}: the range grows with G"))
    t = sp.Symbol("t", positive=True)
    reference = (R(3, 10), R(1, 5), R(1, 2))
    approach = (1 - 2 * t, t, t)
    kkt = general.vertex_kkt(THREE_OUTPUTS, 0)
    at_vertex = kkt["objective"].subs({**_reference_values(THREE_OUTPUTS, reference[:2]), kkt["symbols"][0]: 1,
                                       kkt["symbols"][1]: 0, kkt["symbols"][2]: 0})
    outcomes.append(symbolic(sp.limit(kl(reference, approach), t, 0, "+") == sp.oo and at_vertex.is_finite,
                             f"KL(pi_ref||pi) -> oo as pi -> delta_a, yet J(delta_a; delta_a) = {at_vertex} is finite: "
                             "the sampled penalty cannot see outputs with pi_old(o) = 0"))
    return combine(outcomes)


# --- x-g2-direct-nlhf ----------------------------------------------------------------------------

_a, _b = indexed("a", 3, positive=True), indexed("b", 3, positive=True)
#: Three outputs, each with a generic law on {0, 1, 2} (symbolic probabilities).
GENERIC_LAWS = tuple({0: _a[i], 1: _b[i], 2: 1 - _a[i] - _b[i]} for i in range(3))
#: An intransitive triple with ties: P(1 > 2) = 3/5, P(2 > 3) = 3/5, P(3 > 1) = 13/25 (ties split).
INTRANSITIVE = ({0: R(2, 5), 3: R(3, 5)}, 2, {1: R(3, 5), 3: R(2, 5)})
THREE_VALUES = ({0: R(2, 5), 2: R(3, 5)}, 1, {0: R(3, 10), 1: R(3, 10), 2: R(2, 5)})
#: (rewards, reference, beta, normalisation, contrast): contrast "solve" solves NLHF at the wrong τ,
#: "map" evaluates its fixed-point map at π*, None skips it (at β = 20 every policy is near π_ref).
NLHF_CASES = (
    (INTRANSITIVE, ("0.2", "0.3", "0.5"), "0.3", "population", "solve"),
    (THREE_VALUES, ("0.999998", "0.000001", "0.000001"), "0.5", "sample", "solve"),
    (THREE_VALUES, ("0.000001", "0.4", "0.599999"), "0.05", "population", "map"),
    (THREE_VALUES, ("0.2", "0.3", "0.5"), "20", "sample", None),
)
#: The weight a reader would try without the factor 2c: τ = β (population) and τ = β/2 (c = 1 for Bessel).
WRONG_TAU = {"population": beta, "sample": beta / 2}


def _expected_rows(matrix, policy):
    K = len(policy)
    return [sp.Add(*[policy[b] * matrix[a][b] for b in range(K)]) for a in range(K)]


def _symbolic_equivalence(rewards, normalisation, label):
    problem = Problem(reference=["0.2", "0.3", "0.5"], rewards=list(rewards), group_size=2, beta=1,
                      normalisation=normalisation)
    pi = baselines.derive_nlhf(3).symbols["pi"]
    policy = (*pi[:-1], 1 - sp.Add(*pi[:-1]))
    c = baselines.pairwise_scale(normalisation)
    split, strict = general.tie_split_preferences(problem), general.strict_preferences(problem)
    P2 = preference_exact(problem, policy)
    mean_split, mean_strict = _expected_rows(split, policy), _expected_rows(strict, policy)
    tie = [sp.Add(*[policy[b] * (1 - strict[a][b] - strict[b][a]) for b in range(3)]) for a in range(3)]
    derived = baselines.matching_tau(problem)
    printed = paper_forms.G2_DIRECT_NLHF_TAU[normalisation]
    gaps = baselines.direct_nlhf_gaps(problem)
    setting = f"{label}, {normalisation}, c = {c}"
    return [
        symbolic(all(is_zero(P2[o] - c * (2 * mean_split[o] - 1)) and is_zero(P2[o] - pairwise_preference(problem, policy)[o])
                     for o in range(3)),
                 f"engine P_2 == pairwise form == c (2 E_pi P(o>o') - 1), ties counted 1/2, {setting}"),
        symbolic(derived is not None and is_zero(derived - printed),
                 f"tau solved from the derived fixed points = {derived} == beta/(2c) (notes), {setting}"),
        symbolic(all(is_zero(g - (1 / derived - 1 / tau) * (mean_split[0] - mean_split[o + 1])) for o, g in enumerate(gaps))
                 and not is_zero(mean_split[0] - mean_split[1]),
                 "exponent gaps == (2c/beta - 1/tau)(E_pi P(o_1>.) - E_pi P(o>.)), a non-zero factor: "
                 f"a constant (absorbed in Z) iff tau = beta/(2c), {setting}"),
        symbolic(all(is_zero(P2[o] - c * (2 * mean_strict[o] - 1) - c * tie[o]) for o in range(3))
                 and not is_zero(tie[0] - tie[1]),
                 f"with P(o>o') = Prob[r > r'] the exponents differ by c Prob_pi[tie | o]/beta, which varies with o, {setting}"),
    ]


def _nlhf_map(problem, matrix, policy, weight):
    """π_ref exp(E_π P(o ≻ ·)/τ) / Z at ``policy``: the printed NLHF fixed-point map (5)."""
    form = mp_lambdify((pi_ref_o, pref_mean, beta), paper_forms.NLHF_POLICY)
    rows = [mpx.fsum(x * _number(m) for x, m in zip(policy, row)) for row in matrix]
    mapped = [form(_number(r), e, weight) for r, e in zip(problem.reference, rows)]
    return [v / mpx.fsum(mapped) for v in mapped]


def _numeric_equivalence(rewards, reference, weight, normalisation, contrast, dps):
    problem = Problem(reference=list(reference), rewards=list(rewards), group_size=2, beta=weight,
                      normalisation=normalisation, penalty="direct")
    (point,) = stationary_policies(problem, dps, stability=False)
    split = general.tie_split_preferences(problem)
    right = _number(paper_forms.G2_DIRECT_NLHF_TAU[normalisation].subs(beta, problem.beta))
    wrong = _number(WRONG_TAU[normalisation].subs(beta, problem.beta))
    nlhf, _ = baselines.nlhf_equilibrium_numeric(split, problem.reference, right)
    setting = f"beta={weight}, {normalisation}, pi_ref={reference}"
    outcomes = [agreement(point.policy, nlhf, dps, what=f"direct G=2 pi* vs NLHF at tau = beta/(2c), {setting}")]
    if contrast is not None:
        outcomes.append(disagreement(_nlhf_map(problem, general.strict_preferences(problem), point.policy, right),
                                      point.policy, dps, what=f"strict-P NLHF map at pi* vs pi*, {setting}"))
    if contrast == "solve":
        off, _ = baselines.nlhf_equilibrium_numeric(split, problem.reference, wrong)
        outcomes.append(disagreement(off, point.policy, dps, what=f"NLHF at tau = {WRONG_TAU[normalisation]} vs pi*, {setting}"))
    elif contrast == "map":
        outcomes.append(disagreement(_nlhf_map(problem, split, point.policy, wrong), point.policy, dps,
                                     what=f"NLHF map at tau = {WRONG_TAU[normalisation]} at pi* vs pi*, {setting}"))
    return outcomes


@check("x-g2-direct-nlhf")
def check_x_g2_direct_nlhf(dps):
    outcomes = []
    outcomes.extend(_symbolic_equivalence(GENERIC_LAWS, "population", "generic laws on {0, 1, 2}"))
    for normalisation in ("population", "sample"):
        outcomes.extend(_symbolic_equivalence(INTRANSITIVE, normalisation, "intransitive triple"))
    split = general.tie_split_preferences(Problem(reference=["0.2", "0.3", "0.5"], rewards=list(INTRANSITIVE),
                                                  group_size=2, beta=1))
    cycle = (split[0][1], split[1][2], split[2][0])
    outcomes.append(symbolic(all(v > R(1, 2) for v in cycle),
                             f"the triple is intransitive: P(1>2), P(2>3), P(3>1) = {cycle} (ties split), all > 1/2"))
    for laws, reference, weight, normalisation, contrast in NLHF_CASES:
        outcomes.extend(_numeric_equivalence(laws, reference, weight, normalisation, contrast, dps))
    return combine(outcomes)
