"""Certified enclosures (grpo_symbolic.numerics.certify) and the certification checks."""

import mpmath
import pytest
import sympy as sp

flint = pytest.importorskip("flint", reason="python-flint (the 'rigorous' extra) is not installed")

from grpo_symbolic import ParameterError, SolverError  # noqa: E402
from grpo_symbolic.paper import forms as paper  # noqa: E402
from grpo_symbolic.numerics.certify import available, ball_of, certify_root, compile_arb, mpf_of  # noqa: E402
from grpo_symbolic.model.symbols import beta, gamma, p, rho, x  # noqa: E402
from paper_checks.checks_certify import CERTIFICATIONS  # noqa: E402

pytestmark = pytest.mark.rigorous


def test_available():
    assert available() is True


@pytest.mark.parametrize("expr, value", [
    (x**2 - 3 * x + sp.Rational(1, 7), lambda v: v**2 - 3 * v + mpmath.mpf(1) / 7),
    (sp.sqrt(x) / (1 + x), lambda v: mpmath.sqrt(v) / (1 + v)),
    (x ** sp.Rational(-1, 2), lambda v: 1 / mpmath.sqrt(v)),
    (x ** sp.Rational(3, 2) + x**-3, lambda v: v ** mpmath.mpf(1.5) + v**-3),
    (sp.exp(-x) * sp.log(x + 2), lambda v: mpmath.exp(-v) * mpmath.log(v + 2)),
    (sp.pi * x + sp.E, lambda v: mpmath.pi * v + mpmath.e),
    (sp.Float("0.1", 30) * x, lambda v: mpmath.mpf(sp.Float("0.1", 30)._mpf_) * v),
    (x**x, lambda v: v**v),
])
def test_compiled_functions_enclose_the_value(expr, value):
    f = compile_arb(expr, (x,))
    with mpmath.workdps(60), flint.ctx.workprec(220):
        for point in ("0.3", "1.7", "12"):
            v = mpmath.mpf(point)
            ball = f(ball_of(v))
            assert ball.rad() < flint.arb(2) ** -150
            assert ball.contains(ball_of(value(v)).mid()) or abs(mpf_of(ball.mid()) - value(v)) < mpmath.mpf(10) ** -55


def test_integer_power_of_a_ball_around_zero_is_finite():
    square = compile_arb(x**2, (x,))(flint.arb(0, 1))
    assert square.is_finite() and square.contains(flint.arb(0))


@pytest.mark.parametrize("expr, name", [(sp.sin(x), "sin"), (sp.Abs(x - 1), "Abs"), (sp.gamma(x), "gamma")])
def test_unsupported_nodes_are_named(expr, name):
    with pytest.raises(ParameterError, match=name):
        compile_arb(expr, (x,))


def test_unbound_symbols_and_strings_are_rejected():
    with pytest.raises(ParameterError, match="symbol beta has no value"):
        compile_arb(x * beta, (x,))
    with pytest.raises(ParameterError, match="strings are never parsed"):
        compile_arb("x**2", (x,))


def test_certified_digits_measure_the_error_of_the_approximation():
    with mpmath.workdps(60):
        exact_root = mpmath.sqrt(2)
        off = exact_root + mpmath.mpf(10) ** -30
    root = certify_root(x**2 - 2, x, off, dps=50)
    assert 29.5 < root.digits < 30.5
    with mpmath.workdps(60):
        assert abs(root.error_bound * mpmath.mpf(10) ** 30 - 1) < mpmath.mpf(10) ** -20  # tight: |x0 - root|
    assert root.contains(exact_root) is False  # 60 digits are still not the root itself
    with mpmath.workdps(90):
        assert root.contains(mpmath.sqrt(2))


def test_an_exact_dyadic_root_is_contained():
    root = certify_root(4 * x**2 - 1, x, mpmath.mpf(0.5), dps=40)
    assert root.contains(mpmath.mpf(0.5)) and root.error_bound < mpmath.mpf(10) ** -60


def test_double_root_is_not_certified():
    with pytest.raises(SolverError, match="did not contract"):
        certify_root((x - 1) ** 2, x, mpmath.mpf(1), dps=30)


def test_no_root_near_the_approximation():
    with pytest.raises(SolverError):
        certify_root(x**2 - 2, x, mpmath.mpf("1.5"), dps=30)


def test_wrong_printed_form_is_caught():
    # (14) with beta/gamma and gamma/beta swapped is not a root of the quadratic from (17)
    swapped = paper.POLICY_EQ14.subs({beta: gamma, gamma: beta}, simultaneous=True)
    at = {rho: sp.Rational(3, 10), beta: sp.Rational(1, 2), gamma: 1}
    quadratic = sp.numer(sp.together(paper.STATIONARITY_EQ17.lhs - paper.STATIONARITY_EQ17.rhs)).subs(at)
    with mpmath.workdps(60):
        value = mpmath.mpf(sp.N(swapped.subs(at), 60))
    with pytest.raises(SolverError):
        certify_root(quadratic, p, value, dps=50)


@pytest.mark.parametrize("claim_id", sorted(CERTIFICATIONS.functions))
def test_certification_checks_pass(claim_id):
    result = CERTIFICATIONS.run(claim_id, 50)
    assert result.passed, result.details
    assert result.verdict == "certified" and result.digits == 50.0


def test_certifications_are_registered_for_the_planned_claims():
    assert set(CERTIFICATIONS.functions) == {"eq14-binary-g2", "eq15-binary-large-g", "direct-kl-g2-binary",
                                             "direct-kl-large-g-h", "x-general-g-binary"}
