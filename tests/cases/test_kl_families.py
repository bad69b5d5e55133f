"""Binary closed forms under the trainers' regularisers (grpo_symbolic.cases.kl_families)."""

import sympy as sp

from grpo_symbolic.cases import binary, kl_families
from grpo_symbolic.model.symbols import beta, gamma, p, rho
from grpo_symbolic.theory.algebra import is_zero


def test_reciprocal_reproduces_the_paper_roots():
    assert any(is_zero(root - binary.policy_g2()) for root in kl_families.closed_form("reciprocal", 2))
    assert any(is_zero(root - binary.policy_large_g()) for root in kl_families.closed_form("reciprocal", "inf"))


def test_linear_closed_form_solves_its_condition():
    (root,) = kl_families.closed_form("linear", 2)
    assert sp.simplify(kl_families.stationarity("linear", 2).subs(p, root)) == 0
    # interior (< 1) exactly when beta > gamma*rho
    assert sp.factor(root - 1) == sp.factor((rho - 1) * (beta - gamma * rho) / beta)


def test_no_closed_form_is_reported_as_none():
    assert kl_families.closed_form("none", 2) is None  # dJ/dp = gamma: no interior root
    assert kl_families.closed_form("exponential", "inf") is None
    assert kl_families.polynomial("exponential", 2) is None  # transcendental (log)


def test_softmax_g2_is_logistic():
    (root,) = kl_families.closed_form("softmax", 2)
    c = sp.Symbol("c", positive=True)
    assert sp.simplify(root - 1 / (1 + sp.exp(-gamma / c))) == 0


def test_unknown_family_is_a_parameter_error():
    import pytest
    from grpo_symbolic.model.errors import ParameterError
    with pytest.raises(ParameterError, match="family: got 'k9'"):
        kl_families.closed_form("k9", 2)
