"""Compare a trainer's recorded policies with the package's prediction and with RLHF's policy.

The measurement is the time average of the policy over the tail of training (after a burn-in),
with a standard error from batch means: the tail is cut into consecutive batches, and the spread
of the batch averages gives the error of their mean (valid when a batch is much longer than the
correlation time of the trajectory).  The prediction is the package's stationary policy for the
trainer's conventions (``preset("trl", ..., scale_rewards=..., use_bias_correction_kl=...)``),
solved at 50 digits and only then turned into floats; RLHF's policy is π ∝ π_ref·exp(E[r]/β).
Distances are in standard errors; for K outputs the reported distance is that of the component
with the largest |difference| / s.e. (its sign kept).  Nothing here needs torch.

>>> mean, se = batch_means([(0.1, 0.9), (0.3, 0.7), (0.2, 0.8), (0.4, 0.6)], batches=2)
>>> [round(x, 12) for x in mean], [round(x, 12) for x in se]
([0.25, 0.75], [0.05, 0.05])
>>> [round(float(x), 5) for x in rlhf_policy(["0.3", "0.7"], [1, 0], "0.5")]
[0.76, 0.24]
"""

from dataclasses import dataclass, field
import math

from grpo_symbolic.model.errors import ParameterError
from grpo_symbolic.model.presets import preset
from grpo_symbolic.model.problem import Problem
from grpo_symbolic.solve.api import stationary_policy
from grpo_symbolic.numerics.precision import mpx, rounded, to_mpf, working_precision
from grpo_symbolic.trainers.bandit import bandit_problem
from grpo_symbolic.trainers.trl_run import TRLSettings

PASS_PREDICTION_SE = 4    # |measured − prediction| must be below this many standard errors
PASS_RLHF_SE = 20         # |measured − RLHF| must be above this many standard errors


def batch_means(series, batches=10, burn_in=0):
    """Mean and batch-means standard error of a vector series after dropping ``burn_in`` entries.

    The kept tail is cut into ``batches`` consecutive equal batches (a remainder is dropped from
    the start of the tail); s.e. = sample std of the batch averages / sqrt(batches).

    >>> batch_means([(1.0,), (2.0,)], batches=3)
    Traceback (most recent call last):
    ...
    grpo_symbolic.model.errors.ParameterError: batches: 3 batches need at least 3 recorded steps after the burn-in of 0; got 2
    """
    if not isinstance(batches, int) or batches < 2:
        raise ParameterError(f"batches: got {batches!r}; give an integer ≥ 2")
    if not isinstance(burn_in, int) or burn_in < 0:
        raise ParameterError(f"burn_in: got {burn_in!r}; give an integer ≥ 0")
    tail = [tuple(float(x) for x in row) for row in list(series)[burn_in:]]
    if len(tail) < batches:
        raise ParameterError(
            f"batches: {batches} batches need at least {batches} recorded steps after the burn-in of "
            f"{burn_in}; got {len(tail)}"
        )
    size = len(tail) // batches
    tail = tail[len(tail) - size * batches:]
    width = len(tail[0])
    averages = [[math.fsum(row[k] for row in tail[b * size:(b + 1) * size]) / size for k in range(width)]
                for b in range(batches)]
    mean = [math.fsum(avg[k] for avg in averages) / batches for k in range(width)]
    se = [math.sqrt(math.fsum((avg[k] - mean[k]) ** 2 for avg in averages) / (batches - 1) / batches)
          for k in range(width)]
    return tuple(mean), tuple(se)


