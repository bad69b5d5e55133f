"""The trainers' numpy advantage rules and group filters (grpo_symbolic.dynamics.sampled_advantages).

Each rule is compared, on every group of a few reward sets, with two exact references: the rule's
definition written out here in Fractions (PKPO's by its subsets) and the engine's exact rule
(grpo_symbolic.theory.advantage).  The filters' batches are compared with their conditional
expectations, and short sampled runs with the solver's stationary policy.
"""

from fractions import Fraction
from itertools import combinations, product
from math import comb, isqrt
import math

import mpmath
import numpy as np
import pytest
import sympy as sp

from grpo_symbolic import ParameterError, Problem
from grpo_symbolic.dynamics import sampled_advantages as sa
from grpo_symbolic.dynamics.simulate import _GroupSampler, simulate
from grpo_symbolic.preference.engine import preference_numeric, problem_rule
from grpo_symbolic.solve.api import stationary_policy
from grpo_symbolic.theory.advantage import Group, rule
from grpo_symbolic.theory.filtering import kept_probability

REWARD_SETS = [(0, 1), (0, Fraction(1, 2), 1), (Fraction(-3, 2), Fraction(3, 10), 2)]


def _sqrt(x):
    """An exact square root where x is a rational square, else sympy's (compared in float)."""
    x = Fraction(x)
    n, d = isqrt(x.numerator), isqrt(x.denominator)
    return Fraction(n, d) if n * n == x.numerator and d * d == x.denominator else float(sp.sqrt(sp.Rational(x.numerator, x.denominator)))


def _grpo(r, ddof, eps):
    mean = Fraction(sum(r), len(r))
    if all(x == r[0] for x in r):
        return [0] * len(r)
    std = _sqrt(Fraction(sum((x - mean) ** 2 for x in r), len(r) - ddof))
    return [(x - mean) / (std + eps) for x in r]


def _rloo(r):
    return [x - Fraction(sum(r) - x, len(r) - 1) for x in r]


def _rloo_std(r, eps):
    out = []
    for i, x in enumerate(r):
        others = r[:i] + r[i + 1:]
        b = Fraction(sum(others), len(others))
        if all(y == others[0] for y in others):
            out.append(x - b)
        else:
            out.append((x - b) / (_sqrt(Fraction(sum((y - b) ** 2 for y in others), len(others))) + eps))
    return out


def _passk(r, k):
    """(G/C(G, k)) Σ_{I ∋ i, |I| = k} [max_I r − max_{I∖i} r], every subset listed (max of none = 0)."""
    G = len(r)
    out = []
    for i in range(G):
        total = 0
        for rest in combinations([j for j in range(G) if j != i], k - 1):
            total += max([r[i]] + [r[j] for j in rest]) - (max(r[j] for j in rest) if rest else 0)
        out.append(Fraction(G * total, comb(G, k)))
    return out


CASES = [("grpo", dict(normalisation="population"), lambda r: _grpo(r, 0, 0)),
         ("grpo", dict(normalisation="sample", eps=0.25), lambda r: _grpo(r, 1, Fraction(1, 4))),
         ("grpo", dict(normalisation="shift"), lambda r: [x - Fraction(sum(r), len(r)) for x in r]),
         ("rloo", {}, _rloo),
         ("rloo-std", {}, lambda r: _rloo_std(r, 0)),
         ("rloo-std", dict(eps=0.5), lambda r: _rloo_std(r, Fraction(1, 2)))]


def _groups(values, size):
    return [list(g) for g in product(values, repeat=size)]


