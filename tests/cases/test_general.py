"""Unit tests of grpo_symbolic.cases.general, and mutation tests of its paper checks."""

import random

import mpmath
import pytest
import sympy as sp

from grpo_symbolic import Problem

from grpo_symbolic.paper import forms as paper_forms
from grpo_symbolic.cases import general
from grpo_symbolic.cases import baselines
from paper_checks import fixtures
from grpo_symbolic.theory import algebra
from grpo_symbolic.theory.objective import derive_stationarity
from grpo_symbolic.theory.penalty import kl0
from grpo_symbolic.preference.engine import large_group_preference, preference_exact
from grpo_symbolic.model.symbols import P_mean, P_o, beta, indexed, lam, pi_o, pi_ref_o
from paper_checks.registry import REGISTRY

R = sp.Rational


@pytest.fixture(scope="module")
def registry():
    REGISTRY.discover()
    assert not REGISTRY.import_errors, REGISTRY.import_errors
    return REGISTRY


# --- helpers ---------------------------------------------------------------------------------------


def test_is_zero_decides_radical_identities_and_rejects_non_identities():
    a, x = sp.symbols("a x", positive=True)
    assert algebra.is_zero(sp.sqrt(a**2 * x + a**2) - a * sp.sqrt(x + 1))
    assert not algebra.is_zero(sp.sqrt(x + 1) - sp.sqrt(x))


def test_solve_linear_rejects_a_nonlinear_equation():
    y = sp.Symbol("y")
    assert algebra.solve_linear(3 * y - 6, y) == 2
    with pytest.raises(ValueError):
        algebra.solve_linear(y**2 - 1, y)
    with pytest.raises(ValueError):
        algebra.solve_linear(sp.Integer(4), y)


def test_random_problem_and_policy_are_valid_and_reproducible():
    first = general.random_problem(random.Random(9), 4, 3, "sample", R(1, 100))
    again = general.random_problem(random.Random(9), 4, 3, "sample", R(1, 100))
    assert first == again and sum(first.reference) == 1 and first.normalisation == "sample"
    policy = general.random_policy(random.Random(9), 5)
    assert sum(policy) == 1 and all(v > 0 for v in policy)


# --- Section 1 --------------------------------------------------------------------------------------


@pytest.mark.parametrize("rewards", [[1, 0, 0, 1], [R(5, 2), -1, 7], [4, 4, 4], [0, 3]])
def test_advantage_matches_equation_2_and_sums_to_zero(rewards):
    derived = [general.advantage(rewards, i) for i in range(len(rewards))]
    assert all(sp.nsimplify(d - paper_forms.advantage_eq2(rewards, i)) == 0 for i, d in enumerate(derived))
    assert sp.simplify(sum(derived)) == 0


def test_advantage_shift_rule_and_ties():
    assert general.advantage([3, 1], 0, "shift") == 1
    assert general.advantage([7, 7, 7], 2, "sample") == 0


def test_rlhf_maximiser_is_normalised_softmax():
    d = baselines.derive_rlhf(3)
    r, ref = d.symbols["rewards"], d.symbols["reference"]
    assert sp.cancel(sum(d.policy) - 1) == 0
    values = {beta: R(1, 3), **dict(zip(r, (1, 0, -1))), **dict(zip(ref, (R(1, 5), R(3, 10), R(1, 2))))}
    with mpmath.workdps(30):
        weights = [mpmath.mpf(x) * mpmath.exp(3 * y) for x, y in zip((0.2, 0.3, 0.5), (1, 0, -1))]
        expected = [w / mpmath.fsum(weights) for w in weights]
        got = [algebra.evaluate(v, values) for v in d.policy]
        assert all(abs(a - b) < mpmath.mpf(10) ** -14 for a, b in zip(got, expected))


def test_nlhf_equilibrium_is_a_fixed_point_of_the_softmax_map():
    matrix = ((R(1, 2), R(7, 10), R(2, 5)), (R(3, 10), R(1, 2), R(9, 10)), (R(3, 5), R(1, 10), R(1, 2)))
    reference, weight = (R(1, 5), R(3, 10), R(1, 2)), R(1, 2)
    with mpmath.workdps(40):
        policy, _ = baselines.nlhf_equilibrium_numeric(matrix, reference, weight)
        scores = [mpmath.fsum(policy[b] * mpmath.mpf(matrix[a][b]) for b in range(3)) for a in range(3)]
        mapped = [mpmath.mpf(r) * mpmath.exp(s / mpmath.mpf(weight)) for r, s in zip(reference, scores)]
        mapped = [m / mpmath.fsum(mapped) for m in mapped]
        assert max(abs(a - b) for a, b in zip(policy, mapped)) < mpmath.mpf(10) ** -35


