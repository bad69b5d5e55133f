"""KL estimators as losses (grpo_symbolic.theory.estimators)."""

import random

import mpmath
import pytest
import sympy as sp

from grpo_symbolic.theory import estimators
from grpo_symbolic.theory.objective import derive_stationarity
from grpo_symbolic.theory.penalty import direct_penalty, kl0
from grpo_symbolic.model.symbols import beta, lam


@pytest.mark.parametrize("name, target, constant", [
    ("k1", "none", 1), ("k2", "forward", -1), ("k3", "reverse", 1), ("is_k3", "forward", -1),
])
@pytest.mark.parametrize("size", [2, 3, 4])
def test_identification(name, target, constant, size):
    assert estimators.identify(name, size) == target
    assert estimators.offset(name, target, size) == constant
    others = [t for t in estimators.TARGETS if t != target]
    assert all(estimators.offset(name, t, size) is None for t in others)


def test_sampled_losses_match_the_penalty_module():
    s = estimators.generic(3)
    assert sp.expand(estimators.sampled_loss("k3", s.pi, s.pi_ref, s.pi_old) - kl0(s.pi, s.pi_ref, s.pi_old)) == 0
    assert sp.expand(estimators.sampled_loss("is_k3", s.pi, s.pi_ref, s.pi_old)
                     - direct_penalty(s.pi, s.pi_ref, s.pi_old)) == 0


def test_unknown_estimator():
    with pytest.raises(ValueError, match="estimator: got 'k4'"):
        estimators.sampled_loss("k4", (), (), ())


def test_k1_gradient_is_constant_and_its_conditions_have_no_reference():
    assert estimators.expected_gradient("k1", 4) == (1, 1, 1, 1)
    assert estimators.stationarity("k1").policy == (None, None)
    assert estimators.k1_is_unregularised(3)
    s = estimators.generic(2)
    for equation in estimators.stationarity("k1").equations:
        assert not equation.free_symbols & set(s.pi_ref)


def test_k1_claim_can_fail():
    # the k3 conditions do depend on pi_ref, so the same test rejects them
    s = estimators.generic(2)
    assert any(e.free_symbols & set(s.pi_ref) for e in estimators.stationarity("k3").equations)


def test_stationary_forms_match_the_engine():
    grpo, direct = derive_stationarity("grpo").policy, derive_stationarity("direct").policy
    for name, expected in [("k3", grpo), ("k2", direct), ("is_k3", direct)]:
        derived = estimators.stationarity(name).policy
        assert all(sp.simplify(a - b) == 0 for a, b in zip(derived, expected))
    assert estimators.stationarity("k2").policy[0].has(sp.exp)
    assert estimators.stationarity("k3").policy[0] == beta * estimators.generic(2).pi_ref[0] / (
        -derive_stationarity("grpo").preference[0] + beta + lam)


@pytest.mark.parametrize("name", estimators.ESTIMATORS)
def test_expected_gradient_numerically(name):
    rng = random.Random(5)
    s = estimators.generic(3)
    formula = sp.lambdify((*s.pi, *s.pi_ref), estimators.expected_gradient(name, 3), "mpmath")
    loss = sp.lambdify((*s.pi, *s.pi_old, *s.pi_ref), estimators.sampled_loss(name, s.pi, s.pi_ref, s.pi_old), "mpmath")
    with mpmath.workdps(40):
        for _ in range(5):
            pi = [mpmath.mpf(rng.random()) for _ in range(3)]
            ref = [mpmath.mpf(rng.random()) for _ in range(3)]
            values = formula(*pi, *ref)
            for o in range(3):  # differentiate numerically in pi(o), pi_old held at pi
                moved = lambda y: loss(*[y if j == o else v for j, v in enumerate(pi)], *pi, *ref)  # noqa: E731
                numeric = mpmath.diff(moved, pi[o])
                assert abs(numeric - values[o]) < mpmath.mpf(10) ** -30
