"""A trainer's own config as input: TRL, verl and OpenRLHF fields → :class:`Problem` keyword arguments.

:func:`settings_from_config` reads a config — the trainer's config object (duck-typed: its
attributes are read, the trainer is never imported) or a plain mapping with the trainer's own field
names (verl's nested keys as nested mappings or as dotted keys, ``"actor_rollout_ref.rollout.n"``)
— and returns ``(kwargs, warnings)``: the :class:`Problem` keyword arguments the fields amount to,
and one message per field whose value the per-prompt model cannot represent (off-policy updates
with a binding clip, a batch-wide std, token aggregation over outputs of different lengths, …).
:func:`from_trainer_config` builds the Problem from them for a prompt's π_ref and rewards.

The fields, their defaults and their meaning were read from the trainers' source (:data:`TRAINERS`,
each with file and commit).  Every field that changes the stationary policy is mapped; a field the
model cannot represent is named in a warning, never silently ignored; fields that do not change
the stationary policy (learning rate, logging, hardware, …) are accepted silently from an explicit
list; any other name in a mapping is a :class:`ParameterError` suggesting the nearest known name.
A float in a config is read as the decimal it prints as (0.04 → 1/25): the number its author wrote.
Clamps of the per-sample KL value (verl's low_var_kl and OpenRLHF's estimators clamp at ±10) are
named in a warning and left out of the settings, so that a config maps to its preset: they act
only where the KL value leaves ±10 at the stationary policy; ``kl_clamp=10`` models one.

>>> kwargs, notes = settings_from_config("trl", {"beta": 0.04, "use_bias_correction_kl": False})
>>> print(kwargs["beta"], kwargs["kl_estimator"], kwargs["normalisation"], kwargs["group_size"])
1/25 k3 sample 8
>>> notes
["loss_type='dapo': each output is one unit here; with completions of different lengths (max_completion_length=512) the token aggregation weights outputs by their lengths, which is not modelled"]
>>> settings_from_config("trl", {"num_generation": 4})
Traceback (most recent call last):
...
grpo_symbolic.model.errors.ParameterError: num_generation: not a field of the trl config; did you mean 'num_generations'?
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
import difflib
from typing import Any
import warnings as _warnings

import sympy as sp

from grpo_symbolic.model.errors import ParameterError
from grpo_symbolic.model.numbers import exact
from grpo_symbolic.model.problem import Problem, RewardSpec
from grpo_symbolic.model.settings import Advantage, Estimator, GroupFilter, Normalisation, Placement

Values = Mapping[str, Any]
#: (field name, value, every field's value) → Problem keyword arguments.
Setter = Callable[[str, Any, Values], dict[str, Any]]
#: (field name, value, every field's value) → a warning, or None when the value is represented.
Warner = Callable[[str, Any, Values], "str | None"]


class TrainerConfigWarning(UserWarning):
    """A config field whose value the per-prompt model cannot represent (see :func:`from_trainer_config`)."""


@dataclass(frozen=True)
class Field:
    """One config field: its default in the trainer, and what it sets or warns about.

    A field with neither ``sets`` nor ``warns`` is read by another field's rule.
    """

    default: Any
    sets: Setter | None = None
    warns: Warner | None = None


@dataclass(frozen=True)
class Trainer:
    """One trainer's table: fields, constants of its code, silently accepted names, old names."""

    name: str
    source: str
    fields: dict[str, Field]
    constants: dict[str, Any]
    ignored: tuple[str, ...]
    """Names accepted silently; an entry ending in "." accepts every name below it."""
    aliases: dict[str, str] = field(default_factory=dict)
    """Old field names → current ones."""


# --- readers of field values (each names the field in its error) -----------------------------------


def _number(name: str, value: Any) -> sp.Expr:
    if isinstance(value, float):
        value = repr(value)  # the decimal its author wrote, not the binary double
    return exact(value, name)


def _flag(name: str, value: Any) -> bool:
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if not isinstance(value, bool):
        raise ParameterError(f"{name}: got {value!r}; use true or false")
    return value


def _choice(name: str, value: Any, allowed: Iterable[str], fix: str = "") -> str:
    allowed = tuple(allowed)
    if value not in allowed:
        raise ParameterError(f"{name}: got {value!r}; use one of {', '.join(allowed)}{fix}")
    return str(value)


def _whole(name: str, value: Any) -> int:
    number = _number(name, value)
    if not (number.is_integer and number >= 1):
        raise ParameterError(f"{name}: got {value!r}; give a whole number >= 1")
    return int(number)


