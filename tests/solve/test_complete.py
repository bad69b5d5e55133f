"""Complete, certified root isolation (issue 16): the four families of missed points, fold
families and random problems against an independent dense scan written here.

The independent pieces: the binary P_G with 0/1 rewards and the population std as a plain binomial
sum (:func:`binary_gap`), the G = ∞ gap 1/√(x(1 − x)), and for random problems a fixed-point
residual built from the stationary forms typed here (λ by bisection), scanned on a dense logit grid.
"""

from fractions import Fraction
import random

import mpmath
import pytest
import sympy as sp

from grpo_symbolic import Problem, SolverError
from grpo_symbolic.paper import forms as paper
from grpo_symbolic.preference.engine import preference_numeric
from grpo_symbolic.solve.api import stationary_policies, stationary_policy
from grpo_symbolic.solve.search import SolverOptions
from grpo_symbolic.model.symbols import beta, gamma, rho

pytest.importorskip("flint", reason="python-flint (the 'rigorous' extra) is not installed")

DPS = 50
BETA_STAR = mpmath.mpf("1.50887956153831992")  # the G = ∞ direct-KL fold, reference 1/2 (issue 16)


def digits(a, b):
    with mpmath.workdps(80):
        err = abs(a - b) / max(abs(b), mpmath.mpf(10) ** -80)
        return 60 if err == 0 else min(60, float(-mpmath.log10(err)))


def binary_gap(x, G):
    """P_G(a) − P_G(b) for rewards 1 (a), 0 (b), population std, π(a) = x: a plain binomial sum."""
    if G == "inf":
        return 1 / mpmath.sqrt(x * (1 - x))
    n, total = G - 1, mpmath.mpf(0)
    for k in range(n + 1):  # k of the other G − 1 members have reward 1
        weight = mpmath.binomial(n, k) * x**k * (1 - x) ** (n - k)
        for ones, focal in ((k + 1, 1), (k, 0)):
            if 0 < ones < G:
                mean = mpmath.mpf(ones) / G
                advantage = (focal - mean) / mpmath.sqrt(mean * (1 - mean))
                total += weight * advantage * (1 if focal else -1)
    return total


def direct_h(y, b, G, ref):
    """The direct-KL fixed point in y = logit π(a): log(ρ/(1 − ρ)) + gap/β − y."""
    x = 1 / (1 + mpmath.exp(-y))
    return mpmath.log(ref / (1 - ref)) + binary_gap(x, G) / b - y


def scanned_roots(h, lo=-30, hi=30, points=3000):
    """Sign changes of h on a dense logit grid, each refined by bisection (the independent scan)."""
    grid = [lo + (hi - lo) * mpmath.mpf(i) / points for i in range(points + 1)]
    values = [h(y) for y in grid]
    roots = []
    for a, b, fa, fb in zip(grid, grid[1:], values, values[1:]):
        if fa == 0 or fa * fb < 0:
            roots.append(mpmath.findroot(h, (a, b), solver="anderson"))
    return roots


def fold(G, ref, y0, b0):
    """(β, y) of a fold of the direct-KL map: h = 0 and ∂h/∂y = 0 (solved here, not by the package)."""
    def system(y, b):
        return [direct_h(y, b, G, ref), mpmath.diff(lambda t: direct_h(t, b, G, ref), y)]
    y, b = mpmath.findroot(system, (y0, b0))
    return b, y


# --- family 1: fold pairs at G = ∞ -----------------------------------------------------------

def test_family1_fold_pair_at_large_g_has_both_points_to_50_digits():
    prob = Problem(reference=["0.5", "0.5"], rewards=[1, 0], group_size="inf", beta="1.51", penalty="direct")
    points = stationary_policies(prob, DPS)
    with mpmath.workdps(30):  # the values, 20 digits
        expected = [mpmath.mpf("0.91077355240987970027"), mpmath.mpf("0.92253133309316456477")]
    assert [pt.stable for pt in points] == [True, False]
    assert all(digits(pt.policy[0], e) >= 19 for pt, e in zip(points, expected))
    with mpmath.workdps(DPS + 20):
        for pt in points:
            y = mpmath.log(pt.policy[0] / pt.policy[1])
            assert abs(direct_h(y, mpmath.mpf("1.51"), "inf", mpmath.mpf("0.5"))) < mpmath.mpf(10) ** -(DPS - 2)
    assert points.completeness.complete and points.completeness.certified


