"""The trainers' per-group advantages and group filters, in numpy, for the sampled GRPO run.

:func:`grpo_symbolic.dynamics.simulate.simulate` draws a batch of groups and needs, for every group of
G rewards, the G advantages and whether the group enters the batch and the penalty.  This module
computes them the way the trainers' code does, on a ``(..., G)`` array of rewards at once, and
independently of the exact rules of :mod:`grpo_symbolic.theory.advantage` that the engine and the
solver use, so that a sampled run compared with the solver checks one route against the other:

* ``grpo``: (r − mean)/(std + eps) (TRL, verl, OpenRLHF ``group_norm``), the std with ``ddof`` 0
  (``population``, the paper) or 1 (``sample``, torch's default), or r − mean (``shift``);
* ``rloo``: r_i − (Σ_j r_j − r_i)/(G − 1) (TRL's RLOO trainer, OpenRLHF ``rloo``);
* ``rloo-std``: NeMo-RL's leave-one-out baseline b_i and std s_i of the other G − 1 rewards
  (population std), (r_i − b_i)/(s_i + eps) where s_i > 0 and r_i − b_i where s_i = 0;
* ``passk``: PKPO's s^(loo−1) (Walder & Karkhanis, arXiv 2505.15201, eq. (33)) times G, from the
  subset sums over the sorted rewards: Σ_{I ∋ i, |I| = k} max_I r with the member at sorted position
  p is r_(p)·C(p − 1, k − 1) + Σ_{q > p} r_(q)·C(q − 2, k − 2), and its baseline
  Σ_{J ⊂ others, |J| = k − 1} max_J r is Σ_q r'_(q)·C(q − 1, k − 2) over the others sorted.

Whether a group's rewards are all equal (a *degenerate* group) and whether the others of a member are
all equal (NeMo-RL's s_i = 0) are decided by comparing the reward values themselves, which the
sampler takes from one table, so equal rewards are equal floats: never from a computed std (NeMo-RL
#1518: a float std of 1e-12 from sq_mean − mean² blew advantages up to ±10⁶).  Degenerate groups get
advantage 0 under the GRPO rules (the paper's 0/0 ≡ 0).

The group filters (:func:`batch`): ``keep`` (TRL) uses every drawn group; ``mask-penalty`` keeps the
degenerate groups in the batch without their penalty; ``drop-equal`` (DAPO dynamic sampling, verl
``filter_groups``) discards them and draws more, B groups at a time, until the batch holds B
non-degenerate groups — at most :data:`REFILL_ROUNDS` draws (the role of verl's ``max_num_gen_batches``,
which stops the run with an error instead); a batch still short then trains on the groups it found
(the missing ones count as zero), so next to a vertex, where almost every group is all-equal, the
run slows down instead of drawing without end.
"""

from __future__ import annotations

from collections.abc import Callable
from math import comb
from typing import TYPE_CHECKING, Any

import numpy as np

from grpo_symbolic.model import inputs
from grpo_symbolic.model.errors import ParameterError
from grpo_symbolic.model.settings import Advantage, GroupFilter, Normalisation

if TYPE_CHECKING:
    from grpo_symbolic.model.problem import Problem

REFILL_ROUNDS = 10
"""``drop-equal``: at most this many draws of B groups per batch (verl's ``max_num_gen_batches``)."""

Rule = Callable[[np.ndarray], np.ndarray]


def all_equal(rewards: np.ndarray) -> np.ndarray:
    """Per group (the last axis), whether its rewards are all equal.

    >>> all_equal(np.array([[1., 1., 1.], [1., 0., 1.]]))
    array([ True, False])
    """
    return np.all(rewards == rewards[..., :1], axis=-1)


def _grpo(rewards: np.ndarray, normalisation: str = "population", eps: float = 0.0) -> np.ndarray:
    """(r − mean)/(std + eps) per group (``shift``: r − mean); degenerate groups get 0.

    >>> _grpo(np.array([[1., 0., 0., 0.]]), "sample")
    array([[ 1.5, -0.5, -0.5, -0.5]])
    """
    centred = rewards - rewards.mean(axis=-1, keepdims=True)
    if normalisation == Normalisation.SHIFT:
        return centred
    ddof = 1 if normalisation == Normalisation.SAMPLE else 0
    std = rewards.std(axis=-1, ddof=ddof, keepdims=True)
    degenerate = all_equal(rewards)[..., None]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(degenerate, 0.0, centred / (std + eps))


