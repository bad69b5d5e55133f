"""Properties of P_G and of the solver on random small Problems (hypothesis; see tests/strategies.py).

* P_G three ways: the exact SymPy sum, the numeric tables at 50 digits, and a brute force over
  every group written here from the definition A_1 = (r_1 − mean)/(std + eps), 0/0 = 0.
* Zero mean Σ_o π(o) P_G(o|π) = 0 for every normalisation: the G advantages of a group sum to 0
  (their denominator is shared by the group), and by symmetry P_G(·|π) averaged over π is 1/G
  of that sum.
* r ↦ a·r + b (a > 0): P_G is unchanged for the scaled normalisations when eps = 0, is scaled by
  a for "shift", and is unchanged by b alone for every normalisation and eps.
* Relabelling the outputs relabels P_G.
* The solver's points sum to 1 and solve π(o) = π_ref(o)/(1 − (P_G(o|π) − E_π P_G)/β).
"""

from __future__ import annotations

from fractions import Fraction
import itertools
import math
from typing import Any

from hypothesis import given, settings, strategies as st
import mpmath
import sympy as sp

from grpo_symbolic import Problem, preference_exact, preference_numeric, stationary_policies
from tests.strategies import fractions, problems, problems_with_policy

DPS = 50
FEW = settings(max_examples=15, deadline=None)


def brute_force(problem: Problem, policy: tuple[Fraction, ...]) -> list[mpmath.mpf]:
    """P_G(o|π) summed over every ordered group: member 1 is output o, each other member draws an
    output from π and a reward from that output's law, i.e. a reward v with probability m(v)."""
    mixture: dict[Fraction, Fraction] = {}
    for q, law in zip(policy, problem.rewards):
        for v, p in law.outcomes:
            mixture[Fraction(str(v))] = mixture.get(Fraction(str(v)), Fraction(0)) + q * Fraction(str(p))
    eps = _mpf(Fraction(str(problem.eps)))
    result = []
    with mpmath.workdps(DPS + 20):
        for law in problem.rewards:
            total = mpmath.mpf(0)
            for v, p in law.outcomes:
                for others in itertools.product(mixture.items(), repeat=int(str(problem.group_size)) - 1):
                    weight = Fraction(str(p)) * math.prod(q for _, q in others)
                    if weight:
                        rewards = [Fraction(str(v))] + [r for r, _ in others]
                        total += _mpf(weight) * advantage(rewards, problem.normalisation, eps)
            result.append(total)
    return result


def _mpf(x: Fraction) -> mpmath.mpf:
    return mpmath.mpf(x.numerator) / x.denominator


def advantage(rewards: list[Fraction], normalisation: str, eps: mpmath.mpf) -> mpmath.mpf:
    """A_1 of the group ``rewards`` from the definition; all-equal groups give 0."""
    mean = Fraction(sum(rewards, Fraction(0)), len(rewards))
    centred = rewards[0] - mean
    if normalisation == "shift":
        return _mpf(centred)
    if len(set(rewards)) == 1:
        return mpmath.mpf(0)
    squares = sum(((r - mean) ** 2 for r in rewards), Fraction(0))
    divisor = len(rewards) if normalisation == "population" else len(rewards) - 1
    return _mpf(centred) / (mpmath.sqrt(_mpf(squares / divisor)) + eps)


def close(xs: Any, ys: Any, digits: int = DPS - 5) -> bool:
    tolerance = mpmath.mpf(10) ** -digits
    return len(xs) == len(ys) and all(abs(mpmath.mpf(x) - mpmath.mpf(y)) <= tolerance for x, y in zip(xs, ys))


def exact_values(problem: Problem, policy: tuple[Fraction, ...]) -> list[mpmath.mpf]:
    with mpmath.workdps(DPS + 10):
        return [mpmath.mpf(sp.N(e, DPS + 10)) for e in preference_exact(problem, policy)]


