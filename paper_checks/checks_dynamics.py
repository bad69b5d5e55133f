"""x-grpo-dynamics: the GRPO update itself settles at the predicted stationary policy.

:func:`grpo_symbolic.dynamics.simulate.simulate` runs GRPO (sampled groups, the engine's advantages,
clipped ratios, the k3 penalty, softmax logits) on two problems with GRPO's own penalty:

* ``BINARY``: π_ref = (0.3, 0.7), rewards 1 / 0, G = 8, β = 1/2;
* ``STOCHASTIC``: three outputs with Bernoulli(0.8), Bernoulli(0.5) and zero rewards, G = 4, β = 1/2.

For each, the tail time-averages of independent chains estimate where the iterates settle (mean
± standard error over chains).  The check passes when that estimate is within 3 standard errors
plus a finite-learning-rate bias allowance of the solver's stationary policy, while the RLHF
log-pooling policy (4) with the expected rewards lies at least 10 times that acceptance band
away.  The bias allowance ``BIAS_PER_LR · lr`` is measured, not guessed: on these problems the
sampled iterates settle off the prediction by ≈ 2.9e-4·lr (BINARY) and ≈ 3.9e-3·lr (STOCHASTIC)
(20 000 iterations × 64 chains at lr = 1/4, 1/2, 1; proportional to lr; see tests/test_simulate.py),
and the expected flow, which has no sampling noise, reaches the prediction to float64 accuracy.
Finally, for the bistable direct-KL case (π_ref = (1/2, 1/2), G → ∞, β = 3) the expected flow
started below the larger (repelling) root converges to the smaller one and started above it runs
towards π(a) = 1.
"""

from dataclasses import dataclass

import numpy as np

from grpo_symbolic.paper import forms as paper_forms
from grpo_symbolic.model.problem import Problem
from grpo_symbolic.dynamics.simulate import expected_flow, simulate
from grpo_symbolic.solve.api import stationary_policies, stationary_policy
from grpo_symbolic.model.symbols import beta, pi_ref_o, r_o
from grpo_symbolic.numerics.precision import mpx

from paper_checks.registry import agreement, check, combine, symbolic

BINARY = Problem(reference=["0.3", "0.7"], rewards=[1, 0], group_size=8, beta="0.5")
STOCHASTIC = Problem(reference=["0.2", "0.3", "0.5"], rewards=[{1: "0.8", 0: "0.2"}, {1: "0.5", 0: "0.5"}, 0],
                     group_size=4, beta="0.5")
BISTABLE = Problem(reference=["0.5", "0.5"], rewards=[1, 0], group_size="inf", beta=3, penalty="direct")

#: The GRPO settings of the sampled runs: learning rate, groups per batch, steps per batch, clip ε.
SETTINGS = dict(lr=0.125, groups=16, steps_per_batch=2, clip=0.2)
#: Allowed offset of the settled policy per unit learning rate (measured: ≤ 3.9e-3, module doc).
BIAS_PER_LR = 5e-3
#: (chains, iterations) of the quick run (the check) and of the long run (slow tests).
QUICK, LONG = (32, 1500), (64, 8000)
#: The expected flow must reach the prediction to this many digits (float64 arithmetic).
FLOW_DIGITS = 8


def rlhf_policy(problem):
    """The RLHF maximiser (4), π ∝ π_ref exp(r/β) with r the expected reward, as float64.

    >>> np.round(rlhf_policy(BINARY), 6)
    array([0.760004, 0.239996])
    """
    weights = [float(paper_forms.RLHF_POLICY_EQ4.subs({pi_ref_o: ref, r_o: law.mean, beta: problem.beta}))
               for ref, law in zip(problem.reference, problem.rewards)]
    return np.array(weights) / sum(weights)


