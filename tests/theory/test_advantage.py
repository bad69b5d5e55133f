"""grpo_symbolic.theory.advantage: the three advantage rules on groups small enough to do by hand.

Each test names the mutation of the module it catches.
"""

from fractions import Fraction
import math

import mpmath
import pytest
import sympy as sp

from grpo_symbolic.model.settings import Advantage, Normalisation

NORMALISATIONS = tuple(n.value for n in Normalisation)
from grpo_symbolic.theory.advantage import RULES, Group, population, sample, shift

# rewards (1, 0, 0, 0) seen from the member with reward 1: mean 1/4, Σ(r − mean)² = 3/4
ONE_OF_FOUR = Group(values=(0, 1), focal_index=1, counts=(3, 0))


def members(rewards):
    """The group ``rewards`` seen from each of its members in turn."""
    values = tuple(sorted(set(rewards)))
    for i, r in enumerate(rewards):
        others = rewards[:i] + rewards[i + 1:]
        yield Group(values=values, focal_index=values.index(r), counts=tuple(others.count(v) for v in values))


def test_group_statistics_are_exact():
    """Catches: the focal member left out of the size, mean or squared deviation; int / int as a float."""
    assert ONE_OF_FOUR.size == 4
    assert ONE_OF_FOUR.mean == Fraction(1, 4) and isinstance(ONE_OF_FOUR.mean, Fraction)
    assert ONE_OF_FOUR.squared_deviation == Fraction(3, 4)
    assert not ONE_OF_FOUR.all_equal and Group(values=(0, 1), focal_index=0, counts=(3, 0)).all_equal


def test_the_three_rules_on_one_group():
    """Catches: the wrong divisor (G vs G − 1) in either std, a dropped square root, a sign flip."""
    assert sp.simplify(population(ONE_OF_FOUR, 0, sp.sqrt) - sp.sqrt(3)) == 0  # (3/4)/(√3/4)
    assert sample(ONE_OF_FOUR, 0, sp.sqrt) == Fraction(3, 2)  # (3/4)/(1/2)
    assert shift(ONE_OF_FOUR, 0, sp.sqrt) == Fraction(3, 4)


def test_eps_is_added_to_the_std_and_ignored_by_shift():
    """Catches: eps added to the variance instead of the std, or eps leaking into the shift rule."""
    eps = sp.Rational(1, 10)
    assert sp.simplify(population(ONE_OF_FOUR, eps, sp.sqrt) - sp.Rational(3, 4) / (sp.sqrt(3) / 4 + eps)) == 0
    assert sample(ONE_OF_FOUR, eps, sp.sqrt) == sp.Rational(3, 4) / (sp.Rational(1, 2) + eps)
    assert shift(ONE_OF_FOUR, eps, sp.sqrt) == Fraction(3, 4)


@pytest.mark.parametrize("rule", [population, sample, shift])
def test_all_equal_groups_get_exactly_zero(rule):
    """0/0 ≡ 0, decided from the counts.  Catches: a 0/0 (nan, ZeroDivisionError) or a float zero."""
    r = sp.Symbol("r")
    group = Group(values=(r,), focal_index=0, counts=(3,))
    assert rule(group, 0, sp.sqrt) == 0
    assert rule(Group(values=(Fraction(1, 3),), focal_index=0, counts=(2,)), 0, math.sqrt) == 0


@pytest.mark.parametrize("rewards", [(1, 0, 0), (2, -1, 0, 0, 5), (Fraction(1, 2), 3, 3, 0)])
@pytest.mark.parametrize("name", NORMALISATIONS)
def test_advantages_of_a_group_sum_to_zero(rewards, name):
    """Σ_i A_i = 0 for every rule (the identity behind zero mean).  Catches: a wrong mean."""
    total = sum(RULES[name](group, sp.Rational(1, 7), sp.sqrt) for group in members(list(rewards)))
    assert sp.simplify(total) == 0


@pytest.mark.parametrize("name", ["population", "sample"])
def test_squared_advantages_add_up_to_the_divisor(name):
    """Σ A_i² = G (population std) or G − 1 (Bessel std).  Catches: swapped divisors."""
    rewards = [3, 1, 1, 0, 2]
    total = sp.simplify(sum(RULES[name](g, 0, sp.sqrt) ** 2 for g in members(rewards)))
    assert total == (len(rewards) if name == "population" else len(rewards) - 1)


def test_affine_change_of_rewards():
    """A(a·r + b) = A(r) for the scaled rules, a·A(r) for shift.  Catches: a std not centred on the mean."""
    rewards = [3, 1, 1, 0]
    a, b = Fraction(5, 2), Fraction(-7, 3)
    for before, after in zip(members(rewards), members([a * r + b for r in rewards])):
        assert sp.simplify(population(after, 0, sp.sqrt) - population(before, 0, sp.sqrt)) == 0
        assert sp.simplify(sample(after, 0, sp.sqrt) - sample(before, 0, sp.sqrt)) == 0
        assert shift(after, 0, sp.sqrt) == a * shift(before, 0, sp.sqrt)


def test_one_rule_serves_every_arithmetic():
    """The same rule with mpmath.sqrt and math.sqrt agrees with the exact value."""
    with mpmath.workdps(40):
        group = Group(values=(mpmath.mpf(0), mpmath.mpf(1)), focal_index=1, counts=(3, 0))
        assert abs(population(group, 0, mpmath.sqrt) - mpmath.sqrt(3)) < mpmath.mpf(10) ** -38
    group = Group(values=(0.0, 1.0), focal_index=1, counts=(3, 0))
    assert population(group, 0, math.sqrt) == pytest.approx(math.sqrt(3), rel=1e-15)


def test_rules_cover_the_model_normalisations():
    """Catches: a normalisation the Problem accepts with no rule (or a rule under another name)."""
    assert set(RULES) == set(NORMALISATIONS) | {a.value for a in Advantage} - {"grpo", "passk"}


def test_brute_force_over_groups_matches_a_hand_count():
    """P_G for G = 2, rewards 1/0 with π = (p, 1 − p): A = ±1 when the pair differs (population)."""
    p = sp.Rational(1, 3)
    expected_for_the_good_output = 1 - p  # the other member is bad with probability 1 − p, then A = 1
    total = 0
    for other, weight in ((1, p), (0, 1 - p)):
        group = next(members([1, other]))
        total += weight * population(group, 0, sp.sqrt)
    assert total == expected_for_the_good_output
