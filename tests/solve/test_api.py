"""The numeric solver against the paper's closed forms (typed once in paper_forms) at 50 digits."""

from fractions import Fraction
import random

import mpmath
import pytest
import sympy as sp

from grpo_symbolic import Problem, SolverError, ParameterError
from grpo_symbolic.paper import forms as paper
from grpo_symbolic.solve.api import stationary_policies, stationary_policy
from grpo_symbolic.model.symbols import beta, gamma, rho, x

DPS = 50
POINTS = [("0.3", "0.5"), ("0.000001", "0.04"), ("0.999999", "0.04"), ("0.5", "0.01"), ("0.1", "10"), ("0.7", "1")]


def digits(a, b):
    """Decimal digits of agreement between mpf a and b (capped at 60)."""
    with mpmath.workdps(80):
        err = abs(a - b) / max(abs(b), mpmath.mpf(10) ** -80)
        return 60 if err == 0 else min(60, float(-mpmath.log10(err)))


def evaluate(expr, values):
    with mpmath.workdps(DPS + 20):
        return mpmath.mpf(sp.N(expr.subs(values), DPS + 20))


@pytest.mark.parametrize("ref,b", POINTS)
def test_binary_g2_is_eq14(ref, b):
    prob = Problem(reference=[ref, 1 - Fraction(ref)], rewards=[1, 0], group_size=2, beta=b)
    expected = evaluate(paper.POLICY_EQ14, {beta: sp.Rational(b), gamma: 1, rho: sp.Rational(ref)})
    assert digits(stationary_policy(prob, DPS)[0], expected) >= DPS - 2


@pytest.mark.parametrize("qa,qb", [("0.9", "0.2"), ("0.55", "0.5")])
def test_binary_g2_stochastic_uses_the_confidence_margin(qa, qb):
    laws = [{"1": qa, "0": 1 - Fraction(qa)}, {"1": qb, "0": 1 - Fraction(qb)}]
    prob = Problem(reference=["0.3", "0.7"], rewards=laws, group_size=2, beta="0.2")
    margin = sp.Rational(qa) - sp.Rational(qb)  # P(a≻b) − P(b≻a) for {0,1} rewards
    expected = evaluate(paper.POLICY_EQ14, {beta: sp.Rational("0.2"), gamma: margin, rho: sp.Rational("0.3")})
    assert digits(stationary_policy(prob, DPS)[0], expected) >= DPS - 2


@pytest.mark.parametrize("ref,b", POINTS)
def test_binary_large_g_is_eq15(ref, b):
    prob = Problem(reference=[ref, 1 - Fraction(ref)], rewards=[1, 0], group_size="inf", beta=b)
    expected = evaluate(paper.POLICY_EQ15, {beta: sp.Rational(b), rho: sp.Rational(ref)})
    assert digits(stationary_policy(prob, DPS)[0], expected) >= DPS - 2


def test_wrong_closed_form_is_detected():
    """The comparison can fail: (14) with β/γ doubled is many digits off."""
    prob = Problem(reference=["0.3", "0.7"], rewards=[1, 0], group_size=2, beta="0.5")
    wrong = evaluate(paper.POLICY_EQ14, {beta: 1, gamma: 1, rho: sp.Rational("0.3")})
    assert digits(stationary_policy(prob, DPS)[0], wrong) < 3


@pytest.mark.parametrize("G", [2, 5, 16])
def test_sample_std_is_population_with_beta_eff(G):
    args = dict(reference=["0.2", "0.3", "0.5"], rewards=[2, {"0": "0.5", "1": "0.5"}, 0], group_size=G)
    b = sp.Rational(1, 3)
    sample = stationary_policy(Problem(beta=b, normalisation="sample", **args), DPS)
    population = stationary_policy(Problem(beta=b * sp.sqrt(sp.Rational(G, G - 1)), **args), DPS)
    assert min(digits(x, y) for x, y in zip(sample, population)) >= DPS - 2


def test_direct_kl_g2_binary_is_the_z_formula():
    prob = Problem(reference=["0.3", "0.7"], rewards=[1, 0], group_size=2, beta="0.25", penalty="direct")
    expected = evaluate(paper.DIRECT_KL_POLICY_G2, {beta: sp.Rational(1, 4), gamma: 1, rho: sp.Rational(3, 10)})
    assert digits(stationary_policy(prob, DPS)[0], expected) >= DPS - 2


def test_bistable_direct_kl_reports_both_and_refuses_to_choose():
    prob = Problem(reference=["0.5", "0.5"], rewards=[1, 0], group_size="inf", beta=3, penalty="direct")
    points = stationary_policies(prob, DPS)
    assert len(points) == 2
    assert [pt.stable for pt in points] == [True, False]
    h = paper.DIRECT_KL_H.subs({beta: 3, rho: sp.Rational(1, 2)})
    h_at = sp.lambdify(x, h, "mpmath")
    with mpmath.workdps(DPS):
        for pt in points:
            assert abs(h_at(pt.policy[0])) < mpmath.mpf(10) ** -(DPS - 5)
    with pytest.raises(SolverError, match="2 stationary policies"):
        stationary_policy(prob, DPS)


