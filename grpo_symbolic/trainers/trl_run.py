"""Drive TRL's real ``GRPOTrainer`` on the one-token bandit and record the policy after every step.

Every convention that changes the stationary policy is set explicitly (TRL's defaults changed
across versions: ``use_bias_correction_kl`` became True, ``beta`` 0, ``loss_type`` "dapo",
``bf16`` True even on a CPU): see :func:`grpo_config_kwargs`.  The conventions were read in the
installed trl 1.16.0 wheel (``trl/trainer/grpo_trainer.py``: advantages = (r − group mean) /
(``nanstd`` + 1e-4) with ``nanstd`` Bessel-corrected in ``trl/trainer/utils.py``; per-token k3
``exp(ref − logp) − (ref − logp) − 1`` multiplied by the ratio π/π_old when
``use_bias_correction_kl``; ``scale_rewards="none"`` skips the division) and in the huggingface/trl
repository at commit f2cd57710ae345ea6428ae95363267fcf38a3dc8 (1.10.0.dev0), whose
``grpo_config.py`` still had ``use_bias_correction_kl=False`` as the default.

torch, transformers and trl are imported only when a run starts; without them a run raises
:class:`~grpo_symbolic.trainers.bandit.TrainersNotInstalled` naming the ``trainers`` extra.

>>> cfg = grpo_config_kwargs(TRLSettings(group_size=4, groups=2, beta="0.5", learning_rate=0.01, steps=10), "/tmp/x")
>>> cfg["per_device_train_batch_size"], cfg["num_generations"], cfg["beta"], cfg["use_bias_correction_kl"]
(8, 4, 0.5, False)
"""

from dataclasses import dataclass, field
import math
import sys
import tempfile
import time
import warnings

from grpo_symbolic.model.errors import ParameterError
from grpo_symbolic.trainers.bandit import BanditReward, PROMPT_TOKEN, bandit_problem, build_bandit, \
    prompt_distribution, require_trainers, vocabulary


