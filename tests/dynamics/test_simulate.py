"""The GRPO update (grpo_symbolic.dynamics.simulate): gradients, reproducibility, and where it settles."""

from fractions import Fraction
import math

import numpy as np
import pytest
import sympy as sp

from grpo_symbolic import ParameterError, Problem
from grpo_symbolic.paper import forms as paper_forms
from grpo_symbolic.dynamics.simulate import expected_flow, simulate
from grpo_symbolic.solve.api import stationary_policies, stationary_policy
from grpo_symbolic.model.symbols import p
from paper_checks.checks_dynamics import BIAS_PER_LR, BINARY, BISTABLE, SETTINGS, STOCHASTIC, compare

THREE = Problem(reference=["0.2", "0.3", "0.5"], rewards=[{2: "0.5", 0: "0.5"}, {1: "0.6", 0: "0.4"}, 0],
                group_size=4, beta="0.7")


def predicted(problem):
    return np.array([float(x) for x in stationary_policy(problem, 30)])


# --- input validation --------------------------------------------------------------------------


@pytest.mark.parametrize("changes,name", [
    (dict(groups=0), "groups"), (dict(groups=1.5), "groups"), (dict(lr=0), "lr"), (dict(lr=-0.1), "lr"),
    (dict(lr=math.nan), "lr"), (dict(lr=math.inf), "lr"), (dict(steps_per_batch=0), "steps_per_batch"),
    (dict(iterations=0), "iterations"), (dict(clip=0), "clip"), (dict(clip=-0.2), "clip"),
    (dict(chains=0), "chains"), (dict(seed=-1), "seed"), (dict(estimator="k4"), "estimator"),
    (dict(start=[0.5, 0.5, 0.0]), "start"), (dict(start=[0.5, 0.5]), "start"), (dict(start=[0.2, 0.2, 0.2]), "start"),
])
def test_simulate_rejects_bad_input_naming_the_parameter(changes, name):
    args = dict(iterations=2, lr=0.1, groups=2)
    args.update(changes)
    with pytest.raises(ParameterError, match=f"^{name}:"):
        simulate(THREE, **args)


@pytest.mark.parametrize("changes,name", [(dict(steps=0), "steps"), (dict(lr=0), "lr"), (dict(estimator="kl"), "estimator")])
def test_expected_flow_rejects_bad_input_naming_the_parameter(changes, name):
    args = dict(steps=2, lr=0.1)
    args.update(changes)
    with pytest.raises(ParameterError, match=f"^{name}:"):
        expected_flow(THREE, **args)


def test_sampling_needs_a_finite_numeric_problem():
    with pytest.raises(ParameterError, match="^group_size:"):
        simulate(BISTABLE, 2, 0.1)
    symbolic = Problem(reference=[p, 1 - p], rewards=[1, 0], group_size=2, beta=1)
    with pytest.raises(ParameterError, match="^problem:"):
        simulate(symbolic, 2, 0.1)
    with pytest.raises(ParameterError, match="^problem:"):
        expected_flow(symbolic, 2, 0.1)


def test_standard_error_needs_two_chains():
    with pytest.raises(ParameterError, match="^chains:"):
        simulate(THREE, 4, 0.1, groups=2).estimate()


# --- reproducibility and progress ---------------------------------------------------------------


def test_runs_are_reproducible_and_chains_independent_of_their_number():
    a = simulate(THREE, 30, 0.3, groups=4, steps_per_batch=2, seed=5, chains=3)
    b = simulate(THREE, 30, 0.3, groups=4, steps_per_batch=2, seed=5, chains=3)
    c = simulate(THREE, 30, 0.3, groups=4, steps_per_batch=2, seed=5, chains=2)
    d = simulate(THREE, 30, 0.3, groups=4, steps_per_batch=2, seed=6, chains=2)
    assert np.array_equal(a.policies, b.policies)
    assert np.array_equal(a.policies[:, :2], c.policies)
    assert not np.array_equal(c.policies, d.policies)
    assert not np.array_equal(a.policies[:, 0], a.policies[:, 1])
    assert a.policies.dtype == np.float64
    assert np.allclose(a.policies.sum(axis=2), 1)


def test_progress_goes_to_stderr(capsys):
    simulate(THREE, 40, 0.1, groups=2, progress=True)
    expected_flow(THREE, 40, 0.1, progress=True)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "simulate: 40/40 (100%)" in captured.err and "expected_flow: 40/40 (100%)" in captured.err


# --- the sampled gradient is exact --------------------------------------------------------------


def _independent_advantages(rewards, normalisation):
    """A for one group, written out here (population: the paper's printed (2))."""
    if normalisation == "population":
        return np.array([float(paper_forms.advantage_eq2([sp.Integer(r) for r in rewards], i)) for i in range(len(rewards))])
    r = np.array(rewards, dtype=float)
    if normalisation == "shift":
        return r - r.mean()
    std = r.std(ddof=1)
    return np.zeros_like(r) if std == 0 else (r - r.mean()) / std