def _to(kwarg: str, read: Callable[[str, Any], Any]) -> Setter:
    """A setter passing the read value on as Problem keyword ``kwarg``."""
    return lambda name, value, values: {kwarg: read(name, value)}


def _group_size(name: str, value: Any, values: Values) -> dict[str, Any]:
    size = _whole(name, value)
    if size < 2:
        raise ParameterError(f"{name}: got {size}; a group needs at least 2 samples per prompt (set {name} >= 2)")
    return {"group_size": size}


def _entropy(name: str, value: Any, values: Values) -> dict[str, Any]:
    return {"entropy": sp.Integer(0) if value is None else _number(name, value)}


def _estimator(name: str, value: Any) -> tuple[Estimator, bool]:
    """verl's estimator names (verl/trainer/ppo/core_algos.py kl_penalty) → (Estimator, value clamped at ±10?)."""
    table = {"kl": (Estimator.K1, False), "k1": (Estimator.K1, False), "mse": (Estimator.K2, False),
             "k2": (Estimator.K2, False), "low_var_kl": (Estimator.K3, True), "k3": (Estimator.K3, True),
             "k3+": (Estimator.K3_PLUS, True), "low_var_kl+": (Estimator.K3_PLUS, True)}
    return table[_choice(name, value, table, " (abs, full and k1+ have no counterpart here)")]


# --- warnings -------------------------------------------------------------------------------------


def _when(condition: Callable[[Any, Values], bool], message: str) -> Warner:
    """A warner giving ``message`` (formatted with the values as ``v``) when ``condition`` holds."""
    return lambda name, value, values: message.format(v=values) if condition(value, values) else None


def _is_on(value: Any, values: Values) -> bool:
    return value is True or str(value).strip().lower() == "true"


def _differs(default: Any) -> Callable[[Any, Values], bool]:
    return lambda value, values: value is not None and value != default


_SAMPLING = "π is the policy the samples are drawn from; a sampler that reshapes it (temperature, top-p, top-k) " \
            "makes π_ref and π the reshaped distributions — give π_ref as the sampler sees it"
_OFF_POLICY = "{n} updates per batch of samples: after the first, π_old ≠ π and the ratio clip (±{clip}) can bind; " \
              "the model assumes π_old = π, exact in the small-learning-rate limit"
_CLAMP = "the per-sample KL value is clamped at ±10 by the trainer; the settings leave the clamp out (it acts only " \
         "where the KL value leaves ±10 at the stationary policy): add kl_clamp=10 (--kl-clamp 10) to model it"


def _length_warning(length_field: str) -> Warner:
    def warn(name: str, value: Any, values: Values) -> str | None:
        if values[length_field] == 1:
            return None
        return (f"each output is one unit here; with completions of different lengths ({length_field}="
                f"{values[length_field]}) the token aggregation weights outputs by their lengths, which is not modelled")
    return warn


# --- TRL (huggingface/trl trl/trainer/grpo_config.py, grpo_trainer.py @ f2cd577, 1.10.0.dev0) ------


def _trl_scale(name: str, value: Any, values: Values) -> dict[str, Any]:
    scale = ("group" if value else "none") if isinstance(value, bool) else value
    scale = _choice(name, scale, ("group", "batch", "none"), " (or true/false)")
    return {"normalisation": Normalisation.SAMPLE if scale == "group" else Normalisation.SHIFT}


def _trl_kl(name: str, value: Any, values: Values) -> dict[str, Any]:
    direct = value is not None and _flag(name, value)
    return {"kl_estimator": Estimator.IS_K3 if direct else Estimator.K3, "kl_placement": Placement.LOSS}


def _trl_loss_type(name: str, value: Any, values: Values) -> str | None:
    if value in ("grpo", "dapo", "bnpo", "dr_grpo"):
        return _length_warning("max_completion_length")(name, value, values)
    return (f"not modelled: the model takes the gradient of ratio·A at π_old = π; the '{value}' surrogate's "
            "gradient there may differ")