@dataclass(frozen=True)
class Comparison:
    """Where the sampled GRPO iterates settle, against the prediction and against RLHF (4)."""

    mean: np.ndarray
    stderr: np.ndarray
    prediction: np.ndarray
    rlhf: np.ndarray
    tolerance: float
    clipped: float
    chains: int
    iterations: int

    @property
    def z_prediction(self):
        """max_o |mean − prediction| / stderr."""
        return float(np.max(np.abs(self.mean - self.prediction) / self.stderr))

    @property
    def band(self):
        """The acceptance half-width per output: 3 standard errors + the bias allowance."""
        return 3 * self.stderr + self.tolerance

    @property
    def settles_at_prediction(self):
        return bool(np.all(np.abs(self.mean - self.prediction) <= self.band))

    @property
    def rlhf_gap(self):
        """max_o |mean − RLHF| in units of the acceptance band (≥ 10 required)."""
        return float(np.max(np.abs(self.mean - self.rlhf) / self.band))

    @property
    def z_rlhf(self):
        """max_o |mean − RLHF| / stderr."""
        return float(np.max(np.abs(self.mean - self.rlhf) / self.stderr))

    @property
    def passed(self):
        return self.settles_at_prediction and self.rlhf_gap >= 10

    def describe(self, name):
        show = lambda v: "(" + ", ".join(f"{x:.5f}" for x in v) + ")"  # noqa: E731
        return (f"{name}: settled at {show(self.mean)} ± {self.stderr.max():.1e} ({self.chains} chains x "
                f"{self.iterations} it., tail half); prediction {show(self.prediction)} at {self.z_prediction:.1f} SE "
                f"(allowed 3 SE + {self.tolerance:.1e}); RLHF (4) {show(self.rlhf)} at {self.z_rlhf:.0f} SE "
                f"= {self.rlhf_gap:.0f}x the band; clipped terms {100 * self.clipped:.2f}%")


def compare(problem, *, long=False, seed=0, dps=30, progress=False, **settings):
    """Run GRPO (``SETTINGS``, overridable) on ``problem`` and compare the settled policy.

    ``long=True`` uses the ``LONG`` run (about 5 s per problem) instead of ``QUICK``.

    >>> c = compare(BINARY, dps=20)
    >>> c.passed, c.rlhf_gap > 10
    (True, True)
    """
    chains, iterations = LONG if long else QUICK
    options = {**SETTINGS, **settings}
    lr = options.pop("lr")
    run = simulate(problem, iterations, lr, chains=chains, seed=seed, progress=progress, **options)
    mean, stderr = run.estimate(0.5)
    prediction = np.array([float(x) for x in stationary_policy(problem, dps)])
    return Comparison(mean, stderr, prediction, rlhf_policy(problem), BIAS_PER_LR * lr,
                      float(run.clipped_fraction.mean()), chains, iterations)


def _flow_reaches_prediction(problem, dps, name):
    """The expected flow's end point against the solver's stationary policy (≥ FLOW_DIGITS)."""
    end = expected_flow(problem, 1000, 1.0)[-1]
    prediction = stationary_policy(problem, dps)
    return agreement([mpx.mpf(float(x)) for x in end], list(prediction), dps, margin=dps - FLOW_DIGITS,
                     what=f"{name}: expected flow (float64) vs stationary policy, need {FLOW_DIGITS} digits")


def _bistable_basins(dps):
    """Direct KL, G → ∞: below the repelling root → the smaller root; above it → towards π(a) = 1."""
    points = stationary_policies(BISTABLE, dps)
    if len(points) != 2 or not points[0].stable or points[1].stable:
        return symbolic(False, f"bistable case: expected a stable and a repelling root, got {points}")
    lower, upper = (float(pt.policy[0]) for pt in points)
    below = [expected_flow(BISTABLE, 3000, 1.0, start=[a, 1 - a])[-1, 0] for a in (0.5, upper - 1e-3)]
    above = expected_flow(BISTABLE, 3000, 1.0, start=[upper + 1e-3, 1 - upper - 1e-3])[:, 0]
    rising = bool(np.all(np.diff(above) > 0) and above[-1] > 1 - 1e-5)
    outcomes = [agreement([mpx.mpf(x) for x in below], [points[0].policy[0]] * 2, dps, margin=dps - FLOW_DIGITS,
                          what=f"bistable: flow (float64) from 0.5 and from {upper - 1e-3:.6f} vs smaller root {lower:.8f}, "
                               f"need {FLOW_DIGITS} digits"),
                symbolic(rising, f"bistable: flow from {upper + 1e-3:.6f} (above the repelling root {upper:.6f}) "
                                 f"rises monotonically to 1 - {1 - above[-1]:.1e}")]
    return combine(*outcomes)


@check("x-grpo-dynamics")
def check_x_grpo_dynamics(dps):
    outcomes = []
    for name, problem in (("binary G=8", BINARY), ("3 outputs, stochastic, G=4", STOCHASTIC)):
        outcomes.append(_flow_reaches_prediction(problem, dps, name))
        comparison = compare(problem, dps=dps)
        outcomes.append(symbolic(comparison.passed, comparison.describe(name)))
    outcomes.append(_bistable_basins(dps))
    return combine(*outcomes)
