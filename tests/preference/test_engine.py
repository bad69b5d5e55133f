"""P_G(o|π): exact sums against brute-force enumeration, Monte Carlo, identities and invariances."""

from fractions import Fraction
import itertools

from hypothesis import given, settings, strategies as st
import mpmath
import pytest
import sympy as sp

from grpo_symbolic import ParameterError, Problem
from grpo_symbolic.preference.engine import (large_group_preference, monte_carlo_preference, pairwise_preference,
                                      preference_exact, preference_numeric)
from grpo_symbolic.model.symbols import p

DIGITS = 45


def brute_force(problem, policy):
    """P_G(o|π) by enumerating every group (outputs and reward outcomes) and applying (2) directly."""
    G, K = problem.group_size, problem.size
    laws = [law.outcomes for law in problem.rewards]
    result = []
    for o in range(K):
        total = sp.Integer(0)
        for others in itertools.product(range(K), repeat=G - 1):
            weight = sp.Mul(*[policy[j] for j in others])
            for outcome in itertools.product(*[laws[j] for j in (o, *others)]):
                rewards = [v for v, _ in outcome]
                prob = sp.Mul(*[q for _, q in outcome])
                total += weight * prob * direct_advantage(rewards, problem.normalisation, problem.eps)
        result.append(total)
    return result


def direct_advantage(rewards, normalisation, eps):
    n = len(rewards)
    mean = sp.Add(*rewards) / n
    if normalisation == "shift":
        return rewards[0] - mean
    ss = sp.Add(*[(r - mean) ** 2 for r in rewards])
    if ss == 0:
        return sp.Integer(0)
    std = sp.sqrt(ss / (n if normalisation == "population" else n - 1))
    return (rewards[0] - mean) / (std + eps)


def close(a, b, digits=DIGITS):
    with mpmath.workdps(digits + 10):
        a, b = mpmath.mpf(sp.N(a, digits + 10)), mpmath.mpf(sp.N(b, digits + 10))
        return abs(a - b) <= mpmath.mpf(10) ** (-digits) * max(1, abs(b))


CASES = [
    dict(reference=["0.2", "0.3", "0.5"], rewards=[2, 0, 1], group_size=3),
    dict(reference=["0.2", "0.3", "0.5"], rewards=[{"0": "0.5", "1": "0.5"}, 1, {"1": "0.25", "2": "0.75"}], group_size=3),
    dict(reference=["0.4", "0.6"], rewards=[{"0": "0.3", "1": "0.7"}, {"0": "0.6", "1": "0.4"}], group_size=4),
    dict(reference=["0.25", "0.25", "0.5"], rewards=[1, 1, 0], group_size=2),  # a tie between outputs
    dict(reference=["0.4", "0.6"], rewards=[3, -1], group_size=5),
]


@pytest.mark.parametrize("normalisation", ["population", "sample", "shift"])
@pytest.mark.parametrize("eps", [0, "1/10"])
@pytest.mark.parametrize("case", range(len(CASES)))
def test_exact_sum_equals_brute_force(case, normalisation, eps):
    prob = Problem(beta=1, normalisation=normalisation, eps=eps, **CASES[case])
    policy = [sp.Rational(1, 7), sp.Rational(2, 7), sp.Rational(4, 7)][: prob.size] if prob.size == 3 else [sp.Rational(2, 7), sp.Rational(5, 7)]
    exact = preference_exact(prob, policy)
    expected = brute_force(prob, policy)
    numeric = preference_numeric(prob, policy, dps=50)
    for e, b, n in zip(exact, expected, numeric):
        assert close(e, b)
        assert close(n, b)


def test_symbolic_policy_matches_brute_force():
    prob = Problem(reference=["0.2", "0.3", "0.5"], rewards=[2, 0, {"0": "0.5", "2": "0.5"}], group_size=3, beta=1)
    q = sp.symbols("q1 q2", positive=True)
    policy = (q[0], q[1], 1 - q[0] - q[1])
    for e, b in zip(preference_exact(prob, policy), brute_force(prob, policy)):
        assert sp.simplify(sp.expand(e - b)) == 0


