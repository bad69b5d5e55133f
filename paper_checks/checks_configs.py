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
* ``x-preset-simulation-trainers``: the same for the presets with settings beyond that family; while
  the Problem refuses one of them the check fails, saying "unsupported" and why.

The context is :data:`CONTEXT` at β = 1/2 (the trainers' default β of 0.001–0.04 puts π* so close
to the vertex that a short sampled run cannot resolve it).
"""

import warnings

from grpo_symbolic.model.errors import ParameterError
from grpo_symbolic.model.presets import TABLE, preset, preset_settings
from grpo_symbolic.model.trainer_config import TrainerConfigWarning, from_trainer_config, settings_from_config
from paper_checks.checks_dynamics import compare
from paper_checks.registry import Outcome, check, combine, symbolic

#: π_ref, rewards, G and β of the sampled comparisons.
CONTEXT = dict(reference=["0.3", "0.7"], rewards=[1, 0], group_size=4, beta="0.5")
PAPER_FAMILY = ("paper", "trl-0.18", "trl-1.10", "verl-grpo", "openrlhf-kl-loss", "dr_grpo")
TRAINER_SETTINGS = ("rloo", "dapo", "openrlhf-group-norm")


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


def _simulated(name, dps):
    """The sampled run of preset ``name`` in CONTEXT against its stationary policy."""
    try:
        problem = preset(name, **CONTEXT)
    except ParameterError as exc:
        return Outcome(passed=False, verdict="unsupported", details=f"{name}: unsupported: {exc}")
    comparison = compare(problem, dps=min(dps, 30))
    return symbolic(comparison.passed, comparison.describe(name))


@check("x-preset-simulation")
def check_x_preset_simulation(dps):
    return combine([_simulated(name, dps) for name in PAPER_FAMILY])


@check("x-preset-simulation-trainers")
def check_x_preset_simulation_trainers(dps):
    return combine([_simulated(name, dps) for name in TRAINER_SETTINGS])