@pytest.mark.parametrize("offset", ["1e-3", "1e-5", "1e-8"])
def test_family1_just_past_the_fold(offset):
    with mpmath.workdps(60):
        b = BETA_STAR * (1 + mpmath.mpf(offset))
        prob = Problem(reference=["0.5", "0.5"], rewards=[1, 0], group_size="inf", beta=mpmath.nstr(b, 40),
                       penalty="direct")
    points = stationary_policies(prob, DPS)
    assert len(points) == 2 and [pt.stable for pt in points] == [True, False]
    assert points.completeness.complete


def test_family1_below_the_fold_is_proven_empty_and_names_the_vertex():
    prob = Problem(reference=["0.5", "0.5"], rewards=[1, 0], group_size="inf", beta="1.5", penalty="direct")
    with pytest.raises(SolverError, match="provably no interior") as info:
        stationary_policy(prob, DPS)
    assert info.value.reason == SolverError.NO_INTERIOR_POINT and "reward value 1" in str(info.value)


# --- family 2: fold triples at finite G ------------------------------------------------------

@pytest.mark.parametrize("y0,b0", [(2.6, 1.4617), (3.8, 1.5072)])
def test_family2_fold_triples_at_g64(y0, b0):
    with mpmath.workdps(20):
        b_fold, _ = fold(64, mpmath.mpf("0.5"), y0, b0)
        inside, outside = [mpmath.nstr(b_fold * (1 + s * mpmath.mpf("1e-5")), 30) for s in ((1, -1) if b0 < 1.5 else (-1, 1))]
    for b, count in ((inside, 3), (outside, 1)):
        prob = Problem(reference=["0.5", "0.5"], rewards=[1, 0], group_size=64, beta=b, penalty="direct")
        points = stationary_policies(prob, DPS)
        assert len(points) == count and points.completeness.complete
        if count == 3:
            assert [pt.stable for pt in points] == [True, False, True]
        with mpmath.workdps(20):
            scan = scanned_roots(lambda y: direct_h(y, mpmath.mpf(b), 64, mpmath.mpf("0.5")), 1.5, 5.5, 400)
        assert len(scan) <= count  # the dense scan finds no point the solver misses


# --- family 3: components below 1e-26 -------------------------------------------------------

def test_family3_eq14_with_a_reference_of_1e_minus_30():
    prob = Problem(reference=["0.999999999999999999999999999999", "1e-30"], rewards=[1, 0], group_size=2, beta="0.5")
    (point,) = stationary_policies(prob, DPS)
    with mpmath.workdps(120):
        a = mpmath.mpf(sp.N(paper.POLICY_EQ14.subs({beta: sp.Rational(1, 2), gamma: 1,
                                                     rho: 1 - sp.Rational(1, 10**30)}), 120))
        assert digits(point.policy[1], 1 - a) >= DPS - 2
    assert point.stable and point.policy[1] < mpmath.mpf("4e-31")


def test_family3_eq15_at_large_g():
    prob = Problem(reference=["0.999999999999999999999999999999", "1e-30"], rewards=[1, 0], group_size="inf", beta="0.5")
    (point,) = stationary_policies(prob, DPS)
    with mpmath.workdps(150):
        a = mpmath.mpf(sp.N(paper.POLICY_EQ15.subs({beta: sp.Rational(1, 2), rho: 1 - sp.Rational(1, 10**30)}), 150))
        assert digits(point.policy[1], 1 - a) >= DPS - 2
    assert point.stable


@pytest.mark.parametrize("G,b,penalty", [(8, "0.1", "grpo"), (64, "0.1", "direct")])
def test_family3_tiny_components_at_finite_g(G, b, penalty):
    prob = Problem(reference=["0.999999999999999999999999999999", "1e-30"], rewards=[1, 0], group_size=G, beta=b,
                   penalty=penalty)
    points = stationary_policies(prob, DPS)
    assert len(points) == 1 and points[0].policy[1] < mpmath.mpf("1e-30") and points[0].stable
    assert points.completeness.complete


def test_components_of_1e_minus_300_are_reached():
    for penalty in ("grpo", "direct"):
        prob = Problem(reference=[1 - Fraction(1, 10**300), Fraction(1, 10**300)], rewards=[1, 0], group_size=4,
                       beta="0.5", penalty=penalty)
        (point,) = stationary_policies(prob, DPS)
        assert mpmath.mpf("1e-303") < point.policy[1] < mpmath.mpf("1e-300") and point.stable


# --- family 4: three reward values near a vertex -----------------------------------------------

