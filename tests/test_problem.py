"""The model's validation: every bad input raises ParameterError naming the parameter and the fix."""

from fractions import Fraction
import math

import mpmath
import pytest
import sympy as sp

from grpo_symbolic import ParameterError, Problem
from grpo_symbolic.preference.engine import preference_numeric

GOOD = dict(reference=["0.3", "0.7"], rewards=[1, 0], group_size=8, beta="0.5")


@pytest.mark.parametrize("changes,parameter", [
    (dict(beta=0), "beta"), (dict(beta=-1), "beta"), (dict(beta=float("nan")), "beta"),
    (dict(beta=math.inf), "beta"), (dict(beta="nan"), "beta"), (dict(beta="abc"), "beta"),
    (dict(beta=mpmath.mpf("inf")), "beta"), (dict(beta=sp.oo), "beta"), (dict(beta=True), "beta"),
    (dict(group_size=1), "group_size"), (dict(group_size=2.5), "group_size"), (dict(group_size="two"), "group_size"),
    (dict(group_size=0), "group_size"), (dict(group_size=-3), "group_size"),
    (dict(reference=["-0.3", "1.3"]), "reference[0]"), (dict(reference=["0", "1"]), "reference[0]"),
    (dict(reference=["0.3", "0.6"]), "reference"), (dict(reference=[0.3, 0.7]), "reference"),
    (dict(reference=["0.2", "0.3", "0.5"]), "rewards"), (dict(reference=[]), "reference"),
    (dict(reference=["1"], rewards=[1]), "reference"), (dict(reference="0.3,0.7"), "reference"),
    (dict(rewards=[{"0": "0.5", "1": "0.6"}, 0]), "rewards[0]"), (dict(rewards=[{"0": "-0.5", "1": "1.5"}, 0]), "rewards[0]"),
    (dict(rewards=[{}, 0]), "rewards[0]"), (dict(rewards=["x", 0]), "rewards[0]"), (dict(rewards=[math.nan, 0]), "rewards[0]"),
    (dict(normalisation="bessel"), "normalisation"), (dict(penalty="k2"), "penalty"),
    (dict(eps=-1), "eps"), (dict(eps=math.inf), "eps"),
])
def test_bad_input_names_the_parameter(changes, parameter):
    with pytest.raises(ParameterError) as info:
        Problem(**{**GOOD, **changes})
    message = str(info.value)
    assert message.startswith(parameter + ":"), message
    assert len(message.splitlines()) == 1


def test_numbers_are_kept_exact():
    prob = Problem(reference=[Fraction(1, 3), "2/3"], rewards=[{"1": "0.1", "0": "0.9"}, sp.Rational(1, 2)],
                   group_size=math.inf, beta=mpmath.mpf("0.5"), eps="1e-4")
    assert prob.reference == (sp.Rational(1, 3), sp.Rational(2, 3))
    assert prob.beta == sp.Rational(1, 2) and prob.eps == sp.Rational(1, 10000)
    assert prob.group_size is sp.oo
    assert prob.rewards[0].mean == sp.Rational(1, 10)


def test_floats_are_converted_exactly():
    """0.5 is exact in binary; 0.1 becomes the nearest binary fraction, not 1/10."""
    assert Problem(**{**GOOD, "beta": 0.5}).beta == sp.Rational(1, 2)
    assert Problem(**{**GOOD, "beta": 0.1}).beta != sp.Rational(1, 10)


def test_problem_is_immutable_and_hashable():
    prob = Problem(**GOOD)
    with pytest.raises(AttributeError):
        prob.beta = 1
    assert hash(prob) == hash(Problem(**GOOD))


def test_symbolic_entries_are_allowed():
    r = sp.Symbol("rho", positive=True)
    prob = Problem(reference=[r, 1 - r], rewards=[1, 0], group_size=2, beta=sp.Symbol("beta", positive=True))
    assert not prob.is_numeric


@pytest.mark.parametrize("policy,parameter", [
    (["0.5"], "policy"), (["0.5", "0.6"], "policy"), (["-0.5", "1.5"], "policy[0]"), (["nan", "0.5"], "policy[0]"),
])
def test_bad_policy(policy, parameter):
    with pytest.raises(ParameterError) as info:
        preference_numeric(Problem(**GOOD), policy)
    assert str(info.value).startswith(parameter)
