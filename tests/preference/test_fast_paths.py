"""Every fast path against the plain one, at 50 digits (and 200 where precision is the point).

Fast paths: the moment table (fixed-point sums, integer square roots, windowed binomial chains) and
its windowed float64 evaluation; the solver's shifted multiplier, output classes and deduplicated
multistart; the vectorised float64 grid of binary stationary policies.  The plain references are
the per-composition table (:class:`~grpo_symbolic.preference.engine.NumericTable`), textbook per-term
mpmath sums, python-flint ball arithmetic (certified, when installed) and the 30-digit solver.
"""

from fractions import Fraction
import math
import random

import numpy as np
import pytest
import sympy as sp

from grpo_symbolic import Problem, ParameterError
from grpo_symbolic.solve import binary_grid
from grpo_symbolic.theory.advantage import RULES, Group
from grpo_symbolic.cases import general_g
from grpo_symbolic.preference.moments import SCALES, MomentTable, _binomial_row, composition_array, supports
from grpo_symbolic.theory.objective import derive_stationarity
from grpo_symbolic.preference.engine import NumericTable, compositions, preference_numeric
from grpo_symbolic.solve.api import stationary_policies, stationary_policy
from grpo_symbolic.solve.workloads import many_outputs
from grpo_symbolic.model.symbols import beta as beta_symbol, lam
from grpo_symbolic.numerics.precision import mpx, mp_lambdify

DPS = 50


def mp(x):
    x = Fraction(x)
    return mpx.mpf(x.numerator) / x.denominator


def agree(a, b, digits=DPS):
    """|a − b| ≤ 10^−digits · max(1, |b|), elementwise."""
    with mpx.workdps(digits + 30):
        return all(abs(x - y) <= mpx.mpf(10) ** (-digits) * max(1, abs(y)) for x, y in zip(a, b))


def both_tables(values, group_size, normalisation, eps, mixture, dps=DPS):
    """(fast, plain) Q_v(m) at dps + 10 digits, m normalised exactly from the given weights."""
    values = tuple(sp.Rational(v) for v in values)
    eps = sp.Rational(eps)
    with mpx.workdps(dps + 10):
        m = [mp(x) for x in mixture]
        total = mpx.fsum(m)
        m = [x / total for x in m]
        fast = MomentTable(values, group_size, normalisation, eps).evaluate(m)
        plain = NumericTable(values, group_size, normalisation, eps, dps).evaluate(m)
    return fast, plain


TABLE_CASES = [
    ((0, 1), 2, ["0.3", "0.7"]),
    ((0, 1), 9, ["0.3", "0.7"]),
    ((0, 1), 40, ["1e-30", "1"]),
    ((0, 1), 40, ["1", "1e-30"]),
    ((0, 1), 40, ["0", "1"]),
    ((-3, "1/2"), 17, ["0.999999", "0.000001"]),
    ((5,), 6, ["1"]),
    ((0, "1/3", 2), 12, ["0.2", "0.5", "0.3"]),
    ((0, "1/3", 2), 12, ["0", "0.5", "0"]),
    ((0, "1/3", 2), 12, ["0.2", "0", "0.8"]),
    ((-1, "1/3", 2, 5), 9, ["0.1", "0.2", "0.3", "0.4"]),
    ((-1, "1/3", 2, 5), 9, ["1e-25", "0.2", "0.3", "0"]),
    ((1, 2, 3, 4, 7), 6, ["0.1", "0.2", "0.3", "0.2", "0.2"]),
]


@pytest.mark.parametrize("normalisation", ["population", "sample", "shift", "rloo"])
@pytest.mark.parametrize("eps", [0, "1/10"])
@pytest.mark.parametrize("values,group_size,mixture", TABLE_CASES)
def test_moment_table_is_the_per_composition_table(values, group_size, mixture, normalisation, eps):
    fast, plain = both_tables(values, group_size, normalisation, eps, mixture)
    assert agree(fast, plain)


@pytest.mark.parametrize("p", ["1e-20", "0.3", "0.5", "0.999999999"])
@pytest.mark.parametrize("group_size", [300, 5000])
def test_binary_window_is_the_plain_binomial_sum(group_size, p):
    """Large G against the textbook loop: C(n,k) p^k (1−p)^(n−k) A_k over every k, in mpmath."""
    n = group_size - 1
    with mpx.workdps(DPS + 10):
        q = mp(p)
        m = (1 - q, q)
        values = (mpx.mpf(0), mpx.mpf(1))
        plain = [mpx.mpf(0), mpx.mpf(0)]
        for k in range(group_size):
            weight = mpx.binomial(n, k) * q**k * (1 - q) ** (n - k)
            for v in (0, 1):
                plain[v] += weight * RULES["population"](Group(values, v, (n - k, k)), 0, mpx.sqrt)
        fast = MomentTable((sp.Integer(0), sp.Integer(1)), group_size, "population", sp.Integer(0)).evaluate(m)
    assert agree(fast, plain)