def test_family4_unstable_point_near_a_vertex():
    prob = Problem(reference=["1/3", "1/3", "1/3"], rewards=[1, "1/2", 0], group_size="inf", beta=4, penalty="direct")
    points = stationary_policies(prob, DPS)
    far = [pt for pt in points if pt.policy[0] > mpmath.mpf("0.99")]
    assert len(points) == 2 and len(far) == 1 and far[0].stable is False
    assert [mpmath.nstr(x, 6) for x in far[0].policy] == ["0.998537", "0.00146042", "2.13596e-6"]
    statement = points.completeness
    assert statement.complete and statement.certified and "t = 1/σ" in statement.reason  # the tilt's bound


# --- the statement ---------------------------------------------------------------------------

def test_statement_says_what_was_searched():
    prob = Problem(reference=["0.5", "0.5"], rewards=[1, 0], group_size=4, beta=1)
    statement = stationary_policies(prob, 30).completeness
    assert statement.complete and statement.certified and statement.count == 1
    assert "whole interior" in str(statement) and "bounded" in statement.reason


def test_without_certification_the_statement_says_not_certified():
    prob = Problem(reference=["0.5", "0.5"], rewards=[1, 0], group_size=4, beta=1)
    statement = stationary_policies(prob, 30, options=SolverOptions(certified=False)).completeness
    assert not statement.complete and not statement.certified and "not certified" in str(statement)


# --- random problems against an independent dense scan ---------------------------------------

def _mpf(value):
    q = Fraction(str(value))
    return mpmath.mpf(q.numerator) / q.denominator


def independent_residual(problem):
    """y ↦ logit of the next reward mixture − y, two reward values, from the stationary forms typed here."""
    laws = [[_mpf(q) for q in row] for row in problem.law_matrix]
    ref = [_mpf(r) for r in problem.reference]
    b = _mpf(problem.beta)

    def h(y):
        x = 1 / (1 + mpmath.exp(-y))  # mass on reward value 0 of the two
        policy = _policy_with_mixture(laws, x)
        P = preference_numeric(problem, policy, dps=30)
        if problem.penalty == "direct":
            w = [r * mpmath.exp((p - max(P)) / b) for r, p in zip(ref, P)]
            pi = [v / mpmath.fsum(w) for v in w]
        else:
            lo = max(P) - b + b * min(ref) / 2
            lam = mpmath.findroot(lambda l: mpmath.fsum(b * r / (b + l - p) for r, p in zip(ref, P)) - 1,
                                  (lo, max(P) + 2 * b), solver="anderson")
            pi = [b * r / (b + lam - p) for r, p in zip(ref, P)]
        m0 = mpmath.fsum(p * law[0] for p, law in zip(pi, laws))
        return mpmath.log(m0 / (1 - m0)) - y
    return h


def _policy_with_mixture(laws, x):
    """Some policy whose reward mixture puts mass x on value 0 (P_G depends on π only through it)."""
    high = max(range(len(laws)), key=lambda o: laws[o][0])
    low = min(range(len(laws)), key=lambda o: laws[o][0])
    t = (x - laws[low][0]) / (laws[high][0] - laws[low][0])
    policy = [mpmath.mpf(0)] * len(laws)
    policy[high] += t
    policy[low] += 1 - t
    return policy


def random_problems(count, seed=16):
    rng = random.Random(seed)
    for _ in range(count):
        K = rng.randint(2, 4)
        values = rng.sample([0, 1, 2, Fraction(1, 2)], 2)
        rewards = []
        for o in range(K):
            if o < 2:
                rewards.append(values[o])
            elif rng.random() < 0.5:
                q = Fraction(rng.randint(1, 9), 10)
                rewards.append({str(values[0]): str(q), str(values[1]): str(1 - q)})
            else:
                rewards.append(rng.choice(values))
        weights = [rng.randint(1, 9) for _ in range(K)]
        yield Problem(reference=[Fraction(w, sum(weights)) for w in weights], rewards=rewards,
                      group_size=rng.choice([2, 3, 4, 5, 6, "inf"]), beta=Fraction(rng.randint(1, 30), 10),
                      normalisation=rng.choice(["population", "sample", "shift"]), penalty=rng.choice(["grpo", "direct"]))


@pytest.mark.parametrize("problem", list(random_problems(10)), ids=lambda p: f"K{p.size}-G{p.group_size}-{p.normalisation}-{p.penalty}")
def test_random_problems_miss_no_point_of_a_dense_scan(problem):
    try:
        points = stationary_policies(problem, 30, stability=False)
    except SolverError as exc:
        points, statement = [], str(exc)
    else:
        statement = str(points.completeness)
    with mpmath.workdps(30):
        scan = scanned_roots(independent_residual(problem), -25, 25, 600)
        found = [mpmath.log(_mass0(problem, pt.policy) / (1 - _mass0(problem, pt.policy))) for pt in points]
        for y in scan:
            assert any(abs(y - z) < mpmath.mpf(10) ** -8 for z in found), (problem, y, statement)


