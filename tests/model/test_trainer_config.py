"""Trainer configs as input (grpo_symbolic.model.trainer_config): every field mapped, warned or refused."""

from types import SimpleNamespace as NS
import warnings

import pytest
import sympy as sp

from grpo_symbolic import ParameterError, Problem
from grpo_symbolic.model.presets import TABLE, preset, preset_settings
from grpo_symbolic.model.settings import Advantage, Estimator, GroupFilter, Normalisation, Placement
from grpo_symbolic.model.trainer_config import (
    TRAINERS, TrainerConfigWarning, from_trainer_config, known_fields, settings_from_config,
)

#: TRL < 0.19's defaults, with one token per completion (no length warning).
TRL_018 = {"num_generations": 8, "beta": 0.04, "scale_rewards": True, "use_bias_correction_kl": False,
           "loss_type": "bnpo", "epsilon": 0.2, "num_iterations": 1, "max_completion_length": 1}
VERL_EXAMPLE = {"algorithm": {"adv_estimator": "grpo", "use_kl_in_reward": False},
                "actor_rollout_ref": {"rollout": {"n": 5}, "actor": {"use_kl_loss": True, "kl_loss_coef": 0.001,
                                                                     "kl_loss_type": "low_var_kl", "entropy_coeff": 0,
                                                                     "ppo_mini_batch_size": 256}},
                "data": {"train_batch_size": 256, "max_response_length": 1}}
REF, REWARDS = ["0.3", "0.7"], [1, 0]


def settings(trainer, config):
    return settings_from_config(trainer, config)[0]


def test_trl_defaults_with_beta_reproduce_the_trl_preset():
    setup = from_trainer_config("trl", TRL_018, reference=REF, rewards=REWARDS)
    assert setup.problem == preset("trl", REF, REWARDS, 8) == preset("trl-0.18", REF, REWARDS, 8, "0.04")
    assert setup.warnings == ()


def test_verl_example_reproduces_the_verl_preset_from_nested_and_dotted_keys():
    dotted = {"algorithm.adv_estimator": "grpo", "actor_rollout_ref.rollout.n": 5,
              "actor_rollout_ref.actor.use_kl_loss": True, "data.train_batch_size": 256, "data.max_response_length": 1}
    with pytest.warns(TrainerConfigWarning, match="clamped at ±10"):
        nested = from_trainer_config("verl", VERL_EXAMPLE, reference=REF, rewards=REWARDS)
    assert nested.problem == preset("verl", REF, REWARDS, 5)
    assert settings("verl", dotted) == settings("verl", VERL_EXAMPLE)
    assert [w.split("=")[0] for w in nested.warnings] == ["actor_rollout_ref.actor.kl_loss_type"]


def test_config_objects_are_read_by_attribute():
    grpo_config = NS(**TRL_018, learning_rate=1e-6, output_dir="x", some_future_field=3)  # objects carry extras
    assert settings("trl", grpo_config) == settings("trl", TRL_018)
    verl = NS(algorithm=NS(adv_estimator="grpo"), actor_rollout_ref=NS(rollout=NS(n=5), actor=NS(use_kl_loss=True)),
              data=NS(train_batch_size=256, max_response_length=1))
    assert settings("verl", verl) == settings("verl", VERL_EXAMPLE)
    old_openrlhf = NS(n_samples_per_prompt=4, advantage_estimator="group_norm", use_kl_loss=True, kl_estimator="k3")
    new_openrlhf = {"rollout": {"n_samples_per_prompt": 4}, "algo.advantage.estimator": "group_norm",
                    "algo": {"kl": {"use_loss": True, "estimator": "k3"}}}
    assert settings("openrlhf", old_openrlhf) == settings("openrlhf", new_openrlhf)


