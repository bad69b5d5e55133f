"""Advantage rules: the normalised reward A_1 of the first member of a group.

A group is described by its first member's reward (the *focal* reward) and by how many of the
other G − 1 rewards take each distinct value, so a rule never needs the G rewards spelled out.
A rule is a plain function ``rule(group, eps, sqrt) -> A_1``; ``sqrt`` is the square root of the
arithmetic in use (``sympy.sqrt`` for exact work, ``mpmath.sqrt`` or ``math.sqrt`` numerically).
Another trainer's convention is one more function in :data:`RULES`; :func:`rule_name` names the
rule a Problem's settings select and :func:`rule` returns it (``"passk-K"`` for PKPO with k = K).

The trainers' rules besides GRPO's (r − mean)/std:

* ``rloo``: r_1 minus the mean of the other G − 1 rewards (RLOO; OpenRLHF "rloo") — G/(G − 1)
  times the shift-only advantage, so it sums to 0 over every group.
* ``rloo-std``: (r_1 − b)/(s + eps) with b and s the mean and the population std of the OTHER
  G − 1 rewards (NeMo-RL's leave-one-out baseline with ``normalize_rewards``).  Where s = 0 the
  advantage is r_1 − b, unscaled: NeMo-RL divides only where std > 0.  That case is decided here
  from the counts, exactly; NeMo-RL #1518's advantages of ±10⁶ came from a floating-point s of
  about 1e-12 (sq_mean − mean²) that exact arithmetic puts at 0.  At G = 2 it is r_1 − r_2.
  It does NOT sum to 0 over a group: (1, 0, 0) gives 1, −1, −1.
* ``passk-K``: PKPO's lowest-variance pass@k advantage for binary rewards (Walder & Karkhanis,
  arXiv 2505.15201, eq. (33), "s^(loo−1)"), scaled by G so that (1/G)·Σ_i A_i ∇log π(o_i) is their
  unbiased gradient of pass@k: A_i = (G / C(G, k)) Σ_{I ∋ i, |I| = k} [max_I r − max_{I∖i} r].
  For rewards in {0, 1} the bracket is 1 exactly when r_i = 1 and the other k − 1 members of I
  fail, so A_i = G·C(G − c, k − 1)/C(G, k) for a success (c successes in the group) and 0 for a
  failure.  Not zero-mean; k = 1 gives A_i = r_i.

All-equal groups get advantage 0 under the GRPO rules (the paper's 0/0 ≡ 0) and the leave-one-out
rules; that case is decided from the counts, never from a floating-point comparison.  Under
pass@k an all-failure group gets 0 and an all-success group G·C(0, k − 1)/C(G, k): 0 for k ≥ 2,
1 for k = 1 (plain REINFORCE, no baseline).
"""

from dataclasses import dataclass
from fractions import Fraction
from math import comb
from typing import Any, Callable


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

    @property
    def others_mean(self):
        """Mean of the other G − 1 rewards (the leave-one-out baseline).

        >>> str(Group(values=(0, 1), focal_index=1, counts=(2, 1)).others_mean)
        '1/3'
        """
        return _divide(sum(n * v for n, v in zip(self.counts, self.values) if n), self.size - 1)

    @property
    def others_spread(self):
        """True when the other G − 1 rewards are not all equal (decided from the counts)."""
        return sum(1 for n in self.counts if n) > 1

    @property
    def others_squared_deviation(self):
        """Σ over the other G − 1 rewards of (r_j − their mean)²."""
        b = self.others_mean
        return sum(n * (v - b) ** 2 for n, v in zip(self.counts, self.values) if n)


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


def rloo(group, eps, sqrt):
    """r_1 − mean of the other G − 1 rewards (RLOO); ``eps`` plays no role.

    >>> str(rloo(Group(values=(0, 1), focal_index=1, counts=(3, 0)), 0, None))
    '1'
    """
    return group.focal - group.others_mean


def rloo_std(group, eps, sqrt):
    """(r_1 − b)/(s + eps), b and s the mean and population std of the other G − 1 rewards;
    r_1 − b where s = 0 (NeMo-RL divides only where the std is positive).

    >>> import sympy as sp
    >>> rloo_std(Group(values=(0, 1), focal_index=0, counts=(1, 1)), 0, sp.sqrt)
    -1
    >>> str(rloo_std(Group(values=(0, 1), focal_index=1, counts=(2, 0)), 0, sp.sqrt))
    '1'
    """
    centred = group.focal - group.others_mean
    if not group.others_spread:
        return centred
    return centred / (sqrt(_divide(group.others_squared_deviation, group.size - 1)) + eps)


def passk_rule(k: int) -> Callable[..., Any]:
    """PKPO's pass@k advantage (binary rewards in {0, 1}) for this k: G·C(G − c, k − 1)/C(G, k)
    for a success, c the successes in the group, and 0 for a failure (see the module docstring).

    >>> from fractions import Fraction
    >>> rule3 = passk_rule(3)
    >>> rule3(Group(values=(0, 1), focal_index=1, counts=(3, 0)), 0, None)  # G = 4, c = 1
    Fraction(3, 1)
    >>> rule3(Group(values=(0, 1), focal_index=0, counts=(2, 1)), 0, None)
    0
    """

    def passk(group, eps, sqrt):
        if group.focal != 1:
            return 0 * group.focal
        G = group.size
        successes = 1 + sum(n for n, v in zip(group.counts, group.values) if v == 1)
        return _divide(group.focal * G * comb(G - successes, k - 1), comb(G, k))

    passk.__name__ = f"passk_{k}"
    return passk


RULES = {"population": population, "sample": sample, "shift": shift, "rloo": rloo, "rloo-std": rloo_std}
"""The rules without a parameter, by name; ``passk-K`` rules come from :func:`passk_rule`."""

ZERO_MEAN = frozenset({"population", "sample", "shift", "rloo"})
"""Rules whose advantages sum to 0 over every group (tests derive this; the solver never assumes it)."""


def rule_name(advantage: str, normalisation: str, pass_k: int | None) -> str:
    """The name of the rule these settings select: the normalisation for ``advantage="grpo"``,
    else the advantage, with ``-k`` appended for pass@k.

    >>> rule_name("grpo", "sample", None), rule_name("rloo-std", "population", None), rule_name("passk", "population", 4)
    ('sample', 'rloo-std', 'passk-4')
    """
    if advantage == "grpo":
        return str(normalisation)
    if advantage == "passk":
        return f"passk-{pass_k}"
    return str(advantage)


def rule(name: str) -> Callable[..., Any]:
    """The rule called ``name`` (a key of :data:`RULES`, or ``passk-K``).

    >>> rule("rloo") is rloo, rule("passk-2").__name__
    (True, 'passk_2')
    """
    if name.startswith("passk-"):
        return passk_rule(int(name[len("passk-"):]))
    return RULES[name]