def test_boundary_optimum_is_an_error_not_a_number():
    prob = Problem(reference=["0.5", "0.5"], rewards=[1, 0], group_size="inf", beta="0.5", penalty="direct")
    with pytest.raises(SolverError, match="no interior stationary policy"):
        stationary_policy(prob, DPS)


def test_many_outputs_three_reward_values():
    rng = random.Random(3)
    weights = [rng.randint(1, 9) for _ in range(50)]
    ref = [Fraction(w, sum(weights)) for w in weights]
    rewards = [rng.choice([0, 1, 2, {"0": "0.5", "2": "0.5"}]) for _ in range(50)]
    for penalty in ("grpo", "direct"):
        (point,) = stationary_policies(Problem(reference=ref, rewards=rewards, group_size=16, beta="0.5", penalty=penalty), DPS)
        assert point.residual < mpmath.mpf(10) ** -DPS
        assert abs(mpmath.fsum(point.policy) - 1) < mpmath.mpf(10) ** -DPS
        assert abs(point.multiplier) < mpmath.mpf(10) ** -(DPS - 5) or penalty == "direct"


def test_identical_rewards_leave_the_reference_unchanged():
    prob = Problem(reference=["0.2", "0.8"], rewards=[1, 1], group_size=4, beta=1)
    with mpmath.workdps(DPS):
        assert stationary_policy(prob, DPS) == (mpmath.mpf("0.2"), mpmath.mpf("0.8"))


def test_symbolic_problem_is_refused():
    prob = Problem(reference=[rho, 1 - rho], rewards=[1, 0], group_size=2, beta=beta)
    with pytest.raises(ParameterError, match="substitute"):
        stationary_policy(prob)


@pytest.mark.parametrize("dps", [0, 2.5, "50", True])
def test_bad_precision(dps):
    prob = Problem(reference=["0.2", "0.8"], rewards=[1, 0], group_size=4, beta=1)
    with pytest.raises(ParameterError, match="dps"):
        stationary_policy(prob, dps)


def test_simplex_curvature_test_matches_eigenvalues():
    """The exact second-order test agrees with eigenvalues of the reduced Hessian where floats suffice."""
    import numpy as np

    from grpo_symbolic.solve.stability import negative_definite_on_simplex

    rng = np.random.default_rng(5)
    for _ in range(400):
        k = int(rng.integers(2, 6))
        a = rng.uniform(-5, 5, size=k)
        a[np.abs(a) < 0.05] = -1.0
        reduced = np.diag(a[:-1]) + a[-1]
        eigen = np.linalg.eigvalsh(reduced)
        if np.min(np.abs(eigen)) > 1e-9:
            assert negative_definite_on_simplex(list(a)) == bool(np.all(eigen < 0))


def test_stability_survives_a_policy_near_a_vertex():
    """Tiny pi entries used to cancel catastrophically in the best-response derivatives."""
    prob = Problem(reference=["0.05", "0.15", "0.3", "0.5"], rewards=[1, {"1": "0.5", "0": "0.5"}, {"1": "0.1", "0": "0.9"}, 0],
                   group_size=8, beta="0.0225", normalisation="sample", eps="0.0001", penalty="direct")
    (point,) = stationary_policies(prob, 20)
    assert point.policy[3] < 1e-40 and point.is_local_maximum and point.stable


def test_the_solvers_estimate_counts_its_evaluations_of_p_g():
    """The cost model charges stationary_policies for 30 evaluations of P_G per reward value: with
    the budget lowered by 10 evaluations per value (a third of them) the solve is refused, while one
    evaluation of P_G is well inside that budget.  At 200 digits the exact evaluations dominate."""
    import re

    from grpo_symbolic.preference.engine import preference_numeric
    from grpo_symbolic.preference.sums import evaluation_work

    prob = Problem(reference=["0.2", "0.3", "0.5"], rewards=[0, 1, 2], group_size=64, beta=1)
    with pytest.raises(ParameterError) as refused:
        stationary_policies(prob, dps=200, budget=1e-12)
    estimate = float(re.search(r"estimated ([0-9.e+-]+) s", str(refused.value)).group(1))
    budget = estimate - 10 * 3 * evaluation_work(prob, 200).exact
    preference_numeric(prob, ["0.2", "0.3", "0.5"], 200, budget=budget)
    with pytest.raises(ParameterError, match="^budget: stationary_policies with 3 reward values"):
        stationary_policies(prob, dps=200, budget=budget)
