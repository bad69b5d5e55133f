"""grpo_symbolic.theory.penalty: the k1/k2/k3 estimators, KL0, the direct penalty and their gradients.

Each test names the mutation of the module it catches.
"""

import pytest
import sympy as sp

from grpo_symbolic.model.symbols import p, p_old, rho
from grpo_symbolic.theory.penalty import (
    direct_penalty, expected_penalty, gradient, k1, k2, k3, kl, kl0,
)

PI, REF = (p, 1 - p), (rho, 1 - rho)
R = sp.Rational


def on_simplex_zero(expr):
    return sp.simplify(sp.expand_log(expr, force=True)) == 0


def test_estimators_at_one_point():
    """Catches: a flipped ratio or sign in k1, k2 or k3 (values at π = 1/2, π_ref = 1/4 exactly)."""
    assert k1(R(1, 2), R(1, 4)) == sp.log(2)
    assert k2(R(1, 2), R(1, 4)) == sp.log(2) ** 2 / 2
    assert sp.simplify(k3(R(1, 2), R(1, 4)) - (R(1, 2) + sp.log(2) - 1)) == 0


def test_k3_is_zero_at_the_reference_and_positive_elsewhere():
    """Catches: the −1 dropped or the log's sign flipped (k3 would not vanish or would go negative)."""
    assert k3(rho, rho) == 0
    assert all(k3(R(n, 10), R(3, 10)).evalf() > 0 for n in (1, 2, 4, 9))


def test_kl0_on_policy_is_the_kl():
    """E_{o~π}[k3] = KL(π‖π_ref): the penalty is unbiased on policy.  Catches: a wrong k3 or weight."""
    assert on_simplex_zero(kl0(PI, REF, PI) - kl(PI, REF))


def test_direct_penalty_is_the_kl_for_any_sampling_policy():
    """Importance weighting makes the π_old drop out.  Catches: the weight π/π_old dropped or inverted."""
    q = sp.Symbol("q", positive=True)
    assert on_simplex_zero(direct_penalty(PI, REF, (q, 1 - q)) - kl(PI, REF))
    assert not on_simplex_zero(kl0(PI, REF, (q, 1 - q)) - kl(PI, REF))


def test_k1_and_k2_expectations():
    """E_π[k1] = KL(π‖π_ref); E_π[k2] is not (it is ≥ 0 and differs).  Catches: k1/k2 swapped."""
    assert on_simplex_zero(sum(x * k1(x, r) for x, r in zip(PI, REF)) - kl(PI, REF))
    at = {p: R(1, 2), rho: R(1, 4)}
    assert sum(x * k2(x, r) for x, r in zip(PI, REF)).subs(at) != kl(PI, REF).subs(at)


def test_kl_is_zero_only_at_equality_and_not_symmetric():
    assert kl(PI, PI) == 0
    a, b = (R(1, 4), R(3, 4)), (R(1, 2), R(1, 2))
    assert sp.N(kl(a, b)) > 0 and sp.N(kl(a, b) - kl(b, a)) != 0


def test_gradient_of_kl0_on_policy():
    """∂/∂π KL0 at π_old = π is 1 − π_ref/π per output (the paper's (8)).  Catches: differentiating π_old too."""
    grad = gradient(p_old * k3(p, rho), (p,))[0]
    assert sp.simplify(grad.subs(p_old, p) - (1 - rho / p)) == 0
    assert gradient(p * p_old, (p, p_old)) == (p_old, p)


@pytest.mark.parametrize("kind, function", [("grpo", kl0), ("direct", direct_penalty)])
def test_expected_penalty_dispatches(kind, function):
    """Catches: the two penalties swapped in the dispatch table."""
    q = (sp.Symbol("q", positive=True), 1 - sp.Symbol("q", positive=True))
    assert expected_penalty(kind, PI, REF, q) == function(PI, REF, q)
