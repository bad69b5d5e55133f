"""The root-finding core: both arithmetics, caps, brackets."""

import math

import numpy as np
import pytest

from grpo_symbolic.model.errors import SolverError
from grpo_symbolic.numerics.precision import mpx, working_precision
from grpo_symbolic.numerics.roots import (FLOAT64, MPMATH, _nearer, array_newton, bracketed_newton, middle, newton,
                                          scan_brackets, widen_bracket)


@pytest.mark.parametrize("with_slope", [True, False])
def test_bracketed_newton_reaches_the_working_precision(with_slope):
    with working_precision(60, guard=0):
        slope = (lambda x: mpx.exp(x)) if with_slope else None
        root = bracketed_newton(lambda x: mpx.exp(x) - 3, 0, 5, slope=slope)
        assert abs(root - mpx.log(3)) < mpx.mpf(10) ** -58


def test_bracketed_newton_float_and_mpf_agree():
    f = lambda x: x**3 - 2 * x - 5  # noqa: E731
    as_float = bracketed_newton(f, 2.0, 3.0, arithmetic=FLOAT64)
    with working_precision(30, guard=0):
        as_mpf = bracketed_newton(f, 2, 3, arithmetic=MPMATH)
    assert math.isclose(as_float, float(as_mpf), rel_tol=1e-14)


def test_bracketed_newton_positive_bracket_spanning_decades():
    root = bracketed_newton(lambda u: 1e-30 / u - 1e-10, 1e-40, 1.0, increasing=False, arithmetic=FLOAT64)
    assert math.isclose(root, 1e-20, rel_tol=1e-12)


def test_bracketed_newton_stops_when_the_step_is_below_the_last_digit():
    # the first iterate (the bracket's geometric middle) is the root to within an ulp: the Newton
    # step rounds away, and the bracket must not then be bisected down to the arithmetic's width
    with working_precision(50, guard=0):
        d, calls = mpx.mpf(10) / 7, []

        def f(x):
            calls.append(x)
            return x / d - 1 + mpx.mpf(10) ** -52

        root = bracketed_newton(f, d / 2, 2 * d)
        assert len(calls) <= 4 and abs(root / d - 1) < mpx.mpf(10) ** -50


def test_bracketed_newton_root_at_an_end_to_the_working_precision():
    # β·ρ/u + tiny = 1 on (βρ, β): the root is βρ·(1 + 1e-300), the bracket's end to every digit; a
    # converged Newton step overshoots past that end and must land on it, not stop one step short
    # (the multiplier at β = 1e-300, issue 17.4: Σ π − 1 was left at 5e-26)
    with working_precision(30):
        low = mpx.mpf("3e-301")
        root = bracketed_newton(lambda u: low / u + mpx.mpf(10) ** -300 - 1, low, 10 * low,
                                slope=lambda u: -low / u**2, start=low * (1 + mpx.mpf(2) ** -50), increasing=False)
        assert abs(root / low - 1) < mpx.mpf(10) ** -40


def test_a_step_past_an_end_keeps_x_at_a_pole():
    # the end is taken only where f is finite and smaller there: a pole (mpf division by zero,
    # float inf) leaves x
    with working_precision(30):
        x = mpx.mpf(10) ** -40
        assert _nearer(lambda u: 1 / u - 1, x, mpx.mpf(5), mpx.mpf(0), MPMATH) == x
        assert _nearer(lambda u: u - x, 2 * x, x, x, MPMATH) == x
    with np.errstate(divide="ignore"):
        assert _nearer(lambda u: np.float64(1) / np.float64(u), 1e-300, 2.0, 0.0, FLOAT64) == 1e-300


def test_bracketed_newton_without_sign_change_says_so():
    with pytest.raises(SolverError) as info:
        bracketed_newton(lambda x: x * x + 1, -1.0, 1.0, arithmetic=FLOAT64, what="test root")
    assert info.value.reason == SolverError.NO_INTERIOR_POINT and "test root" in str(info.value)


def test_bracketed_newton_cap_raises_not_converged():
    with pytest.raises(SolverError) as info:
        with working_precision(50, guard=0):
            bracketed_newton(lambda x: mpx.exp(x) - 2, 0, 1, maxsteps=2, what="the third")
    assert info.value.reason == SolverError.NOT_CONVERGED and "the third" in str(info.value)


def test_newton_system_and_failure():
    with working_precision(40, guard=0):
        x, y = newton(lambda v: [v[0] ** 2 + v[1] ** 2 - 2, v[0] - v[1]], [2, mpx.mpf("0.5")])
        assert abs(x - 1) < mpx.mpf(10) ** -35 and abs(y - 1) < mpx.mpf(10) ** -35
    with pytest.raises(SolverError) as info:
        newton(lambda v: [v[0] ** 2 + 1], [0.5], arithmetic=FLOAT64, what="no real root")
    assert info.value.reason == SolverError.NOT_CONVERGED and "no real root" in str(info.value)


def test_newton_uses_the_given_jacobian():
    calls = []

    def jacobian(v):
        calls.append(v)
        return [[2 * v[0], 2 * v[1]], [1, -1]]

    with working_precision(40, guard=0):
        x, y = newton(lambda v: [v[0] ** 2 + v[1] ** 2 - 2, v[0] - v[1]], [2, mpx.mpf("0.5")], jacobian=jacobian)
        assert calls and abs(x - 1) < mpx.mpf(10) ** -38 and abs(y - 1) < mpx.mpf(10) ** -38
    with pytest.raises(SolverError) as info:  # a wrong Jacobian: no step reduces the residual
        newton(lambda v: [v[0] ** 2 - 2], [1.0], jacobian=lambda v: [[-2 * v[0]]], arithmetic=FLOAT64, what="wrong slope")
    assert info.value.reason == SolverError.NOT_CONVERGED and "wrong slope" in str(info.value)