def _trl_off_policy(name: str, value: Any, values: Values) -> str | None:
    steps = max(_whole(name, value), _whole("steps_per_generation", values["steps_per_generation"] or 1)
                // _whole("gradient_accumulation_steps", values["gradient_accumulation_steps"]))
    return _OFF_POLICY.format(n=steps, clip=values["epsilon"]) if steps > 1 else None


_TRL_IGNORED = (
    # transformers.TrainingArguments: optimisation, batching, logging, saving, hardware
    "output_dir", "overwrite_output_dir", "do_train", "do_eval", "eval_strategy", "per_device_train_batch_size",
    "per_device_eval_batch_size", "learning_rate", "weight_decay", "adam_beta1", "adam_beta2", "adam_epsilon",
    "max_grad_norm", "num_train_epochs", "max_steps", "lr_scheduler_type", "lr_scheduler_kwargs", "warmup_ratio",
    "warmup_steps", "logging_dir", "logging_strategy", "logging_steps", "logging_first_step", "save_strategy",
    "save_steps", "save_total_limit", "seed", "data_seed", "bf16", "fp16", "tf32", "use_cpu", "report_to",
    "run_name", "optim", "gradient_checkpointing", "gradient_checkpointing_kwargs", "dataloader_num_workers",
    "push_to_hub", "hub_model_id", "eval_steps", "deepspeed", "fsdp", "fsdp_config", "ddp_find_unused_parameters",
    "torch_compile", "label_names", "load_best_model_at_end", "metric_for_best_model", "resume_from_checkpoint",
    # GRPOConfig fields with no effect on the per-prompt stationary policy (on-policy, one output per sample)
    "model_init_kwargs", "trust_remote_code", "router_aux_loss_coef", "disable_dropout", "cast_lm_head_to_fp32",
    "remove_unused_columns", "num_generations_eval", "ds3_gather_for_generation", "shuffle_dataset",
    "pad_to_multiple_of", "generation_batch_size", "generation_kwargs", "chat_template_kwargs", "cache_implementation",
    "use_vllm", "vllm_mode", "vllm_model_impl", "vllm_enable_sleep_mode", "vllm_structured_outputs_regex",
    "vllm_server_base_url", "vllm_server_host", "vllm_server_port", "vllm_server_timeout", "vllm_group_port",
    "vllm_gpu_memory_utilization", "vllm_max_model_length", "vllm_tensor_parallel_size", "vllm_importance_sampling_correction",
    "vllm_importance_sampling_mode", "vllm_importance_sampling_clip_max", "vllm_importance_sampling_clip_min",
    "vllm_importance_sampling_cap", "off_policy_mask_threshold", "importance_sampling_level", "reward_weights",
    "sapo_temperature_neg", "sapo_temperature_pos", "vespo_k_pos", "vespo_lambda_pos", "vespo_k_neg", "vespo_lambda_neg",
    "ref_model_mixup_alpha", "ref_model_sync_steps", "entropy_coef_min", "entropy_coef_max", "entropy_coef_delta",
    "entropy_target", "max_tool_calling_iterations", "log_completions", "log_multimodal", "num_completions_to_print",
    "log_unique_prompts", "log_completions_hub_repo", "use_transformers_continuous_batching",
    "transformers_continuous_batching_config", "use_transformers_paged", "epsilon_high", "delta",
    "use_liger_kernel",
)

TRL = Trainer("trl", "huggingface/trl@f2cd577 (1.10.0.dev0) trl/trainer/grpo_config.py, grpo_trainer.py", {
    "num_generations": Field(8, _group_size),
    "beta": Field(0.0, _to("beta", _number)),
    "scale_rewards": Field("group", _trl_scale, _when(lambda v, _: v == "batch", "the batch-wide std is one number "
                           "for all prompts: the model uses r − mean (as 'none'); the stationary policy is the "
                           "shift-only one at β·std_batch")),
    "use_bias_correction_kl": Field(None, _trl_kl, _when(lambda v, vs: v is None, "not given: False up to TRL 1.9 "
                                    "(and in the source read), True from 1.10 (PR #6503); taken as False: give it")),
    "entropy_coef": Field(0.0, _entropy),
    "use_adaptive_entropy": Field(False, warns=_when(_is_on, "the entropy coefficient changes during training; "
                                                           "the model holds entropy_coef fixed")),
    "loss_type": Field("dapo", warns=_trl_loss_type),
    "max_completion_length": Field(512),
    "num_iterations": Field(1, warns=_trl_off_policy),
    "epsilon": Field(0.2),
    "steps_per_generation": Field(None),
    "gradient_accumulation_steps": Field(1),
    "temperature": Field(1.0, warns=_when(_differs(1.0), _SAMPLING)),
    "top_p": Field(1.0, warns=_when(_differs(1.0), _SAMPLING)),
    "top_k": Field(0, warns=_when(_differs(0), _SAMPLING)),
    "min_p": Field(None, warns=_when(_differs(0), _SAMPLING)),
    "repetition_penalty": Field(1.0, warns=_when(_differs(1.0), _SAMPLING)),
    "multi_objective_aggregation": Field("sum_then_normalize", warns=_when(
        _differs("sum_then_normalize"), "each reward function is normalised before the sum: give the prompt's "
        "rewards as that sum (per-function normalisation is not modelled)")),
    "top_entropy_quantile": Field(1.0, warns=_when(_differs(1.0), "only high-entropy tokens get the policy "
                                                   "gradient; not modelled")),
    "mask_truncated_completions": Field(False, warns=_when(_is_on, "truncated completions are dropped from the "
                                                           "loss; not modelled")),
    "sync_ref_model": Field(False, warns=_when(_is_on, "π_ref is synced to the policy during training: the model's "
                                               "π_ref is fixed")),
}, {"eps": sp.Rational(1, 10**4)}, _TRL_IGNORED)


# --- verl (volcengine/verl verl/trainer/config/*.yaml, ppo/core_algos.py @ b178a3c, 0.8.0.dev) ------


def _verl_advantage(name: str, value: Any, values: Values) -> dict[str, Any]:
    rule = _choice(name, value, ("grpo", "grpo_vectorized", "rloo", "rloo_vectorized"),
                   " (verl's default gae needs a critic; the per-prompt model covers the group baselines)")
    if rule.startswith("rloo"):
        return {"advantage": Advantage.RLOO, "normalisation": Normalisation.SHIFT}
    scaled = _flag("algorithm.norm_adv_by_std_in_grpo", values["algorithm.norm_adv_by_std_in_grpo"])
    return {"advantage": Advantage.GRPO, "normalisation": Normalisation.SAMPLE if scaled else Normalisation.SHIFT}


def _verl_kl(name: str, value: Any, values: Values) -> dict[str, Any]:
    in_loss, in_reward = _flag(name, value), _flag("algorithm.use_kl_in_reward", values["algorithm.use_kl_in_reward"])
    if in_loss and in_reward:
        raise ParameterError(f"{name}: both use_kl_loss and algorithm.use_kl_in_reward are true; the model has "
                             "one KL term: set one of them to false")
    if in_loss:
        kind, coef = "actor_rollout_ref.actor.kl_loss_type", "actor_rollout_ref.actor.kl_loss_coef"
        placement = Placement.LOSS
    elif in_reward:
        kind, coef, placement = "algorithm.kl_penalty", "algorithm.kl_ctrl.kl_coef", Placement.REWARD_PRE
    else:
        return {"beta": sp.Integer(0)}
    return {"beta": _number(coef, values[coef]), "kl_estimator": _estimator(kind, values[kind])[0],
            "kl_placement": placement}


def _verl_clamp(name: str, value: Any, values: Values) -> str | None:
    used = (values["actor_rollout_ref.actor.use_kl_loss"] and name.endswith("kl_loss_type")) or \
        (values["algorithm.use_kl_in_reward"] and name.endswith("kl_penalty"))
    return _CLAMP if used and _estimator(name, value)[1] else None


def _verl_minibatches(name: str, value: Any, values: Values) -> str | None:
    epochs = _whole("actor_rollout_ref.actor.ppo_epochs", values["actor_rollout_ref.actor.ppo_epochs"])
    steps = epochs * max(1, _whole(name, value) // _whole("actor_rollout_ref.actor.ppo_mini_batch_size",
                                                          values["actor_rollout_ref.actor.ppo_mini_batch_size"]))
    clip = values["actor_rollout_ref.actor.clip_ratio"]
    return _OFF_POLICY.format(n=steps, clip=clip) + " (data.train_batch_size / ppo_mini_batch_size × ppo_epochs)" \
        if steps > 1 else None