def _mass0(problem, policy):
    return mpmath.fsum(p * _mpf(row[0]) for p, row in zip(policy, problem.law_matrix))


def test_random_problems_with_three_reward_values_agree_with_the_multistart():
    rng = random.Random(7)
    for _ in range(3):
        weights = [rng.randint(1, 9) for _ in range(3)]
        prob = Problem(reference=[Fraction(w, sum(weights)) for w in weights], rewards=[0, 1, 2],
                       group_size=rng.choice([2, 3]), beta=Fraction(rng.randint(5, 30), 10), penalty=rng.choice(["grpo", "direct"]))
        certified = stationary_policies(prob, 30, stability=False)
        scan = stationary_policies(prob, 30, stability=False, options=SolverOptions(certified=False))
        for pt in scan:
            assert any(max(abs(a - b) for a, b in zip(pt.policy, q.policy)) < mpmath.mpf(10) ** -25 for q in certified)


def test_cost_of_the_binary_search_stays_low():
    import time
    prob = Problem(reference=["0.5", "0.5"], rewards=[1, 0], group_size=256, beta="0.5")
    start = time.perf_counter()
    stationary_policies(prob, DPS, stability=False)
    assert time.perf_counter() - start < 20  # measured about 2 s; generous for a loaded machine


def test_cli_solve_all_prints_the_completeness_statement(capsys):
    from grpo_symbolic import cli

    code = cli.main(["solve", "--reference", "0.5,0.5", "--rewards", "1,0", "--group-size", "inf", "--beta", "3",
                     "--penalty", "direct", "--dps", "20", "--all"])
    out = capsys.readouterr().out
    assert code == 0 and out.splitlines()[-1].startswith("# complete: all 2 interior stationary point(s)")


# --- exact double roots: the fold at beta* -----------------------------------------------------

def _h_slope_zero(b):
    """The zero of dh/dy (y = logit π(a)) of the direct-KL h written here: the fold's location."""
    return mpmath.findroot(lambda y: mpmath.diff(lambda t: direct_h(t, b, "inf", mpmath.mpf("0.5")), y), 2.4)


def test_at_beta_star_to_60_digits_the_fold_is_one_certified_double_root():
    from grpo_symbolic.cases import bistability
    star = mpmath.nstr(bistability.critical_beta("0.5", 60), 60)
    prob = Problem(reference=["0.5", "0.5"], rewards=[1, 0], group_size="inf", beta=star, penalty="direct")
    points = stationary_policies(prob, DPS)
    statement = points.completeness
    assert len(points) == 1 and len(statement.double_roots) == 1 and statement.complete and not statement.unresolved
    assert points[0].stable is None and "double root" in str(statement)
    with mpmath.workdps(DPS + 20):
        y = _h_slope_zero(mpmath.mpf(star))
        x = 1 / (1 + mpmath.exp(-y))
        assert digits(points[0].policy[0], x) >= DPS - 2
        centre, radius = statement.double_roots[0]
        assert radius < mpmath.mpf(10) ** -(DPS // 2) and abs(centre + y) < radius  # s = log(m_0/m_1) = −y


def test_at_beta_star_to_50_digits_the_two_roots_1e_minus_25_apart_are_both_certified():
    from grpo_symbolic.cases import bistability
    star = mpmath.nstr(bistability.critical_beta("0.5", 50), 50)  # just above β*: two roots
    prob = Problem(reference=["0.5", "0.5"], rewards=[1, 0], group_size="inf", beta=star, penalty="direct")
    points = stationary_policies(prob, DPS)
    assert len(points) == 2 and [pt.stable for pt in points] == [True, False] and points.completeness.complete
    gap = points[1].policy[0] - points[0].policy[0]
    assert mpmath.mpf(10) ** -27 < gap < mpmath.mpf(10) ** -24
    with mpmath.workdps(DPS + 20):
        for pt in points:
            y = mpmath.log(pt.policy[0] / pt.policy[1])
            assert abs(direct_h(y, mpmath.mpf(star), "inf", mpmath.mpf("0.5"))) < mpmath.mpf(10) ** -(DPS - 2)


def test_settings_outside_the_paper_are_not_certified():
    from grpo_symbolic.solve.complete import unsupported_setting
    prob = Problem(reference=["0.5", "0.5"], rewards=[1, 0], group_size=4, beta=1)
    assert unsupported_setting(prob) == ""
    object.__setattr__(prob, "penalty", None)  # what a KL estimator other than the paper's two gives
    assert unsupported_setting(prob).startswith("kl_estimator=")
