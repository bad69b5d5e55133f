"""Boundary (vertex and face) stationary points and their KKT multipliers, against checks written
here: the vertex slack of cases.general.vertex_kkt, the stationary form on the face, and the slope
of J(·; π_old = π) along each edge leaving the face (numerical differentiation of the objective)."""

import mpmath
import pytest
import sympy as sp

from grpo_symbolic import ParameterError, Problem
from grpo_symbolic.cases import general
from grpo_symbolic.model.symbols import beta as beta_symbol
from grpo_symbolic.preference.engine import preference_numeric
from grpo_symbolic.solve.boundary import boundary_points, face_slopes
from grpo_symbolic.theory.objective import objective

pytest.importorskip("flint", reason="python-flint (the 'rigorous' extra) is not installed")

DPS = 30


def edge_slope(problem, policy, towards, away):
    """d/dt J(π + t(e_towards − e_away); π_old = π) at t = 0+, by numerical differentiation."""
    P = preference_numeric(problem, policy, dps=DPS - 2)
    ref = [mpmath.mpf(sp.Rational(r).p) / sp.Rational(r).q for r in problem.reference]
    b = mpmath.mpf(sp.Rational(problem.beta).p) / sp.Rational(problem.beta).q
    x = sp.symbols(f"x0:{problem.size}", positive=True)
    J = sp.lambdify(x, objective(P, x, ref, policy, b, str(problem.penalty)), "mpmath")

    def along(t):
        return J(*[p + t * ((o == towards) - (o == away)) for o, p in enumerate(policy)])
    return mpmath.diff(along, mpmath.mpf(10) ** -12, h=mpmath.mpf(10) ** -14)  # one-sided: off the face t < 0 is outside


def test_vertex_slack_is_the_derived_one_of_cases_general():
    prob = Problem(reference=["0.3", "0.7"], rewards=[1, 0], group_size=2, beta="0.5")
    kkt = general.vertex_kkt(prob, 0)
    expected = kkt["slacks"][1].subs({beta_symbol: sp.Rational(1, 2)})
    (vertex,) = [pt for pt in boundary_points(prob, DPS) if pt.support == (0,)]
    with mpmath.workdps(DPS):
        assert abs(vertex.slacks[0] - mpmath.mpf(sp.N(expected, DPS + 5))) < mpmath.mpf(10) ** -(DPS - 3)
    assert vertex.kkt and vertex.policy == (1, 0)


@pytest.mark.parametrize("group_size", [4, "inf"])
def test_face_points_solve_the_face_form_and_their_slacks_are_edge_slopes(group_size):
    prob = Problem(reference=["0.2", "0.3", "0.5"], rewards=[1, 0, 2], group_size=group_size, beta="0.5")
    points = boundary_points(prob, DPS)
    assert any(pt.kkt for pt in points) and any(not pt.kkt for pt in points)
    with mpmath.workdps(DPS + 10):
        b = mpmath.mpf("0.5")
        for pt in points:
            P = preference_numeric(prob, pt.policy, dps=DPS - 2)
            ref = [mpmath.mpf(r) for r in ("0.2", "0.3", "0.5")]
            for o in pt.support:  # the grpo stationary form on the face, with the listed multiplier
                assert abs(pt.policy[o] - b * ref[o] / (b + pt.multiplier - P[o])) < mpmath.mpf(10) ** -(DPS - 4)
            off = [o for o in range(3) if o not in pt.support]
            for o, gamma in zip(off, pt.slacks):
                slope = edge_slope(prob, pt.policy, o, pt.support[0])
                assert abs(slope + gamma) < mpmath.mpf(10) ** -8  # moving mass onto o changes J by −γ_o
            assert pt.kkt == all(g >= 0 for g in pt.slacks)


def test_large_group_single_value_faces_are_said_to_be_left_out():
    prob = Problem(reference=["0.2", "0.3", "0.5"], rewards=[1, 0, 2], group_size="inf", beta="0.5")
    points = boundary_points(prob, DPS)
    assert all(len(pt.support) == 2 for pt in points) and "σ = 0" in points.statement


def test_direct_penalty_has_no_kkt_face_point():
    assert face_slopes("direct")[1] == sp.oo and face_slopes("grpo")[1] == sp.Symbol("P", positive=True)
    prob = Problem(reference=["0.5", "0.5"], rewards=[1, 0], group_size="inf", beta="1.5", penalty="direct")
    points = boundary_points(prob, DPS)
    assert points == [] and "−∞" in points.statement


def test_too_many_outputs_and_symbols_are_refused():
    prob = Problem(reference=[sp.Rational(1, 11)] * 11, rewards=list(range(11)), group_size=2, beta=1)
    with pytest.raises(ParameterError, match="outputs"):
        boundary_points(prob)
    with pytest.raises(ParameterError, match="give a Problem"):
        boundary_points("__import__('os').system('true')")
    with pytest.raises(ParameterError, match="numbers"):
        boundary_points(Problem(reference=["0.5", "0.5"], rewards=[1, 0], group_size=2, beta=beta_symbol))