def correlation_time(values):
    """Integrated autocorrelation time (in steps) of a scalar series: 1 + 2·Σ ρ(k), summed while ρ(k) > 0.

    Batch means are trustworthy when a batch is many times longer than this.

    >>> correlation_time([0.0, 1.0] * 50)   # anticorrelated: no positive lag
    1.0
    >>> round(correlation_time([float(i // 10 % 2) for i in range(400)]), 1)   # ρ(k) ≈ 1 − k/5 up to k = 5
    5.1
    """
    xs = [float(v) for v in values]
    n = len(xs)
    if n < 3:
        raise ParameterError(f"values: got {n} values; the correlation time needs at least 3")
    mean = math.fsum(xs) / n
    dev = [x - mean for x in xs]
    var = math.fsum(d * d for d in dev) / n
    if var == 0:
        return 1.0
    tau = 1.0
    for lag in range(1, n // 2):
        rho = math.fsum(dev[i] * dev[i + lag] for i in range(n - lag)) / (n * var)
        if rho <= 0:
            break
        tau += 2 * rho
    return tau


def predicted_problem(settings, **overrides):
    """The package's :class:`~grpo_symbolic.Problem` for a TRL run with these ``settings``.

    TRL's conventions through the "trl" preset (Bessel std, eps = 1e-4, k3 or, with
    ``use_bias_correction_kl``, the direct penalty; ``scale_rewards="none"`` → shift-only).
    ``overrides`` replace Problem fields, e.g. ``normalisation="population"`` for the alternative
    a case must be distinguishable from.  ``loss_type`` needs no counterpart: with one-token
    completions "grpo", "bnpo", "dapo" and "dr_grpo" average the same per-token losses.

    >>> predicted_problem(TRLSettings(use_bias_correction_kl=True)).penalty == "direct"
    True
    >>> predicted_problem(TRLSettings(), normalisation="population").normalisation.value
    'population'
    """
    prob = preset("trl", list(settings.reference), list(settings.rewards), settings.group_size, settings.beta,
                  scale_rewards=settings.scale_rewards, use_bias_correction_kl=settings.use_bias_correction_kl)
    if not overrides:
        return prob
    fields = dict(reference=list(settings.reference), rewards=list(settings.rewards),
                  group_size=settings.group_size, beta=settings.beta, normalisation=prob.normalisation,
                  penalty=prob.penalty, eps=prob.eps)
    unknown = set(overrides) - set(fields)
    if unknown:
        raise ParameterError(f"overrides: {', '.join(sorted(unknown))} not a Problem field; use {', '.join(fields)}")
    fields.update(overrides)
    return Problem(**fields)


def predict(problem, dps=50):
    """The stationary policy of ``problem`` at ``dps`` digits, as floats."""
    point = stationary_policy(problem, dps=dps)
    return tuple(float(p) for p in getattr(point, "policy", point))


def rlhf_policy(reference, rewards, beta, dps=50):
    """RLHF's optimum π ∝ π_ref·exp(E[r]/β) as mpmath numbers (exact inputs, ``dps`` digits)."""
    problem = bandit_problem(reference, rewards, beta)
    problem.require_paper_penalty("rlhf_policy")
    with working_precision(dps):
        weights = [to_mpf(p) * mpx.exp(to_mpf(law.mean / problem.beta))
                   for p, law in zip(problem.reference, problem.rewards)]
        total = mpx.fsum(weights)
        return rounded(tuple(w / total for w in weights), dps)


def distance(measured, target, se):
    """Signed distance in standard errors of the component with the largest |measured − target| / s.e.

    Ties (as for two outputs, whose differences are opposite) go to the first component.

    >>> distance((0.5, 0.5), (0.4, 0.6), (0.01, 0.05))
    10.0
    """
    zs = [(m - t) / s if s > 0 else math.copysign(math.inf, m - t) if m != t else 0.0
          for m, t, s in zip(measured, target, se)]
    worst = max(range(len(zs)), key=lambda i: round(abs(zs[i]), 9))  # ties: the first component
    return round(zs[worst], 12)


@dataclass(frozen=True)
class Case:
    """One comparison: a TRL run, how much of it to average, and a model it must be told apart from."""

    name: str
    settings: TRLSettings
    burn_in: int
    batches: int = 10
    alternative: tuple = ()    # (label, dict of Problem overrides)

    def describe(self):
        s = self.settings
        refs = "/".join(str(p) for p in s.reference)
        rews = "/".join(_law_text(r) for r in s.rewards)
        return (f"π_ref {refs}, r {rews}, G={s.group_size}×{s.groups}, β={s.beta}, "
                f"scale_rewards={s.scale_rewards}, IS-k3={'on' if s.use_bias_correction_kl else 'off'}, "
                f"loss={s.loss_type}, SGD lr={s.learning_rate}, steps={s.steps} (burn-in {self.burn_in})")


def _law_text(reward):
    if isinstance(reward, dict):
        return "{" + ",".join(f"{v}:{p}" for v, p in reward.items()) + "}"
    return str(reward)


@dataclass
class Comparison:
    """The measured tail average of one run against the prediction, RLHF and the alternative."""

    case: Case
    measured: tuple
    se: tuple
    prediction: tuple
    rlhf: tuple
    alternative: tuple = ()
    seconds: float = 0.0
    versions: dict = field(default_factory=dict)
    tau: float = 0.0            # correlation time (steps) of π(first output) over the tail

    @property
    def z_prediction(self):
        return distance(self.measured, self.prediction, self.se)

    @property
    def z_rlhf(self):
        return distance(self.measured, self.rlhf, self.se)

    @property
    def z_alternative(self):
        return distance(self.measured, self.alternative, self.se) if self.alternative else None

    @property
    def passed(self):
        return abs(self.z_prediction) < PASS_PREDICTION_SE and abs(self.z_rlhf) > PASS_RLHF_SE


def compare(case, policies, seconds=0.0, versions=None, dps=50):
    """A :class:`Comparison` of recorded ``policies`` (one tuple a step) for ``case``.

    >>> case = Case("toy", TRLSettings(steps=4), burn_in=0, batches=2)
    >>> c = compare(case, [(0.84, 0.16), (0.845, 0.155), (0.843, 0.157), (0.843, 0.157)])
    >>> round(c.prediction[0], 5), round(c.rlhf[0], 5), round(c.z_prediction, 1), round(c.z_rlhf), c.passed
    (0.84283, 0.76, -0.3, 331, True)
    """
    s = case.settings
    mean, se = batch_means(policies, case.batches, case.burn_in)
    tau = correlation_time([row[0] for row in list(policies)[case.burn_in:]])
    alternative = ()
    if case.alternative:
        alternative = predict(predicted_problem(s, **case.alternative[1]), dps)
    return Comparison(case=case, measured=mean, se=se, prediction=predict(predicted_problem(s), dps),
                      rlhf=tuple(float(p) for p in rlhf_policy(s.reference, s.rewards, s.beta, dps)),
                      alternative=alternative, seconds=seconds, versions=dict(versions or {}), tau=tau)


def _vector(values, digits=5):
    """The first K−1 components (the last is 1 minus their sum)."""
    return " / ".join(f"{v:.{digits}f}" for v in values[:-1])


def format_table(comparisons):
    """A Markdown table of comparisons (policies show π of all outputs but the last)."""
    head = ("| case | trainer | settings | prediction | measured ± s.e. | RLHF | Δ pred / s.e. | Δ RLHF / s.e. "
            "| alternative: Δ / s.e. | τ / batch (steps) | seconds | pass |")
    rows = [head, "|" + "---|" * head.count(" | ") + "---|"]
    for c in comparisons:
        measured = " / ".join(f"{m:.5f} ± {s:.5f}" for m, s in zip(c.measured[:-1], c.se[:-1]))
        alt = "—"
        if c.alternative:
            alt = f"{c.case.alternative[0]} {_vector(c.alternative)}: {c.z_alternative:+.1f}"
        trainer = "TRL " + c.versions.get("trl", "?")
        rows.append(
            f"| {c.case.name} | {trainer} | {c.case.describe()} | {_vector(c.prediction)} | {measured} "
            f"| {_vector(c.rlhf)} | {c.z_prediction:+.1f} | {c.z_rlhf:+.1f} | {alt} "
            f"| {c.tau:.0f} / {(c.case.settings.steps - c.case.burn_in) // c.case.batches} | {c.seconds:.0f} "
            f"| {'yes' if c.passed else 'NO'} |"
        )
    return "\n".join(rows)