@pytest.mark.parametrize("name", [name for name, row in TABLE.items() if row.config])
def test_each_preset_config_round_trips(name):
    trainer, config = TABLE[name].config
    kwargs = settings(trainer, config)
    expected = preset_settings(name)
    assert {k: kwargs[k] for k in expected.problem_kwargs()} == expected.problem_kwargs()
    assert kwargs["beta"] == expected.beta


@pytest.mark.parametrize("trainer, config, expected", [
    ("trl", {"beta": 0.1, "use_bias_correction_kl": True}, {"kl_estimator": Estimator.IS_K3, "beta": sp.Rational(1, 10)}),
    ("trl", {"scale_rewards": "none"}, {"normalisation": Normalisation.SHIFT}),
    ("trl", {"scale_rewards": False}, {"normalisation": Normalisation.SHIFT}),
    ("trl", {"entropy_coef": 0.01}, {"entropy": sp.Rational(1, 100)}),
    ("trl", {"num_generations": "16"}, {"group_size": 16}),
    ("verl", {"actor_rollout_ref.rollout.n": 4, "algorithm.adv_estimator": "rloo"}, {"advantage": Advantage.RLOO}),
    ("verl", {"actor_rollout_ref.rollout.n": 4, "algorithm.adv_estimator": "grpo", "algorithm.norm_adv_by_std_in_grpo": False},
     {"normalisation": Normalisation.SHIFT}),
    ("verl", {"actor_rollout_ref.rollout.n": 4, "algorithm.adv_estimator": "grpo", "algorithm.use_kl_in_reward": True,
              "algorithm.kl_ctrl.kl_coef": 0.002}, {"kl_placement": Placement.REWARD_PRE, "kl_estimator": Estimator.K1,
                                                    "beta": sp.Rational(2, 1000)}),
    ("verl", {"actor_rollout_ref.rollout.n": 4, "algorithm.adv_estimator": "grpo", "actor_rollout_ref.actor.use_kl_loss": True,
              "actor_rollout_ref.actor.kl_loss_type": "k3+"}, {"kl_estimator": Estimator.K3_PLUS}),
    ("verl", {"actor_rollout_ref.rollout.n": 4, "algorithm.adv_estimator": "grpo", "actor_rollout_ref.actor.use_kl_loss": "true",
              "actor_rollout_ref.actor.kl_loss_type": "mse"}, {"kl_estimator": Estimator.K2}),
    ("verl", {"actor_rollout_ref.rollout.n": 4, "algorithm.adv_estimator": "grpo"}, {"beta": 0}),
    ("verl", {"actor_rollout_ref.rollout.n": 4, "algorithm.adv_estimator": "grpo", "actor_rollout_ref.actor.entropy_coeff": 0.001,
              "algorithm.filter_groups.enable": True}, {"entropy": sp.Rational(1, 1000), "group_filter": GroupFilter.DROP_EQUAL}),
    ("openrlhf", {"rollout.n_samples_per_prompt": 4, "algo.advantage.estimator": "dr_grpo"},
     {"normalisation": Normalisation.SHIFT, "kl_placement": Placement.REWARD_POST, "beta": sp.Rational(1, 100)}),
    ("openrlhf", {"n_samples_per_prompt": 4, "advantage_estimator": "rloo", "dynamic_filtering": True, "init_kl_coef": 0.05},
     {"advantage": Advantage.RLOO, "group_filter": GroupFilter.DROP_EQUAL, "beta": sp.Rational(1, 20)}),
    ("openrlhf", {"n_samples_per_prompt": 4, "advantage_estimator": "group_norm", "entropy_loss_coef": 0.1},
     {"entropy": sp.Rational(1, 10)}),
])
def test_fields_map_to_problem_settings(trainer, config, expected):
    kwargs = settings(trainer, config)
    assert {k: kwargs[k] for k in expected} == expected