def _independent_loss(theta, pi_old, samples, problem, clip, estimator):
    """The sampled GRPO objective at logits θ, term by term."""
    pi = np.exp(theta - theta.max())
    pi /= pi.sum()
    rho = np.array([float(x) for x in problem.reference])
    beta = float(problem.beta)
    total = 0.0
    for o, a in samples:
        ratio = pi[o] / pi_old[o]
        x = rho[o] / pi[o]
        k3 = x - math.log(x) - 1
        penalty = {"k3": k3, "is_k3": ratio * k3, "k1": -math.log(x), "k2": math.log(x) ** 2 / 2}[estimator]
        total += min(ratio * a, min(max(ratio, 1 - clip), 1 + clip) * a) - beta * penalty
    return total / len(samples)


def _replay_samples(problem, pi_old, groups, seed):
    """The groups simulate() draws for chain 0 (same stream), with independently computed advantages."""
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
    u = rng.random((2, groups, problem.group_size))
    values = [int(v) for v in problem.reward_values]
    laws = np.array([[float(q) for q in row] for row in problem.law_matrix])
    samples = []
    for b in range(groups):
        outputs = [int(np.searchsorted(np.cumsum(pi_old), x, side="right")) for x in u[0, b]]
        rewards = [values[int(np.searchsorted(np.cumsum(laws[o]), x, side="right"))] for o, x in zip(outputs, u[1, b])]
        samples += list(zip(outputs, _independent_advantages(rewards, problem.normalisation)))
    return samples


@pytest.mark.parametrize("normalisation,estimator,clip", [
    ("population", "k3", 0.2), ("population", "k3", 0.02), ("sample", "is_k3", 0.05),
    ("shift", "k1", 0.05), ("population", "k2", math.inf),
])
def test_each_step_is_the_exact_gradient_of_the_sampled_objective(normalisation, estimator, clip):
    problem = THREE.replace(normalisation=normalisation)
    groups, lr, seed = 8, 0.4, 11
    pi_old = np.array([float(x) for x in problem.reference])
    one = simulate(problem, 1, lr, groups=groups, steps_per_batch=1, clip=clip, estimator=estimator, seed=seed).policies[-1, 0]
    two = simulate(problem, 1, lr, groups=groups, steps_per_batch=2, clip=clip, estimator=estimator, seed=seed).policies[-1, 0]
    samples = _replay_samples(problem, pi_old, groups, seed)
    for before, after in ((pi_old, one), (one, two)):  # the first step (ratio 1) and the second
        step = np.log(after) - np.log(before)
        step = (step - step.mean()) / lr
        theta, h = np.log(before), 1e-6
        numeric = []
        for k in range(problem.size):
            e = np.eye(problem.size)[k] * h
            numeric.append((_independent_loss(theta + e, pi_old, samples, problem, clip, estimator)
                            - _independent_loss(theta - e, pi_old, samples, problem, clip, estimator)) / (2 * h))
        numeric = np.array(numeric)
        assert np.allclose(step, numeric - numeric.mean(), atol=1e-7), (step, numeric)
        assert np.max(np.abs(step)) > 1e-2  # a real step, not 0 = 0
    if clip == 0.02:  # the second step really met the clip
        assert np.any(np.abs(one / pi_old - 1) > clip)


# --- the expected flow: its fixed points are the stationary policies -----------------------------


@pytest.mark.parametrize("problem", [
    BINARY, STOCHASTIC, THREE, THREE.replace(normalisation="sample"), THREE.replace(normalisation="shift"),
    THREE.replace(eps="0.01"), THREE.replace(penalty="direct"), BINARY.replace(group_size="inf"),
    BINARY.replace(reference=["0.02", "0.98"], beta="0.1"),
])
def test_expected_flow_settles_at_the_stationary_policy(problem):
    end = expected_flow(problem, 3000, 1.0)[-1]
    assert np.max(np.abs(end - predicted(problem))) < 1e-10


def test_k2_loss_regularises_like_the_direct_kl_and_k1_not_at_all():
    direct = predicted(THREE.replace(penalty="direct"))
    assert np.max(np.abs(expected_flow(THREE, 3000, 1.0, estimator="k2")[-1] - direct)) < 1e-10
    assert np.max(np.abs(expected_flow(THREE, 3000, 1.0, estimator="is_k3")[-1] - direct)) < 1e-10
    k1 = expected_flow(THREE, 3000, 1.0, estimator="k1")[-1]
    assert k1[0] > 0.999  # no penalty left: the output with the best preference takes over


def test_bistable_large_group_basins():
    lower, upper = (float(pt.policy[0]) for pt in stationary_policies(BISTABLE, 30))
    for start in (0.2, 0.5, 0.9, upper - 1e-3):
        assert abs(expected_flow(BISTABLE, 3000, 1.0, start=[start, 1 - start])[-1, 0] - lower) < 1e-10
    for start in (upper + 1e-3, 0.9999):
        path = expected_flow(BISTABLE, 3000, 1.0, start=[start, 1 - start])[:, 0]
        assert np.all(np.diff(path) > 0) and path[-1] > 1 - 1e-5