@FEW
@given(problems_with_policy())
def test_exact_sum_equals_numeric_tables_and_brute_force(case):
    problem, policy = case
    numeric = preference_numeric(problem, policy, dps=DPS)
    with mpmath.workdps(DPS + 10):
        assert close(exact_values(problem, policy), numeric)
        assert close(brute_force(problem, policy), numeric)


@FEW
@given(problems_with_policy())
def test_zero_mean_under_the_policy(case):
    problem, policy = case
    with mpmath.workdps(DPS + 10):
        values = preference_numeric(problem, policy, dps=DPS)
        assert abs(mpmath.fsum(_mpf(q) * v for q, v in zip(policy, values))) <= mpmath.mpf(10) ** (5 - DPS)


def test_zero_mean_holds_exactly():
    """The exact sum simplifies to 0 (here with a symbolic policy, so for every π)."""
    prob = Problem(reference=("1/4", "1/4", "1/2"), rewards=({0: "1/2", 2: "1/2"}, 1, 0), group_size=4,
                   beta=1, normalisation="sample")
    p, q = sp.symbols("p q", positive=True)
    policy = (p, q, 1 - p - q)
    assert sp.simplify(sum(x * P for x, P in zip(policy, preference_exact(prob, policy)))) == 0


def _affine(problem: Problem, a: Fraction, b: Fraction) -> Problem:
    laws = [{a * Fraction(str(v)) + b: p for v, p in law.outcomes} for law in problem.rewards]
    return problem.replace(rewards=laws)


@FEW
@given(problems_with_policy(eps=False, normalisations=("population", "sample")),
       fractions(Fraction(1, 4), Fraction(4)), fractions(Fraction(-2), Fraction(2)))
def test_scaled_normalisations_are_affine_invariant(case, a, b):
    problem, policy = case
    assert close(preference_numeric(_affine(problem, a, b), policy, DPS), preference_numeric(problem, policy, DPS))


@FEW
@given(problems_with_policy(), fractions(Fraction(1, 4), Fraction(4)), fractions(Fraction(-2), Fraction(2)))
def test_shift_invariance_and_shift_scales_with_a(case, a, b):
    problem, policy = case
    base = preference_numeric(problem, policy, DPS)
    assert close(preference_numeric(_affine(problem, Fraction(1), b), policy, DPS), base)
    if problem.normalisation == "shift":
        with mpmath.workdps(DPS + 10):
            assert close(preference_numeric(_affine(problem, a, b), policy, DPS), [_mpf(a) * v for v in base])


@FEW
@given(problems_with_policy(), st.randoms(use_true_random=False))
def test_relabelling_outputs_relabels_the_preference(case, random):
    problem, policy = case
    order = list(range(problem.size))
    random.shuffle(order)
    relabelled = problem.replace(reference=[problem.reference[i] for i in order],
                                 rewards=[problem.rewards[i] for i in order])
    base = preference_numeric(problem, policy, DPS)
    assert close(preference_numeric(relabelled, [policy[i] for i in order], DPS), [base[i] for i in order])


@settings(max_examples=8, deadline=None)
@given(problems(sizes=(2, 3), group_sizes=(2, 4)))
def test_solver_points_sum_to_one_and_are_stationary(problem):
    dps = 30
    points = stationary_policies(problem, dps=dps, stability=False)
    assert points
    tolerance = mpmath.mpf(10) ** (5 - dps)
    for point in points:
        with mpmath.workdps(dps + 10):
            pi = point.policy
            assert abs(mpmath.fsum(pi) - 1) <= tolerance
            preference = preference_numeric(problem, pi, dps)
            mean = mpmath.fsum(x * P for x, P in zip(pi, preference))
            beta = _mpf(Fraction(str(problem.beta)))
            fixed_point = [_mpf(Fraction(str(r))) / (1 - (P - mean) / beta)
                           for r, P in zip(problem.reference, preference)]
            assert max(abs(x - y) for x, y in zip(pi, fixed_point)) <= tolerance, (problem, pi)
