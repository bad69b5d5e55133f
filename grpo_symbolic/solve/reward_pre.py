"""The KL inside the reward BEFORE the group normalisation (verl ``use_kl_in_reward``): its fixed point.

verl subtracts β·k1 = β·log(π_old(o)/π_ref(o)), detached, from each sampled reward and only then
normalises the group.  At π_old = π the per-output rewards are the shifted laws
r(o) − β·log(π(o)/π_ref(o)), and the reward term is Σ_o π(o) Q_o with Q_o = P_G(o | π) of the
shifted rewards; its stationarity is Q_o = λ on the support, and λ = Σ π Q = 0 since advantages
are centred in every group (derived in :mod:`grpo_symbolic.theory.regularisers`).  So the fixed
point is where **every output's normalised preference of the shifted rewards vanishes**.

Solved by Newton (:func:`~grpo_symbolic.numerics.roots.newton`) on Q_o(π) = 0, o < K, in the
coordinates y = log(π(o)/π_ref(o)) − log(π(K)/π_ref(K)), with P_G from the preference engine on the
shifted laws, started at log pooling with the mean rewards.  For deterministic rewards Q ≡ 0
exactly when every shifted reward is equal (a group with unequal rewards gives its best member a
positive advantage), under every normalisation; with a std normalisation and eps = 0, Q is
scale-free and jumps there, so the same zero set is solved with the mean-only ("shift")
normalisation, which is smooth.  The answer is then RLHF's log pooling π ∝ π_ref·exp(r/β) — a
check compares it with that closed form; for stochastic rewards it is not.

Only k1 (verl's estimator there) is supported: other estimators' values are not monotone in π(o).
"""

from __future__ import annotations

from typing import Any

import mpmath  # noqa: F401  (doctests)

from grpo_symbolic.model.errors import ParameterError, SolverError
from grpo_symbolic.model.problem import Problem
from grpo_symbolic.model.settings import Advantage, Estimator, Normalisation
from grpo_symbolic.numerics.precision import mpx, to_mpf, tolerance, working_precision
from grpo_symbolic.numerics.roots import newton
from grpo_symbolic.preference.engine import preference_numeric
from grpo_symbolic.solve.complete import Completeness
from grpo_symbolic.solve.search import SolverOptions
from grpo_symbolic.solve.stability import flow_stability


COMPLETENESS = Completeness(False, False, "the neighbourhood of log pooling", 1, "Newton from log pooling",
                            "the KL-in-reward placement has no complete search: other fixed points may exist")
"""What is known of the list :func:`reward_pre_point` gives: one point, not a complete search."""


def reward_pre_point(problem: Problem, dps: int, stability: bool,
                     options: SolverOptions) -> tuple[list[Any], Any, bool | None]:
    """(π, max |Q_o|, stable under the expected-gradient flow or None) at the fixed point of the
    KL-in-the-reward placement, at the working precision (the caller rounds).

    >>> prob = Problem(["0.3", "0.7"], [1, 0], 4, "0.5", kl_estimator="k1", kl_placement="reward-pre")
    >>> with working_precision(30):
    ...     pi, _, _ = reward_pre_point(prob, 30, False, SolverOptions())
    >>> mpmath.nstr(pi[0], 20)  # log pooling: 0.3·e² / (0.3·e² + 0.7)
    '0.76000412762832658682'
    """
    if problem.kl_estimator is not Estimator.K1:
        raise ParameterError(f"kl_estimator: got {problem.kl_estimator} with kl_placement=reward-pre; the solver "
                             "supports k1 there (verl's use_kl_in_reward): its value is monotone in pi(o)")
    if problem.entropy != 0:
        raise ParameterError("entropy: an entropy bonus with kl_placement=reward-pre is not solved yet; use entropy=0")
    if problem.advantage not in (Advantage.GRPO, Advantage.RLOO):
        raise ParameterError(f"advantage: got {problem.advantage} with kl_placement=reward-pre; its fixed point Q = 0 "
                             "(lambda = 0) is solved for the zero-mean rules grpo and rloo only")
    field = ShiftedPreference(problem, dps)
    start = [(field.means[o] - field.means[-1]) / field.beta for o in range(problem.size - 1)]
    try:
        y = newton(field.equations, start, maxsteps=options.newton_maxsteps, what="the reward-pre fixed point")
    except SolverError as exc:
        raise SolverError(f"problem: no fixed point of the KL-in-reward placement found from log pooling ({exc})",
                          reason=SolverError.NO_INTERIOR_POINT) from None
    pi = field.policy(y)
    residual = max(abs(q) for q in field.preference(pi))
    if residual > tolerance(dps):
        raise SolverError(f"the reward-pre fixed point did not verify to {dps} digits "
                          f"(residual {mpx.nstr(residual, 3)})", reason=SolverError.UNVERIFIED)
    return pi, residual, flow_stability(field.preference, pi) if stability else None


class ShiftedPreference:
    """π ↦ Q(π): P_G of the rewards shifted by −β·log(π(o)/π_ref(o)), from the preference engine."""

    def __init__(self, problem: Problem, dps: int) -> None:
        deterministic = all(len(law.outcomes) == 1 for law in problem.rewards)
        smooth = problem.normalisation is Normalisation.SHIFT or problem.eps != 0 or not deterministic
        # same zero set, smooth (see the module docstring)
        self.problem = problem if smooth else problem.replace(normalisation=Normalisation.SHIFT)
        self.dps = dps
        with working_precision(dps):
            self.rho = [to_mpf(r) for r in problem.reference]
            self.beta = to_mpf(problem.beta)
            self.means = [to_mpf(law.mean) for law in problem.rewards]

    def policy(self, y: Any) -> list[Any]:
        """π(o) ∝ π_ref(o)·e^{y_o}, y_K = 0."""
        logits = [mpx.log(r) + t for r, t in zip(self.rho, [*y, 0])]
        top = max(logits)
        weights = [mpx.exp(t - top) for t in logits]
        total = mpx.fsum(weights)
        return [w / total for w in weights]

    def preference(self, pi: Any) -> list[Any]:
        """Q_o(π) for every output."""
        shifted = []
        for law, x, r in zip(self.problem.rewards, pi, self.rho):
            shift = self.beta * mpx.log(x / r)
            shifted.append({v - shift: q for v, q in ((to_mpf(v), q) for v, q in law.outcomes)})
        moved = Problem(self.problem.reference, shifted, self.problem.group_size, 1, self.problem.normalisation,
                        eps=self.problem.eps, advantage=self.problem.advantage)
        return list(preference_numeric(moved, [mpx.mpf(x) for x in pi], mpx.dps))

    def equations(self, y: Any) -> list[Any]:
        """Q_o = 0 for o < K (the last follows: Σ π Q = 0)."""
        return self.preference(self.policy(y))[:-1]