_VERL_IGNORED = (
    "trainer.", "critic.", "reward_model.", "custom_reward_function.", "ray_kwargs.", "global_profiler.",
    "transfer_queue.", "reward_manager.", "actor_rollout_ref.model.", "actor_rollout_ref.ref.",
    "actor_rollout_ref.hybrid_engine", "actor_rollout_ref.nccl_timeout", "actor_rollout_ref.actor.optim.",
    "actor_rollout_ref.actor.fsdp_config.", "actor_rollout_ref.actor.megatron.", "actor_rollout_ref.actor.checkpoint.",
    "actor_rollout_ref.actor.profiler.", "actor_rollout_ref.actor.policy_loss.", "actor_rollout_ref.actor.router_replay.",
    "actor_rollout_ref.actor.strategy", "actor_rollout_ref.actor.ppo_micro_batch_size",
    "actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu", "actor_rollout_ref.actor.use_dynamic_bsz",
    "actor_rollout_ref.actor.ppo_max_token_len_per_gpu", "actor_rollout_ref.actor.clip_ratio_low",
    "actor_rollout_ref.actor.clip_ratio_high", "actor_rollout_ref.actor.clip_ratio_c", "actor_rollout_ref.actor.shuffle",
    "actor_rollout_ref.actor.use_torch_compile", "actor_rollout_ref.actor.ulysses_sequence_parallel_size",
    "actor_rollout_ref.actor.calculate_entropy", "actor_rollout_ref.actor.data_loader_seed", "actor_rollout_ref.actor.rollout_n",
    "actor_rollout_ref.actor.use_fused_kernels", "actor_rollout_ref.actor.loss_scale_factor",
    "actor_rollout_ref.actor.use_prefix_grouper", "actor_rollout_ref.actor.freeze_vision_tower",
    "actor_rollout_ref.rollout.name", "actor_rollout_ref.rollout.mode", "actor_rollout_ref.rollout.tensor_model_parallel_size",
    "actor_rollout_ref.rollout.gpu_memory_utilization", "actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu",
    "actor_rollout_ref.rollout.log_prob_micro_batch_size", "actor_rollout_ref.rollout.enable_chunked_prefill",
    "actor_rollout_ref.rollout.max_num_batched_tokens", "actor_rollout_ref.rollout.enforce_eager",
    "actor_rollout_ref.rollout.free_cache_engine", "actor_rollout_ref.rollout.dtype", "actor_rollout_ref.rollout.load_format",
    "actor_rollout_ref.rollout.prompt_length", "actor_rollout_ref.rollout.response_length", "actor_rollout_ref.rollout.do_sample",
    "actor_rollout_ref.rollout.val_kwargs.", "actor_rollout_ref.rollout.engine_kwargs.",
    "actor_rollout_ref.rollout.multi_turn.", "actor_rollout_ref.rollout.agent.", "data.train_files", "data.val_files",
    "data.max_prompt_length", "data.filter_overlong_prompts", "data.truncation", "data.prompt_key", "data.reward_fn_key",
    "data.val_batch_size", "data.tokenizer", "data.shuffle", "data.return_raw_chat", "data.image_key",
    "algorithm.gamma", "algorithm.lam", "algorithm.kl_ctrl.horizon", "algorithm.kl_ctrl.target_kl",
    "algorithm.filter_groups.max_num_gen_batches", "algorithm.use_pf_ppo", "algorithm.pf_ppo.",
)