def test_precision_follows_the_working_precision():
    """200 digits: the table has no precision of its own (square roots are cached per precision)."""
    table = MomentTable((sp.Integer(0), sp.Rational(1, 3), sp.Integer(2)), 10, "sample", sp.Rational(1, 100))
    for dps in (50, 200, 50):
        with mpx.workdps(dps + 10):
            m = (mpx.mpf(1) / 7, mpx.mpf(2) / 7, mpx.mpf(4) / 7)
            plain = NumericTable((0, sp.Rational(1, 3), 2), 10, "sample", sp.Rational(1, 100), dps).evaluate(m)
            assert agree(table.evaluate(m), plain, dps)


@pytest.mark.parametrize("normalisation", ["population", "sample", "shift", "rloo"])
def test_moment_form_is_the_advantage_rule(normalisation):
    """A = N·h(D) (fixed point, scaled by 2^shift) equals the rule of advantage.py on random groups, to 60 digits."""
    rng = random.Random(5)
    values = (sp.Rational(-2), sp.Rational(1, 3), sp.Rational(5, 2))
    table = MomentTable(values, 11, normalisation, sp.Rational(1, 10))
    bits = 260
    h = table._scale_cache(bits)
    w, G = table.w, table.group_size
    for _ in range(40):
        counts = [0, 0, 0]
        for _ in range(G - 1):
            counts[rng.randrange(3)] += 1
        focal = rng.randrange(3)
        s1 = sum(c * x for c, x in zip(counts, w))
        s2 = sum(c * x * x for c, x in zip(counts, w))
        (fast,) = table._advantages(focal, np.array([s1]), np.array([s2]), h, bits)
        with mpx.workdps(80):
            mp_values = tuple(mp(Fraction(int(v.p), int(v.q))) for v in values)
            rule = RULES[normalisation](Group(mp_values, focal, tuple(counts)), mpx.mpf(1) / 10, mpx.sqrt)
            assert abs(mpx.mpf((fast, -bits - table.shift)) - rule) < mpx.mpf(10) ** -60