def _rloo(rewards: np.ndarray) -> np.ndarray:
    """TRL RLOO: r_i minus the mean of the other G − 1 rewards.

    >>> _rloo(np.array([[1., 0., 0., 0.]]))
    array([[ 1.        , -0.33333333, -0.33333333, -0.33333333]])
    """
    size = rewards.shape[-1]
    baseline = (rewards.sum(axis=-1, keepdims=True) - rewards) / (size - 1)
    return rewards - baseline


def _others(rewards):
    """``others[..., i, :]``: the G − 1 rewards of the group other than member i."""
    size = rewards.shape[-1]
    index = np.array([[j for j in range(size) if j != i] for i in range(size)], dtype=np.intp)
    return rewards[..., index]


def _rloo_std(rewards: np.ndarray, eps: float = 0.0) -> np.ndarray:
    """NeMo-RL: (r_i − b_i)/(s_i + eps), b_i and s_i the mean and population std of the others;
    r_i − b_i where the others are all equal (s_i = 0, decided from the values).

    >>> _rloo_std(np.array([[1., 0., 0.], [1., 0., 1.]]))
    array([[ 1., -1., -1.],
           [ 1., -1.,  1.]])
    """
    others = _others(rewards)
    baseline = others.mean(axis=-1)
    spread = others.std(axis=-1)
    flat = all_equal(others)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(flat, rewards - baseline, (rewards - baseline) / (spread + eps))


def _subset_weights(size, k):
    """Matrices (M, N) over sorted positions p, q (0-based): Σ_{I ∋ p, |I| = k} max_I r = (M r)_p and
    Σ_{J ⊂ others of p, |J| = k − 1} max_J r = (N r)_p, for r sorted ascending."""
    top = np.zeros((size, size))
    base = np.zeros((size, size))
    for p in range(size):
        top[p, p] = comb(p, k - 1)
        for q in range(size):
            if q > p:
                top[p, q] = comb(q - 1, k - 2) if k >= 2 else 0
                base[p, q] = comb(q - 1, k - 2) if k >= 2 else 0
            elif q < p:
                base[p, q] = comb(q, k - 2) if k >= 2 else 0
    return top, base


def _passk(rewards: np.ndarray, k: int) -> np.ndarray:
    """PKPO's s^(loo−1) for max@k, times G: (G/C(G, k)) Σ_{I ∋ i, |I| = k} [max_I r − max_{I∖i} r]
    (the max of no reward is 0, so k = 1 gives r_i).

    >>> _passk(np.array([[1., 0., 0., 0.], [1., 1., 0., 0.]]), 2)
    array([[2.        , 0.        , 0.        , 0.        ],
           [1.33333333, 1.33333333, 0.        , 0.        ]])
    """
    size = rewards.shape[-1]
    if not 1 <= k <= size:
        raise ParameterError(f"pass_k: got {k!r}; pass@k needs 1 <= k <= G = {size}")
    order = np.argsort(rewards, axis=-1, kind="stable")
    ascending = np.take_along_axis(rewards, order, axis=-1)
    top, base = _subset_weights(size, k)
    weights = (ascending @ top.T - ascending @ base.T) * (size / comb(size, k))
    result = np.empty_like(weights)
    np.put_along_axis(result, order, weights, axis=-1)
    return result


def advantages(rewards: Any, advantage: str = "grpo", *, normalisation: str = "population", eps: float = 0.0,
               pass_k: int | None = None) -> np.ndarray:
    """The advantages of each group of ``rewards`` (an array ``(..., G)``, G ≥ 2) under a trainer's rule.

    >>> advantages([[1, 0, 0, 0]], "rloo-std")
    array([[ 1.        , -0.70710678, -0.70710678, -0.70710678]])
    >>> advantages([[1, 0]], "passk")
    Traceback (most recent call last):
    ...
    grpo_symbolic.model.errors.ParameterError: pass_k: advantage='passk' needs k, e.g. pass_k=2 (1 <= k <= G)
    """
    return rule_for(advantage, normalisation, eps, pass_k)(_groups(rewards))