def test_preference_matrix_is_antisymmetric():
    m = baselines.preference_matrix(3)
    assert all(sp.expand(m[a][b] + m[b][a]) == 1 for a in range(3) for b in range(3))


# --- Section 2.1 --------------------------------------------------------------------------------------


def test_group_expectation_of_a_constant_is_the_total_weight_to_the_power_g():
    prob = Problem(reference=["0.5", "0.5"], rewards=[{"0": "0.5", "1": "0.5"}, 2], group_size=3, beta=1)
    w = sp.symbols("w_1 w_2", positive=True)
    assert sp.expand(general.group_expectation(prob, w, lambda outputs, rewards: 1) - (w[0] + w[1]) ** 3) == 0


def test_surrogate_at_pi_old_is_zero_and_matches_the_engine():
    prob = Problem(reference=["0.2", "0.3", "0.5"], rewards=[2, 0, {"0": "0.5", "1": "0.5"}], group_size=3, beta=1)
    pi, old = indexed("pi", 3, positive=True), indexed("pi_old", 3, positive=True)
    surrogate = general.surrogate_reward_term(prob, pi, old)
    assert algebra.is_zero(surrogate - algebra.expectation(pi, preference_exact(prob, old)))
    assert algebra.is_zero(surrogate.subs(dict(zip(pi, old))))


def test_sampled_penalty_is_kl0_on_the_simplex():
    prob = Problem(reference=["0.5", "0.5"], rewards=[0, 1], group_size=3, beta=1)
    pi, ref = indexed("pi", 2, positive=True), indexed("rho", 2, positive=True)
    q = sp.Symbol("q", positive=True)
    old = (q, 1 - q)
    assert algebra.is_zero(general.sampled_penalty(prob, pi, ref, old) - kl0(pi, ref, old))


def test_strict_and_tie_split_preferences():
    prob = Problem(reference=["0.5", "0.5"], rewards=[{"0": "0.5", "1": "0.5"}, 1], group_size=2, beta=1)
    strict, split = general.strict_preferences(prob), general.tie_split_preferences(prob)
    assert strict == ((R(1, 4), 0), (R(1, 2), 0))
    assert split == ((R(1, 2), R(1, 4)), (R(3, 4), R(1, 2)))
    assert not any(isinstance(v, float) for row in split for v in row)
    p = sp.Symbol("p", positive=True)
    w, l = general.win_lose(prob, (p, 1 - p))
    assert sp.expand(w[1] - l[1] - preference_exact(prob, (p, 1 - p))[1]) == 0


def test_reward_std_agrees_with_the_engine_large_group_scale():
    prob = Problem(reference=["0.3", "0.7"], rewards=[{"0": "0.2", "3": "0.8"}, 1], group_size="inf", beta=1)
    p = sp.Symbol("p", positive=True)
    policy = (p, 1 - p)
    std = general.reward_std(prob, policy)
    mean = algebra.expectation(policy, [law.mean for law in prob.rewards])
    assert algebra.is_zero(large_group_preference(prob, policy)[1] - (1 - mean) / std)


def test_large_group_error_shrinks_like_one_over_g():
    prob = Problem(reference=["0.5", "0.5"], rewards=[{"0": "0.3", "1": "0.7"}, {"0": "0.6", "1": "0.4"}],
                   group_size=2, beta=1)
    with mpmath.workdps(30):
        errors = general.large_group_error(prob, ("0.4", "0.6"), (100, 200), 30)
        assert all(1.8 < e1 / e2 < 2.2 for e1, e2 in zip(*errors))


# --- Sections 2.2 and 2.3 --------------------------------------------------------------------------------


def test_penalty_gradients_use_only_the_outputs_own_quantities():
    grads = general.penalty_gradients(3)
    allowed = {sp.Symbol("pi_o", positive=True), sp.Symbol("pi_old_o", positive=True),
               sp.Symbol("pi_ref_o", positive=True)}
    assert all(g.free_symbols <= allowed for g in grads.values())
    assert algebra.is_zero(grads["on_policy"] - grads["reverse"] - 1)