@pytest.mark.parametrize("n,p", [(1, "0.5"), (10, "0.3"), (1000, "0.001"), (1000, "0.999"), (40000, "0.25")])
def test_binomial_row_is_within_units_of_the_pmf(n, p):
    """Each entry within n units of 2^−bits; what the window leaves out is below 2 units."""
    bits = 200
    with mpx.workprec(bits + 40):
        q = mp(p)
        lo, row = _binomial_row(n, q, 1 - q, bits)
        unit = mpx.mpf(2) ** -bits
        for k in list(range(lo, lo + len(row), max(1, len(row) // 50))) + [lo + len(row) - 1]:
            exact = mpx.binomial(n, k) * q**k * (1 - q) ** (n - k)
            assert abs(row[k - lo] * unit - exact) <= (n + 2) * unit
        assert abs(sum(row) * unit - 1) <= (n + 4) * len(row) * unit


@pytest.mark.parametrize("values,group_size,mixture", [((0, 1), 2000, [0.7, 0.3]), ((0, 1), 2000, [1e-300, 1.0]),
                                                       ((0, 1, 3), 40, [0.2, 0.5, 0.3]), ((0, 1, 3), 40, [0.0, 0.1, 0.9])])
def test_windowed_float_path_is_the_full_float_sum(values, group_size, mixture):
    values = tuple(sp.Integer(v) for v in values)
    m = np.array(mixture) / sum(mixture)
    fast = MomentTable(values, group_size, "population", sp.Integer(0)).evaluate_float(m)
    plain = NumericTable(values, group_size, "population", sp.Integer(0), 20).evaluate_float(m)
    assert np.allclose(fast, plain, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("rule", [*SCALES])
@pytest.mark.parametrize("eps", [sp.Integer(0), sp.Rational(3, 10)])
def test_float_table_is_the_exact_table_for_every_moment_rule(rule, eps):
    """evaluate_float (the scans' table) = evaluate at full precision, for every rule with a moment form,
    with eps and reward values with a denominator (G·d·eps and the rloo divisor (G − 1)·d enter h)."""
    values, m = (sp.Integer(0), sp.Rational(1, 3), sp.Rational(5, 2)), [0.2, 0.5, 0.3]
    table = MomentTable(values, 7, str(rule), eps)
    with mpx.workdps(30):
        exact = [float(x) for x in table.evaluate([mpx.mpf(x) for x in ("0.2", "0.5", "0.3")])]
    assert np.allclose(table.evaluate_float(np.array(m)), exact, rtol=1e-12, atol=0)


def test_dispatch_covers_rational_values_only():
    assert supports((sp.Integer(0), sp.Rational(7, 3)), "shift")
    assert not supports((sp.sqrt(2), sp.Integer(0)), "population")
    prob = Problem(reference=["0.4", "0.6"], rewards=[sp.sqrt(2), 0], group_size=5, beta=1)
    dispatched = preference_numeric(prob, ["0.4", "0.6"])  # irrational reward: the per-composition table
    with mpx.workdps(60):
        plain = NumericTable(prob.reward_values, 5, "population", sp.Integer(0), DPS).evaluate((mp("0.6"), mp("0.4")))
    assert agree(dispatched, (plain[1], plain[0]))


def test_composition_array_is_compositions():
    for total, parts in ((0, 1), (4, 1), (3, 2), (5, 3), (4, 4)):
        assert composition_array(total, parts).tolist() == [list(c) for c in compositions(total, parts)]


@pytest.mark.rigorous
@pytest.mark.parametrize("dps", [50, 200])
def test_binary_sum_inside_a_certified_ball(dps):
    """python-flint's ball arithmetic (every term, no window) encloses our fixed-point value."""
    flint = pytest.importorskip("flint")
    G, n = 1500, 1499
    prob = Problem(reference=["3/10", "7/10"], rewards=[1, 0], group_size=G, beta=1)
    ours = preference_numeric(prob, ["3/10", "7/10"], dps)
    with flint.ctx.workdps(dps + 10):
        p = flint.arb(flint.fmpq(3, 10))
        values = (flint.fmpq(0), flint.fmpq(1))
        balls = [flint.arb(0), flint.arb(0)]
        for k in range(G):
            weight = flint.arb.bin_uiui(n, k) * p**k * (1 - p) ** (n - k)
            for i, v in enumerate((1, 0)):
                balls[i] += weight * RULES["population"](Group(values, v, (n - k, k)), 0, lambda x: flint.arb(x).sqrt())
        slack = flint.arb(0, flint.arb(10) ** (-dps) * 4)
        for ball, value in zip(balls, ours):
            assert float(ball.rad()) < 10.0 ** (-dps - 5)
            assert (ball + slack).contains(flint.arb(mpx.nstr(value, dps + 5, strip_zeros=False)))


# --- the solver --------------------------------------------------------------------------------

def stationarity_residual(problem, policy):
    """max |derived stationarity equation| with P_G from the plain per-composition table.

    The policy is rounded to DPS digits, so the residual is about |∂E/∂π|·10^−DPS: allow 5 digits.
    """
    st = derive_stationarity(problem.penalty)
    equation = mp_lambdify((st.preference[0], st.pi[0], st.pi_ref[0], lam, beta_symbol), st.equations[0])
    with mpx.workdps(DPS + 20):
        table = NumericTable(problem.reward_values, problem.group_size, problem.normalisation, problem.eps, DPS + 10)
        laws = [[mp(Fraction(int(x.p), int(x.q))) for x in row] for row in problem.law_matrix]
        m = [mpx.fsum(pi * row[j] for pi, row in zip(policy, laws)) for j in range(len(laws[0]))]
        q = table.evaluate(m)
        P = [mpx.fsum(a * b for a, b in zip(row, q)) for row in laws]
        multiplier = mpx.fsum(x * y for x, y in zip(policy, P)) if problem.penalty == "grpo" else None
        if multiplier is None:  # direct penalty: λ from Σ π = 1 is not Σ π P; take it from output 0
            multiplier = P[0] - problem.beta * (mpx.log(policy[0]) - mpx.log(mp(problem.reference[0])))
        rho = [mp(Fraction(int(r.p), int(r.q))) for r in problem.reference]
        b = mp(Fraction(int(problem.beta.p), int(problem.beta.q)))
        return max(abs(equation(Po, x, r, multiplier, b)) for Po, x, r in zip(P, policy, rho))


@pytest.mark.parametrize("penalty", ["grpo", "direct"])
def test_solution_verifies_with_the_plain_table(penalty):
    prob = many_outputs(12, seed=1, group_size=9, penalty=penalty, sparse=True)
    policy = stationary_policy(prob, DPS)
    assert stationarity_residual(prob, policy) < mpx.mpf(10) ** -(DPS - 5)


def test_large_binary_solution_verifies_with_the_plain_table():
    prob = Problem(reference=["0.3", "0.7"], rewards=[1, 0], group_size=1200, beta="0.25")
    assert stationarity_residual(prob, stationary_policy(prob, DPS)) < mpx.mpf(10) ** -(DPS - 5)


def test_outputs_with_equal_laws_are_one_class():
    """Merging outputs with equal reward laws (summed π_ref) changes nothing, to 50 digits."""
    law = {"0": "1/4", "2": "3/4"}
    split = Problem(reference=["0.2", "0.3", "0.5"], rewards=[law, law, 1], group_size=7, beta="0.4")
    merged = Problem(reference=["0.5", "0.5"], rewards=[law, 1], group_size=7, beta="0.4")
    a, b, c = stationary_policy(split, DPS)
    x, y = stationary_policy(merged, DPS)
    with mpx.workdps(DPS + 10):
        assert agree((a + b, c, a / b), (x, y, mp("2/3")), DPS - 1)


@pytest.mark.parametrize("tiny", ["1e-40", "1e-200"])
def test_tiny_reference_mass_of_the_top_output(tiny):
    """π_ref(a) → 0: the stationary π(a) tends to the floor p_G(β) (error O(π_ref)); the multiplier
    is solved in shifted coordinates, so no digits are lost to β(1 − π_ref) cancelling."""
    prob = Problem(reference=[tiny, 1 - Fraction(tiny)], rewards=[1, 0], group_size=8, beta="0.5")
    (point,) = stationary_policies(prob, DPS)
    assert point.residual < mpx.mpf(10) ** -DPS
    assert abs(point.policy[0] - general_g.floor("0.5", 8, DPS)) < mpx.mpf(10) ** -30


def test_two_stationary_points_from_a_float_scan_are_both_refined():
    """Direct penalty, G → ∞, two roots: each is refined separately (not merged by the float stage)."""
    prob = Problem(reference=["1e-4", 1 - Fraction("1e-4")], rewards=[1, 0], group_size="inf", beta=3, penalty="direct")
    points = stationary_policies(prob, DPS)
    assert len(points) == 2
    assert all(pt.residual < mpx.mpf(10) ** -DPS for pt in points)


# --- the float64 grid ---------------------------------------------------------------------------

GRID_POINTS = [("0.04", "0.3"), ("0.5", "0.000001"), ("2", "0.999"), ("10", "0.1"), ("0.01", "0.5"), ("1", "0.00001")]


@pytest.mark.parametrize("group_size", [2, 3, 8, 16, 17, 64])
def test_float_grid_is_the_solver(group_size):
    beta = np.array([float(b) for b, _ in GRID_POINTS])
    ref = np.array([float(r) for _, r in GRID_POINTS])
    grid = binary_grid.stationary_grid(group_size, beta, ref)
    for (b, r), value in zip(GRID_POINTS, grid):
        prob = Problem(reference=[r, 1 - Fraction(r)], rewards=[1, 0], group_size=group_size, beta=b)
        assert abs(value - float(stationary_policy(prob, 30)[0])) < 1e-12


@pytest.mark.parametrize("group_size", [2, 4, 8, 16, 17, 64, 512])
def test_newton_from_above_assumption_concavity(group_size):
    """The grid's Newton iteration relies on p·P_G(a|p) being concave on [0, 1]."""
    p = np.linspace(0, 1, 20001)
    value, _ = binary_grid.preference_a(group_size, p)
    assert np.all(np.diff(p * value, 2) <= 1e-12)


@pytest.mark.parametrize("group_size", [2, 5, 9])
def test_grid_multiplier_is_zero(group_size):
    assert binary_grid.zero_mean_holds(group_size)


def test_grid_preference_is_the_engine():
    p = np.array([0.0, 1e-9, 0.3, 0.5, 0.8, 1.0])
    for G in (8, 40):
        value, slope = binary_grid.preference_a(G, p)
        prob = Problem(reference=["1/2", "1/2"], rewards=[1, 0], group_size=G, beta=1)
        exact = [float(preference_numeric(prob, [Fraction(x), 1 - Fraction(x)], 20)[0]) for x in p]
        assert np.allclose(value, exact, rtol=1e-12, atol=1e-12)
        h = 1e-6
        inside = (p > h) & (p < 1 - h)
        numeric_slope = (binary_grid.preference_a(G, p + h)[0] - binary_grid.preference_a(G, p - h)[0]) / (2 * h)
        assert np.allclose(slope[inside], numeric_slope[inside], rtol=1e-5)


@pytest.mark.parametrize("group_size,beta,ref", [(1, 1, 0.5), (2000, 1, 0.5), (8, 0, 0.5), (8, 1, 1.0), (8.0, 1, 0.5)])
def test_grid_refuses_bad_parameters(group_size, beta, ref):
    with pytest.raises(ParameterError):
        binary_grid.stationary_grid(group_size, beta, ref)


def test_grid_keeps_the_shape():
    out = binary_grid.stationary_grid(8, np.array([[0.5, 1.0], [2.0, 3.0]]), 0.3)
    assert out.shape == (2, 2) and np.all((out > 0.3) & (out < 1))
    assert math.isclose(out[0, 0], binary_grid.stationary_grid(8, 0.5, 0.3), rel_tol=1e-14)
