"""The (S1, S2) path of P_G against the composition path and brute-force enumeration, at 50 digits."""

from __future__ import annotations

from fractions import Fraction
import itertools
import math
import random

from hypothesis import given, settings, strategies as st
import mpmath
import numpy as np
import pytest
import sympy as sp

from grpo_symbolic import ParameterError, Problem, preference_numeric
from grpo_symbolic.model import cost
from grpo_symbolic.numerics.certify import available
from grpo_symbolic.preference import engine, sums
from grpo_symbolic.preference.moments import MomentTable
from grpo_symbolic.theory.advantage import RULES, Group
from tests.strategies import NORMALISATIONS, fractions, probability_vectors

pytestmark = pytest.mark.skipif(not available(), reason="the sums path needs python-flint")

DPS = 50


def brute_force(values, group_size, normalisation, eps, m):
    """Q_v(m) by enumerating every ordered tuple of the other G − 1 rewards (mpmath, exact rules)."""
    rule, V = RULES[normalisation], len(values)
    result = []
    for v in range(V):
        total = mpmath.mpf(0)
        for others in itertools.product(range(V), repeat=group_size - 1):
            counts = tuple(others.count(j) for j in range(V))
            a = rule(Group(tuple(values), v, counts), eps, sp.sqrt)
            weight = math.prod((m[j] for j in others), start=mpmath.mpf(1))
            total += weight * mpmath.mpf(sp.N(a, DPS + 20))
        result.append(total)
    return result


@st.composite
def settings_and_mixture(draw, max_group=5, max_values=4):
    values = sorted(set(draw(st.lists(fractions(Fraction(-3), Fraction(3), 4), min_size=2, max_size=max_values))))
    group_size = draw(st.integers(2, max_group))
    normalisation = draw(st.sampled_from(NORMALISATIONS))
    eps = draw(st.sampled_from([Fraction(0), Fraction(1, 10), Fraction(3)]))
    m = draw(probability_vectors(len(values), positive=False))
    return tuple(sp.Rational(v) for v in values), group_size, normalisation, sp.Rational(eps), m


def _close(a, b, digits=DPS):
    scale = max([mpmath.mpf(1)] + [abs(x) for x in b])
    return max(abs(x - y) for x, y in zip(a, b)) <= scale * mpmath.mpf(10) ** (-digits)


@settings(max_examples=25, deadline=None)
@given(settings_and_mixture())
def test_sums_equal_brute_force_and_compositions(case):
    values, group_size, normalisation, eps, m = case
    with mpmath.workdps(DPS + 15):
        mix = [mpmath.mpf(x.numerator) / x.denominator for x in m]
        ours = sums.SumsTable(values, group_size, normalisation, eps).evaluate(mix, relative=True)
        compositions = MomentTable(values, group_size, normalisation, eps).evaluate(mix, relative=True)
        brute = brute_force(values, group_size, normalisation, eps, mix)
    assert _close(ours, brute) and _close(ours, compositions)


@settings(max_examples=10, deadline=None)
@given(settings_and_mixture(max_group=9, max_values=5))
def test_float_path_close_to_exact(case):
    values, group_size, normalisation, eps, m = case
    with mpmath.workdps(30):
        exact = MomentTable(values, group_size, normalisation, eps).evaluate([mpmath.mpf(x.numerator) / x.denominator for x in m])
    fast = sums.SumsTable(values, group_size, normalisation, eps).evaluate_float(np.array([float(x) for x in m]))
    assert np.allclose(fast, [float(q) for q in exact], rtol=0, atol=1e-12 * max(1.0, max(abs(float(q)) for q in exact)))


def test_state_count_matches_the_reachable_moments():
    """The states are exactly the distinct (Σ w, Σ w²) of the G − 1 others (brute force)."""
    values, group_size = tuple(sp.Integer(v) for v in (0, 1, 3, 4)), 5
    table = sums.SumsTable(values, group_size, "population", sp.Integer(0))
    pairs = {(sum(c), sum(x * x for x in c)) for c in itertools.product((0, 1, 3, 4), repeat=group_size - 1)}
    _, s1, s2 = table.states()
    assert set(zip(s1.tolist(), s2.tolist())) == pairs


