"""The input gate (grpo_symbolic.model.inputs): policies, digits, counts, step sizes, float arrays."""

from fractions import Fraction
import math

import mpmath
import numpy as np
import pytest
import sympy as sp

from grpo_symbolic.model import inputs
from grpo_symbolic.model.errors import ParameterError
from grpo_symbolic.model.numbers import exact


def test_exact_policies_are_read_exactly():
    assert inputs.policy(["0.3", Fraction(7, 10)], 2) == (sp.Rational(3, 10), sp.Rational(7, 10))
    assert inputs.policy([0.25, 0.75], 2) == (sp.Rational(1, 4), sp.Rational(3, 4))


def test_symbolic_policies_are_formal():
    p, q = sp.symbols("p q", positive=True)
    assert inputs.policy((p, 1 - p), 2) == (p, 1 - p)
    assert inputs.policy((p, q), 2) == (p, q)  # free π: the caller imposes the simplex
    with pytest.raises(ParameterError, match=r"^policy\[0\]"):
        inputs.policy((-p, 1 + p), 2)


@pytest.mark.parametrize("policy,match", [
    (["0.9", "0.9"], "sum to 9/5"), (["5", "7"], "sum to 12"), ([0.3, 0.6], "sum to 0.899999"),
    ([0.5, 0.5 + 2**-40], "sum to 1.0000000000009"), ({"0.3", "0.7"}, "a set"), (np.array([[0.3, 0.7]]), "shape"), (["-0.5", "1.5"], r"\[0\]"),
    ([math.nan, 1], r"\[0\]"), ([math.inf, 0], r"\[0\]"), (["0.3"], "1 probabilities for 2"), ("0.3", "list or tuple"),
    ({"a": 1}, "list or tuple"), (["1", True], r"\[1\]"), (['__import__("os")', "1"], r"\[0\]: cannot read"),
    ([sp.Eq(sp.Symbol("x"), 1), 1], r"\[0\]"), ([mpmath.mpf("nan"), 1], r"\[0\]"), ([mpmath.mpf(-1), 2], r"\[0\]"),
])
def test_bad_policies_name_the_entry(policy, match):
    with pytest.raises(ParameterError, match=f"^policy.*{match}"):
        inputs.policy(policy, 2)


def test_float_policies_within_rounding_are_renormalised_exactly():
    logits = np.array([1.0, -0.5, 2.25])
    softmax = np.exp(logits) / np.exp(logits).sum()
    checked = inputs.policy(softmax, 3)
    assert sum(checked) == 1 and all(isinstance(v, sp.Rational) for v in checked)
    assert inputs.policy([0.3, 0.7], 2) == (sp.Rational(0.3) / (1 - sp.Rational(1, 2**54)), sp.Rational(0.7) / (1 - sp.Rational(1, 2**54)))
    assert inputs.policy((x for x in ["0.5", "0.5"]), 2) == (sp.Rational(1, 2),) * 2  # an iterator is ordered


def test_float_slack_is_what_rounding_can_do():
    """K floats that sum to 1 before rounding miss by at most ~(K + 3) units of 2**-53; one more unit per
    entry than the slack allows is refused."""
    assert inputs.float_slack(2) == sp.Rational(16, 2**53)
    worst = max(abs(sum(sp.Rational(float(v)) for v in np.random.default_rng(seed).dirichlet(np.ones(50))) - 1)
                for seed in range(200))
    assert worst <= inputs.float_slack(50) / 4
    exact_half = sp.Rational(1, 2)
    with pytest.raises(ParameterError, match="sum to"):
        inputs.normalised((exact_half, exact_half + inputs.float_slack(2) * 2), (0.5, 0.5), "policy")


def test_mpf_policies_may_miss_one_by_the_digits_asked():
    with mpmath.workdps(30):
        third = (mpmath.mpf(1) / 3, mpmath.mpf(2) / 3)
    assert inputs.policy(third, 2, dps=30) == third
    with pytest.raises(ParameterError, match="away from 1"):
        inputs.policy(third, 2, dps=40)
    with pytest.raises(ParameterError, match="mixes symbols"):
        inputs.policy((mpmath.mpf("0.5"), sp.Symbol("p")), 2, dps=10)


@pytest.mark.parametrize("value", [1, -3, 0, 4, 2.5, "30", True, None, inputs.MAX_DPS + 1])
def test_digits(value):
    with pytest.raises(ParameterError, match="^dps:"):
        inputs.dps(value)
    assert inputs.dps(np.int64(20)) == 20


@pytest.mark.parametrize("value", [0, -1, 1.0, "3", True, None])
def test_counts(value):
    with pytest.raises(ParameterError, match="^iterations:"):
        inputs.count(value, "iterations")
    assert inputs.count(0, "seed", 0) == 0


@pytest.mark.parametrize("value", [0, -0.1, math.nan, math.inf, "0.5", True, None])
def test_steps(value):
    with pytest.raises(ParameterError, match="^lr:"):
        inputs.step(value, "lr", "give a learning rate > 0")
    assert inputs.step(math.inf, "clip", "", allow_inf=True) == math.inf


@pytest.mark.parametrize("value", ["0.5", ["0.5"], [True], [Fraction(1, 2)], b"1"])
def test_float_arrays_read_no_strings(value):
    with pytest.raises(ParameterError, match="^beta:"):
        inputs.float_array(value, "beta")
    assert inputs.float_array(np.array([1, 2]), "beta").dtype == float


@pytest.mark.parametrize("text", ["1e999999999", "1e1000001", "9" * 1001, "1e+0000000000000000100001"])
def test_number_strings_have_cost_limits(text):
    with pytest.raises(ParameterError, match="too long or its exponent too large"):
        exact(text, "x")
    assert exact("1e-300", "x") == sp.Rational(1, 10**300)
