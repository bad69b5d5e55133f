"""The model (grpo_symbolic.model.problem): validation names the parameter and the fix; the fields
hold validated types; derived properties are cached; replace() validates again."""

import dataclasses
from fractions import Fraction
import math
from typing import Any

import mpmath
import numpy as np
import pytest
import sympy as sp

from grpo_symbolic import Normalisation, ParameterError, Penalty, Problem, RewardLaw
from grpo_symbolic.preference.engine import preference_numeric

GOOD: dict[str, Any] = dict(reference=["0.3", "0.7"], rewards=[1, 0], group_size=8, beta="0.5")


@pytest.mark.parametrize("changes,parameter", [
    (dict(beta=-1), "beta"), (dict(beta=float("nan")), "beta"),
    (dict(beta=math.inf), "beta"), (dict(beta="nan"), "beta"), (dict(beta="abc"), "beta"),
    (dict(beta=mpmath.mpf("inf")), "beta"), (dict(beta=sp.oo), "beta"), (dict(beta=True), "beta"),
    (dict(group_size=1), "group_size"), (dict(group_size=2.5), "group_size"), (dict(group_size="two"), "group_size"),
    (dict(group_size=0), "group_size"), (dict(group_size=-3), "group_size"),
    (dict(reference=["-0.3", "1.3"]), "reference[0]"), (dict(reference=["0", "1"]), "reference[0]"),
    (dict(reference=["0.3", "0.6"]), "reference"), (dict(reference=[0.3, 0.6]), "reference"),
    (dict(reference=[0.3, 0.7 + 1e-12]), "reference"), (dict(reference={"0.3", "0.7"}), "reference"),
    (dict(reference={"0.3": 1, "0.7": 1}), "reference"), (dict(reference=np.array([[0.3, 0.7]])), "reference"),
    (dict(rewards={1, 0}), "rewards"), (dict(rewards=[[1], 0]), "rewards[0]"),
    (dict(rewards=[{1: 0.1, 0: 0.8}, 0]), "rewards[0]"), (dict(group_size="²"), "group_size"),
    (dict(group_size=np.float64(2.5)), "group_size"), (dict(beta=sp.Interval(1, 2)), "beta"), (dict(beta=sp.true), "beta"),
    (dict(beta=sp.Tuple(1)), "beta"), (dict(normalisation=np.array(["population"])), "normalisation"),
    (dict(normalisation=["population"]), "normalisation"), (dict(beta=np.float64("nan")), "beta"),
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


def test_float_and_numpy_probabilities_are_renormalised_exactly():
    """Issue 14: a softmax's floats sum to 1 within rounding; they are read exactly and divided out."""
    prob = Problem(reference=np.array([0.3, 0.7]), rewards=[1.0, 0.0], group_size=8, beta=0.5)
    given = sp.Rational(0.3) + sp.Rational(0.7)  # the exact binary fractions: 1 - 2**-54
    assert sum(prob.reference) == 1 and prob.reference_correction == given - 1 == -sp.Rational(1, 2**54)
    assert prob.reference[0] == sp.Rational(0.3) / given
    assert prob.replace(beta=1).reference_correction == prob.reference_correction
    assert Problem(**GOOD).reference_correction == 0
    logits = np.array([0.1, -2.0, 3.5, 0.0])
    softmax = np.exp(logits) / np.exp(logits).sum()
    assert sum(Problem(reference=softmax, rewards=[1, 0, 2, 1], group_size=4, beta=0.5).reference) == 1
    law = Problem(**{**GOOD, "rewards": [{np.float64(1): np.float64(0.1), 0: 0.9}, 0]}).rewards[0]
    assert law.probability(sp.Integer(1)) == sp.Rational(0.1) / (sp.Rational(0.1) + sp.Rational(0.9))
    assert law.correction == sp.Rational(0.1) + sp.Rational(0.9) - 1 != 0


def test_numpy_scalars_are_numbers():
    prob = Problem(reference=["0.3", "0.7"], rewards=[np.int64(1), np.float64(0)], group_size=np.int64(8),
                   beta=np.float64(0.5), eps=np.float32(0.25))
    assert prob.group_size == 8 and type(prob.group_size) is int
    assert prob.beta == sp.Rational(1, 2) and prob.eps == sp.Rational(1, 4)
    assert Problem(**{**GOOD, "group_size": float(2**53)}).group_size == 2**53
    for huge in (1e300, 10**400, 2**53 + 1):
        with pytest.raises(ParameterError, match="^group_size: .*at most 2\\*\\*53"):
            Problem(**{**GOOD, "group_size": huge})
    assert Problem(**{**GOOD, "group_size": "16"}).group_size == 16


def test_problem_is_immutable_and_hashable():
    prob = Problem(**GOOD)
    with pytest.raises(AttributeError):
        prob.beta = 1  # type: ignore[misc]
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


def test_fields_hold_the_validated_types():
    prob = Problem(reference=["0.3", "0.7"], rewards=[1, {"0": "0.5", "2": "0.5"}], group_size="8", beta="0.5",
                   normalisation="sample", penalty="direct", eps="1e-4")
    assert all(isinstance(v, sp.Rational) for v in prob.reference)
    assert all(isinstance(law, RewardLaw) for law in prob.rewards)
    assert type(prob.group_size) is int and prob.group_size == 8
    assert prob.normalisation is Normalisation.SAMPLE and prob.penalty is Penalty.DIRECT
    assert prob.normalisation == "sample" and prob.penalty == "direct"  # plain strings still compare equal
    assert prob == Problem(reference=prob.reference, rewards=prob.rewards, group_size=8, beta=prob.beta,
                           normalisation=Normalisation.SAMPLE, penalty=Penalty.DIRECT, eps=prob.eps)


def test_replace_is_dataclasses_replace_and_validates_again():
    prob = Problem(**GOOD)
    assert prob.replace(group_size="inf") == dataclasses.replace(prob, group_size=sp.oo)
    assert prob.replace(normalisation="shift").normalisation is Normalisation.SHIFT
    assert prob.replace() == prob
    with pytest.raises(ParameterError, match="^beta:"):
        prob.replace(beta=-1)
    with pytest.raises(ParameterError, match="^penalty:"):
        prob.replace(penalty="k3")


def test_derived_properties_are_cached():
    prob = Problem(reference=["0.2", "0.3", "0.5"], rewards=[{"0": "0.5", "1": "0.5"}, 2, 1], group_size=4, beta=1)
    for name in ("reward_values", "law_matrix", "is_numeric"):
        assert getattr(prob, name) is getattr(prob, name), name
    assert prob.reward_values == (0, 1, 2)
    half = sp.Rational(1, 2)
    assert prob.law_matrix == ((half, half, 0), (0, 0, 1), (0, 1, 0))
    assert prob.is_numeric
    assert hash(prob) == hash(prob.replace())  # the cache takes no part in equality or hashing


def test_law_matrix_rows_match_each_law():
    laws = [{"0": "0.1", "1": "0.9"}, {"1": "0.25", "3": "0.75"}, 3, {"-1": "0.5", "0": "0.5"}]
    prob = Problem(reference=["0.25"] * 4, rewards=laws, group_size=3, beta=1)
    for law, row in zip(prob.rewards, prob.law_matrix):
        assert row == tuple(law.probability(v) for v in prob.reward_values)
        assert sum(row) == 1


def test_hand_built_reward_law_is_validated_again():
    with pytest.raises(ParameterError, match="^rewards\\[0\\]"):
        Problem(**{**GOOD, "rewards": [RewardLaw(((1, sp.Rational(1, 2)),)), 0]})
    with pytest.raises(ParameterError, match="^rewards\\[0\\] value"):
        Problem(**{**GOOD, "rewards": [RewardLaw((("__import__('os')", 1),)), 0]})
    law = RewardLaw.of({"0": "0.2", "1": "0.8"}, "law")
    assert Problem(**{**GOOD, "rewards": [law, 0]}).rewards[0] == law


def test_preference_is_not_a_problem_method():
    """P_G lives in the preference layer (gs.preference_numeric); the model does not import it."""
    assert not hasattr(Problem, "preference")


@pytest.mark.parametrize("settings", [dict(kl_placement="reward-post"), dict(kl_clamp=10), dict(entropy="0.1")])
def test_a_group_filter_needs_the_unclamped_kl_in_the_loss(settings):
    with pytest.raises(ParameterError, match="^group_filter: drop-equal is derived for the KL in the loss"):
        Problem(["0.5", "0.5"], [1, 0], 4, 1, group_filter="drop-equal", **settings)
    assert Problem(["0.5", "0.5"], [1, 0], 4, 1, **settings).group_filter == "keep"
