"""Random many-output problems for exercising the solver at scale (tests and benchmarks).

K outputs with seeded random reference weights and reward laws over the values {0, 1, 2}: the
solver's cost should not grow with K (it works in the mixture coordinates and merges outputs
with equal laws), which is what these problems probe.
"""

from __future__ import annotations

from fractions import Fraction
import random

from grpo_symbolic.model.problem import Problem

REWARD_VALUES = (0, 1, 2)


def many_outputs(outputs: int, seed: int, group_size: int, *, beta: str = "1/2", penalty: str = "grpo",
                 sparse: bool = False) -> Problem:
    """A seeded problem with ``outputs`` outputs, each with a random law over :data:`REWARD_VALUES`.

    Reference weights are uniform integers 1–9, normalised.  Laws: weights 1–9 on every value
    (``sparse=False``: the worst case for merging, no two laws alike in practice), or weights
    0–4 with one value raised by 1 and zero weights dropped (``sparse=True``: laws with
    different supports, some shared).

    >>> prob = many_outputs(4, seed=1, group_size=9, sparse=True)
    >>> prob.size, prob.group_size, sum(prob.reference)
    (4, 9, 1)
    """
    rng = random.Random(seed)
    weights = [rng.randint(1, 9) for _ in range(outputs)]
    reference = tuple(Fraction(w, sum(weights)) for w in weights)
    rewards = tuple(_random_law(rng, sparse) for _ in range(outputs))
    return Problem(reference=reference, rewards=rewards, group_size=group_size, beta=beta, penalty=penalty)


def _random_law(rng: random.Random, sparse: bool) -> dict[str, Fraction]:
    if sparse:
        w = [rng.randint(0, 4) for _ in REWARD_VALUES]
        w[rng.randrange(len(REWARD_VALUES))] += 1
    else:
        w = [rng.randint(1, 9) for _ in REWARD_VALUES]
    return {str(v): Fraction(x, sum(w)) for v, x in zip(REWARD_VALUES, w) if x}