def test_scan_brackets_zero_on_grid_and_nan():
    assert scan_brackets(lambda x: x, [-1.0, 0.0, 1.0]) == [(-1.0, 0.0), (0.0, 1.0)]
    assert scan_brackets(lambda x: math.nan if x == 0 else x, [-1.0, 0.0, 1.0]) == []


def test_widen_bracket_is_capped():
    assert widen_bracket(lambda x: x > -5, 0.0, -1.0) == (-4.0, -8.0)
    with pytest.raises(SolverError) as info:
        widen_bracket(lambda x: True, 0.0, 1.0, maxsteps=10, what="endless")
    assert info.value.reason == SolverError.NOT_CONVERGED and "endless" in str(info.value)


def test_middle_is_geometric_on_positive_brackets():
    assert middle(1e-300, 1e300, FLOAT64) == pytest.approx(1.0)
    with working_precision(20, guard=0):
        assert middle(mpx.mpf(-2), mpx.mpf(4)) == 1


# --- array Newton ------------------------------------------------------------------------------

def cube_roots(x, c):
    return x**3 - c, 3 * x * x


def test_array_newton_solves_every_entry_and_keeps_the_shape():
    c = np.array([[1.0, 8.0], [27.0, 1e-9]])
    roots = array_newton(cube_roots, np.full(c.shape, 5.0), args=(c,))
    assert roots.shape == (2, 2)
    assert np.allclose(roots, np.cbrt(c), rtol=1e-14, atol=0)


def test_array_newton_clips_to_the_bounds():
    """x² − 4 from 10 with the lower bound 3: the iterate is held at 3 and never converges."""
    roots, converged = array_newton(lambda x: (x * x - 4, 2 * x), [10.0, 10.0], lower=[3.0, 0.0], maxsteps=30,
                                    flags=True)
    assert roots[0] == 3.0 and not converged[0]
    assert converged[1] and math.isclose(roots[1], 2.0, rel_tol=1e-15)


def test_array_newton_at_the_cap_names_the_entries():
    with pytest.raises(SolverError) as info:
        array_newton(lambda x: (x * x + 1, 2 * x), [1.0, 2.0, 3.0], args=(), maxsteps=20, what="test roots")
    message = str(info.value)
    assert info.value.reason == SolverError.NOT_CONVERGED
    assert "test roots" in message and "20 steps" in message and "3 entries" in message


def test_array_newton_nan_is_never_converged():
    c = np.array([2.0, np.nan])
    with pytest.raises(SolverError, match="1 entries: 1 "):
        array_newton(cube_roots, [1.0, 1.0], args=(c,))
    roots, converged = array_newton(cube_roots, [1.0, 1.0], args=(c,), flags=True)
    assert converged.tolist() == [True, False] and math.isclose(roots[0], 2 ** (1 / 3), rel_tol=1e-15)


def test_array_newton_stops_at_the_noise_of_a_double_root():
    """(x − 1)² from 2: linear convergence down to the rounding noise, then accepted (not a cap)."""
    roots = array_newton(lambda x: ((x - 1) ** 2, 2 * (x - 1)), [2.0, 3.0])
    assert np.all(np.abs(roots - 1) < 1e-7)


def test_array_newton_agrees_with_bracketed_newton():
    c = np.linspace(0.5, 30, 7)
    roots = array_newton(cube_roots, np.full(c.shape, 4.0), args=(c,))
    for value, root in zip(c, roots):
        assert math.isclose(root, bracketed_newton(lambda x: x**3 - value, 0.0, 4.0, arithmetic=FLOAT64),
                            rel_tol=1e-13)


def _system(v):
    """x² + y² + z = 3, x − y = 0, exp(z − 1) = x (root (1, 1, 1))."""
    return [v[0] ** 2 + v[1] ** 2 + v[2] - 3, v[0] - v[1], mpx.exp(v[2] - 1) - v[0]]


def _float_system(v):
    return [v[0] ** 2 + v[1] ** 2 + v[2] - 3, v[0] - v[1], math.exp(v[2] - 1) - v[0]]


def test_newton_chord_from_a_float_model_saves_evaluations():
    """The model's Jacobian (float64) carries every step: one exact evaluation per step, not n + 1,
    and the root to the working precision.  (The chord's error is that of the model's differences,
    some 1e-10, or the distance from the start to the root: the start is a float64 root.)"""
    def counted(calls):
        def f(v):
            calls.append(1)
            return _system(v)
        return f

    start = [mpx.mpf("1.000000000001"), mpx.mpf("0.999999999999"), mpx.mpf("1.000000000002")]
    plain, chord = [], []
    with working_precision(60, guard=0):
        expected = newton(counted(plain), start)
        root = newton(counted(chord), start, model=_float_system)
        assert max(abs(x - 1) for x in root) < mpx.mpf(10) ** -58
        assert max(abs(a - b) for a, b in zip(root, expected)) < mpx.mpf(10) ** -58
    assert len(chord) <= 6 and len(plain) >= 2 * len(chord)


@pytest.mark.parametrize("model", [
    lambda v: [-x for x in _float_system(v)],  # the wrong sign: no chord step reduces the residual
    lambda v: [x * (1 + 1e-3 * i) for i, x in enumerate(_float_system(v))],  # 3 digits: too slow a chord
    lambda v: [math.nan] * 3,  # no Jacobian at all
])
def test_newton_leaves_a_bad_model_for_finite_differences(model):
    start = [mpx.mpf("1.1"), mpx.mpf("0.9"), mpx.mpf("1.2")]
    with working_precision(50, guard=0):
        root = newton(_system, start, model=model)
        assert max(abs(x - 1) for x in root) < mpx.mpf(10) ** -48
