"""Extreme magnitudes: an equivalent problem at a friendly reward scale, and float64 range failures
turned into the package's errors.

GRPO sees the rewards only through the group advantage.  With r' = (r − lo)/s (lo the least
reward value, s the span of the values) every group's mean moves the same way and its std is
divided by s, so

* population / sample std: (r − mean)/(std + eps) = (r' − mean')/(std' + eps/s) — the same
  advantages, hence the same P_G, when eps becomes eps/s;
* shift: r − mean = s·(r' − mean'), so P_G = s·P_G' and J(π) = Σ_o π(o) P_G(o) − β D(π) equals
  s·(Σ_o π(o) P_G'(o) − (β/s) D(π)): the same maximisers, the same best-response map, with β/s.

:func:`rescaled` applies this where the solver's float64 stages would otherwise overflow (reward
values such as 1e300, 1e-300 as a float, or 3^-700 whose numerators or denominators are huge); the
tests compare P_G and the stationary policies of both problems.  :func:`float_range` turns an
OverflowError or ZeroDivisionError left by a float64 stage into a ParameterError or SolverError
that says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sympy as sp

from grpo_symbolic.model.errors import GrpoSymbolicError, ParameterError
from grpo_symbolic.model.problem import Problem
from grpo_symbolic.model.settings import Advantage, GroupFilter, Normalisation, Placement

RESCALE_BITS = 64
"""Reward values whose numerator or denominator has more bits than this are rescaled (a float
has 53; the float stages multiply and square them)."""


def rescaled(problem: Problem, always: bool = False) -> tuple[Problem, sp.Expr]:
    """(an equivalent problem with reward values spanning [0, 1], the factor s_P) — see the module docstring.

    P_G(o|π) of ``problem`` is s_P times P_G(o|π) of the rescaled problem (s_P = 1 for the std
    normalisations, the reward span for "shift"), and both problems have the same stationary
    policies.  The problem is returned unchanged (factor 1) unless ``always`` or some reward value
    has a numerator or denominator beyond :data:`RESCALE_BITS` bits; also when the rewards hold
    symbols or irrational values, take a single value, or when a setting beyond the paper's
    (another KL estimator or placement, a clamp, entropy, another advantage rule or group filter)
    is in force, since the invariance above is derived for the paper's settings only.

    >>> prob = Problem(reference=["0.3", "0.7"], rewards=[10**400, 0], group_size=8, beta="0.5")
    >>> [law.values for law in rescaled(prob)[0].rewards], rescaled(prob)[1]
    ([(1,), (0,)], 1)
    >>> shift = Problem(reference=["0.3", "0.7"], rewards=[4, 2], group_size=8, beta=1, normalisation="shift")
    >>> equivalent, factor = rescaled(shift, always=True)
    >>> equivalent.beta, factor
    (1/2, 2)
    """
    values = problem.reward_values
    if not _invariant(problem) or len(values) < 2 or not all(v.is_Rational for v in values):
        return problem, sp.Integer(1)
    if not always and max(max(abs(v.p).bit_length(), v.q.bit_length()) for v in values) <= RESCALE_BITS:
        return problem, sp.Integer(1)
    low, span = values[0], values[-1] - values[0]
    laws = [{(v - low) / span: q for v, q in law.outcomes} for law in problem.rewards]
    if problem.normalisation is Normalisation.SHIFT:
        return problem.replace(rewards=laws, beta=problem.beta / span), span
    return problem.replace(rewards=laws, eps=problem.eps / span), sp.Integer(1)


def _invariant(problem: Problem) -> bool:
    """True for the settings whose invariance under r → (r − lo)/s the module docstring derives."""
    return (problem.penalty is not None and problem.kl_placement is Placement.LOSS and problem.kl_clamp is None
            and problem.entropy == 0 and problem.advantage is Advantage.GRPO and problem.group_filter is GroupFilter.KEEP)


SOLVER_RANGE = ("the solver's float64 scan cannot hold this problem's numbers (reward values of very different "
                "magnitudes, or a group size beyond its tables); round or rescale the rewards, or use group_size=inf")
"""The fix :func:`float_range` names when the numeric solver's float stages fail."""


@contextmanager
def float_range(parameter: str, error: type[GrpoSymbolicError] = ParameterError, fix: str = "") -> Iterator[None]:
    """Inside the block an OverflowError or ZeroDivisionError (a float64 stage out of its range)
    becomes ``error`` naming ``parameter`` (a :class:`~grpo_symbolic.model.errors.SolverError` keeps
    its default reason, NOT_CONVERGED): never a bare arithmetic exception, never a wrong number.

    >>> with float_range("rewards", fix="give reward values between 1e-150 and 1e150"):
    ...     float(10**400)
    Traceback (most recent call last):
    ...
    grpo_symbolic.model.errors.ParameterError: rewards: a float64 stage left its range (int too large to convert to float); give reward values between 1e-150 and 1e150
    """
    try:
        yield
    except (OverflowError, ZeroDivisionError) as failure:
        message = f"{parameter}: a float64 stage left its range ({failure}); {fix or 'rescale the problem'}"
        raise error(message) from None
