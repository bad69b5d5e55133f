"""Trainer configs and presets: x-config-round-trips, x-preset-simulation, x-preset-simulation-trainers.

* ``x-config-round-trips``: the config stored with each preset (:data:`grpo_symbolic.model.presets.TABLE`,
  in the trainer's own field names) is read by :func:`~grpo_symbolic.model.trainer_config.settings_from_config`
  into exactly the preset's settings and β; where the Problem can be built, :func:`from_trainer_config`
  gives the preset's Problem; and flipping one mapped field changes the settings (the check can fail).
* ``x-preset-simulation``: for the presets whose settings are the paper's family (std or shift
  normalisation, k3 or IS-weighted k3 in the loss), the solver's stationary policy of a binary context
  against a sampled run of the trainer's update (:func:`paper_checks.checks_dynamics.compare`:
  sampled groups, the trainer's advantage and estimator, clipped ratios), within 3 standard errors
  plus the learning-rate bias allowance, RLHF (4) far outside.
* ``x-preset-simulation-trainers``: the same for the presets with settings beyond that family (``rloo``:
  TRL's leave-one-out advantage with k1 in the reward before normalisation; ``openrlhf-group-norm``: k1
  added after normalisation; ``dapo``: all-equal groups dropped and the batch refilled), the sampled
  run computing each advantage and filter as the trainer does
  (:mod:`grpo_symbolic.dynamics.sampled_advantages`), independently of the engine's exact rules the
  solver uses.  Where the prediction is RLHF's log pooling itself (the KL in the reward with
  deterministic rewards, as derived for ``rloo``) the run is told apart from the paper's GRPO policy
  instead.  DAPO's own β = 0 with no entropy bonus has no interior stationary policy: the check
  verifies what the theory says instead — the solver answers NO_INTERIOR_POINT naming the vertex of
  the best output, and the sampled runs of DAPO's update approach that vertex (1 − π(best) falls at
  every checkpoint, in every chain, below :data:`VERTEX_REACHED` at the end); DAPO's filter is also
  compared at an interior point, with the k3 penalty at CONTEXT's β.  While the Problem refuses a
  preset's settings the check fails, saying "unsupported" and why.

The context is :data:`CONTEXT` at β = 1/2 (the trainers' default β of 0.001–0.04 puts π* so close
to the vertex that a short sampled run cannot resolve it).
"""

import warnings

import numpy as np

from grpo_symbolic.dynamics.simulate import simulate
from grpo_symbolic.model.errors import ParameterError, SolverError
from grpo_symbolic.model.problem import Problem
from grpo_symbolic.model.presets import TABLE, preset, preset_settings
from grpo_symbolic.model.trainer_config import TrainerConfigWarning, from_trainer_config, settings_from_config
from grpo_symbolic.solve.api import stationary_policy
from paper_checks.checks_dynamics import SETTINGS, compare
from paper_checks.registry import Outcome, check, combine, symbolic

#: π_ref, rewards, G and β of the sampled comparisons.
CONTEXT = dict(reference=["0.3", "0.7"], rewards=[1, 0], group_size=4, beta="0.5")
PAPER_FAMILY = ("paper", "trl-0.18", "trl-1.10", "verl-grpo", "openrlhf-kl-loss", "dr_grpo")
TRAINER_SETTINGS = ("rloo", "dapo", "openrlhf-group-norm")
#: (chains, iterations, checkpoints) of the sampled runs towards a vertex (β = 0, no entropy).
VERTEX_RUN = (16, 400, (50, 100, 200, 400))
#: 1 − π(best) every chain must be below at the end of a run towards the vertex.
VERTEX_REACHED = 1e-3


@check("x-config-round-trips")
def check_x_config_round_trips(dps):
    outcomes = []
    for name, row in TABLE.items():
        if row.config is None:
            continue
        trainer, config = row.config
        kwargs, _ = settings_from_config(trainer, config)
        expected = preset_settings(name)
        same = {k: kwargs[k] for k in expected.problem_kwargs()} == expected.problem_kwargs() and kwargs["beta"] == expected.beta
        outcomes.append(symbolic(same, f"{name}: {trainer} config -> the preset's settings, beta = {kwargs['beta']}"))
        outcomes.append(_problem_round_trip(name, trainer, config, kwargs["group_size"]))
        outcomes.append(_mutant_differs(name, trainer, config, kwargs))
    return combine(outcomes)


