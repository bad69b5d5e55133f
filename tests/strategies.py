"""Hypothesis strategies: small numeric Problems and rational policies, kept exact.

Every number drawn is a :class:`fractions.Fraction` with a small denominator, so a Problem built
from them is exact and the exact SymPy sums over groups stay small (K ≤ 4 outputs, G ≤ 6).
"""

from __future__ import annotations

from fractions import Fraction
import math
from typing import Any

from hypothesis import strategies as st

from grpo_symbolic import Problem
from grpo_symbolic.model.settings import Normalisation

NORMALISATIONS = tuple(n.value for n in Normalisation)

MAX_DENOMINATOR = 12


def fractions(low: Fraction, high: Fraction, max_denominator: int = MAX_DENOMINATOR) -> st.SearchStrategy[Fraction]:
    """Rationals in the closed interval [low, high] with denominators up to ``max_denominator``."""
    low, high = Fraction(low), Fraction(high)

    def with_denominator(d: int) -> st.SearchStrategy[Fraction]:
        return st.integers(math.ceil(low * d), math.floor(high * d)).map(lambda n: Fraction(n, d))

    denominators = st.integers(1, max_denominator).filter(lambda d: math.ceil(low * d) <= math.floor(high * d))
    return denominators.flatmap(with_denominator)


@st.composite
def probability_vectors(draw: st.DrawFn, size: int, positive: bool = True) -> tuple[Fraction, ...]:
    """``size`` rational probabilities summing to exactly 1 (all > 0 unless ``positive`` is False)."""
    low = 1 if positive else 0
    weights = draw(st.lists(st.integers(low, 6), min_size=size, max_size=size).filter(lambda w: sum(w) > 0))
    total = sum(weights)
    return tuple(Fraction(w, total) for w in weights)


def reward_values(count: int) -> st.SearchStrategy[list[Fraction]]:
    """``count`` distinct rational reward values in [−2, 2]."""
    return st.lists(fractions(Fraction(-2), Fraction(2), 4), min_size=count, max_size=count, unique=True)


@st.composite
def reward_laws(draw: st.DrawFn, size: int) -> list[Any]:
    """Per output a deterministic reward or a finite law value → probability, over 2–3 values."""
    values = draw(st.integers(2, 3).flatmap(reward_values))
    laws: list[Any] = []
    for _ in range(size):
        if draw(st.booleans()):
            laws.append(draw(st.sampled_from(values)))
        else:
            probabilities = draw(probability_vectors(len(values), positive=False))
            laws.append({v: q for v, q in zip(values, probabilities) if q})
    if len({_outcomes(law) for law in laws}) == 1:  # all outputs alike: make the first one differ
        laws[0] = values[0] if _outcomes(laws[0]) != _outcomes(values[0]) else values[1]
    return laws


def _outcomes(law: Any) -> tuple[tuple[Fraction, Fraction], ...]:
    """The law as sorted (value, probability) pairs, a deterministic reward v as ((v, 1),)."""
    return tuple(sorted(law.items())) if isinstance(law, dict) else ((law, Fraction(1)),)


@st.composite
def problems(draw: st.DrawFn, sizes: tuple[int, int] = (2, 4), group_sizes: tuple[int, int] = (2, 6),
             normalisations: tuple[str, ...] = NORMALISATIONS, penalties: tuple[str, ...] = ("grpo",),
             eps: bool = True) -> Problem:
    """A small numeric Problem: K outputs, rational π_ref, 2–3 reward values, G, β ∈ (0, 4], eps ≥ 0."""
    size = draw(st.integers(*sizes))
    return Problem(
        reference=draw(probability_vectors(size)),
        rewards=tuple(draw(reward_laws(size))),
        group_size=draw(st.integers(*group_sizes)),
        beta=draw(fractions(Fraction(1, MAX_DENOMINATOR), Fraction(4))),
        normalisation=draw(st.sampled_from(normalisations)),
        penalty=draw(st.sampled_from(penalties)),
        eps=draw(st.sampled_from([Fraction(0), Fraction(1, 100), Fraction(1, 10)])) if eps else Fraction(0),
    )


@st.composite
def problems_with_policy(draw: st.DrawFn, **options: Any) -> tuple[Problem, tuple[Fraction, ...]]:
    """A Problem from :func:`problems` and a rational policy over its outputs (entries may be 0)."""
    problem = draw(problems(**options))
    return problem, draw(probability_vectors(problem.size, positive=False))
