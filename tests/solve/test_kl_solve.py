"""The solver on every derived KL form (issue 11), each checked by an independent route at 50 digits:
the derived stationarity evaluated with P_G from the preference engine at the solver's policy, the
paper's certified path, closed forms (log pooling), and the other stability test."""

import pytest
import sympy as sp

from grpo_symbolic import ParameterError, Problem, SolverError
from grpo_symbolic.model.settings import Estimator, Placement
from grpo_symbolic.model.symbols import beta as beta_symbol, lam
from grpo_symbolic.numerics.precision import mpx, working_precision
from grpo_symbolic.preference.engine import preference_numeric
from grpo_symbolic.solve import links
from grpo_symbolic.solve.api import stationary_policies, stationary_policy
from grpo_symbolic.solve.stability import flow_stability
from grpo_symbolic.theory.regularisers import Regulariser, derive_regularised

DPS = 50
REF, REWARDS = ["0.3", "0.7"], [1, 0]
STOCHASTIC = [{"1": "0.9", "0": "0.1"}, {"1": "0.4", "0": "0.6"}, 0]


def close(a, b, digits=DPS - 3):
    return abs(a - b) <= mpx.mpf(10) ** (-digits) * max(1, abs(b))


def derived_residual(problem, pi):
    """max_o |∂L/∂π(o)| with λ = Σ π ∂J/∂π (the derived equations, P_G straight from the engine)."""
    reg = Regulariser(problem.kl_estimator, problem.kl_placement, False, problem.entropy != 0)
    st = derive_regularised(reg)
    with working_precision(DPS + 10):
        pi = [x / mpx.fsum(pi) for x in pi]  # rounded to 50 digits, the sum is 1 to 50 digits only
    P = preference_numeric(problem, pi, DPS + 10)
    c = st.entropy_symbol
    values = {beta_symbol: problem.beta, **({c: problem.entropy} if c is not None else {})}
    with working_precision(DPS + 10):
        g = [mpx.mpf(sp.N(st.equations[0].subs({**values, st.preference[0]: sp.Float(str(Po), DPS + 10),
                                                   st.pi[0]: sp.Float(str(x), DPS + 10),
                                                   st.pi_ref[0]: r, lam: 0}), DPS + 10))
             for Po, x, r in zip(P, pi, problem.reference)]
        multiplier = mpx.fsum(x * y for x, y in zip(pi, g))
        return max(abs(y - multiplier) for y in g)


@pytest.mark.parametrize("settings", [
    dict(kl_estimator="k2"), dict(kl_estimator="k3-plus"), dict(kl_estimator="k3-flipped", beta=2),
    dict(kl_estimator="k1", kl_placement="reward-post"), dict(entropy="0.1"), dict(kl_estimator="k2", entropy="0.2"),
    dict(kl_estimator="k3-flipped", entropy="0.1"), dict(kl_estimator="k1", entropy="0.3"),
])
@pytest.mark.parametrize("rewards,reference", [(REWARDS, REF), (STOCHASTIC, ["0.2", "0.3", "0.5"])])
def test_each_form_satisfies_its_derived_stationarity(settings, rewards, reference):
    problem = Problem(reference, rewards, 4, **{"beta": "0.5", **settings})
    pi = stationary_policy(problem, DPS)
    assert close(mpx.fsum(pi), 1) and all(x > 0 for x in pi)
    assert derived_residual(problem, pi) < mpx.mpf(10) ** (-DPS + 3)


def test_the_derived_k3_form_gives_the_paper_path_digit_for_digit(monkeypatch):
    problem = Problem(REF, REWARDS, 8, "0.5", kl_estimator="k3")
    paper = stationary_policy(problem, DPS)
    monkeypatch.setattr(links, "paper_forms", lambda penalty: links.derived_forms(Regulariser(Estimator.K3, Placement.LOSS)))
    derived = stationary_policy(problem, DPS)
    assert all(close(a, b, DPS - 1) for a, b in zip(paper, derived))


@pytest.mark.parametrize("settings", [dict(kl_estimator="k2"), dict(kl_estimator="k3-plus"),
                                      dict(kl_estimator="k1", kl_placement="reward-post")])
def test_the_exponential_link_is_the_certified_direct_penalty(settings):
    direct = stationary_policy(Problem(REF, REWARDS, 4, "0.5", penalty="direct"), DPS)
    other = stationary_policy(Problem(REF, REWARDS, 4, "0.5", **settings), DPS)
    assert all(close(a, b) for a, b in zip(direct, other))


def test_the_linear_link_has_a_kkt_face_point():
    point, = stationary_policies(Problem(REF, REWARDS, 4, "0.5", kl_estimator="k3-flipped"), DPS)
    assert point.policy == (1, 0) and point.face == (1,) and point.stable is None
    P = preference_numeric(Problem(REF, REWARDS, 4, "0.5"), ["1", "0"], DPS)
    # KKT at π(b) = 0: P_b − λ − β(π_b/ρ_b − 1) ≤ 0, λ from output a's equation (π_a/ρ_a − 1 = 7/3)
    with working_precision(DPS):
        multiplier = P[0] - mpx.mpf("0.5") * (1 / mpx.mpf("0.3") - 1)
    assert close(point.multiplier, multiplier) and P[1] - multiplier + mpx.mpf("0.5") < 0


def test_beta_zero_with_entropy_is_the_softmax_of_the_preference():
    problem = Problem(["0.2", "0.3", "0.5"], STOCHASTIC, 4, 0, entropy="0.25")
    pi = stationary_policy(problem, DPS)
    P = preference_numeric(problem, pi, DPS)
    with working_precision(DPS):
        weights = [mpx.exp(Po / mpx.mpf("0.25")) for Po in P]
        assert all(close(x, w / mpx.fsum(weights)) for x, w in zip(pi, weights))


