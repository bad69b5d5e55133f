"""Random problems with two or three reward values against an independent dense scan, all
conventions (population, sample, shift; eps; grpo and direct; G = 2…6 and ∞).

Everything the scan uses is written here in float64: P_G from a plain multinomial sum over the
other G − 1 rewards (or (v − mean)/(σ + eps) at G = ∞), the stationary forms (direct: π ∝ ρ e^{P/β};
grpo: π = βρ/(β + λ − P) with λ by bisection), and Newton from every point of a dense logit grid.
A root the scan finds must be in the solver's list; when the solver says its list is complete,
that is then tested too.  A few problems run by default, the rest are marked slow.
"""

import itertools
import math
import random
from fractions import Fraction

import mpmath
import numpy as np
import pytest

from grpo_symbolic import Problem, SolverError
from grpo_symbolic.solve.api import stationary_policies

pytest.importorskip("flint", reason="python-flint (the 'rigorous' extra) is not installed")


def advantage(focal, others, normalisation, eps):
    group = [focal] + others
    mean = sum(group) / len(group)
    if normalisation == "shift":
        return focal - mean
    if all(r == focal for r in others):
        return 0.0
    squares = sum((r - mean) ** 2 for r in group)
    std = math.sqrt(squares / (len(group) - (normalisation == "sample")))
    return (focal - mean) / (std + eps)


def preferences(m, values, G, normalisation, eps):
    """Q_v(m) for each reward value v: the expected advantage of a focal reward v."""
    if G == "inf":
        mean = sum(mv * v for mv, v in zip(m, values))
        sigma = math.sqrt(sum(mv * (v - mean) ** 2 for mv, v in zip(m, values)))
        scale = 1.0 if normalisation == "shift" else 1 / (sigma + eps)
        return [(v - mean) * scale for v in values]
    n = G - 1
    Q = []
    for v in values:
        total = 0.0
        for counts in itertools.product(range(n + 1), repeat=len(values)):
            if sum(counts) != n:
                continue
            weight = math.factorial(n)
            for c, mv in zip(counts, m):
                weight *= mv ** c / math.factorial(c)
            others = [u for u, c in zip(values, counts) for _ in range(c)]
            total += weight * advantage(v, others, normalisation, eps)
        Q.append(total)
    return Q


def next_mixture(m, case):
    """The mixture of the stationary form's policy at the reward mixture m."""
    values, laws, ref, b = case["values"], case["laws"], case["reference"], case["beta"]
    Q = preferences(m, values, case["G"], case["normalisation"], case["eps"])
    P = [sum(q * Qv for q, Qv in zip(law, Q)) for law in laws]
    if case["penalty"] == "direct":
        top = max(P)
        w = [r * math.exp((p - top) / b) for r, p in zip(ref, P)]
        pi = [x / sum(w) for x in w]
    else:
        lo, hi = max(p - b for p in P), max(P) + b
        for _ in range(200):  # sum βρ/(β + λ − P) = 1, decreasing in λ
            mid = (lo + hi) / 2
            if sum(b * r / (b + mid - p) for r, p in zip(ref, P)) > 1:
                lo = mid
            else:
                hi = mid
        pi = [b * r / (b + hi - p) for r, p in zip(ref, P)]
    return [sum(p * law[j] for p, law in zip(pi, laws)) for j in range(len(values))]


def residual(s, case):
    e = np.exp(np.append(s, 0.0) - max(0.0, max(s)))
    m = list(e / e.sum())
    mn = next_mixture(m, case)
    return np.array([math.log(mn[j] / mn[-1]) - s[j] for j in range(len(s))])


def scan(case, span=10.0, step=1.0):
    """Roots of the residual by Newton from every point of a logit grid (numerical Jacobian)."""
    dim, roots = len(case["values"]) - 1, []
    axis = np.arange(-span, span + step / 2, step)
    for start in itertools.product(axis, repeat=dim):
        s = np.array(start, dtype=float)
        try:
            for _ in range(40):
                f = residual(s, case)
                J = np.array([(residual(s + 1e-7 * np.eye(dim)[k], case) - f) / 1e-7 for k in range(dim)]).T
                step_ = np.linalg.solve(J, -f)
                s = s + np.clip(step_, -2, 2)
                if np.max(np.abs(step_)) < 1e-11:
                    break
            else:
                continue
        except (ValueError, ZeroDivisionError, OverflowError, np.linalg.LinAlgError):
            continue
        if np.max(np.abs(residual(s, case))) < 1e-9 and np.max(np.abs(s)) < 30 and \
                all(np.max(np.abs(s - t)) > 1e-6 for t in roots):
            roots.append(s)
    return roots


