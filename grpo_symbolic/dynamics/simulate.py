"""The GRPO update itself, on a tabular softmax policy for one context.

The policy is π = softmax(θ) over the K outputs of a :class:`~grpo_symbolic.model.problem.Problem`.
One iteration of :func:`simulate` does what a GRPO trainer does:

1. π_old ← π; draw ``groups`` groups of G outputs from π_old and a reward for each output from
   its reward law, under ``problem.group_filter`` (``drop-equal`` refills the batch with groups
   whose rewards are not all equal; ``mask-penalty`` takes those groups out of the penalty);
2. compute each member's advantage as the trainer does for ``problem.advantage`` (with
   ``problem.normalisation``, ``problem.eps``, ``problem.pass_k``): the numpy rules of
   :mod:`grpo_symbolic.dynamics.sampled_advantages`, independent of the engine's exact ones;
3. take ``steps_per_batch`` gradient-ascent steps θ ← θ + lr·∇_θ L on the sampled objective

       L(θ) = (1/(B·G)) Σ_{groups, members} [ min(ratio·A, clip(ratio, 1−ε, 1+ε)·A) − β·D ],
       ratio = π(o)/π_old(o),

   with the exact gradient (∂L/∂π with the penalty estimator differentiated by SymPy,
   then the softmax Jacobian ∂π/∂θ = diag(π) − ππᵀ).  ``D`` is the per-sample KL term as the
   trainer writes it (:func:`grpo_symbolic.theory.penalty.per_sample`: k1, k2, k3 — the paper's
   D_i, ``penalty="grpo"`` —, is_k3 — ``penalty="direct"`` —, k3-flipped, k3-plus; detached
   factors held constant; clamped at ``problem.kl_clamp`` when set), placed as
   ``problem.kl_placement`` says: "loss" as above; "reward-post" (OpenRLHF) subtracts β·D at
   π_old, detached, from each sample's normalised advantage (so it enters the clipped surrogate);
   "reward-pre" (verl ``use_kl_in_reward``) subtracts it from each sampled reward BEFORE the group
   normalisation.  ``problem.entropy`` = c adds c·∇H(π) (the bandit's entropy is exact, as the
   trainers compute it from the full distribution).

:func:`expected_flow` is the same ascent with exact expectations instead of samples: one step per
iteration along ∇_θ J(π; π_old) at π = π_old, with P_G(o|π_old) from the engine (float64) and
the expected penalty gradient π_old(o)·∂D/∂π(o) (the loss), −D(π_old(o)) (reward-post), plus the
entropy's.  Its fixed points are the stationary policies of :mod:`grpo_symbolic.solve.api`.  With
β = 0 and no entropy it shows where the policy goes instead (no interior point):
:func:`approach_rate` measures how fast.

Everything numeric here is float64 numpy; runs are seeded and reproducible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
import math
import sys
from typing import TYPE_CHECKING, Any

import numpy as np
import sympy as sp

from grpo_symbolic.theory.filtering import kept_probability
from grpo_symbolic.theory.penalty import per_sample
from grpo_symbolic.model import inputs
from grpo_symbolic.model.errors import ParameterError
from grpo_symbolic.model import cost
from grpo_symbolic.model.problem import require_problem
from grpo_symbolic.model.settings import PENALTY_ESTIMATOR, Estimator, Placement  # PENALTY_ESTIMATOR: notebook 06 reads it here
from grpo_symbolic.preference.engine import expected_advantages_float
from grpo_symbolic.preference.sums import require_affordable
from grpo_symbolic.dynamics import sampled_advantages
from grpo_symbolic.numerics.precision import mpx

if TYPE_CHECKING:
    from grpo_symbolic.model.problem import Problem

_pi, _rho, _pi_old, _detached, _bound = sp.symbols("pi rho pi_old pi_d C", positive=True)


def estimator_gradient(name: str, clamped: bool = False) -> sp.Expr:
    """∂D/∂π(o) of one sample's KL term D under estimator ``name``, in (pi, rho, pi_old[, C]).

    D is :func:`grpo_symbolic.theory.penalty.per_sample` (the trainer's formula; a detached
    factor is a fresh symbol, set to π after differentiating; ``clamped``: torch.clamp at ±C, a
    Piecewise whose clamped pieces have gradient 0); SymPy differentiates it.

    >>> estimator_gradient("k3"), estimator_gradient("is_k3"), estimator_gradient("k3-plus")
    ((pi - rho)/pi**2, (log(pi) - log(rho))/pi_old, (log(pi) - log(rho))/pi)
    """
    parsed = Estimator.parse(name, "estimator")
    loss = per_sample(parsed, _pi, _rho, _pi_old, _detached, _bound if clamped else None)
    return sp.simplify(sp.diff(loss, _pi).subs(_detached, _pi))


@lru_cache(maxsize=None)
def _estimator_gradient(name, clamped=False):
    """:func:`estimator_gradient` compiled to numpy: f(pi, rho, pi_old, C)."""
    return sp.lambdify((_pi, _rho, _pi_old, _bound), estimator_gradient(name, clamped), "numpy")


@lru_cache(maxsize=None)
def _estimator_value(name, clamped=False):
    """The value D(π_old(o)) a reward placement subtracts (detached), compiled: f(pi_old, rho, C)."""
    value = per_sample(Estimator.parse(name, "estimator"), _pi_old, _rho, _pi_old, _pi_old, _bound if clamped else None)
    return sp.lambdify((_pi_old, _rho, _bound), value, "numpy")


@dataclass(frozen=True)
class Trajectory:
    """Policies visited by :func:`simulate`: ``policies[t, c, o]`` = π_t(o) of chain c.

    ``policies[0]`` is the start; ``policies[t]`` the policy after iteration t.
    ``clipped_fraction[c]``: the share of chain c's sampled terms with A ≠ 0 whose surrogate
    gradient the clipping set to 0, over all gradient steps.
    """

    policies: np.ndarray
    clipped_fraction: np.ndarray

    def tail_average(self, fraction: float = 0.5) -> np.ndarray:
        """Per chain, the time average of π over the last ``fraction`` of the iterations."""
        if not 0 < fraction <= 1:
            raise ParameterError(f"fraction: got {fraction!r}; give a number in (0, 1]")
        iterations = self.policies.shape[0] - 1
        start = iterations - max(1, int(round(fraction * iterations))) + 1
        return self.policies[start:].mean(axis=0)

    def estimate(self, fraction: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
        """(mean over chains, standard error) of the tail averages; needs at least 2 chains.

        The standard error is the spread of the chains' tail averages / sqrt(chains): the
        chains are independent, so it accounts for the autocorrelation within each chain.
        """
        tails = self.tail_average(fraction)
        if tails.shape[0] < 2:
            raise ParameterError("chains: a standard error needs at least 2 independent chains")
        return tails.mean(axis=0), tails.std(axis=0, ddof=1) / math.sqrt(tails.shape[0])


def simulate(problem: Problem, iterations: int, lr: float, *, groups: int = 16, steps_per_batch: int = 1,
             clip: float = 0.2, estimator: str | None = None, seed: int = 0, chains: int = 1,
             start: Sequence[Any] | None = None, progress: bool = False, budget: Any = None) -> Trajectory:
    """Run GRPO on a tabular softmax policy: the :class:`Trajectory` of π over ``iterations``.

    ``groups`` is B (groups per batch), ``steps_per_batch`` is μ (gradient steps per batch),
    ``clip`` is ε of the ratio clipping (``math.inf``: no clipping), ``estimator`` the penalty
    estimator (default: the one ``problem.penalty`` names), ``start`` the initial policy
    (default π_ref).  Chain c draws from its own stream ``SeedSequence(seed).spawn(...)[c]``,
    so each chain is reproducible whatever ``chains`` is.  ``progress=True`` reports on stderr.
    ``budget``: seconds the cost model may estimate before refusing (:mod:`grpo_symbolic.model.cost`).

    At a kink of the clipped term (ratio exactly 1 ± ε) the unclipped branch's gradient is used.

    >>> from grpo_symbolic import Problem
    >>> prob = Problem(reference=["0.3", "0.7"], rewards=[1, 0], group_size=4, beta="0.5")
    >>> run = simulate(prob, iterations=300, lr=0.5, groups=8, seed=1, chains=2)
    >>> run.policies.shape
    (301, 2, 2)
    >>> bool(0.7 < run.tail_average()[:, 0].mean() < 0.9)   # the stationary policy: 0.810
    True
    """
    setup = _Setup(problem, lr, estimator, start)
    iterations = inputs.count(iterations, "iterations")
    groups = inputs.count(groups, "groups")
    steps_per_batch = inputs.count(steps_per_batch, "steps_per_batch")
    chains = inputs.count(chains, "chains")
    seed = inputs.count(seed, "seed", 0)
    clip = inputs.step(clip, "clip", "the ratio clipping epsilon must be > 0 (e.g. 0.2; math.inf for none)",
                       allow_inf=True)
    if problem.is_large_group:
        raise ParameterError("group_size: sampling needs a finite group size; use expected_flow for G -> infinity")
    draws = iterations * chains * (groups * problem.group_size + steps_per_batch * problem.size)
    cost.require(cost.sampling_work(draws, len(problem.reward_values)), f"simulate with {draws:.3g} draws",
                 "use fewer iterations, groups or chains, or a smaller group_size", budget)
    sampler = _GroupSampler(problem, groups)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(chains)]
    theta = np.tile(np.log(setup.start), (chains, 1))
    policies = np.empty((iterations + 1, chains, problem.size))
    policies[0] = _softmax(theta)
    clipped = terms = np.zeros(chains)
    report = _Progress("simulate", iterations, progress)
    for t in range(1, iterations + 1):
        pi_old = _softmax(theta)
        positive, negative, counts, signs = sampler.draw(pi_old, streams, setup.shifts(pi_old))
        for _ in range(steps_per_batch):
            pi = _softmax(theta)
            ratio = pi / pi_old
            open_up, open_down = ratio <= 1 + clip, ratio >= 1 - clip
            surrogate = (positive * open_up + negative * open_down) / pi_old
            clipped = clipped + (signs[0] * ~open_up + signs[1] * ~open_down).sum(axis=1)
            terms = terms + signs.sum(axis=(0, 2))
            with np.errstate(divide="ignore", invalid="ignore"):
                penalty = np.where(counts > 0, counts * setup.loss_gradient(pi, pi_old), 0.0)
            gradient = (surrogate - setup.beta * penalty) / sampler.members + setup.entropy_gradient(pi)
            theta = setup.stepped(theta, _logit_gradient(pi, gradient), t)
        policies[t] = _softmax(theta)
        report(t)
    return Trajectory(policies, clipped / np.maximum(terms, 1))


def expected_flow(problem: Problem, steps: int, lr: float, *, estimator: str | None = None,
                  start: Sequence[Any] | None = None, progress: bool = False, budget: Any = None) -> np.ndarray:
    """Ascend the expected objective: θ ← θ + lr·∇_θ J(π; π_old) at π = π_old, ``steps`` times.

    Returns the policies visited, an array of shape (steps + 1, K).  No sampling: P_G(o|π_old)
    is the engine's exact expectation (float64; G may be infinite) and the penalty gradient is
    π_old(o)·∂D/∂π(o) at π = π_old for the chosen estimator, times W_o(π_old) under a group filter
    (:mod:`grpo_symbolic.theory.filtering`; ``drop-equal``'s common factor 1/(1 − Z) is left out:
    it rescales the step, not the direction).  ``budget`` as in :func:`simulate`.

    >>> from grpo_symbolic import Problem
    >>> prob = Problem(reference=["0.3", "0.7"], rewards=[1, 0], group_size=2, beta="0.5")
    >>> round(float(expected_flow(prob, steps=2000, lr=1.0)[-1, 0]), 10)   # (14): 0.7109772229
    0.7109772229
    """
    setup = _Setup(problem, lr, estimator, start)
    steps = inputs.count(steps, "steps")
    require_affordable(problem, 15, budget, exact=0, scans=steps, what="expected_flow")
    if setup.placement is Placement.REWARD_PRE and setup.beta != 0:
        raise ParameterError("kl_placement: the expected flow of reward-pre needs P_G of policy-dependent rewards; "
                             "use simulate (sampled) or the solver")
    laws = np.array([[float(q) for q in row] for row in problem.law_matrix])
    theta = np.log(setup.start)
    policies = np.empty((steps + 1, problem.size))
    policies[0] = _softmax(theta)
    report = _Progress("expected_flow", steps, progress)
    for t in range(1, steps + 1):
        pi = _softmax(theta)
        preference = laws @ expected_advantages_float(problem, pi @ laws, 20)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # a diverging step: stepped() raises
            if setup.placement is Placement.LOSS:
                penalty = pi * setup.loss_gradient(pi, pi) * _kept(problem, laws, pi @ laws)
            else:  # reward-post: the detached value at π_old = π
                penalty = setup.value(pi)
            gradient = _logit_gradient(pi, preference - setup.beta * penalty + setup.entropy_gradient(pi))
        theta = setup.stepped(theta, gradient, t)
        policies[t] = _softmax(theta)
        report(t)
    return policies


def _kept(problem, laws, m):
    """Per output, the weight W_o of its penalty under the group filter (1 for ``keep``)."""
    if problem.group_filter == "keep":
        return 1.0
    return np.array([kept_probability(row, list(m), problem.group_size) for row in laws])


def approach_rate(policies: np.ndarray, outputs: Sequence[int], skip: float = 0.1) -> tuple[float, float]:
    """(exponent a, constant C) of the fit 1 − π_t(face) ≈ C·t^a over the steps t after the first
    ``skip`` fraction of an :func:`expected_flow` run; ``outputs`` span the face the flow goes to.

    With no regulariser (β = 0, no entropy) and two deterministic rewards the flow reaches the
    vertex of the better output algebraically, not exponentially: a = −1, and C·lr = 1/(2√(G − 1))
    with the population std (√G/(2(G − 1)) with Bessel's, G/(2(G − 1)) mean-only) — a lone worse
    output in a group of G costs √(G − 1) in P_G, so the log-odds grow at 2√(G − 1)·(1 − π).
    Measured at G = 4, lr = 1, 20000 steps: a = −1.0005, C = 0.28872 (1/(2√3) = 0.28868).

    >>> from grpo_symbolic import Problem
    >>> flow = expected_flow(Problem(["0.3", "0.7"], [1, 0], 4, 0), steps=4000, lr=1.0)
    >>> a, C = approach_rate(flow, [0])
    >>> round(a, 2), round(C, 2)
    (-1.0, 0.29)
    """
    if not 0 <= skip < 1:
        raise ParameterError(f"skip: got {skip!r}; give a fraction in [0, 1)")
    steps = np.arange(policies.shape[0])
    first = max(1, int(skip * steps[-1]))
    gap = 1 - policies[first:, list(outputs)].sum(axis=1)
    if np.any(gap <= 0):
        raise ParameterError("policies: the face holds all the mass in float64; fit a shorter run")
    slope, intercept = np.polyfit(np.log(steps[first:]), np.log(gap), 1)
    return float(slope), float(math.exp(intercept))


class _Setup:
    """The float64 view of a Problem shared by both dynamics, with validated common inputs."""

    def __init__(self, problem, lr, estimator, start):
        if not require_problem(problem).is_numeric:
            raise ParameterError("problem: the dynamics need numeric parameters; substitute the symbols first")
        self.lr = inputs.step(lr, "lr", "the learning rate must be a finite number > 0 (e.g. 0.5)")
        estimator = problem.kl_estimator if estimator is None else Estimator.parse(estimator, "estimator")
        clamped = problem.kl_clamp is not None
        self.bound = float(problem.kl_clamp) if clamped else math.inf
        self.penalty_gradient = _estimator_gradient(estimator, clamped)
        self.penalty_value = _estimator_value(estimator, clamped)
        self.placement = problem.kl_placement
        self.rho = np.array([float(r) for r in problem.reference])
        self.beta = float(problem.beta)
        if not (np.all(self.rho > 0) and (0 < self.beta < math.inf or problem.beta == 0)):
            raise ParameterError("problem: the float64 dynamics need every reference probability above 1e-308 and a "
                                 "finite beta, 0 or above 1e-308; use stationary_policy for such extremes")
        inputs.float_values(problem.reward_values, "rewards")
        self.entropy = float(problem.entropy)
        self.start = self.rho if start is None else _start(start, problem.size)

    def loss_gradient(self, pi, pi_old):
        """∂D/∂π per sample of the KL in the loss (0 for the reward placements: detached)."""
        if self.placement is not Placement.LOSS:
            return np.zeros_like(pi)
        return self.penalty_gradient(pi, self.rho, pi_old, self.bound)

    def value(self, pi_old):
        """D(π_old(o)) per output, the detached value a reward placement subtracts (times β)."""
        return np.broadcast_to(self.penalty_value(pi_old, self.rho, self.bound), np.shape(pi_old))

    def shifts(self, pi_old):
        """(placement, −β·D(π_old(o))) for the sampler; None for the loss placement."""
        if self.placement is Placement.LOSS or self.beta == 0:
            return None
        return self.placement, -self.beta * self.value(pi_old)

    def entropy_gradient(self, pi):
        """c·∂H/∂π(o) = −c·(log π(o) + 1) (0 without the bonus)."""
        return -self.entropy * (np.log(pi) + 1) if self.entropy else 0.0

    def stepped(self, theta, gradient, iteration):
        """θ + lr·gradient, shifted so its largest logit is 0; a ParameterError naming ``lr`` when
        the step leaves the finite numbers or empties an output (π(o) = 0 in float64: the penalty
        gradient there is infinite), so a diverging run never returns NaN policies."""
        theta = theta + self.lr * gradient
        theta = theta - theta.max(axis=-1, keepdims=True)
        if not np.all(np.isfinite(theta)) or np.any(theta < _LOWEST_LOGIT):
            raise ParameterError(
                f"lr: the run diverged at iteration {iteration} with lr = {self.lr!r} (a logit left the finite "
                "numbers or a probability underflowed to 0 in float64); use a smaller learning rate")
        return theta


_LOWEST_LOGIT = math.log(np.finfo(float).tiny)
"""Below this logit gap π(o) underflows to 0 in float64."""


class _GroupSampler:
    """Draws B groups per chain under the group filter and sums their advantages per output, with the
    trainers' rules of :mod:`grpo_symbolic.dynamics.sampled_advantages`."""

    def __init__(self, problem, groups):
        self.groups, self.size, self.group_size = groups, problem.size, problem.group_size
        self.members = groups * problem.group_size
        self.values = np.array(inputs.float_values(problem.reward_values, "rewards"))
        laws = np.array([[float(q) for q in row] for row in problem.law_matrix])
        self.cumulative_laws = np.cumsum(laws, axis=1)
        self.rule, self.group_filter = sampled_advantages.problem_rule(problem), problem.group_filter

    def draw(self, pi_old, streams, shifts=None):
        """Per chain and output: sums of the positive and of the negative advantages, the number of
        penalised samples, and the numbers of samples with A > 0 and with A < 0 (stacked).

        ``shifts``: None, or (placement, s) with s[c, o] added to output o's advantage after the
        normalisation ("reward-post") or to its reward before it ("reward-pre")."""
        outputs, rewards, in_batch, penalised = sampled_advantages.batch(
            lambda chains: self._groups(pi_old[chains], [streams[c] for c in chains]),
            len(streams), self.groups, self.group_filter, self.values)
        values = self.values[rewards]
        shift = None if shifts is None else np.stack([s[o] for o, s in zip(outputs, shifts[1])])
        if shift is not None and shifts[0] is Placement.REWARD_PRE:
            values = values + shift
        advantages = self.rule(values)
        if shift is not None and shifts[0] is not Placement.REWARD_PRE:
            advantages = advantages + shift
        advantages = advantages * in_batch[..., None]
        chains = pi_old.shape[0]
        index = (np.arange(chains)[:, None, None] * self.size + outputs).ravel()
        flat = advantages.ravel()
        weights = np.broadcast_to(penalised[..., None], outputs.shape).ravel()
        total = chains * self.size
        positive, negative, counts, up, down = (
            np.bincount(index, weights=w, minlength=total).reshape(chains, self.size)
            for w in (np.maximum(flat, 0.0), np.minimum(flat, 0.0), weights, flat > 0, flat < 0))
        return positive, negative, counts, np.stack([up, down])

    def _groups(self, pi_old, streams):
        """(outputs, reward indices), each (chains, B, G), drawn from π_old and the reward laws."""
        uniforms = np.stack([rng.random((2, self.groups, self.group_size)) for rng in streams])
        outputs = _inverse_cdf(uniforms[:, 0], np.cumsum(pi_old, axis=1)[:, None, None, :])
        return outputs, _inverse_cdf(uniforms[:, 1], self.cumulative_laws[outputs])


class _Progress:
    """Prints ``name: k/n`` to stderr about every 5% when enabled."""

    def __init__(self, name, total, enabled):
        self.name, self.total, self.enabled = name, total, enabled
        self.every = max(1, total // 20)

    def __call__(self, done):
        if self.enabled and (done % self.every == 0 or done == self.total):
            end = "\n" if done == self.total else ""
            print(f"\r{self.name}: {done}/{self.total} ({100 * done // self.total}%)", end=end,
                  file=sys.stderr, flush=True)


def _inverse_cdf(uniform, cumulative):
    """Index j with cumulative[j−1] ≤ u < cumulative[j] (cumulative broadcast over u's shape)."""
    index = (uniform[..., None] >= cumulative).sum(axis=-1)
    return np.minimum(index, cumulative.shape[-1] - 1)


def _softmax(theta):
    w = np.exp(theta - theta.max(axis=-1, keepdims=True))
    return w / w.sum(axis=-1, keepdims=True)


def _logit_gradient(pi, gradient):
    """∇_θ from ∇_π through the softmax Jacobian: π ⊙ (g − ⟨π, g⟩)."""
    return pi * (gradient - (pi * gradient).sum(axis=-1, keepdims=True))


def _start(start, size):
    """The start policy through the input gate, as float64; entries > 0, the sum within 1e-12 of 1
    (float entries are taken as the approximate numbers they are)."""
    approximate = [mpx.mpf(v) if isinstance(v, float) else v for v in inputs.sequence(start, "start")]
    values = np.array([float(v) for v in inputs.policy(approximate, size, "start", dps=12)])
    if np.any(values <= 0) or not np.all(np.isfinite(values)):
        raise ParameterError("start: give probabilities > 0 that sum to 1 (the softmax never reaches 0)")
    return values / values.sum()