@settings(max_examples=30, deadline=None)
@given(
    rewards=st.lists(st.one_of(st.integers(-3, 3), st.dictionaries(st.integers(-2, 2), st.integers(1, 4), min_size=1, max_size=3)), min_size=2, max_size=4),
    group_size=st.integers(2, 7),
    normalisation=st.sampled_from(["population", "sample", "shift"]),
    eps=st.sampled_from([0, "0.01"]),
    weights=st.lists(st.integers(1, 9), min_size=4, max_size=4),
)
def test_zero_mean_identity(rewards, group_size, normalisation, eps, weights):
    """E_{o~π}[P_G(o|π)] = 0 for every G, reward law and mean-centred normalisation."""
    laws = [r if isinstance(r, int) else {v: Fraction(w, sum(r.values())) for v, w in r.items()} for r in rewards]
    k = len(laws)
    ref = [Fraction(1, k)] * k
    policy = [Fraction(w, sum(weights[:k])) for w in weights[:k]]
    prob = Problem(reference=ref, rewards=laws, group_size=group_size, beta=1, normalisation=normalisation, eps=eps)
    with mpmath.workdps(60):
        P = preference_numeric(prob, policy, dps=50)
        mean = mpmath.fsum(mpmath.mpf(x.numerator) / x.denominator * v for x, v in zip(policy, P))
    assert abs(mean) < mpmath.mpf(10) ** -45


@pytest.mark.parametrize("normalisation", ["population", "sample", "shift"])
def test_monte_carlo_within_standard_error(normalisation):
    prob = Problem(reference=["0.2", "0.3", "0.5"], rewards=[{"0": "0.5", "1": "0.5"}, 1, {"1": "0.25", "2": "0.75"}],
                   group_size=6, beta=1, normalisation=normalisation)
    policy = ["0.3", "0.3", "0.4"]
    exact = preference_numeric(prob, policy, dps=30)
    estimate, error = monte_carlo_preference(prob, policy, samples=40000, seed=7)
    for e, m, s in zip(exact, estimate, error):
        assert s > 0
        assert abs(m - float(e)) < 4 * s


@pytest.mark.parametrize("normalisation", ["population", "sample"])
@pytest.mark.parametrize("scale,offset", [(3, 0), ("1/2", 5), (7, -2)])
def test_invariance_under_affine_rewards(normalisation, scale, offset):
    base = [{"0": "0.5", "1": "0.5"}, 1, {"1": "0.25", "2": "0.75"}]
    a, b = sp.Rational(scale), sp.Rational(offset)
    moved = [{str(a * sp.Rational(v) + b): q for v, q in law.items()} if isinstance(law, dict) else a * law + b for law in base]
    args = dict(reference=["0.2", "0.3", "0.5"], group_size=5, beta=1, normalisation=normalisation)
    before = preference_numeric(Problem(rewards=base, **args), ["0.1", "0.6", "0.3"], dps=50)
    after = preference_numeric(Problem(rewards=moved, **args), ["0.1", "0.6", "0.3"], dps=50)
    for x, y in zip(before, after):
        assert close(x, y)


def test_shift_only_is_not_scale_invariant():
    args = dict(reference=["0.5", "0.5"], group_size=4, beta=1, normalisation="shift")
    one = preference_numeric(Problem(rewards=[1, 0], **args), ["0.5", "0.5"])
    two = preference_numeric(Problem(rewards=[2, 0], **args), ["0.5", "0.5"])
    assert close(2 * one[0], two[0]) and not close(one[0], two[0])


@pytest.mark.parametrize("normalisation", ["population", "sample", "shift"])
def test_pairwise_form_is_the_general_sum_at_g2(normalisation):
    prob = Problem(reference=["0.2", "0.3", "0.5"], rewards=[{"0": "0.5", "1": "0.5"}, 1, {"1": "0.25", "2": "0.75"}],
                   group_size=2, beta=1, normalisation=normalisation)
    q = sp.symbols("q1 q2", positive=True)
    policy = (q[0], q[1], 1 - q[0] - q[1])
    for e, b in zip(preference_exact(prob, policy), pairwise_preference(prob, policy)):
        assert sp.simplify(e - b) == 0