def random_case(rng, V):
    values = sorted(rng.sample([0, 1, 2, 3], V))
    K = rng.randint(V, 4)
    laws = [[int(j == o) for j in range(V)] for o in range(V)]  # every value has an output
    while len(laws) < K:
        q = Fraction(rng.randint(1, 9), 10)
        i, j = rng.sample(range(V), 2)
        laws.append([q if k == i else 1 - q if k == j else 0 for k in range(V)])
    weights = [rng.randint(1, 9) for _ in range(K)]
    return dict(values=values, laws=laws, reference=[Fraction(w, sum(weights)) for w in weights],
                G=rng.choice([2, 3, 4, 5, 6, "inf"]), beta=Fraction(rng.randint(1, 30), 10),
                normalisation=rng.choice(["population", "sample", "shift"]),
                eps=rng.choice([0, 0, Fraction(1, 10)]), penalty=rng.choice(["grpo", "direct"]))


def problem_of(case):
    rewards = [{str(v): str(q) for v, q in zip(case["values"], law) if q} for law in case["laws"]]
    return Problem(reference=case["reference"], rewards=rewards, group_size=case["G"], beta=case["beta"],
                   normalisation=case["normalisation"], eps=case["eps"], penalty=case["penalty"])


def floats(case):
    return dict(case, laws=[[float(q) for q in law] for law in case["laws"]], reference=[float(r) for r in case["reference"]],
                beta=float(case["beta"]), eps=float(case["eps"]))


def solver_logits(problem, points):
    """The solver's points as logit coordinates of their reward mixtures (values in Problem order)."""
    found = []
    for pt in points:
        m = [mpmath.fsum(p * mpmath.mpf(Fraction(str(row[j])).numerator) / Fraction(str(row[j])).denominator
                         for p, row in zip(pt.policy, problem.law_matrix)) for j in range(len(problem.reward_values))]
        found.append([float(mpmath.log(m[j] / m[-1])) for j in range(len(m) - 1)])
    return found


def run_case(case):
    problem = problem_of(case)
    assert [float(v) for v in problem.reward_values] == [float(v) for v in case["values"]]
    try:
        points = stationary_policies(problem, 20, stability=False)
    except SolverError as exc:  # proven absent, or (said so) not found by a search that is not complete
        assert exc.reason in (SolverError.NO_INTERIOR_POINT, SolverError.NOT_CONVERGED)
        points, statement = [], str(exc)
    else:
        statement = str(points.completeness)
    found = solver_logits(problem, points)
    for s in found:  # each listed point is a root of the residual written here
        assert max(abs(residual(np.array(s), floats(case)))) < 1e-7 * max(1, *map(abs, s)), (case, s)
    for root in scan(floats(case), step=2.0 if len(case["values"]) == 3 else 0.25):
        assert any(max(abs(a - b) for a, b in zip(root, s)) < 1e-5 for s in found), (case, list(root), statement)
    return points


CASES = [random_case(random.Random(seed), V) for seed in range(24) for V in (2, 3)]
FAST = {0, 4, 7, 13, 17, 45}  # about 7 s together; the others are marked slow


def _name(case):
    return f"V{len(case['values'])}-K{len(case['laws'])}-G{case['G']}-{case['normalisation']}-eps{case['eps']}-{case['penalty']}"


@pytest.mark.parametrize("case", [pytest.param(c, id=_name(c), marks=() if i in FAST else pytest.mark.slow)
                                  for i, c in enumerate(CASES)])
def test_no_root_of_the_dense_scan_is_missing(case):
    run_case(case)


def test_the_scan_finds_the_two_points_of_a_bistable_three_value_problem():
    """The scan itself can find what it is asked to (family 4 of issue 16: a point at 2e-6)."""
    case = dict(values=[0, Fraction(1, 2), 1], laws=[[0, 0, 1], [0, 1, 0], [1, 0, 0]], reference=[Fraction(1, 3)] * 3,
                G="inf", beta=4, normalisation="population", eps=0, penalty="direct")
    roots = scan(floats(case), span=16, step=2.0)
    assert len(roots) == 2
    points = run_case(case)
    assert len(points) == 2 and points.completeness.complete