def rule_for(advantage: str, normalisation: str = "population", eps: float = 0.0, pass_k: int | None = None) -> Rule:
    """The rule as a function of a rewards array ``(..., G)`` (settings checked once).

    >>> rule_for("rloo")(np.array([[2., 0.]]))
    array([[ 2., -2.]])
    """
    chosen = Advantage.parse(advantage, "advantage")
    scaling = Normalisation.parse(normalisation, "normalisation")
    eps = inputs.step(eps, "eps", "eps must be a finite number >= 0", allow_inf=False) if eps else 0.0
    if chosen is Advantage.PASSK:
        if pass_k is None:
            raise ParameterError("pass_k: advantage='passk' needs k, e.g. pass_k=2 (1 <= k <= G)")
        k = inputs.count(pass_k, "pass_k")
        return lambda r: _passk(r, k)
    if chosen is Advantage.RLOO:
        return _rloo
    if chosen is Advantage.RLOO_STD:
        return lambda r: _rloo_std(r, eps)
    return lambda r: _grpo(r, scaling, eps)


def problem_rule(problem: Problem) -> Rule:
    """The rule of ``problem``'s settings (advantage, normalisation, eps, pass_k), in float64.

    >>> from grpo_symbolic import Problem
    >>> prob = Problem(["0.5", "0.5"], [1, 0], 4, 1, advantage="passk", pass_k=2)
    >>> problem_rule(prob)(np.array([[1., 0., 0., 0.]]))
    array([[2., 0., 0., 0.]])
    """
    return rule_for(problem.advantage, problem.normalisation, float(problem.eps), problem.pass_k)


def _groups(rewards):
    array = inputs.float_array(rewards, "rewards")
    if array.ndim < 1 or array.shape[-1] < 2 or not np.all(np.isfinite(array)):
        raise ParameterError("rewards: give finite rewards as an array (..., G) with G >= 2 members per group")
    return array


Draw = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


def batch(draw: Draw, chains: int, groups: int, group_filter: str, values: np.ndarray
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One batch per chain under ``group_filter``: (outputs, rewards, in_batch, penalised).

    ``draw(chain_indices)`` returns (outputs, reward indices into ``values``), each of shape
    ``(len(chain_indices), groups, G)``.  ``in_batch[c, b]`` is 1 for a group of the batch (0 for
    ``drop-equal``'s unfilled places), ``penalised[c, b]`` 1 where the group carries the penalty.

    >>> rng = np.random.default_rng(0)
    >>> draw = lambda c: (np.zeros((len(c), 3, 2), int), rng.integers(0, 2, (len(c), 3, 2)))
    >>> out, r, kept, pen = batch(draw, 2, 3, "drop-equal", np.array([0., 1.]))
    >>> bool(np.all(~all_equal(r[kept > 0]))), kept.shape
    (True, (2, 3))
    """
    chosen = GroupFilter.parse(group_filter, "group_filter")
    if chosen is GroupFilter.DROP_EQUAL:
        return _refilled(draw, chains, groups, values)
    outputs, rewards = draw(np.arange(chains))
    ones = np.ones(rewards.shape[:2])
    if chosen is GroupFilter.KEEP:
        return outputs, rewards, ones, ones
    return outputs, rewards, ones, (~all_equal(values[rewards])).astype(float)


def _refilled(draw, chains, groups, values):
    """``drop-equal``: per chain, the first ``groups`` non-degenerate groups of repeated draws (a chain
    draws again only while it is short, so each chain's stream is used as if it ran alone)."""
    pools: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    found = np.zeros(chains, dtype=int)
    short = np.arange(chains)
    for _ in range(REFILL_ROUNDS):
        outputs, rewards = draw(short)
        shape = (chains,) + outputs.shape[1:]
        pool = (np.zeros(shape, dtype=outputs.dtype), np.zeros(shape, dtype=rewards.dtype), np.zeros(shape[:2], dtype=bool))
        pool[0][short], pool[1][short], pool[2][short] = outputs, rewards, ~all_equal(values[rewards])
        pools.append(pool)
        found += pool[2].sum(axis=1)
        short = np.flatnonzero(found < groups)
        if not short.size:
            break
    outputs, rewards, useful = (np.concatenate(parts, axis=1) for parts in zip(*pools))
    first = np.argsort(~useful, axis=1, kind="stable")[:, :groups]
    in_batch = np.take_along_axis(useful, first, axis=1).astype(float)
    return (np.take_along_axis(outputs, first[..., None], axis=1), np.take_along_axis(rewards, first[..., None], axis=1),
            in_batch, in_batch)
