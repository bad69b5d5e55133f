"""Beyond the paper: the solver's list of stationary points is complete, with a certificate.

The bistable direct-KL problem (π_ref = ½, rewards 1/0, App. B.2) at G = ∞ is solved on a grid of
β through the fold β* (:func:`grpo_symbolic.cases.bistability.critical_beta`): below β* the solver
must prove that there is no interior point, above it list exactly two, the smaller attracting,
each a zero of the printed h to the run's digits, with a completeness statement that covers the
whole interior.  At G = 64 the fold triples: three points (attracting, repelling, attracting)
inside the window, one outside, each verified against the stationarity of the direct form.
"""

import mpmath
import sympy as sp

from grpo_symbolic.cases import bistability
from grpo_symbolic.model.errors import SolverError
from grpo_symbolic.model.problem import Problem
from grpo_symbolic.model.symbols import beta, rho, x
from grpo_symbolic.numerics.precision import working_precision
from grpo_symbolic.paper import forms as paper
from grpo_symbolic.solve.api import stationary_policies
from paper_checks.registry import MARGIN, Outcome, check, combine, symbolic

#: Offsets of β from the fold β*: below it (no interior point) and above it (two points).
OFFSETS = ("-1e-3", "-1e-8", "1e-8", "1e-5", "1e-3", "0.1", "1")
#: G = 64, π_ref = ½: β inside the window of three stationary points, and outside it.
TRIPLES = (("1.462", 3), ("1.48", 3), ("1.507", 3), ("1.46", 1), ("1.508", 1))


def _solve(b, group_size, dps):
    problem = Problem(reference=["0.5", "0.5"], rewards=[1, 0], group_size=group_size, beta=b, penalty="direct")
    try:
        return stationary_policies(problem, dps)
    except SolverError as exc:
        return exc


def _large_g(b, dps):
    """One β at G = ∞: the expected count (0 below β*, 2 above), zeros of h, stability, completeness."""
    h = sp.lambdify(x, paper.DIRECT_KL_H.subs({beta: sp.Rational(b), rho: sp.Rational(1, 2)}), "mpmath")
    found = _solve(b, "inf", dps)
    below = mpmath.mpf(b) < bistability.critical_beta("0.5", dps)
    if isinstance(found, SolverError):
        proven = found.reason == SolverError.NO_INTERIOR_POINT  # raised only when the absence is proven
        return symbolic(below and proven, f"beta={b}: no interior point, proven: {proven}"), None
    with working_precision(dps, guard=10):
        worst = max(abs(h(pt.policy[0])) for pt in found)
    digits = float(min(-mpmath.log10(worst), dps)) if worst > 0 else float(dps)
    ok = (not below and len(found) == 2 and [pt.stable for pt in found] == [True, False]
          and found.completeness.complete and found.completeness.certified)
    return symbolic(ok, f"beta={b}: {len(found)} points, stable {[pt.stable for pt in found]}, "
                        f"|h| <= {mpmath.nstr(worst, 2)}; {found.completeness.region}"), digits


def _triple(b, count, dps):
    found = _solve(b, 64, dps)
    if isinstance(found, SolverError):
        return symbolic(False, f"G=64, beta={b}: {found}")
    pattern = [True, False, True] if count == 3 else [True]
    ok = (len(found) == count and [pt.stable for pt in found] == pattern and found.completeness.complete
          and all(pt.residual <= mpmath.mpf(10) ** -(dps - MARGIN) for pt in found))
    return symbolic(ok, f"G=64, beta={b}: {len(found)} points (expected {count}), stable {[pt.stable for pt in found]}, "
                        f"complete: {found.completeness.complete}")


@check("x-complete-roots")
def check_x_complete_roots(dps):
    with working_precision(dps, guard=10):
        star = bistability.critical_beta("0.5", dps)
        grid = [mpmath.nstr(star * (1 + mpmath.mpf(offset)), dps + 5) for offset in OFFSETS]
    outcomes, digits = [], []
    for b in grid:
        outcome, zero_digits = _large_g(b, dps)
        outcomes.append(outcome)
        if zero_digits is not None:
            digits.append(zero_digits)
    outcomes += [_triple(b, count, dps) for b, count in TRIPLES]
    joint = combine(*outcomes)
    worst = min(digits) if digits else None
    return Outcome(passed=joint.passed and (worst is None or worst >= dps - MARGIN), digits=worst,
                   verdict=joint.verdict, details=joint.details)