@pytest.mark.parametrize("advantage,options,definition", CASES)
@pytest.mark.parametrize("values", REWARD_SETS)
@pytest.mark.parametrize("size", [2, 3, 5])
def test_each_rule_equals_its_definition_on_every_group(advantage, options, definition, values, size):
    groups = _groups(values, size)
    got = sa.advantages(np.array([[float(x) for x in g] for g in groups]), advantage, **options)
    expected = np.array([[float(a) for a in definition(g)] for g in groups])
    assert np.allclose(got, expected, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("size,k", [(2, 1), (2, 2), (4, 2), (5, 3), (6, 6)])
def test_passk_equals_pkpo_subset_definition_and_engine_rule(size, k):
    groups = _groups((0, 1), size)
    got = sa.advantages(np.array(groups, dtype=float), "passk", pass_k=k)
    expected = np.array([[float(a) for a in _passk(g, k)] for g in groups])
    assert np.allclose(got, expected, rtol=1e-13, atol=1e-13)
    engine = np.array([[float(rule(f"passk-{k}")(_group(g, i, (0, 1)), 0, None)) for i in range(size)] for g in groups])
    assert np.allclose(got, engine, rtol=1e-13, atol=1e-13)


def test_passk_general_rewards_follow_the_subset_definition():
    values = (Fraction(-1), Fraction(3, 10), Fraction(2))
    groups = _groups(values, 4)
    got = sa.advantages(np.array([[float(x) for x in g] for g in groups]), "passk", pass_k=3)
    assert np.allclose(got, [[float(a) for a in _passk(g, 3)] for g in groups], rtol=1e-12, atol=1e-12)


def _group(rewards, i, values):
    """Member i of ``rewards`` as the engine's Group (focal value and counts of the others)."""
    others = rewards[:i] + rewards[i + 1:]
    return Group(tuple(values), values.index(rewards[i]), tuple(others.count(v) for v in values))


@pytest.mark.parametrize("advantage,normalisation,eps", [
    ("grpo", "population", 0), ("grpo", "sample", Fraction(1, 10)), ("rloo", "population", 0),
    ("rloo-std", "population", 0), ("rloo-std", "population", Fraction(1, 1000000))])
def test_each_rule_equals_the_engine_rule(advantage, normalisation, eps):
    values = (Fraction(0), Fraction(1, 2), Fraction(1))
    problem = Problem(["1/3", "1/3", "1/3"], list(values), 4, 1, normalisation=normalisation, eps=eps, advantage=advantage)
    exact = rule(problem_rule(problem))
    groups = _groups(values, 4)
    got = sa.problem_rule(problem)(np.array([[float(x) for x in g] for g in groups]))
    exact_values = tuple(sp.Rational(v.numerator, v.denominator) for v in values)
    engine = [[float(exact(_group([exact_values[values.index(x)] for x in g], i, exact_values),
                           sp.Rational(eps.numerator, eps.denominator) if eps else 0, sp.sqrt)) for i in range(4)]
              for g in groups]
    assert np.allclose(got, engine, rtol=1e-13, atol=1e-13)


def test_zero_std_is_decided_from_the_values_not_a_float_std():
    # rewards 0.1: sq_mean - mean^2 is about 1e-18 in float64, not 0 (NeMo-RL #1518)
    r = np.array([[0.1, 0.1, 0.1, 0.7]])
    a = sa.advantages(r, "rloo-std", eps=1e-6)
    assert np.allclose(a[0, 3], 0.6) and np.all(np.abs(a) < 10)
    assert np.all(sa.advantages(np.full((1, 4), 0.1), "grpo") == 0)


@pytest.mark.parametrize("call,name", [
    (lambda: sa.advantages([[1, 0]], "ppo"), "advantage"),
    (lambda: sa.advantages([[1, 0]], "grpo", normalisation="none"), "normalisation"),
    (lambda: sa.advantages([[1, 0]], "passk"), "pass_k"),
    (lambda: sa.advantages([[1, 0]], "passk", pass_k=3), "pass_k"),
    (lambda: sa.advantages("1,0"), "rewards"),
    (lambda: sa.advantages([[1]]), "rewards"),
    (lambda: sa.advantages([[1, math.nan]]), "rewards"),
    (lambda: sa.advantages([[1, 0]], eps=-1), "eps"),
    (lambda: sa.batch(lambda c: None, 1, 1, "drop", np.array([0.0])), "group_filter"),
])
def test_bad_input_names_the_parameter(call, name):
    with pytest.raises(ParameterError, match=f"^{name}:"):
        call()


# --- the filters -------------------------------------------------------------------------------------


def _sampler_means(problem, pi, rounds=20, chains=50, groups=8):
    """Per output: the mean over rounds × chains batches of (Σ advantages, penalised samples) per group,
    and their standard errors."""
    sampler = _GroupSampler(problem, groups)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(7).spawn(chains)]
    pi_old = np.tile(pi, (chains, 1))
    sums, counts = [], []
    for _ in range(rounds):
        positive, negative, count, _ = sampler.draw(pi_old, streams)
        sums.append((positive + negative) / groups)
        counts.append(count / groups)
    sums, counts = np.concatenate(sums), np.concatenate(counts)
    n = len(sums)
    return (sums.mean(0), sums.std(0) / math.sqrt(n)), (counts.mean(0), counts.std(0) / math.sqrt(n))