def test_large_group_limit_approached_at_rate_one_over_g():
    args = dict(reference=["0.3", "0.7"], rewards=[{"0": "0.2", "1": "0.8"}, {"0": "0.7", "1": "0.3"}], beta=1)
    limit = large_group_preference(Problem(group_size="inf", **args), (sp.Rational(2, 5), sp.Rational(3, 5)))
    errors = []
    for G in (256, 1024, 4096):
        value = preference_numeric(Problem(group_size=G, **args), ["0.4", "0.6"], dps=30)
        errors.append(abs(value[0] - mpmath.mpf(sp.N(limit[0], 40))))
    assert errors[0] > errors[1] > errors[2]
    assert 3 < errors[0] / errors[1] < 5 and 3 < errors[1] / errors[2] < 5  # error ≈ c/G


def test_binary_general_g_matches_binomial_sum():
    G = 9
    prob = Problem(reference=["0.3", "0.7"], rewards=[1, 0], group_size=G, beta=1)
    a, b = preference_exact(prob, (p, 1 - p))
    k = range(G)
    binom_a = sum(sp.binomial(G - 1, j) * p**j * (1 - p) ** (G - 1 - j) * sp.sqrt(sp.Rational(G - 1 - j, j + 1)) for j in k if j <= G - 2)
    binom_b = -sum(sp.binomial(G - 1, j) * p**j * (1 - p) ** (G - 1 - j) * sp.sqrt(sp.Rational(j, G - j)) for j in k if j >= 1)
    assert sp.expand(a - binom_a) == 0 and sp.expand(b - binom_b) == 0


def test_solver_output_is_accepted_back_at_the_same_precision():
    from grpo_symbolic.solve.api import stationary_policy

    prob = Problem(reference=["0.3", "0.7"], rewards=[1, 0], group_size=8, beta="0.5")
    policy = stationary_policy(prob, 50)
    P = preference_numeric(prob, policy, 50)
    assert abs(P[0] - prob.beta * (1 - sp.Rational(3, 10) / sp.Float(str(policy[0]), 15))) < 1e-10  # (11) with lambda = 0


def test_undecidable_reward_order_is_an_error():
    from grpo_symbolic import ParameterError

    r_a, r_b = sp.symbols("r_a r_b", real=True)
    prob = Problem(reference=["0.3", "0.7"], rewards=[r_a, r_b], group_size=2, beta=1)
    with pytest.raises(ParameterError, match="cannot tell"):
        pairwise_preference(prob, (p, 1 - p))


# --- relative precision at the extremes (issue 10): each against the exact SymPy answer --------

TINY = Fraction(1, 10**300)


def _relative_error(numeric, exact_values, dps):
    worst = mpmath.mpf(0)
    with mpmath.workdps(dps + 20):
        for got, want in zip(numeric, exact_values):
            want = mpmath.mpf(sp.N(want, dps + 20)._mpf_)
            worst = max(worst, abs(got - want) / abs(want) if want != 0 else abs(got))
    return worst


@pytest.mark.parametrize("problem,policy", [
    # P_G(b) = −√7·1e-300 to leading order: the fixed-point sums used to return 0 (0 correct digits)
    (Problem(["0.3", "0.7"], [1, 0], 8, 1), (TINY, 1 - TINY)),
    (Problem(["0.3", "0.7"], [1, 0], 8, 1), (1 - TINY, TINY)),
    (Problem(["0.3", "0.7"], [1, 0], 40, 1, normalisation="sample"), (TINY, 1 - TINY)),
    (Problem(["0.3", "0.7"], [1, 0], 8, 1, normalisation="shift"), (TINY, 1 - TINY)),
    (Problem(["0.3", "0.7"], [1, 0], "inf", 1), (TINY, 1 - TINY)),
    # eps = 1e300: every value is ~1e-301 (used to be 0)
    (Problem(["0.3", "0.7"], [1, 0], 8, 1, eps="1e300"), ("0.3", "0.7")),
    (Problem(["0.3", "0.7"], [1, 0], 8, "1e300"), ("0.3", "0.7")),
    # a reward gap of 1e-20 under eps = 1e-4
    (Problem(["0.3", "0.7"], [1, Fraction(10**20 - 1, 10**20)], 8, 1, eps="1e-4"), ("0.3", "0.7")),
    (Problem(["0.3", "0.7"], [1, Fraction(10**20 - 1, 10**20)], 8, 1, eps="1e-4", normalisation="shift"), ("0.3", "0.7")),
    # near-cancellation among three reward values (rational and irrational: both tables)
    (Problem(["0.2", "0.3", "0.5"], [-1, 0, 1], 5, 1), (Fraction(1, 4) - Fraction(1, 10**40), "0.5", Fraction(1, 4) + Fraction(1, 10**40))),
    (Problem(["0.2", "0.3", "0.5"], [-sp.sqrt(2), 0, sp.sqrt(2)], 5, 1),
     (Fraction(1, 4) - Fraction(1, 10**40), "0.5", Fraction(1, 4) + Fraction(1, 10**40))),
    # a noisy reward whose terms cancel in P(o) = Σ_v law(v)·Q_v
    (Problem(["0.2", "0.3", "0.5"], [{1: "0.5", 0: "0.5"}, 0, 1], 6, 1), ("0.1", "1e-30", Fraction(9, 10) - Fraction(1, 10**30))),
])
@pytest.mark.parametrize("dps", [30, 60])
def test_relative_precision_at_the_extremes(problem, policy, dps):
    numeric = preference_numeric(problem, policy, dps)
    assert _relative_error(numeric, preference_exact(problem, policy), dps) < mpmath.mpf(10) ** (1 - dps)