VERL = Trainer("verl", "volcengine/verl@b178a3c (0.8.0.dev) verl/trainer/config/ppo_trainer.yaml, actor/actor.yaml, "
               "algorithm.py; verl/trainer/ppo/core_algos.py", {
    "actor_rollout_ref.rollout.n": Field(1, _group_size),
    "algorithm.adv_estimator": Field("gae", _verl_advantage),
    "algorithm.norm_adv_by_std_in_grpo": Field(True),
    "actor_rollout_ref.actor.use_kl_loss": Field(False, _verl_kl),
    "actor_rollout_ref.actor.kl_loss_coef": Field(0.001),
    "actor_rollout_ref.actor.kl_loss_type": Field("low_var_kl", warns=_verl_clamp),
    "algorithm.use_kl_in_reward": Field(False),
    "algorithm.kl_penalty": Field("kl", warns=_verl_clamp),
    "algorithm.kl_ctrl.kl_coef": Field(0.001),
    "algorithm.kl_ctrl.type": Field("fixed", warns=_when(lambda v, vs: v != "fixed" and vs["algorithm.use_kl_in_reward"],
                                                         "an adaptive KL coefficient changes during training; the "
                                                         "model holds kl_ctrl.kl_coef fixed")),
    "actor_rollout_ref.actor.entropy_coeff": Field(0, _entropy),
    "algorithm.filter_groups.enable": Field(False, lambda n, v, vs: {
        "group_filter": GroupFilter.DROP_EQUAL if _flag(n, v) else GroupFilter.KEEP}),
    "algorithm.filter_groups.metric": Field(None, warns=_when(
        lambda v, vs: vs["algorithm.filter_groups.enable"] and v not in (None, "acc", "score", "seq_reward",
                                                                          "seq_final_reward"),
        "groups are filtered on a metric other than the reward: modelled as dropping all-equal-reward groups")),
    "data.train_batch_size": Field(1024, warns=_verl_minibatches),
    "actor_rollout_ref.actor.ppo_mini_batch_size": Field(256),
    "actor_rollout_ref.actor.ppo_epochs": Field(1),
    "actor_rollout_ref.actor.clip_ratio": Field(0.2),
    "actor_rollout_ref.actor.loss_agg_mode": Field("token-mean", warns=_length_warning("data.max_response_length")),
    "data.max_response_length": Field(512),
    "actor_rollout_ref.rollout.temperature": Field(1.0, warns=_when(_differs(1.0), _SAMPLING)),
    "actor_rollout_ref.rollout.top_p": Field(1.0, warns=_when(_differs(1.0), _SAMPLING)),
    "actor_rollout_ref.rollout.top_k": Field(-1, warns=_when(lambda v, vs: v not in (None, -1, 0), _SAMPLING)),
}, {"eps": sp.Rational(1, 10**6)}, _VERL_IGNORED)