@pytest.mark.parametrize("group_filter", ["keep", "mask-penalty", "drop-equal"])
@pytest.mark.parametrize("advantage,k", [("grpo", None), ("rloo-std", None), ("passk", 2)])
def test_each_filter_has_its_conditional_expectation(group_filter, advantage, k):
    pi = ("1/5", "3/10", "1/2")
    problem = Problem(["1/3", "1/3", "1/3"], [1, {1: "1/2", 0: "1/2"}, 0], 3, 1, advantage=advantage, pass_k=k,
                      group_filter=group_filter)
    (mean_a, se_a), (mean_n, se_n) = _sampler_means(problem, np.array([float(Fraction(x)) for x in pi]))
    G = problem.group_size
    exact_pi = [mpmath.mpf(Fraction(x).numerator) / Fraction(x).denominator for x in pi]
    laws = [[mpmath.mpf(float(q)) for q in row] for row in problem.law_matrix]
    m = [mpmath.fsum(x * row[v] for x, row in zip(exact_pi, laws)) for v in range(len(laws[0]))]
    degenerate = mpmath.fsum(mv ** G for mv in m)
    kept = [kept_probability(row, m, G) for row in laws]
    scale = 1 / (1 - degenerate) if group_filter == "drop-equal" else 1
    advantage_sums = [G * x * P * scale for x, P in zip(exact_pi, preference_numeric(problem, pi, 20))]
    penalised = [G * x * (w if group_filter != "keep" else 1) * scale for x, w in zip(exact_pi, kept)]
    assert np.all(np.abs(mean_a - np.array(advantage_sums, dtype=float)) < 4 * se_a + 1e-12)
    assert np.all(np.abs(mean_n - np.array(penalised, dtype=float)) < 4 * se_n + 1e-12)


def test_drop_equal_batches_hold_no_all_equal_group_and_each_chain_is_its_own():
    problem = Problem(["3/10", "7/10"], [1, 0], 4, "1/2", group_filter="drop-equal")
    one = simulate(problem, 30, 0.3, chains=1, seed=5).policies[:, 0]
    three = simulate(problem, 30, 0.3, chains=3, seed=5).policies[:, 0]
    assert np.array_equal(one, three)
    values = np.array([0.0, 1.0])
    rng = np.random.default_rng(1)
    outputs, rewards, in_batch, penalised = sa.batch(
        lambda c: (np.zeros((len(c), 6, 4), int), (rng.random((len(c), 6, 4)) < 0.9).astype(int)), 4, 6, "drop-equal", values)
    assert np.all(in_batch == 1) and np.array_equal(in_batch, penalised)
    assert not np.any(sa.all_equal(values[rewards]))


def test_drop_equal_trains_on_what_it_found_when_every_group_is_degenerate():
    outputs, rewards, in_batch, _ = sa.batch(lambda c: (np.zeros((len(c), 3, 2), int), np.ones((len(c), 3, 2), int)),
                                             2, 3, "drop-equal", np.array([0.0, 1.0]))
    assert outputs.shape == (2, 3, 2) and np.all(in_batch == 0)


# --- sampled runs against the solver -----------------------------------------------------------------

RUN = dict(lr=0.125, groups=16, steps_per_batch=2, clip=0.2)
BIAS_PER_LR = 5e-3  # the measured finite-lr offset allowance of paper_checks.checks_dynamics


def _settles_at_the_solver(problem, chains, iterations):
    run = simulate(problem, iterations, chains=chains, seed=3, **RUN)
    mean, stderr = run.estimate(0.5)
    prediction = np.array([float(x) for x in stationary_policy(problem, 20)])
    gap = np.abs(mean - prediction)
    assert np.all(gap < 4 * stderr + BIAS_PER_LR * RUN["lr"]), (mean, stderr, prediction)


SETTINGS = [dict(advantage="rloo"), dict(advantage="rloo-std", eps="1e-6"), dict(advantage="passk", pass_k=2),
            dict(group_filter="mask-penalty"), dict(group_filter="drop-equal"),
            dict(advantage="rloo", group_filter="drop-equal"), dict(advantage="passk", pass_k=3, group_filter="drop-equal")]


@pytest.mark.parametrize("settings", SETTINGS[:1] + SETTINGS[4:5])
def test_a_short_run_settles_at_the_solver(settings):
    _settles_at_the_solver(Problem(["3/10", "7/10"], [1, 0], 4, "1/2", **settings), 16, 800)


@pytest.mark.slow
@pytest.mark.parametrize("settings", SETTINGS)
def test_each_rule_and_filter_settles_at_the_solver(settings):
    _settles_at_the_solver(Problem(["1/5", "3/10", "1/2"], [1, {1: "1/2", 0: "1/2"}, 0], 4, "1/2", **settings), 32, 3000)