@pytest.mark.parametrize("span", [9, 10, 15, 20])
def test_the_cost_model_has_the_table_length(span):
    """W odd: the model's length is the table's; W even: the table's base is found, and the model's
    bound is above it by under 1 % (every integer 0 … W a value)."""
    values = tuple(sp.Integer(v) for v in range(span + 1))
    table, model = sums.SumsTable(values, 64, "population", sp.Integer(0)).length, cost.kronecker_length(64, span)
    assert table == model if span % 2 else table <= model < 1.01 * table


@pytest.mark.parametrize("values", [(0, 1, 3, 4), (0, 2, 3, 7), (0, 1, 2, 3, 4, 5, 6)])
def test_kronecker_base_is_the_least_one_to_one(values):
    """The table's base keeps the reachable (Σ x, Σ x(W' − x)/2) apart; one less merges two of them
    (brute force over every ordered draw of G − 1 = 4 others)."""
    table = sums.SumsTable(tuple(sp.Integer(v) for v in values), 5, "population", sp.Integer(0))
    odd = max(table.x) | 1
    pairs = {(sum(d), sum(x * (odd - x) // 2 for x in d)) for d in itertools.product(table.x, repeat=4)}
    assert len({s1 * table.base + u for s1, u in pairs}) == len(pairs) == table.state_count()
    assert len({s1 * (table.base - 1) + u for s1, u in pairs}) < len(pairs)


@pytest.mark.parametrize("group_size", [16, 32])
def test_absolute_evaluation_keeps_the_working_digits(group_size):
    """At the working precision alone (no relative reserve) the sums agree with the composition sum
    at 80 digits to 49 digits of the largest |Q_v| (with no guard bits: 47.5 and 46.8)."""
    values = tuple(sp.Integer(v) for v in range(6))

    def mixture():
        m = [mpmath.mpf(k + 1) / 21 for k in range(5)]
        return [*m, 1 - mpmath.fsum(m)]

    with mpmath.workdps(50):
        ours = sums.SumsTable(values, group_size, "population", sp.Integer(0)).evaluate(mixture())
        with mpmath.workdps(80):
            plain = MomentTable(values, group_size, "population", sp.Integer(0)).evaluate(mixture())
        assert _close(ours, plain, 49)


@pytest.mark.parametrize("limb", [32, 16, 8])
def test_grouped_sums_are_the_integer_sums(monkeypatch, limb):
    """Σ N·Prob per D through float64 limbs equals the big-integer sum for every limb width, on
    full 200-bit coefficients."""
    from flint import fmpz_poly

    monkeypatch.setattr(sums.SumsTable, "LIMBS", (limb,))
    table = sums.SumsTable(tuple(sp.Integer(v) for v in range(7)), 12, "sample", sp.Integer(0))
    rng, bits = random.Random(3), 200
    law = fmpz_poly([rng.getrandbits(bits) for _ in range(table.length)])
    index, s1, _ = table._shifted_states()
    limbs = table._limbs(law, bits)
    assert limbs.shape[0] * limb >= bits
    for v, (distinct, inverse) in enumerate(table._groups()):
        n = table.others * table.x[v] - s1
        expected = [0] * len(distinct)
        for i, k, nv in zip(index.tolist(), inverse.tolist(), n.tolist()):
            expected[k] += nv * int(law[i])
        assert table._grouped(limbs, inverse, len(distinct), n) == expected


def test_limbs_narrow_until_the_float_sums_are_exact():
    """|N|·(2^limb − 1)·(states at one D) < 2^53 picks the limb; past 8 bits: ParameterError."""
    table = sums.SumsTable(tuple(sp.Integer(v) for v in range(7)), 12, "population", sp.Integer(0))
    crowd = max(int(np.bincount(inverse).max()) for _, inverse in table._groups())
    widths = []
    for others in (11, 2**20 // crowd, 2**36 // crowd, 2**44 // crowd):
        table.others, table._width = others, None
        try:
            widths.append(table._limb_bits())
        except ParameterError as error:
            widths.append(str(error).split(":")[0])
    assert widths == [32, 16, 8, "group_size"]


def test_engine_dispatch_picks_the_cheaper_path():
    many = tuple(sp.Integer(v) for v in range(11))
    assert sums.sums_cheaper(many, 64, "population")
    assert not sums.sums_cheaper((sp.Integer(0), sp.Integer(1)), 64, "population")
    assert not sums.sums_cheaper((sp.Integer(0), sp.sqrt(2), sp.Integer(3)), 64, "population")  # irrational: numeric table
    prob = Problem(["1/2", "1/2"], [{str(v): "1/11" for v in range(11)}, 5], 64, 1)
    assert isinstance(engine.advantage_table(prob, 50), sums.SumsTable)


def test_public_path_agrees_with_compositions_at_50_digits():
    """preference_numeric through the sums path (V = 8, G = 16) against the composition table."""
    prob = Problem(["1/3", "2/3"], [{"0": "1/4", "1/2": "1/4", "1": "1/4", "3/2": "1/4"},
                                    {"2": "1/4", "5/2": "1/4", "3": "1/4", "7/2": "1/4"}], 16, 1,
                   normalisation="sample", eps="1/100")
    assert isinstance(engine.advantage_table(prob, DPS), sums.SumsTable)
    ours = preference_numeric(prob, ["1/5", "4/5"], dps=DPS)
    settings_ = (prob.reward_values, prob.group_size, prob.normalisation, prob.eps)
    with mpmath.workdps(DPS + 15):
        m = engine.mixture(engine._numeric_laws(prob), (mpmath.mpf(1) / 5, mpmath.mpf(4) / 5))
        q = MomentTable(*settings_).evaluate(m, relative=True)
        plain = engine._combine(engine._numeric_laws(prob), q)
    assert _close(ours, plain, DPS - 1)


def test_cost_refuses_v30_g4096_before_computing(monkeypatch):
    def never(*args):
        raise AssertionError("a table was built before the cost check")

    monkeypatch.setattr(sums, "sums_table", never)
    monkeypatch.setattr(engine, "moment_table", never)
    monkeypatch.setattr(engine, "sums_table", never)
    prob = Problem(["1/2", "1/2"], [{str(v): "1/30" for v in range(30)}, 0], 4096, 1)
    with pytest.raises(ParameterError, match=r"budget: .*30 reward values at G = 4096.*estimated .* s \(budget 100 s\)"):
        preference_numeric(prob, ["1/2", "1/2"])
    with pytest.raises(ParameterError, match="budget"):
        engine.preference_exact(prob, ["1/2", "1/2"])


def test_budget_raises_the_limit():
    prob = Problem(["1/2", "1/2"], [{str(v): "1/6" for v in range(6)}, 0], 16, 1)
    with pytest.raises(ParameterError, match="budget"):
        preference_numeric(prob, ["1/2", "1/2"], dps=20, budget=1e-9)
    assert len(preference_numeric(prob, ["1/2", "1/2"], dps=20, budget=math.inf)) == 2


def test_solver_through_the_sums_path(monkeypatch):
    """The solver's evaluations (float64 scans and full precision) go through the engine: the same
    stationary policy to 30 digits whether the engine takes the sums or the composition table."""
    from grpo_symbolic import stationary_policy
    from grpo_symbolic.solve.search import SolverOptions

    prob = Problem(["1/4", "1/4", "1/2"], [{"0": "1/2", "1": "1/4", "2": "1/4"}, {"3": "1/2", "4": "1/2"},
                                           {"5": "1/3", "6": "1/3", "7": "1/3"}], 8, "1/2")
    options = SolverOptions(multistart=(0.0,), certified=False)
    assert isinstance(engine.advantage_table(prob, DPS), sums.SumsTable)
    ours = stationary_policy(prob, 30, options=options)
    monkeypatch.setattr(engine, "sums_cheaper", lambda *settings: False)
    plain = stationary_policy(prob, 30, options=options)
    assert _close(ours, plain, 28)