# --- OpenRLHF (OpenRLHF/OpenRLHF openrlhf/cli/train_ppo_ray.py, experience_maker.py @ 3c3be62, 0.11) --


def _openrlhf_advantage(name: str, value: Any, values: Values) -> dict[str, Any]:
    rule = _choice(name, value, ("group_norm", "dr_grpo", "reinforce_baseline", "rloo"),
                   " (gae needs a critic and reinforce has no group baseline)")
    if rule == "rloo":
        return {"advantage": Advantage.RLOO, "normalisation": Normalisation.SHIFT}
    return {"advantage": Advantage.GRPO,
            "normalisation": Normalisation.SAMPLE if rule == "group_norm" else Normalisation.SHIFT}


def _openrlhf_kl(name: str, value: Any, values: Values) -> dict[str, Any]:
    estimator = _choice("algo.kl.estimator", values["algo.kl.estimator"], ("k1", "k2", "k3"))
    placement = Placement.LOSS if _flag(name, value) else Placement.REWARD_POST
    return {"beta": _number("algo.kl.init_coef", values["algo.kl.init_coef"]), "kl_estimator": Estimator(estimator),
            "kl_placement": placement}


def _openrlhf_whitening(name: str, value: Any, values: Values) -> str | None:
    if value != "reinforce_baseline" or values["algo.advantage.no_std_norm"]:
        return None
    return "the advantages are whitened with the mean and std of the whole batch: one std for all prompts, " \
           "modelled as r − mean (the stationary policy is the shift-only one at β·std_batch)"


def _openrlhf_clip(name: str, value: Any, values: Values) -> str | None:
    low, high = (_number(name, v) for v in value)
    return (f"the (normalised) rewards are clipped to [{low}, {high}] before the KL is added; the clip is not "
            "modelled (it binds when an advantage leaves that range)")


def _openrlhf_filter(name: str, value: Any, values: Values) -> dict[str, Any]:
    return {"group_filter": GroupFilter.DROP_EQUAL if _flag(name, value) else GroupFilter.KEEP}