def test_all_rewards_equal_give_zero():
    problem = Problem(["0.3", "0.7"], [1, 1], 8, 1)
    assert preference_numeric(problem, ("0.3", "0.7"), 30) == (0, 0)
    assert preference_exact(problem, ("0.3", "0.7")) == (0, 0)


def test_exact_zero_by_symmetry_is_zero_not_noise():
    problem = Problem(["0.2", "0.3", "0.5"], [-1, 0, 1], 5, 1)
    assert preference_numeric(problem, ("0.25", "0.5", "0.25"), 30)[1] == 0
    irrational = Problem(["0.2", "0.3", "0.5"], [-sp.sqrt(2), 0, sp.sqrt(2)], 5, 1)
    assert preference_numeric(irrational, ("0.25", "0.5", "0.25"), 30)[1] == 0


@pytest.mark.parametrize("policy", [["0.9", "0.9"], ["5", "7"], ["500", "700"], ["2", "3"]])
@pytest.mark.parametrize("dps", [5, 30])
def test_policies_that_do_not_sum_to_one_are_refused(policy, dps):
    """Issue 10: these returned numbers; dps <= 0 was accepted."""
    problem = Problem(["0.3", "0.7"], [1, 0], 8, 1)
    with pytest.raises(ParameterError, match="^policy:"):
        preference_numeric(problem, policy, dps)
    with pytest.raises(ParameterError, match="^policy:"):
        preference_exact(problem, policy)


@pytest.mark.parametrize("dps", [1, -3, 0, 4])
def test_too_few_digits_are_refused(dps):
    with pytest.raises(ParameterError, match="^dps:"):
        preference_numeric(Problem(["0.3", "0.7"], [1, 0], 8, 1), ["0.3", "0.7"], dps)


def test_monte_carlo_takes_two_samples_and_seed_zero():
    """Two samples are the fewest with a standard error; seeds start at 0."""
    prob = Problem(["0.3", "0.7"], [1, 0], 4, 1)
    estimate, error = monte_carlo_preference(prob, ("0.3", "0.7"), samples=2, seed=0)  # seed 0 is a seed
    assert len(estimate) == len(error) == 2
    with pytest.raises(ParameterError, match="^samples:"):
        monte_carlo_preference(prob, ("0.3", "0.7"), samples=1, seed=1)


def test_values_that_all_cancel_are_zeros_not_noise():
    """Both P_G are exactly 0 here (G = 2, equal mixtures of ±1 and −2): the noise of every
    precision is measured against the expected advantages, not against the largest (noise) P_G."""
    laws = [{1: Fraction(4, 7), -2: Fraction(3, 7)}, {-1: Fraction(3, 4), 1: Fraction(1, 4)}]
    prob = Problem(reference=["1/2", "1/2"], rewards=laws, group_size=2, beta=1)
    assert preference_exact(prob, ["1/2", "1/2"]) == (0, 0)
    assert preference_numeric(prob, ["1/2", "1/2"], dps=50) == (0, 0)