def test_stationarity_form_is_the_engine_condition_rescaled():
    st = derive_stationarity("grpo", 2)
    form = general.stationarity_form(2)
    assert all(algebra.is_zero(f + x * e / beta) for f, x, e in zip(form, st.pi, st.equations))
    paper = (paper_forms.STATIONARITY_EQ11.lhs - paper_forms.STATIONARITY_EQ11.rhs).subs(
        {pi_o: st.pi[0], pi_ref_o: st.pi_ref[0], P_o: st.preference[0], P_mean: lam})
    assert algebra.is_zero(form[0] - paper)


def test_stationarity_with_preference_drops_the_zero_mean_term():
    prob = Problem(reference=["0.3", "0.7"], rewards=[1, 0], group_size=2, beta=1)
    st = derive_stationarity("grpo", 2)
    P = preference_exact(prob, st.pi)
    form = general.stationarity_with_preference(P, 2)
    assert algebra.is_zero(form[0] - ((1 - P[0] / beta) * st.pi[0] - st.pi_ref[0]))


def test_zero_mean_holds_for_every_normalisation():
    pi = indexed("pi", 2, positive=True)
    for normalisation in ("population", "sample", "shift"):
        prob = Problem(reference=["0.3", "0.7"], rewards=[{"0": "0.5", "2": "0.5"}, 1], group_size=4, beta=1,
                       normalisation=normalisation)
        assert algebra.is_zero(general.zero_mean(prob, pi))


def test_vertex_kkt_multiplier_differs_from_the_expected_preference():
    kkt = general.vertex_kkt()
    rho = kkt["rho"]
    assert kkt["preference"] == (0, -1)
    assert algebra.is_zero(kkt["multiplier"] + beta * (1 - rho))
    assert algebra.is_zero(kkt["slack"] - (1 - beta * (1 - rho)))


def test_vertex_kkt_three_outputs_gives_the_binding_slack_and_its_edge():
    r1, r2 = sp.symbols("rho_1 rho_2", positive=True)
    prob = Problem(reference=[r1, r2, 1 - r1 - r2], rewards=[2, {0: R(1, 2), 2: R(1, 2)}, 0], group_size=3, beta=beta)
    best = general.vertex_kkt(prob, 0)
    assert best["preference"] == (0, -sp.sqrt(2) / 2, -sp.sqrt(2))
    assert best["slacks"][0] == 0 and algebra.is_zero(best["slacks"][2] - best["slack"] - sp.sqrt(2) / 2)
    assert algebra.is_zero(best["beta_edge"] - sp.sqrt(2) / (2 * (1 - r1)))
    middle = general.vertex_kkt(prob, 1)
    assert middle["beta_edge"].subs(r2, R(1, 3)) < 0  # the better output 1 is visible: no beta works
    assert general.vertex_kkt(general.binary_vertex_problem(), 0) == general.vertex_kkt()


def test_solved_example_has_zero_mean_preference_and_zero_multiplier():
    with mpmath.workdps(30):
        problem, point, P = fixtures.solved_example("three-values-G3", 30)
        assert abs(mpmath.fsum(x * q for x, q in zip(point.policy, P))) < mpmath.mpf(10) ** -25
        assert abs(point.multiplier) < mpmath.mpf(10) ** -25
        assert len(P) == problem.size


# --- Mutation tests: a check must fail when the paper form it compares with is wrong ---------------------


def test_eq10_check_passes_as_printed(registry):
    assert registry.run("eq10-on-policy-gradient", 30).passed


def test_eq10_check_fails_when_the_printed_sign_is_flipped(registry, monkeypatch):
    monkeypatch.setattr(paper_forms, "GRADIENT_ON_POLICY_EQ10", -paper_forms.GRADIENT_ON_POLICY_EQ10)
    result = registry.run("eq10-on-policy-gradient", 30)
    assert not result.passed and result.verdict == "does not hold"