OPENRLHF = Trainer("openrlhf", "OpenRLHF/OpenRLHF@3c3be62 (v0.11.0) openrlhf/cli/train_ppo_ray.py, "
                   "trainer/ppo_utils/experience_maker.py, models/utils.py", {
    "rollout.n_samples_per_prompt": Field(1, _group_size),
    "algo.advantage.estimator": Field("gae", _openrlhf_advantage, _openrlhf_whitening),
    "algo.advantage.no_std_norm": Field(False),
    "algo.kl.use_loss": Field(False, _openrlhf_kl),
    "algo.kl.estimator": Field("k1", warns=_when(lambda v, vs: _number("algo.kl.init_coef", vs["algo.kl.init_coef"]) > 0,
                                                 _CLAMP)),
    "algo.kl.init_coef": Field(0.01),
    "algo.kl.target": Field(None, warns=_when(_differs(None), "an adaptive KL coefficient (algo.kl.target) changes "
                                              "during training; the model holds init_coef fixed")),
    "actor.entropy_coef": Field(None, _entropy),
    "algo.dynamic_filtering_enable": Field(False, _openrlhf_filter),
    "algo.dynamic_filtering_range": Field((0, 1), warns=_when(
        lambda v, vs: vs["algo.dynamic_filtering_enable"] and tuple(v) != (0, 1),
        "groups are kept when their mean reward is strictly inside the range; modelled as dropping all-equal "
        "groups, which is the same only for rewards in {{0, 1}} with the range (0, 1)")),
    "reward.clip_range": Field((-10, 10), warns=lambda n, v, vs: _openrlhf_clip(n, v, vs)
                               if vs["algo.advantage.estimator"] != "group_norm" else None),
    "train.max_epochs": Field(1, warns=_when(lambda v, vs: v != 1, _OFF_POLICY.replace("{n}", "{v[train.max_epochs]}")
                                             .replace("{clip}", "{v[actor.eps_clip]}"))),
    "actor.eps_clip": Field(0.2),
    "rollout.temperature": Field(1.0, warns=_when(_differs(1.0), _SAMPLING)),
    "rollout.top_p": Field(1.0, warns=_when(_differs(1.0), _SAMPLING)),
}, {"eps": sp.Rational(1, 10**9)}, (
    "ckpt.", "logger.", "ds.", "vllm.", "ref.", "critic.", "eval.", "data.", "actor.adam.", "actor.muon.",
    "actor.optim", "actor.lr_scheduler", "actor.lr_warmup_ratio", "actor.min_lr_ratio", "actor.max_norm",
    "actor.num_nodes", "actor.num_gpus_per_node", "actor.model_name_or_path", "actor.gradient_checkpointing_enable",
    "actor.gradient_checkpointing_reentrant", "actor.policy_loss_type", "actor.aux_loss_coef", "actor.eps_clip_low_high",
    "actor.dual_clip", "reward.num_nodes", "reward.model_name_or_path", "reward.remote_url", "reward.offload",
    "reward.overlong_buffer_len", "reward.overlong_penalty_factor", "reward.stop_properly_penalty_coef",
    "rollout.batch_size", "rollout.micro_batch_size", "rollout.max_tokens_per_gpu", "rollout.max_new_tokens",
    "train.num_episodes", "train.micro_batch_size", "train.batch_size", "train.seed", "train.async_enable",
    "train.async_queue_size", "train.dynamic_batch_enable", "train.max_tokens_per_gpu", "train.enable_ema",
    "train.ema_beta", "train.agent_func_path", "algo.advantage.gamma", "algo.advantage.lambd", "algo.kl.horizon",
    "algo.advantage.is_correction_enable", "algo.advantage.is_correction_threshold", "algo.advantage.is_correction_type",
    "local_rank", "use_ms",
), aliases={  # the flat names of OpenRLHF <= 0.10 (v0.9.10 openrlhf/cli/train_ppo_ray.py)
    "n_samples_per_prompt": "rollout.n_samples_per_prompt", "advantage_estimator": "algo.advantage.estimator",
    "no_advantage_std_norm": "algo.advantage.no_std_norm", "use_kl_loss": "algo.kl.use_loss",
    "kl_estimator": "algo.kl.estimator", "init_kl_coef": "algo.kl.init_coef", "kl_target": "algo.kl.target",
    "entropy_loss_coef": "actor.entropy_coef", "dynamic_filtering": "algo.dynamic_filtering_enable",
    "dynamic_filtering_reward_range": "algo.dynamic_filtering_range", "reward_clip_range": "reward.clip_range",
    "max_epochs": "train.max_epochs", "eps_clip": "actor.eps_clip", "temperature": "rollout.temperature",
    "top_p": "rollout.top_p",
})

TRAINERS: dict[str, Trainer] = {t.name: t for t in (TRL, VERL, OPENRLHF)}


# --- reading a config -----------------------------------------------------------------------------

_MISSING = object()
#: The settings no field of a trainer sets take the values of a Problem built without them.
_UNSET: dict[str, Any] = {"normalisation": Normalisation.SAMPLE, "kl_estimator": Estimator.K3,
                          "kl_placement": Placement.LOSS, "kl_clamp": None, "entropy": sp.Integer(0),
                          "advantage": Advantage.GRPO, "pass_k": None, "group_filter": GroupFilter.KEEP}


def settings_from_config(trainer: str, config: Any) -> tuple[dict[str, Any], list[str]]:
    """The :class:`Problem` keyword arguments of a trainer config, and the warnings about it.

    ``trainer`` is "trl", "verl" or "openrlhf"; ``config`` the trainer's config object (its
    attributes are read; nested ones for verl/OpenRLHF's dotted names) or a mapping with the
    trainer's field names (nested mappings or dotted keys).  Fields not given take the trainer's
    defaults.  The keyword arguments include ``group_size`` and ``beta`` but not ``reference`` or
    ``rewards``; each warning starts with the field and its value.

    >>> kwargs, notes = settings_from_config("verl", {"algorithm": {"adv_estimator": "grpo"},
    ...     "actor_rollout_ref.rollout.n": 5, "actor_rollout_ref.actor.use_kl_loss": True,
    ...     "data": {"train_batch_size": 256, "max_response_length": 1}})
    >>> print(kwargs["group_size"], kwargs["beta"], kwargs["kl_estimator"], kwargs["eps"])
    5 1/1000 k3 1/1000000
    >>> [note.split(":")[0] for note in notes]
    ["actor_rollout_ref.actor.kl_loss_type='low_var_kl'"]
    """
    table = _trainer(trainer)
    given = _from_mapping(config, table) if isinstance(config, Mapping) else _from_object(config, table)
    values = {name: given.get(name, spec.default) for name, spec in table.fields.items()}
    kwargs: dict[str, Any] = {**_UNSET, **table.constants}
    notes = []
    for name, spec in table.fields.items():
        if spec.sets is not None:
            kwargs.update(spec.sets(name, values[name], values))
        message = spec.warns(name, values[name], values) if spec.warns is not None else None
        if message:
            notes.append(f"{name}={values[name]!r}: {message}")
    return kwargs, notes


