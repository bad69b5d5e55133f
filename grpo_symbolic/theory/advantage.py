"""Advantage rules: the normalised reward A_1 of the first member of a group.

A group is described by its first member's reward (the *focal* reward) and by how many of the
other G − 1 rewards take each distinct value, so a rule never needs the G rewards spelled out.
A rule is a plain function ``rule(group, eps, sqrt) -> A_1``; ``sqrt`` is the square root of the
arithmetic in use (``sympy.sqrt`` for exact work, ``mpmath.sqrt`` or ``math.sqrt`` numerically).
Another trainer's convention (leave-one-out, rank-based, …) is one more function in :data:`RULES`.

All-equal groups get advantage 0 (the paper's 0/0 ≡ 0); that case is decided from the counts,
never from a floating-point comparison.
"""

from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class Group:
    """A group seen from its first member.

    ``values`` are the distinct reward values, ``focal_index`` the index of the first member's
    value, ``counts[j]`` how many of the other G − 1 members have reward ``values[j]``.

    >>> g = Group(values=(0, 1), focal_index=1, counts=(2, 1))
    >>> g.size, str(g.mean), str(g.squared_deviation)
    (4, '1/2', '1')
    """

    values: tuple
    focal_index: int
    counts: tuple

    @property
    def focal(self):
        return self.values[self.focal_index]

    @property
    def size(self):
        return 1 + sum(self.counts)

    @property
    def all_equal(self):
        return self.counts[self.focal_index] == self.size - 1

    @property
    def mean(self):
        total = self.focal + sum(n * v for n, v in zip(self.counts, self.values) if n)
        return _divide(total, self.size)

    @property
    def squared_deviation(self):
        """Σ_i (r_i − mean)² over the whole group."""
        m = self.mean
        return (self.focal - m) ** 2 + sum(n * (v - m) ** 2 for n, v in zip(self.counts, self.values) if n)


def _divide(a, n):
    """a / n that stays exact for ints and Fractions (Python's int / int would give a float)."""
    if isinstance(a, int):
        return Fraction(a, n)
    return a / n


def population(group, eps, sqrt):
    """(r_1 − mean) / (std + eps) with the population std (divide by G): the paper's (2)."""
    if group.all_equal:
        return 0 * group.focal
    std = sqrt(_divide(group.squared_deviation, group.size))
    return (group.focal - group.mean) / (std + eps)


def sample(group, eps, sqrt):
    """(r_1 − mean) / (std + eps) with the Bessel std (divide by G − 1): TRL, verl, OpenRLHF."""
    if group.all_equal:
        return 0 * group.focal
    std = sqrt(_divide(group.squared_deviation, group.size - 1))
    return (group.focal - group.mean) / (std + eps)


def shift(group, eps, sqrt):
    """r_1 − mean: the unscaled (shift-only) advantage; ``eps`` plays no role."""
    return group.focal - group.mean


RULES = {"population": population, "sample": sample, "shift": shift}