def _problem_round_trip(name, trainer, config, group_size):
    """from_trainer_config's Problem = preset(...)'s, or both refused with the same message."""
    results = []
    for build in (lambda: from_trainer_config(trainer, config, reference=CONTEXT["reference"],
                                              rewards=CONTEXT["rewards"]).problem,
                  lambda: preset(name, CONTEXT["reference"], CONTEXT["rewards"], group_size)):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", TrainerConfigWarning)
                results.append(build())
        except ParameterError as exc:
            results.append(str(exc))
    return symbolic(results[0] == results[1], f"{name}: from_trainer_config = preset "
                    f"({'refused alike' if isinstance(results[0], str) else 'same Problem'})")


def _mutant_differs(name, trainer, config, kwargs):
    """Flip the first boolean field (none: double the first non-zero number) of the config: the settings change."""
    fields = dict(_flat(config))
    flags = [k for k, v in fields.items() if isinstance(v, bool)]
    key = flags[0] if flags else next(k for k, v in fields.items() if isinstance(v, (int, float)) and v)
    value = fields[key]
    mutated = {**fields, key: (not value) if isinstance(value, bool) else 2 * value}
    changed, _ = settings_from_config(trainer, mutated)
    return symbolic(changed != kwargs, f"{name}: changing {key} changes the settings")


def _flat(config, prefix=""):
    for key, value in config.items():
        if isinstance(value, dict):
            yield from _flat(value, f"{prefix}{key}.")
        else:
            yield prefix + key, value


def _simulated(name, dps, label=None):
    """The sampled run of preset ``name`` in CONTEXT (β = 1/2) against its stationary policy."""
    label = label or name
    try:
        problem = preset(name, **CONTEXT)
    except ParameterError as exc:
        return Outcome(passed=False, verdict="unsupported", details=f"{name}: unsupported: {exc}")
    comparison = compare(problem, dps=min(dps, 30))
    if not np.allclose(comparison.prediction, comparison.rlhf, rtol=0, atol=1e-12):
        return symbolic(comparison.passed, comparison.describe(label))
    paper = np.array([float(x) for x in stationary_policy(Problem(**CONTEXT), min(dps, 30))])
    gap = float(np.max(np.abs(comparison.mean - paper) / comparison.band))
    return symbolic(comparison.settles_at_prediction and gap >= 10,
                    f"{comparison.describe(label)}; the prediction is RLHF's log pooling (the KL in the reward, "
                    f"deterministic rewards), so the run is told apart from the paper's GRPO policy {paper[0]:.5f}: "
                    f"{gap:.0f}x the band (>= 10 needed)")


def _towards_vertex(name, dps):
    """Preset ``name`` at its own β = 0 (no entropy): no interior point; the runs approach the best vertex."""
    problem = preset(name, CONTEXT["reference"], CONTEXT["rewards"], CONTEXT["group_size"])
    best = max(range(problem.size), key=lambda o: problem.rewards[o].mean)
    try:
        point = stationary_policy(problem, min(dps, 30))
        stated = symbolic(False, f"{name}: beta = 0 and no entropy, yet the solver returned a point {point}")
    except SolverError as exc:
        named = exc.reason == SolverError.NO_INTERIOR_POINT and f"vertex of output {best + 1}" in str(exc)
        stated = symbolic(named, f"{name}: the solver: {exc.reason}, '{str(exc)[:160]}...'")
    chains, iterations, checkpoints = VERTEX_RUN
    run = simulate(problem, iterations, chains=chains, seed=0, **SETTINGS)
    gaps = 1 - run.policies[list(checkpoints), :, best]
    approaching = bool(np.all(np.diff(gaps, axis=0) < 0) and np.all(gaps[-1] < VERTEX_REACHED))
    shown = ", ".join(f"t={t}: {g:.1e}" for t, g in zip(checkpoints, gaps.max(axis=1)))
    return combine(stated, symbolic(approaching, f"{name}: sampled runs ({chains} chains) of its update, the largest "
                                                 f"1 - pi(output {best + 1}) over chains: {shown} (falling in every chain, "
                                                 f"< {VERTEX_REACHED:.0e} at the end)"))


def _trainer_preset(name, dps):
    """A preset of TRAINER_SETTINGS: at CONTEXT's β, or towards its vertex where its own β = 0 leaves no point."""
    try:
        settings = preset_settings(name)
    except ParameterError as exc:
        return Outcome(passed=False, verdict="unsupported", details=f"{name}: unsupported: {exc}")
    if settings.beta == 0 and settings.entropy == 0:
        return combine(_towards_vertex(name, dps), _simulated(name, dps, f"{name}'s filter with k3 in the loss at beta = 1/2"))
    return _simulated(name, dps)


@check("x-preset-simulation")
def check_x_preset_simulation(dps):
    return combine([_simulated(name, dps) for name in PAPER_FAMILY])


@check("x-preset-simulation-trainers")
def check_x_preset_simulation_trainers(dps):
    return combine([_trainer_preset(name, dps) for name in TRAINER_SETTINGS])
