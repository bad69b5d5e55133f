"""The proven logit boxes (solve/regions.py): they hold every root, also close to the faces,
and the G = ∞ direct bound T leaves no root of t·σ(M(t)) = 1 beyond it."""

import math

import mpmath
import pytest

from grpo_symbolic import Problem
from grpo_symbolic.solve.api import stationary_policies
from grpo_symbolic.solve.search import SolverOptions

flint = pytest.importorskip("flint", reason="python-flint (the 'rigorous' extra) is not installed")

from grpo_symbolic.numerics.certify import flint_precision  # noqa: E402
from grpo_symbolic.solve.balls import BallResidual  # noqa: E402
from grpo_symbolic.solve.regions import _tilt_limit, logit_region  # noqa: E402


def region_of(problem):
    with flint_precision(30):
        return logit_region(BallResidual(problem), 10**6)


def logits(problem, point):
    m = [mpmath.fsum(p * mpmath.mpf(float(row[j])) for p, row in zip(point.policy, problem.law_matrix))
         for j in range(len(problem.reward_values))]
    return [mpmath.log(m[j] / m[-1]) for j in range(len(m) - 1)]


@pytest.mark.parametrize("kwargs", [
    dict(reference=["0.3", "0.7"], rewards=[1, 0], group_size="inf", beta="0.05"),
    dict(reference=["0.1", "0.2", "0.7"], rewards=[2, 0, 1], group_size="inf", beta="0.2"),
    dict(reference=["1/3", "1/3", "1/3"], rewards=[1, "1/2", 0], group_size="inf", beta=4, penalty="direct"),
    dict(reference=["0.5", "0.5"], rewards=[1, 0], group_size="inf", beta="1.6", penalty="direct"),
    dict(reference=["0.2", "0.3", "0.5"], rewards=[{0: "0.5", 2: "0.5"}, 1, 2], group_size="inf", beta=2,
         penalty="direct"),
])
def test_the_box_is_proven_and_holds_every_root_found_without_it(kwargs):
    """The roots come from the uncertified search over a wide range, so a wrong box would show."""
    problem = Problem(**kwargs)
    region = region_of(problem)
    assert region.proven
    wide = SolverOptions(certified=False, scan_span=100, scan_step=0.1, multistart=(-12.0, -4.0, 0.0, 4.0))
    for point in stationary_policies(problem, 30, stability=False, options=wide):
        for s, (lo, hi) in zip(logits(problem, point), region.bounds):
            assert lo < s < hi, (s, region)


def test_the_grpo_box_holds_eq15_at_a_reference_of_1e_minus_30():
    """(15) puts π*(b) ≈ 2.5e-61 (s = log(π*(b)/π*(a)) ≈ −139.5): inside the proven box."""
    import sympy as sp
    from grpo_symbolic.model.symbols import beta, rho
    from grpo_symbolic.paper import forms as paper

    problem = Problem(reference=["0.999999999999999999999999999999", "1e-30"], rewards=[1, 0], group_size="inf", beta="0.5")
    a = sp.N(paper.POLICY_EQ15.subs({beta: sp.Rational(1, 2), rho: 1 - sp.Rational(1, 10**30)}), 150)
    s = float(sp.log((1 - a) / a).evalf(30))
    ((lo, hi),) = region_of(problem).bounds
    assert -141 < s < -139 and lo < s < hi


@pytest.mark.parametrize("rewards,reference", [
    ([1, "1/2", 0], ["1/3", "1/3", "1/3"]),                          # top class deterministic: σ(M∞) = 0
    ([{1: "0.5", 0: "0.5"}, "1/4", 0], ["0.2", "0.5", "0.3"]),       # top class noisy: σ(M∞) > 0
])
def test_no_root_of_t_sigma_beyond_the_tilt_limit(rewards, reference):
    problem = Problem(reference=reference, rewards=rewards, group_size="inf", beta=2, penalty="direct")
    residual = None
    with flint_precision(30):
        residual = BallResidual(problem)
        limit = float(_tilt_limit(residual, residual.values[-1] - residual.values[0]).upper())
    laws = [[float(q) for q in row] for row in dict.fromkeys(problem.law_matrix)]
    rho = [float(sum(r for row2, r in zip(problem.law_matrix, problem.reference) if row2 == row))
           for row in dict.fromkeys(problem.law_matrix)]
    values = [float(v) for v in problem.reward_values]
    means = [sum(q * v for q, v in zip(law, values)) for law in laws]

    def phi(t):  # t·σ(M(t)) − 1, written here
        w = [r * math.exp((mu - max(means)) * t / 2) for r, mu in zip(rho, means)]
        m = [sum(wc * law[j] for wc, law in zip(w, laws)) / sum(w) for j in range(len(values))]
        mean = sum(mj * v for mj, v in zip(m, values))
        return t * math.sqrt(sum(mj * (v - mean) ** 2 for mj, v in zip(m, values))) - 1

    grid = [limit * (1 + k / 50) for k in range(0, 500)]
    signs = {phi(t) > 0 for t in grid}
    assert len(signs) == 1