@dataclass(frozen=True)
class ConfiguredProblem:
    """What :func:`from_trainer_config` returns: the Problem and the warnings its config raised."""

    problem: Problem
    warnings: tuple[str, ...]


def from_trainer_config(trainer: str, config: Any, *, reference: Iterable[Any], rewards: Iterable[RewardSpec],
                        names: Iterable[str] | None = None) -> ConfiguredProblem:
    """The :class:`Problem` a trainer's config sets up for one prompt (π_ref and rewards given).

    Returns a :class:`ConfiguredProblem` (``.problem``, ``.warnings``); each warning is also issued
    with :func:`warnings.warn` as a :class:`TrainerConfigWarning`, so it shows where it is raised
    and ``warnings.simplefilter("error", TrainerConfigWarning)`` turns it into an error.  A
    setting the solver does not support yet is refused by the Problem (a :class:`ParameterError`).

    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     setup = from_trainer_config("trl", {"beta": 0.04, "num_generations": 8, "max_completion_length": 1,
    ...                                         "use_bias_correction_kl": False},
    ...                                 reference=["0.3", "0.7"], rewards=[1, 0])
    >>> print(setup.problem.beta, setup.problem.penalty, setup.problem.normalisation, setup.warnings, caught)
    1/25 grpo sample () []
    """
    kwargs, notes = settings_from_config(trainer, config)
    for note in notes:
        _warnings.warn(f"{trainer}: {note}", TrainerConfigWarning, stacklevel=2)
    return ConfiguredProblem(Problem(reference=reference, rewards=rewards, names=names, **kwargs), tuple(notes))


def known_fields(trainer: str) -> tuple[str, ...]:
    """The field names a ``trainer`` mapping may hold (mapped or warned, then silently accepted ones).

    >>> known_fields("openrlhf")[:2]
    ('rollout.n_samples_per_prompt', 'algo.advantage.estimator')
    """
    table = _trainer(trainer)
    return (*table.fields, *table.ignored, *table.aliases)


def _trainer(trainer: Any) -> Trainer:
    if trainer not in TRAINERS:
        raise ParameterError(f"trainer: got {trainer!r}; use one of {', '.join(TRAINERS)}")
    return TRAINERS[trainer]


def _from_mapping(config: Mapping[Any, Any], table: Trainer) -> dict[str, Any]:
    given: dict[str, Any] = {}
    for key, value in _flatten(config, "", table):
        name = table.aliases.get(key, key)
        if name in given:
            raise ParameterError(f"{key}: given twice (as {name} and an older or nested spelling); give it once")
        given[name] = value
    return given


def _flatten(config: Mapping[Any, Any], prefix: str, table: Trainer) -> Iterable[tuple[str, Any]]:
    for key, value in config.items():
        if not isinstance(key, str):
            raise ParameterError(f"{prefix}{key!r}: config field names are strings")
        name = prefix + key
        if name in table.fields or name in table.aliases or _ignored(name, table):
            yield name, value
        elif isinstance(value, Mapping):
            yield from _flatten(value, name + ".", table)
        else:
            raise ParameterError(_unknown(name, table))


def _ignored(name: str, table: Trainer) -> bool:
    return any(name == entry or (entry.endswith(".") and name.startswith(entry)) for entry in table.ignored)


def _unknown(name: str, table: Trainer) -> str:
    close = difflib.get_close_matches(name, [n.rstrip(".") for n in known_fields(table.name)], n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}?" if close else \
        f"see grpo_symbolic.model.trainer_config.known_fields({table.name!r})"
    return f"{name}: not a field of the {table.name} config; {hint}"


def _from_object(config: Any, table: Trainer) -> dict[str, Any]:
    """The fields an object carries, read as attributes (dotted names through nested attributes)."""
    old_names = {new: old for old, new in table.aliases.items()}
    given = {}
    for name in table.fields:
        value = _attribute(config, name)
        if value is _MISSING and name in old_names:
            value = _attribute(config, old_names[name])
        if value is not _MISSING:
            given[name] = value
    return given


def _attribute(config: Any, name: str) -> Any:
    value = getattr(config, name, _MISSING)
    if value is not _MISSING or "." not in name:
        return value
    for part in name.split("."):
        value = getattr(config, part, _MISSING) if not isinstance(config, Mapping) else config.get(part, _MISSING)
        if value is _MISSING:
            return _MISSING
        config = value
    return value