@dataclass(frozen=True)
class TRLSettings:
    """One TRL run: the bandit, the GRPO conventions and the optimiser.

    ``beta`` is read exactly (a string, int, Fraction or float) as in :class:`grpo_symbolic.Problem`; TRL gets
    its float.  ``groups`` prompts (groups of ``group_size`` completions) make one optimiser step.
    """

    reference: tuple = ("0.3", "0.7")
    rewards: tuple = (1, 0)
    group_size: int = 8
    groups: int = 16
    beta: object = "0.5"
    scale_rewards: str = "group"
    use_bias_correction_kl: bool = False
    loss_type: str = "grpo"
    learning_rate: float = 0.01
    steps: int = 400
    seed: int = 0

    def __post_init__(self):
        bandit_problem(self.reference, self.rewards, self.beta)  # ParameterError unless valid, beta > 0
        for name in ("group_size", "groups", "steps"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < (2 if name == "group_size" else 1):
                raise ParameterError(f"{name}: got {value!r}; give an integer ≥ {2 if name == 'group_size' else 1}")
        if self.scale_rewards not in ("group", "none"):
            raise ParameterError(f"scale_rewards: got {self.scale_rewards!r}; the bandit compares 'group' or 'none'")
        if self.loss_type not in ("grpo", "bnpo", "dr_grpo", "dapo"):
            raise ParameterError(f"loss_type: got {self.loss_type!r}; use 'grpo', 'bnpo', 'dr_grpo' or 'dapo'")
        if not isinstance(self.use_bias_correction_kl, bool):
            raise ParameterError(f"use_bias_correction_kl: got {self.use_bias_correction_kl!r}; use True or False")
        if not (isinstance(self.learning_rate, (int, float)) and 0 < self.learning_rate < 10):
            raise ParameterError(f"learning_rate: got {self.learning_rate!r}; give a float in (0, 10)")


@dataclass
class TRLRecord:
    """What a run produced: the output-token policy after each optimiser step, and bookkeeping."""

    settings: TRLSettings
    policies: list = field(default_factory=list)   # one tuple of K floats per step (renormalised over outputs)
    max_off_mass: float = 0.0                      # largest mass on non-output tokens seen
    reference_drift: float = 0.0                   # max |π_ref,trainer − π_ref| after training
    off_output_completions: int = 0
    seconds: float = 0.0
    versions: dict = field(default_factory=dict)


def grpo_config_kwargs(settings, output_dir):
    """The GRPOConfig arguments for ``settings``: every convention that matters, set explicitly."""
    kwargs = dict(
        output_dir=output_dir,
        # the bandit: one completion token out of K, G completions per prompt, `groups` prompts a step
        max_completion_length=1,
        num_generations=settings.group_size,
        per_device_train_batch_size=settings.group_size * settings.groups,
        gradient_accumulation_steps=1,
        steps_per_generation=1,
        num_iterations=1,
        max_steps=settings.steps,
        # the GRPO conventions compared with the package
        loss_type=settings.loss_type,
        scale_rewards=settings.scale_rewards,
        beta=float(bandit_problem(settings.reference, settings.rewards, settings.beta).beta),
        use_bias_correction_kl=settings.use_bias_correction_kl,
        importance_sampling_level="token",
        epsilon=0.2,                      # clip range: inactive on-policy (ratio ≡ 1)
        mask_truncated_completions=False,  # a one-token completion never has an EOS
        # sampling exactly from the policy
        temperature=1.0, top_p=1.0, top_k=0, min_p=None, repetition_penalty=1.0,
        # plain SGD at a constant rate
        optim="sgd", learning_rate=settings.learning_rate, lr_scheduler_type="constant", warmup_steps=0,
        weight_decay=0.0, max_grad_norm=0.0, disable_dropout=True,
        # CPU in float32, quiet, nothing saved
        use_cpu=True, bf16=False, fp16=False, report_to="none", save_strategy="no", logging_steps=10**9,
        disable_tqdm=True, dataloader_num_workers=0, seed=settings.seed, data_seed=settings.seed,
    )
    return kwargs


class _Progress:
    """A one-line progress report on stderr, only when stderr is a terminal."""

    def __init__(self, label, total, enabled=None):
        self.label, self.total = label, total
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.start = time.perf_counter()

    def update(self, done, note=""):
        if self.enabled and (done % 20 == 0 or done == self.total):
            elapsed = time.perf_counter() - self.start
            sys.stderr.write(f"\r{self.label}: step {done}/{self.total} {elapsed:6.0f} s {note}   ")
            if done == self.total:
                sys.stderr.write("\n")
            sys.stderr.flush()


def run_trl(settings, label="trl", progress=None):
    """Train TRL's ``GRPOTrainer`` on the bandit of ``settings``; return a :class:`TRLRecord`."""
    torch, transformers, trl = require_trainers()
    import datasets

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    datasets.logging.set_verbosity_error()
    datasets.disable_progress_bars()
    record = TRLRecord(settings=settings, versions={"trl": trl.__version__, "torch": torch.__version__,
                                                     "transformers": transformers.__version__})
    prompt_id = vocabulary(len(settings.reference))[PROMPT_TOKEN]
    reporter = _Progress(label, settings.steps, progress)
    probs = bandit_problem(settings.reference, settings.rewards, settings.beta).reference
    started = time.perf_counter()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a 16-wide model gains nothing from threads, and they slow a loaded machine
    try:
        _train(settings, record, reporter, prompt_id, probs, transformers, trl, datasets)
    finally:
        torch.set_num_threads(threads)
    record.seconds = time.perf_counter() - started
    if len(record.policies) != settings.steps:
        raise RuntimeError(f"recorded {len(record.policies)} policies for {settings.steps} steps")
    return record


def _train(settings, record, reporter, prompt_id, probs, transformers, trl, datasets):
    """Build the bandit in a temporary folder, train, and fill ``record`` (see :func:`run_trl`)."""
    with tempfile.TemporaryDirectory(prefix="grpo-bandit-") as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        model_dir, out_dir = f"{folder}/model", f"{folder}/out"
        output_ids = build_bandit(list(settings.reference), model_dir, seed=settings.seed)
        reward = BanditReward(list(settings.rewards), output_ids, seed=settings.seed)

        class PolicyRecorder(transformers.TrainerCallback):  # type: ignore[name-defined]  # imported at run time
            def on_step_end(self, args, state, control, model=None, **kwargs):
                dist = prompt_distribution(model, prompt_id)
                on = dist[output_ids]
                record.max_off_mass = max(record.max_off_mass, float(1 - on.sum()))
                record.policies.append(tuple(float(p) for p in on / on.sum()))
                reporter.update(state.global_step, f"π = {record.policies[-1][0]:.4f}")

        config = trl.GRPOConfig(**grpo_config_kwargs(settings, out_dir))
        n_prompts = settings.groups * 64
        dataset = datasets.Dataset.from_dict({"prompt": [PROMPT_TOKEN] * n_prompts})
        trainer = trl.GRPOTrainer(model=model_dir, reward_funcs=reward, args=config, train_dataset=dataset,
                                  processing_class=transformers.AutoTokenizer.from_pretrained(model_dir),
                                  callbacks=[PolicyRecorder()])
        trainer.remove_callback(transformers.PrinterCallback)  # it prints the final metrics dict
        _check_reference(trainer, prompt_id, output_ids, probs, record, when="before")
        trainer.train()
        _check_reference(trainer, prompt_id, output_ids, probs, record, when="after")
    record.off_output_completions = reward.off_outputs


def _check_reference(trainer, prompt_id, output_ids, probs, record, when):
    """The reference model TRL uses must give π_ref (to float32 rounding) before and after training."""
    ref_model = trainer.ref_model if trainer.ref_model is not None else trainer.model
    dist = prompt_distribution(ref_model, prompt_id)[output_ids]
    drift = max(abs(float(d) - float(p)) for d, p in zip(dist, probs))
    record.reference_drift = max(record.reference_drift, drift)
    if drift > 1e-6 or not all(math.isfinite(float(d)) for d in dist):
        raise RuntimeError(f"TRL's reference policy {when} training is {dist.tolist()}, not π_ref {probs}")