@pytest.mark.parametrize("trainer, config, field", [
    ("trl", {"num_iterations": 2}, "num_iterations"),
    ("trl", {"use_bias_correction_kl": None}, "use_bias_correction_kl"),
    ("trl", {"steps_per_generation": 4}, "num_iterations"),
    ("trl", {"scale_rewards": "batch"}, "scale_rewards"),
    ("trl", {"loss_type": "dapo", "max_completion_length": 256}, "loss_type"),
    ("trl", {"loss_type": "cispo", "max_completion_length": 1}, "loss_type"),
    ("trl", {"temperature": 0.7}, "temperature"),
    ("trl", {"top_k": 50}, "top_k"),
    ("trl", {"sync_ref_model": True}, "sync_ref_model"),
    ("trl", {"use_adaptive_entropy": True}, "use_adaptive_entropy"),
    ("trl", {"mask_truncated_completions": True}, "mask_truncated_completions"),
    ("trl", {"top_entropy_quantile": 0.2}, "top_entropy_quantile"),
    ("trl", {"multi_objective_aggregation": "normalize_then_sum"}, "multi_objective_aggregation"),
    ("verl", {"actor_rollout_ref.actor.ppo_epochs": 2}, "data.train_batch_size"),
    ("verl", {"data.max_response_length": 512}, "actor_rollout_ref.actor.loss_agg_mode"),
    ("verl", {"algorithm.use_kl_in_reward": True, "algorithm.kl_ctrl.type": "adaptive"}, "algorithm.kl_ctrl.type"),
    ("verl", {"algorithm.filter_groups.enable": True, "algorithm.filter_groups.metric": "length"},
     "algorithm.filter_groups.metric"),
    ("openrlhf", {"advantage_estimator": "reinforce_baseline"}, "algo.advantage.estimator"),
    ("openrlhf", {"dynamic_filtering": True, "dynamic_filtering_reward_range": [0.1, 0.9]}, "algo.dynamic_filtering_range"),
    ("openrlhf", {"max_epochs": 2}, "train.max_epochs"),
    ("openrlhf", {"kl_target": 0.1}, "algo.kl.target"),
])
def test_unrepresentable_fields_are_named_in_a_warning(trainer, config, field):
    base = {"trl": {"max_completion_length": 1, "use_bias_correction_kl": False}, "openrlhf": {"n_samples_per_prompt": 4, "advantage_estimator": "group_norm"},
            "verl": {"actor_rollout_ref.rollout.n": 4, "algorithm.adv_estimator": "grpo", "data.train_batch_size": 256,
                     "data.max_response_length": 1}}[trainer]
    _, quiet = settings_from_config(trainer, base)
    _, notes = settings_from_config(trainer, {**base, **config})
    new = [n for n in notes if n not in quiet]
    assert new and all(n.startswith(f"{field}=") or "clip_range" in n for n in new), notes


@pytest.mark.parametrize("trainer, config, message", [
    ("trl", {"num_generation": 8}, "num_generation: not a field of the trl config; did you mean 'num_generations'"),
    ("trl", {"bta": 0.1}, "did you mean 'beta'"),
    ("verl", {"actor_rollout_ref": {"actor": {"entropy_coef": 0.1}}}, "did you mean 'actor_rollout_ref.actor.entropy_coeff'"),
    ("verl", {"algorithm": {"adv_estimater": "grpo"}}, "did you mean 'algorithm.adv_estimator'"),
    ("openrlhf", {"algo.kl.init_coeff": 0.1}, "did you mean 'algo.kl.init_coef'"),
    ("openrlhf", {"zzz": 1}, "known_fields('openrlhf')"),
    ("trl", {"beta": "1+1"}, "beta: cannot read"),
    ("trl", {"num_generations": 1}, "num_generations: got 1"),
    ("trl", {"num_generations": 2.5}, "num_generations: got 2.5"),
    ("trl", {"scale_rewards": "std"}, "scale_rewards: got 'std'"),
    ("trl", {"use_bias_correction_kl": "maybe"}, "use_bias_correction_kl: got 'maybe'"),
    ("verl", {"actor_rollout_ref.rollout.n": 4}, "algorithm.adv_estimator: got 'gae'"),
    ("verl", {"actor_rollout_ref.rollout.n": 4, "algorithm.adv_estimator": "grpo", "actor_rollout_ref.actor.use_kl_loss": True,
              "algorithm.use_kl_in_reward": True}, "one KL term"),
    ("verl", {"actor_rollout_ref.rollout.n": 4, "algorithm.adv_estimator": "grpo", "actor_rollout_ref.actor.use_kl_loss": True,
              "actor_rollout_ref.actor.kl_loss_type": "abs"}, "kl_loss_type: got 'abs'"),
    ("openrlhf", {"n_samples_per_prompt": 4, "advantage_estimator": "gae"}, "needs a critic"),
    ("openrlhf", {"n_samples_per_prompt": 4, "rollout.n_samples_per_prompt": 4}, "given twice"),
    ("deepspeed", {}, "trainer: got 'deepspeed'"),
])
def test_bad_configs_raise_parameter_errors_naming_the_field(trainer, config, message):
    with pytest.raises(ParameterError, match=message.replace("(", r"\(").replace(")", r"\)")):
        settings_from_config(trainer, config)


