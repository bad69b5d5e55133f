"""Checks of the paper's Figures 1–3: the plotted data of :func:`grpo_symbolic.export.figures.curves`.

No file is written.  For each figure, a handful of plotted points (π_ref(a) down to 10⁻¹² and up to
near 1) are compared with the general numeric solver on the corresponding Problem, to 12 decimal
places (absolute: the plotted values are float64 numbers in [0, 1]).  For Figures 1 and 3 the
solver runs at γ = 1/2 (Bernoulli rewards) and β = (β/γ)·γ, so the check also covers the claim
that the curves depend on β and γ only through β/γ.  The jump at π_ref(a) = 0 is checked from the
curves' data: the plotted points next to 0 approach the limit (within 10⁻⁵), which is compared
with the paper's floor, and the limit differs from the value at 0 exactly where the paper says.
"""

import numpy as np
import sympy as sp

from grpo_symbolic.paper import forms as paper
from grpo_symbolic.cases import binary
from grpo_symbolic.export.figures import curves
from grpo_symbolic.model.problem import Problem
from grpo_symbolic.solve.api import stationary_policy
from grpo_symbolic.model.symbols import beta, gamma
from paper_checks.registry import agreement, check, combine, symbolic

#: Decimal places to which plotted values must match the solver.
PLACES = 12
#: The margin γ at which Figures 1 and 3 are re-solved.
MARGIN = sp.Rational(1, 2)
#: (curve index, grid index) of the points re-solved per figure: π_ref = 1e-12, mid-range, near 1.
SOLVED = ((0, 0), (2, 200), (3, 0), (4, -2))


def _problem(figure, ref, parameter):
    ref = sp.Rational(ref)
    if figure == 2:
        return Problem(reference=(ref, 1 - ref), rewards=(1, 0), group_size="inf", beta=parameter)
    laws = [dict(law) for law in binary.margin_rewards(MARGIN)]
    return Problem(reference=(ref, 1 - ref), rewards=laws, group_size=2, beta=parameter * MARGIN,
                   penalty="grpo" if figure == 1 else "direct")


def _floor(figure, parameter):
    """The paper's limit of π(a) as π_ref(a) → 0+ (Fig. 3: continuity, so the value 0)."""
    if figure == 1:
        return max(paper.FLOOR_G2.subs({beta: parameter, gamma: 1}), 0)
    if figure == 2:
        return paper.FLOOR_LARGE_G.subs(beta, parameter)
    return sp.Integer(0)


def _figure_check(figure, dps):
    data = curves(figure)
    outcomes = []
    for curve_index, grid_index in SOLVED:
        curve = data.curves[curve_index]
        ref = float(curve.reference[grid_index])
        solved = stationary_policy(_problem(figure, ref, curve.parameter), dps)[0]
        outcomes.append(agreement(float(curve.policy[grid_index]), solved, PLACES, scale=1, margin=0,
                                  what=f"plotted vs solver at {data.parameter_name}={curve.parameter}, pi_ref={ref:.6g} ({PLACES} places: "
                                       "the plotted data are float64, not --dps)"))
    jumps = []
    for curve in data.curves:
        floor = _floor(figure, curve.parameter)
        outcomes.append(agreement(curve.limit_at_zero, floor, PLACES, scale=1, margin=0,
                                  what=f"limit at pi_ref -> 0+ vs the paper's floor, {data.parameter_name}={curve.parameter} "
                                       f"({PLACES} places: float64 plot data)"))
        approach = abs(curve.policy[0] - curve.limit_at_zero)
        above = bool(np.all(curve.policy >= curve.reference - 1e-15))
        outcomes.append(symbolic(approach < 1e-5 and curve.value_at_zero == 0 and above,
                                 f"{data.parameter_name}={curve.parameter}: plotted pi(1e-12) within {approach:.1e} of the limit "
                                 "(< 1e-5 asked: the gap is O(sqrt(pi_ref)) = 1e-6 at worst, where the curve meets its "
                                 "floor with infinite slope; the plotted data are float64, not --dps), "
                                 f"value 0 at pi_ref = 0, curve on or above the diagonal"))
        jumps.append(curve.jump_at_zero > 1e-6)
    expected = [_jumps(figure, curve.parameter) for curve in data.curves]
    outcomes.append(symbolic(jumps == expected, f"jump at pi_ref(a) = 0 per curve {jumps}, expected {expected}"))
    return combine(outcomes)


def _jumps(figure, parameter):
    """Where the paper puts a jump at 0: Fig. 1 iff β/γ < 1; Fig. 2 always; Fig. 3 never."""
    return {1: parameter < 1, 2: True, 3: False}[figure]


@check("fig1")
def check_fig1(dps):
    return _figure_check(1, dps)


@check("fig2")
def check_fig2(dps):
    return _figure_check(2, dps)


@check("fig3")
def check_fig3(dps):
    return _figure_check(3, dps)