def test_finite_groups_bound_the_runaway_branch():
    """At finite G the preference gap stays bounded, so the run towards 1 stops.

    G = 256 (β = 3, π_ref = 1/2): a single stationary policy; every start returns to it.
    G = 1024: three, and the flow started above the repelling one settles at the third, near 1.
    """
    g256 = BISTABLE.replace(group_size=256)
    (only,) = stationary_policies(g256, 30)
    assert abs(expected_flow(g256, 3000, 1.0, start=[0.999, 0.001])[-1, 0] - float(only.policy[0])) < 1e-10
    g1024 = BISTABLE.replace(group_size=1024)
    low, middle, high = stationary_policies(g1024, 20)
    assert (low.stable, middle.stable, high.stable) == (True, False, True)
    top = float(high.policy[0])
    rising = expected_flow(g1024, 2000, 4.0, start=[0.999, 0.001])[:, 0]
    falling = expected_flow(g1024, 2000, 4.0, start=[0.999999, 0.000001])[:, 0]
    assert np.all(np.diff(rising) > 0) and np.all(rising < top) and top - rising[-1] < 1e-5
    assert np.all(np.diff(falling) < 0) and np.all(falling > top)  # slowly: p(1 - p) ~ 1e-6 there


# --- the sampled dynamics ------------------------------------------------------------------------


@pytest.mark.parametrize("problem,estimator", [(THREE.replace(penalty="direct"), None), (THREE.replace(penalty="direct"), "k2"),
                                               (THREE.replace(normalisation="sample"), None)])
def test_sampled_runs_settle_at_their_stationary_policy(problem, estimator):
    c = compare(problem, estimator=estimator)
    assert c.settles_at_prediction, c.describe(str(estimator))


def test_sampled_k1_has_no_regularisation():
    run = simulate(THREE, 600, 0.5, groups=16, estimator="k1", chains=2)
    assert np.all(run.policies[-1, :, 0] > 0.99)


def test_heavy_clipping_pulls_towards_the_reference_and_fails_the_comparison():
    """The clip zeroes sampled surrogate gradients but never the penalty's: with a clip that binds
    at stationarity the iterates settle between the prediction and π_ref, and compare() says so."""
    c = compare(BINARY, lr=0.5, steps_per_batch=4, clip=0.02)
    assert c.clipped > 0.3
    assert not c.settles_at_prediction
    assert float(BINARY.reference[0]) < c.mean[0] < c.prediction[0] - 0.1


@pytest.mark.slow
@pytest.mark.parametrize("problem", [BINARY, STOCHASTIC], ids=["binary", "stochastic"])
def test_long_runs_settle_at_the_prediction_not_at_rlhf(problem):
    c = compare(problem, long=True)
    assert c.passed, c.describe("long")
    assert c.z_rlhf > 100


@pytest.mark.slow
def test_the_learning_rate_bias_is_measurable_and_within_the_allowance():
    """At lr = 1/2 the offset is resolved (> 3 SE) yet below BIAS_PER_LR·lr; at 1/4 it shrinks."""
    offsets = {}
    for lr in (0.5, 0.25):
        c = compare(STOCHASTIC, long=True, lr=lr, seed=3)
        offset = np.abs(c.mean - c.prediction)
        assert np.all(offset <= BIAS_PER_LR * lr + 3 * c.stderr), c.describe(f"lr={lr}")
        offsets[lr] = (offset.max(), c.stderr.max())
    assert offsets[0.5][0] > 3 * offsets[0.5][1]
    assert offsets[0.25][0] < offsets[0.5][0]
    assert SETTINGS["lr"] < 0.25


def test_a_diverging_learning_rate_is_an_error_not_nan():
    """Issue 10: lr = 1e300 returned NaN policies without a word."""
    with pytest.raises(ParameterError, match="^lr: the run diverged"):
        simulate(THREE, iterations=20, lr=1e300, groups=4)
    for lr in (1e300, 1e3):
        with pytest.raises(ParameterError, match="^lr: the run diverged"):
            expected_flow(THREE, steps=20, lr=lr)


@pytest.mark.parametrize("start", [["0.2", "0.3", "0.5"], [0.2, 0.3, 0.5], [Fraction(1, 5), "0.3", 0.5]])
def test_start_is_read_by_the_gate(start):
    assert expected_flow(THREE, steps=1, lr=0.1, start=start)[0, 0] == pytest.approx(0.2, abs=1e-15)
    with pytest.raises(ParameterError, match=r"^start\[0\]"):
        expected_flow(THREE, steps=1, lr=0.1, start=['__import__("os")', "0.3", "0.5"])