def test_floats_are_read_as_the_decimals_written():
    assert settings("trl", {"beta": 0.04})["beta"] == sp.Rational(1, 25)
    assert settings("trl", {"beta": 1e-3})["beta"] == sp.Rational(1, 1000)


def test_irrelevant_fields_are_accepted_silently():
    config = {**TRL_018, "learning_rate": 1e-6, "logging_steps": 10, "report_to": "none", "bf16": False}
    assert settings_from_config("trl", config) == settings_from_config("trl", TRL_018)
    verl = {**VERL_EXAMPLE, "trainer": {"total_epochs": 15, "logger": ["console"]}}
    assert settings_from_config("verl", verl) == settings_from_config("verl", VERL_EXAMPLE)


def test_every_table_field_is_used_or_read():
    for trainer in TRAINERS.values():
        assert not set(trainer.fields) & set(trainer.ignored), trainer.name
        assert set(trainer.aliases.values()) <= set(trainer.fields), trainer.name
        assert known_fields(trainer.name)[: len(trainer.fields)] == tuple(trainer.fields)


@pytest.mark.filterwarnings("ignore::grpo_symbolic.model.trainer_config.TrainerConfigWarning")
def test_an_unsupported_setting_is_refused_by_the_problem_not_dropped():
    config = {"n_samples_per_prompt": 4, "advantage_estimator": "group_norm"}  # k1 after normalisation
    kwargs = settings("openrlhf", config)
    try:
        problem = from_trainer_config("openrlhf", config, reference=REF, rewards=REWARDS).problem
    except ParameterError as exc:
        assert "not supported" in str(exc) or "kl_placement" in str(exc)
    else:  # once the placement is built, the Problem carries it
        assert problem.kl_placement is Placement.REWARD_POST and problem.kl_estimator is kwargs["kl_estimator"]


def test_warnings_are_issued_and_returned():
    config = {**TRL_018, "num_iterations": 4}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        setup = from_trainer_config("trl", config, reference=REF, rewards=REWARDS, names=["a", "b"])
    assert [str(w.message) for w in caught] == [f"trl: {w}" for w in setup.warnings]
    assert all(w.category is TrainerConfigWarning for w in caught) and setup.problem.names == ("a", "b")
    assert setup.problem == Problem(REF, REWARDS, 8, "0.04", "sample", "grpo", "0.0001", names=["a", "b"])


@pytest.mark.parametrize("field", ["beta", "num_generations", "entropy_coef", "scale_rewards", "use_bias_correction_kl"])
def test_an_injection_string_in_a_config_is_an_error_and_runs_nothing(field, tmp_path):
    marker = tmp_path / "INJECTED"
    with pytest.raises(ParameterError, match=field):
        settings_from_config("trl", {field: f'__import__("os").system("touch {marker}")'})
    assert not marker.exists()