@pytest.mark.parametrize("claim_id, name, wrong", [
    ("eq11-stationarity", "STATIONARITY_EQ11", sp.Eq((1 - (P_o - P_mean) / (2 * beta)) * pi_o, pi_ref_o)),
    ("eq11-g-form", "STATIONARITY_G_FORM", sp.exp((P_o - P_mean) / beta) * pi_ref_o),
    ("app-a-multiplier", "MULTIPLIER_APP_A", 2 * P_mean),
    ("eq11-bound", "BOUND_AFTER_EQ11", P_o < P_mean - beta),
])
def test_stationarity_checks_fail_on_a_wrong_printed_form(registry, monkeypatch, claim_id, name, wrong):
    monkeypatch.setattr(paper_forms, name, wrong)
    assert not registry.run(claim_id, 30).passed


def test_eq6_check_fails_when_the_engine_preference_is_wrong(registry, monkeypatch):
    from paper_checks import checks_general

    monkeypatch.setattr(checks_general, "preference_exact",
                        lambda problem, policy: tuple(2 * v for v in preference_exact(problem, policy)))
    assert not registry.run("eq6-reward-term", 30).passed


# --- Beyond the paper: G = 2 with the direct penalty as NLHF -------------------------------------------


def test_pairwise_scale_is_the_g2_advantage():
    assert baselines.pairwise_scale("population") == 1
    assert baselines.pairwise_scale("sample") == 1 / sp.sqrt(2)


@pytest.mark.parametrize("normalisation, expected", [("population", beta / 2), ("sample", beta / sp.sqrt(2))])
def test_direct_nlhf_gaps_vanish_exactly_at_the_matching_tau(normalisation, expected):
    prob = Problem(reference=["0.2", "0.3", "0.5"], rewards=[{0: R(1, 4), 2: R(3, 4)}, 1, {1: R(1, 2), 3: R(1, 2)}],
                   group_size=2, beta=1, normalisation=normalisation)
    assert algebra.is_zero(baselines.matching_tau(prob) - expected)
    gaps = baselines.direct_nlhf_gaps(prob)
    assert all(algebra.is_zero(g.subs(baselines.tau, expected)) for g in gaps)
    assert not algebra.is_zero(gaps[0].subs(baselines.tau, beta))


def test_direct_nlhf_gaps_reject_preferences_that_are_not_antisymmetric():
    prob = Problem(reference=["0.5", "0.5"], rewards=[{0: R(1, 2), 1: R(1, 2)}, 1], group_size=2, beta=1)
    with pytest.raises(ValueError):
        baselines.direct_nlhf_gaps(prob, general.strict_preferences(prob))


def test_nlhf_equilibrium_follows_the_weight_down_to_small_values():
    matrix = ((R(1, 2), R(3, 5), R(12, 25)), (R(2, 5), R(1, 2), R(3, 5)), (R(13, 25), R(2, 5), R(1, 2)))
    reference, weight = (R(1, 10**6), R(2, 5), R(3, 5) - R(1, 10**6)), R(1, 40)
    with mpmath.workdps(40):
        policy, _ = baselines.nlhf_equilibrium_numeric(matrix, reference, weight)
        scores = [mpmath.fsum(policy[b] * mpmath.mpf(matrix[a][b]) for b in range(3)) for a in range(3)]
        mapped = [algebra.evaluate(r, {}) * mpmath.exp(s * 40) for r, s in zip(reference, scores)]
        mapped = [m / mpmath.fsum(mapped) for m in mapped]
        assert max(abs(a - b) / b for a, b in zip(policy, mapped)) < mpmath.mpf(10) ** -35


def test_beyond_checks_pass(registry):
    assert registry.run("x-vertex-kkt", 30).passed
    assert registry.run("x-g2-direct-nlhf", 30).passed


def test_g2_direct_nlhf_check_fails_without_the_factor_2c(registry, monkeypatch):
    monkeypatch.setattr(paper_forms, "G2_DIRECT_NLHF_TAU", {"population": beta, "sample": beta / 2})
    assert not registry.run("x-g2-direct-nlhf", 30).passed


def test_vertex_check_fails_when_the_derived_edge_is_off(registry, monkeypatch):
    derive = general.vertex_kkt

    def wrong(problem=None, vertex=0):
        return {**derive(problem, vertex), "beta_edge": 2 * derive(problem, vertex)["beta_edge"]}

    monkeypatch.setattr(general, "vertex_kkt", wrong)
    assert not registry.run("x-vertex-kkt", 30).passed
