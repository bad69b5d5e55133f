"""Binary questions at every G: the expansion, the rate coefficient and the floors."""

import mpmath
import pytest
import sympy as sp

from grpo_symbolic.paper import forms as paper
from grpo_symbolic.cases import general_g
from grpo_symbolic.preference.engine import preference_numeric
from grpo_symbolic.model.symbols import beta, p, rho


def test_expansion_matches_the_exact_sum_at_rate_one_over_g():
    a0, a1 = general_g.large_group_expansion()
    at = {p: sp.Rational(3, 10)}
    errors = []
    with mpmath.workdps(30):
        for size in (501, 1001, 2001):
            exact = preference_numeric(general_g.binary_problem(size), ("0.3", "0.7"), dps=30)[0]
            first_order = mpmath.mpf(sp.N(a0.subs(at) + a1.subs(at) / (size - 1), 40))
            errors.append(abs(exact - first_order))
    assert errors[0] / errors[1] > 3.5 and errors[1] / errors[2] > 3.5  # O(1/G^2) remainder


def test_expansion_is_wrong_without_the_correction():
    """Dropping A1 leaves an O(1/G) error: the check of A1 can fail."""
    a0, _ = general_g.large_group_expansion()
    with mpmath.workdps(30):
        exact = preference_numeric(general_g.binary_problem(1001), ("0.3", "0.7"), dps=30)[0]
        assert abs(exact - mpmath.mpf(sp.N(a0.subs(p, sp.Rational(3, 10)), 40))) > 1e-4


def test_rate_coefficient_matches_notes_example():
    """notes.md: rho = 0.3, beta = 2 gives pi_1024 - pi_inf of about -1.2e-4."""
    limit = paper.POLICY_EQ15.subs({beta: 2, rho: sp.Rational(3, 10)})
    c = general_g.rate_coefficient().subs({beta: 2, rho: sp.Rational(3, 10), p: limit})
    assert -1.25e-4 < float(c) / 1024 < -1.15e-4
    with mpmath.workdps(40):
        guess = mpmath.mpf(sp.N(limit + c / 1024, 40))
        value = general_g.stationary_near(1024, 2, "0.3", guess, dps=30)
        assert -1.25e-4 < float(value - mpmath.mpf(sp.N(limit, 40))) < -1.15e-4


@pytest.mark.parametrize("weight,size,printed", [("0.04", 8, "0.9846"), ("0.5", 64, "0.7960"), ("0.5", 2, "0.5000")])
def test_floor_table(weight, size, printed):
    assert abs(general_g.floor(weight, size, dps=30) - mpmath.mpf(printed)) < 5e-5


def test_floor_is_zero_when_beta_exceeds_sqrt_g_minus_1():
    assert general_g.floor(3, 4, dps=20) == 0