@pytest.mark.parametrize("settings", [dict(beta=0), dict(beta=1, kl_estimator="k1")])
def test_no_regulariser_says_which_vertex_the_flow_goes_to(settings):
    with pytest.raises(SolverError) as info:
        stationary_policy(Problem(["0.5", "0.3", "0.2"], [0, 2, 1], 4, **settings), 30)
    assert info.value.reason == SolverError.NO_INTERIOR_POINT
    assert "vertex of output 2 (reward law 2)" in str(info.value)


def test_no_regulariser_and_equal_laws_every_policy_is_stationary():
    with pytest.raises(SolverError) as info:
        stationary_policy(Problem(REF, [1, 1], 4, 0), 30)
    assert info.value.reason == SolverError.NOT_UNIQUE


@pytest.mark.parametrize("normalisation,eps", [("population", 0), ("sample", "0.01"), ("shift", 0)])
def test_kl_in_the_reward_with_deterministic_rewards_is_log_pooling(normalisation, eps):
    problem = Problem(["0.2", "0.3", "0.5"], [2, 1, 0], 8, "0.5", normalisation, eps=eps,
                      kl_estimator="k1", kl_placement="reward-pre")
    pi = stationary_policy(problem, DPS)
    with working_precision(DPS):
        weights = [mpx.mpf(r) * mpx.exp(2 * mpx.mpf(v)) for r, v in zip(["0.2", "0.3", "0.5"], [2, 1, 0])]
        assert all(close(x, w / mpx.fsum(weights)) for x, w in zip(pi, weights))


def test_kl_in_the_reward_with_stochastic_rewards_is_not_log_pooling():
    base = dict(kl_estimator="k1", kl_placement="reward-pre")
    shift = stationary_policy(Problem(REF, STOCHASTIC[:2], 4, "0.5", "shift", **base), DPS)
    population, = stationary_policies(Problem(REF, STOCHASTIC[:2], 4, "0.5", **base), DPS)
    with working_precision(DPS):
        weights = [mpx.mpf(r) * mpx.exp(2 * m) for r, m in zip(REF, [mpx.mpf("0.9"), mpx.mpf("0.4")])]
        pooled = [w / mpx.fsum(weights) for w in weights]
    assert all(close(x, y) for x, y in zip(shift, pooled))  # mean-only: log pooling of the mean rewards
    assert abs(population.policy[0] - pooled[0]) > mpx.mpf("1e-3") and population.stable


def test_an_inactive_clamp_changes_nothing_an_active_one_leaves_no_interior_point():
    free = stationary_policy(Problem(REF, REWARDS, 4, "0.5", kl_estimator="k3"), 30)
    assert stationary_policy(Problem(REF, REWARDS, 4, "0.5", kl_estimator="k3", kl_clamp=10), 30) == free
    with pytest.raises(SolverError, match="^kl_clamp: .* output 1 .* keeps rising") as info:
        stationary_policy(Problem(REF, REWARDS, 4, "0.5", kl_estimator="k3", kl_clamp="0.01"), 30)
    assert info.value.reason == SolverError.NO_INTERIOR_POINT
    with pytest.raises(SolverError, match="^kl_clamp: .* output 2 .* falling towards 0"):  # (0.81, 0.19): k3 = 1.38 at b
        stationary_policy(Problem(REF, REWARDS, 4, "0.5", kl_estimator="k3", kl_clamp="1"), 30)


@pytest.mark.parametrize("settings,parameter", [
    (dict(kl_estimator="k3", kl_placement="reward-post"), "kl_estimator"),
    (dict(kl_estimator="k2", kl_placement="reward-post"), "kl_estimator"),
    (dict(kl_estimator="k2", kl_placement="reward-pre"), "kl_estimator"),
    (dict(kl_estimator="k1", kl_placement="reward-pre", entropy="0.1"), "entropy"),
])
def test_unsupported_forms_are_refused_naming_the_parameter(settings, parameter):
    with pytest.raises(ParameterError, match=f"^{parameter}:"):
        stationary_policy(Problem(REF, REWARDS, 4, "0.5", **settings), 30)


def test_flow_stability_agrees_with_the_best_response_test():
    problem = Problem(["0.5", "0.5"], [1, 0], "inf", 3, penalty="direct")  # bistable: one stable, one not
    points = stationary_policies(problem, 30)
    field = links.paper_forms("direct")["equation"]
    for point in points:
        with working_precision(30):
            def gradient(pi):
                P = preference_numeric(problem, pi, 30)
                return [field(Po, x, mpx.mpf("0.5"), 0, 3, 0) for Po, x in zip(P, pi)]
            assert flow_stability(gradient, point.policy) == point.stable


def test_a_form_identical_to_a_paper_penalty_gets_its_certified_search():
    problem = Problem(REF, REWARDS, 4, "0.5", kl_estimator="k2")
    assert links.paper_equivalent(problem).penalty == "direct"
    assert links.paper_equivalent(Problem(REF, REWARDS, 4, "0.5", kl_estimator="k3-flipped")) is None
    assert stationary_policies(problem, 30).completeness.certified


def test_the_clamp_of_k3_plus_never_acts_on_its_gradient():
    free = stationary_policy(Problem(REF, REWARDS, 4, "0.05", kl_estimator="k3-plus"), 30)
    assert stationary_policy(Problem(REF, REWARDS, 4, "0.05", kl_estimator="k3-plus", kl_clamp="0.001"), 30) == free
