"""Tests of grpo_symbolic.cases.bistability (direct KL penalty, G → ∞: bistability and triangulation)."""

import mpmath
import pytest
import sympy as sp

from grpo_symbolic.paper import forms as paper_forms
from grpo_symbolic.cases import binary, bistability, direct_kl
from paper_checks import fixtures
from grpo_symbolic.model.errors import ParameterError
from grpo_symbolic.model.problem import Problem
from grpo_symbolic.solve.api import stationary_policies
from grpo_symbolic.model.symbols import beta, p, rho, x

TINY = mpmath.mpf(10) ** -25


def _problem(reference, weight):
    return Problem(reference=[reference, 1 - sp.Rational(reference)], rewards=[1, 0], group_size="inf",
                   beta=weight, penalty="direct")


# --- existence and the threshold ----------------------------------------------------------------


def test_h_minimum_decreases_in_beta():
    slope = bistability.minimum_slope_in_beta()
    assert slope.is_negative
    numeric = sp.lambdify((rho, beta), direct_kl.h_minimum(), "mpmath")
    with mpmath.workdps(30):
        derivative = mpmath.diff(lambda b: numeric(mpmath.mpf("0.3"), b), mpmath.mpf("0.7"))
        assert abs(derivative - sp.N(slope.subs(beta, sp.Rational(7, 10)), 30)) < TINY


def test_critical_beta_increases_with_rho():
    assert binary.on_unit_interval(bistability.critical_beta_slope_in_rho(), rho).is_positive
    values = [bistability.critical_beta(r, dps=20) for r in ("0.000001", "0.01", "0.5", "0.99", "0.999999")]
    assert all(a < b for a, b in zip(values, values[1:]))


def test_critical_beta_at_one_half_is_the_double_root():
    value = bistability.critical_beta("0.5", dps=40)
    x_double, beta_double = bistability.double_root("0.5", dps=40)
    assert mpmath.nstr(value, 4) == "1.509"
    assert abs(value - beta_double) < mpmath.mpf(10) ** -35
    x_star = sp.lambdify((beta,), paper_forms.DIRECT_KL_X_STAR, "mpmath")
    with mpmath.workdps(40):
        assert abs(x_double - x_star(value)) < mpmath.mpf(10) ** -35


@pytest.mark.parametrize("reference", ["0.000001", "0.3", "0.999999"])
def test_two_zeros_appear_at_the_threshold(reference):
    value = bistability.critical_beta(reference, dps=30)
    assert direct_kl.h_zeros(reference, value * mpmath.mpf("0.999"), dps=30) == []
    assert len(direct_kl.h_zeros(reference, value * mpmath.mpf("1.001"), dps=30)) == 2


# --- stability under best response -----------------------------------------------------------------


def test_best_response_slope_is_sinh():
    t = direct_kl.logit_old
    assert sp.expand((bistability.best_response_slope() - sp.sinh(t / 2) / beta).rewrite(sp.exp)) == 0


def test_slopes_at_the_turning_point_and_its_mirror():
    assert bistability.slopes_at_turning_points() == (1, -1)
    assert bistability.mirror_in_odds_root() == 0
    assert bistability.logit_in_odds_root() == 2 * sp.log(direct_kl.odds_root)


def test_h_at_mirror_is_h_at_one_minus_x_star():
    at = {rho: sp.Rational(1, 100), beta: sp.Rational(3, 2)}
    direct = sp.N(direct_kl.h().subs(x, 1 - paper_forms.DIRECT_KL_X_STAR).subs(at), 30)
    assert abs(sp.N(bistability.h_at_mirror().subs(at), 30) - direct) < 1e-25


def test_oscillation_onset_and_window():
    turning, rho_min = bistability.oscillation_onset()
    assert turning == 1
    above, below = sp.N(rho_min, 30) * (1 + sp.Rational(1, 1000)), sp.N(rho_min, 30) * (1 - sp.Rational(1, 1000))
    assert bistability.oscillation_window(sp.Rational(str(above)), dps=30) is None
    low, high = bistability.oscillation_window(sp.Rational(str(below)), dps=30)
    assert low < 1 < high


def test_window_ends_are_where_the_smaller_zero_has_slope_minus_one():
    for end in bistability.oscillation_window("0.001", dps=30):
        smaller = bistability.classify_zeros("0.001", end, dps=30)[0]
        assert abs(smaller.slope + 1) < mpmath.mpf(10) ** -20


@pytest.mark.parametrize("reference, weight, expected", [
    ("0.5", "3", [True, False]), ("0.01", "1", [False, False]), ("0.000001", "200", [True, False]),
])
def test_classification_matches_the_solver(reference, weight, expected):
    zeros = bistability.classify_zeros(reference, weight, dps=30)
    points = stationary_policies(_problem(reference, weight), dps=30)
    assert [z.attracting for z in zeros] == [pt.stable for pt in points] == expected
    assert all(abs(z.policy - pt.policy[0]) < TINY for z, pt in zip(zeros, points))
    assert all(abs(abs(z.slope) - pt.spectral_radius) < 1e-9 * pt.spectral_radius for z, pt in zip(zeros, points))


def test_both_zeros_repel_below_rho_min():
    zeros = bistability.classify_zeros("0.01", "1", dps=30)
    assert zeros[0].slope < -1 and zeros[1].slope > 1


# --- triangulation -------------------------------------------------------------------------------


def test_triangulation_gaps_reduce_to_zero():
    assert sp.expand(fixtures.utility_slope() - 1 / sp.sqrt(p * (1 - p))) == 0
    assert fixtures.regularised_utility_gap() == 0
    assert fixtures.mroueh_gap() == 0


def test_triangulation_gap_would_detect_a_wrong_utility():
    wrong = sp.diff(sp.asin(sp.sqrt(p)), p) - beta * sp.diff(sp.Add(*[a * sp.log(a / b) for a, b in ((p, rho), (1 - p, 1 - rho))]), p)
    assert sp.expand(sp.expand_log(wrong - beta * direct_kl.h().subs(x, p), force=True)) != 0


def test_three_root_sets_agree():
    zeros = direct_kl.h_zeros("0.3", "4", dps=30)
    for roots in (fixtures.mroueh_roots("0.3", "4", dps=30), fixtures.utility_stationary_points("0.3", "4", dps=30)):
        assert len(roots) == 2 and all(abs(a - b) < TINY for a, b in zip(roots, zeros))
    assert fixtures.mroueh_roots("0.5", "1", dps=30) == []


def test_logit_roots():
    roots = bistability.logit_roots(lambda q: (q - mpmath.mpf("0.2")) * (q - mpmath.mpf("0.9")), dps=30)
    assert [mpmath.nstr(v, 10) for v in roots] == ["0.2", "0.9"]
    assert bistability.logit_roots(lambda q: q, dps=30) == []


def test_bad_numbers_are_parameter_errors():
    with pytest.raises(ParameterError, match="reference"):
        bistability.critical_beta("abc")
    with pytest.raises(ParameterError, match="beta"):
        fixtures.mroueh_roots("0.5", "x")
