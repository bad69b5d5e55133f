"""The trainers' sampled GRPO loss in numpy, as their code writes it, and its Monte Carlo gradient.

The independent route of the ``x-kl-*`` sampled-loss checks: nothing here comes from the SymPy
derivation.  One group of G outputs is drawn from π_old = π (a one-prompt bandit: an output is one
token), rewards are drawn from each output's law, and the per-sample loss is (in log-probabilities,
``old`` and ``*_detached`` taken from the sampling pass, i.e. constants under differentiation):

* KL estimators — verl ``kl_penalty``/``kl_penalty_forward`` (verl/trainer/ppo/core_algos.py at
  b178a3cd: k1 ``logprob - ref_logprob``, k2 ``0.5 * (...).square()``, low_var_kl with the
  log-ratio clamped to ±20 and the value to ±C, the "+" straight-through
  ``backward_score - backward_score.detach() + forward_score.detach()``); TRL ``_compute_loss``
  (trl/trainer/grpo_trainer.py at f2cd5771: k3, times ``coef_1 = exp(logp - old)`` with
  ``use_bias_correction_kl``); the flipped-ratio k3 of a textbook's code.
* advantage (r − mean)/(std + eps), std with Bessel's correction (TRL, verl, OpenRLHF);
* placements: ``loss`` −exp(logp − old)·A + β·kl; ``reward-post`` A − β·kl(old) (OpenRLHF);
  ``reward-pre`` r − β·kl(old) before the normalisation (verl ``use_kl_in_reward``);
* entropy bonus: −c·H(π) with H from the full distribution (TRL ``entropy_coef``).

The gradient in the logits θ is a central finite difference of each group's loss with common random
numbers (the same draws at θ ± h): one estimate per group, so its standard error is honest.

>>> import numpy as np
>>> setup = Setup(rho=(0.5, 0.5), pi=(0.5, 0.5), laws=((1.0, 0.0), (0.0, 1.0)), values=(1.0, 0.0),
...               group_size=2, beta=0.0, eps=1e-4, clamp=None, entropy=0.0)
>>> mean, se = gradient(setup, "k3", "loss", groups=4000, seed=1)
>>> bool(abs(mean[0] + 0.5 * 0.5 * 0.5 / (0.5 ** 0.5 + 1e-4)) < 4 * se[0])  # -π(a)·P_2(a), A = ½/(std + eps)
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

STEP = 1e-6


@dataclass(frozen=True)
class Setup:
    """A one-prompt bandit in float64: π_ref ``rho``, the current (= old) policy ``pi``, per output a
    reward law ``laws[o][v]`` over ``values``, the group size, β, eps, the clamp C (None: off) and c."""

    rho: tuple
    pi: tuple
    laws: tuple
    values: tuple
    group_size: int
    beta: float
    eps: float
    clamp: float | None
    entropy: float


def estimator(name, logp, ref, old, detached, clamp):
    """One sample's KL value, as the trainers' code computes it (numpy, log-probabilities)."""
    clip = (lambda v: v) if clamp is None else (lambda v: np.clip(v, -clamp, clamp))
    if name == "k1":
        return clip(logp - ref)
    if name == "k2":
        return clip(0.5 * (logp - ref) ** 2)
    if name in ("k3", "is_k3"):
        kl = np.clip(ref - logp, -20, 20)
        value = clip(np.exp(kl) - kl - 1)
        return value * np.exp(logp - old) if name == "is_k3" else value
    if name == "k3-flipped":
        kl = logp - ref
        return clip(np.exp(kl) - kl - 1)
    if name == "k3-plus":
        backward, frozen = 0.5 * (logp - ref) ** 2, 0.5 * (detached - ref) ** 2
        return backward - frozen + estimator("k3", detached, ref, old, detached, clamp)
    raise ValueError(f"estimator: got {name!r}")


def advantages(rewards, eps):
    """(r − mean)/(std + eps) per group (rows), Bessel std."""
    return (rewards - rewards.mean(axis=1, keepdims=True)) / (rewards.std(axis=1, ddof=1, keepdims=True) + eps)


def _log_softmax(theta):
    return theta - np.log(np.exp(theta).sum())


def group_losses(theta, setup, name, placement, draws):
    """Each group's loss (mean over its G samples) at logits ``theta``; the old policy is ``setup.pi``."""
    outputs, rewards = draws
    logp_all, old_all = _log_softmax(theta), np.log(np.asarray(setup.pi))
    logp, old, ref = logp_all[outputs], old_all[outputs], np.log(np.asarray(setup.rho))[outputs]
    ratio = np.exp(logp - old)
    kl_old = estimator(name, old, ref, old, old, setup.clamp)
    if placement == "reward-pre":
        per_sample = -ratio * advantages(rewards - setup.beta * kl_old, setup.eps)
    elif placement == "reward-post":
        per_sample = -ratio * (advantages(rewards, setup.eps) - setup.beta * kl_old)
    else:
        kl = estimator(name, logp, ref, old, old, setup.clamp)
        per_sample = -ratio * advantages(rewards, setup.eps) + setup.beta * kl
    entropy = -(np.exp(logp_all) * logp_all).sum()
    return per_sample.mean(axis=1) - setup.entropy * entropy


def draw(setup, groups, seed):
    """``groups`` groups of outputs from π and their rewards, seeded."""
    rng = np.random.default_rng(seed)
    outputs = rng.choice(len(setup.pi), size=(groups, setup.group_size), p=np.asarray(setup.pi))
    cumulative = np.cumsum(np.asarray(setup.laws), axis=1)[outputs]
    index = (rng.random(outputs.shape)[..., None] > cumulative).sum(axis=-1)
    return outputs, np.asarray(setup.values)[index]


def group_gradients(setup, name, placement, groups=200_000, seed=0):
    """∂(group loss)/∂θ at θ = log π, one row per group, by central differences on the same draws."""
    draws = draw(setup, groups, seed)
    theta = np.log(np.asarray(setup.pi))
    columns = []
    for j in range(len(theta)):
        step = np.zeros_like(theta)
        step[j] = STEP
        up, down = (group_losses(theta + s, setup, name, placement, draws) for s in (step, -step))
        columns.append((up - down) / (2 * STEP))
    return np.stack(columns, axis=1)


def gradient(setup, name, placement, groups=200_000, seed=0, baseline=None):
    """(mean, standard error) of ∂(group loss)/∂θ per logit; with a ``baseline`` Setup, of the
    difference from the baseline's gradient on the same draws (common random numbers: the reward
    part's noise cancels, so the regulariser's part is measured sharply)."""
    per_group = group_gradients(setup, name, placement, groups, seed)
    if baseline is not None:
        per_group = per_group - group_gradients(baseline, "k1", "loss", groups, seed)
    return per_group.mean(axis=0), per_group.std(axis=0, ddof=1) / np.sqrt(groups)
