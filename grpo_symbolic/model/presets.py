"""Trainer presets: a :class:`~grpo_symbolic.model.problem.Problem` set up the way an implementation does it.

``preset(name, reference, rewards, group_size, beta=None, **options)`` fills in every setting in
which a GRPO implementation differs from the paper — advantage rule and normalisation, the eps
added to the std, the KL estimator and where it enters, the entropy bonus, group filtering — and,
when ``beta`` is not given, the implementation's default KL weight.  Each preset is versioned by
the defaults it encodes and names the source file and commit they were read from
(:data:`TABLE`; the README's "Presets" table is generated from it by :func:`markdown_table`).

The names of the first round stay as aliases (:data:`ALIASES`): ``"trl"`` is ``"trl-0.18"``,
``"verl"`` is ``"verl-grpo"``, ``"openrlhf"`` is ``"openrlhf-kl-loss"``; ``"paper"`` and
``"dr_grpo"`` keep their names.  :data:`PRESETS` maps those five names to their builders.

Options are the implementation's own option names (see :func:`preset_options`):
``paper``: ``direct_kl``, ``shift_only``; ``trl-*``: ``scale_rewards`` ("group"/True, "none"/False;
"batch" is refused: a batch-wide std is not a per-prompt setting), ``use_bias_correction_kl``;
``verl-grpo``: ``norm_adv_by_std_in_grpo``; ``openrlhf-*``: ``advantage_estimator`` ("group_norm"
or "dr_grpo").  A preset whose settings the solver does not support yet still lists them here;
the refusal happens when the Problem is built.  Unknown names, options and option values raise
:class:`~grpo_symbolic.model.errors.ParameterError` naming them.

>>> prob = preset("trl", ["0.3", "0.7"], [1, 0], 8, "0.04")
>>> print(prob.normalisation, prob.eps, prob.penalty)
sample 1/10000 grpo
>>> print(preset("verl", ["0.3", "0.7"], [1, 0], 8).beta)   # verl's GRPO example: kl_loss_coef 0.001
1/1000
>>> print(preset_settings("openrlhf-group-norm").kl_estimator, preset_settings("openrlhf-group-norm").kl_placement)
k1 reward-post
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
import inspect
from typing import Any

import sympy as sp

from grpo_symbolic.model.errors import ParameterError
from grpo_symbolic.model.numbers import NumberLike
from grpo_symbolic.model.problem import Problem, RewardSpec
from grpo_symbolic.model.settings import (
    PENALTY_ESTIMATOR, Advantage, Estimator, GroupFilter, Normalisation, Penalty, Placement,
)

TRL_EPS = sp.Rational(1, 10**4)
VERL_EPS = sp.Rational(1, 10**6)
OPENRLHF_EPS = sp.Rational(1, 10**9)

#: The commits the defaults were read from (``fetch`` of the three repositories).
TRL_MAIN = "huggingface/trl@f2cd577 (1.10.0.dev0)"
TRL_0_18 = "huggingface/trl@5e2ef1a (v0.18.0)"
VERL_MAIN = "volcengine/verl@b178a3c (0.8.0.dev)"
OPENRLHF_MAIN = "OpenRLHF/OpenRLHF@3c3be62 (v0.11.0)"


@dataclass(frozen=True)
class Settings:
    """The settings a preset fixes (see :class:`Problem`), and its default KL weight ``beta``."""

    normalisation: Normalisation
    eps: sp.Expr
    kl_estimator: Estimator = Estimator.K3
    kl_placement: Placement = Placement.LOSS
    kl_clamp: sp.Expr | None = None
    entropy: sp.Expr = sp.Integer(0)
    advantage: Advantage = Advantage.GRPO
    pass_k: int | None = None
    group_filter: GroupFilter = GroupFilter.KEEP
    beta: sp.Expr | None = field(default=None, compare=True)

    @property
    def penalty(self) -> Penalty | None:
        """The paper's penalty these settings amount to ("grpo" or "direct"), ``None`` if neither."""
        if self.kl_placement is not Placement.LOSS or self.kl_clamp is not None:
            return None
        return next((p for p, e in PENALTY_ESTIMATOR.items() if e is self.kl_estimator), None)

    def problem_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of :class:`Problem` these settings stand for (β not included)."""
        kwargs = asdict(self)
        del kwargs["beta"]
        return kwargs


@dataclass(frozen=True)
class Preset:
    """One row of :data:`TABLE`: what a trainer does by default, and where that was read."""

    name: str
    trainer: str
    build: Callable[..., Settings]
    source: str
    config: tuple[str, dict[str, Any]] | None = None
    """(trainer, config) in the trainer's own field names that reproduces the preset, if one does."""


def _flag(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise ParameterError(f"{name}: got {value!r}; use True or False")
    return value


def _kl(direct: bool) -> Estimator:
    return Estimator.IS_K3 if direct else Estimator.K3


def _scaled(scaled: bool) -> Normalisation:
    return Normalisation.SAMPLE if scaled else Normalisation.SHIFT


def _paper(direct_kl: bool = False, shift_only: bool = False) -> Settings:
    """The paper: population std, eps = 0, k3 penalty; Sec. 3's two variants as options."""
    normalisation = Normalisation.SHIFT if _flag(shift_only, "shift_only") else Normalisation.POPULATION
    return Settings(normalisation, sp.Integer(0), _kl(_flag(direct_kl, "direct_kl")))


def _trl_scale(scale_rewards: bool | str) -> Normalisation:
    scale = ("group" if scale_rewards else "none") if isinstance(scale_rewards, bool) else scale_rewards
    if scale == "batch":
        raise ParameterError(
            "scale_rewards: 'batch' divides by the std over the whole batch (all contexts), which a "
            "one-context Problem cannot express; use 'group' or 'none'"
        )
    if scale not in ("group", "none"):
        raise ParameterError(f"scale_rewards: got {scale_rewards!r}; use 'group' (or True) or 'none' (or False)")
    return _scaled(scale == "group")


def _trl_0_18(scale_rewards: bool | str = "group", use_bias_correction_kl: bool = False) -> Settings:
    """TRL <= 0.18: Bessel std + 1e-4, k3 in the loss, beta 0.04."""
    estimator = _kl(_flag(use_bias_correction_kl, "use_bias_correction_kl"))
    return Settings(_trl_scale(scale_rewards), TRL_EPS, estimator, beta=sp.Rational(1, 25))


def _trl_1_10(scale_rewards: bool | str = "group", use_bias_correction_kl: bool = True) -> Settings:
    """TRL >= 1.10: Bessel std + 1e-4, IS-weighted k3 in the loss, beta 0."""
    estimator = _kl(_flag(use_bias_correction_kl, "use_bias_correction_kl"))
    return Settings(_trl_scale(scale_rewards), TRL_EPS, estimator, beta=sp.Integer(0))


def _trl_rloo() -> Settings:
    """TRL RLOOTrainer: leave-one-out baseline, k1 of the old policy subtracted from the reward, beta 0.05."""
    return Settings(Normalisation.SHIFT, sp.Integer(0), Estimator.K1, Placement.REWARD_PRE, advantage=Advantage.RLOO,
                    beta=sp.Rational(1, 20))


def _verl_grpo(norm_adv_by_std_in_grpo: bool = True) -> Settings:
    """verl's GRPO example: Bessel std + 1e-6, k3 (low_var_kl) loss, kl_loss_coef 0.001."""
    scaled = _flag(norm_adv_by_std_in_grpo, "norm_adv_by_std_in_grpo")
    return Settings(_scaled(scaled), VERL_EPS, Estimator.K3, beta=sp.Rational(1, 1000))


def _dapo() -> Settings:
    """DAPO (verl recipe): Bessel std + 1e-6, all-equal groups dropped and refilled, no KL (beta 0)."""
    return Settings(Normalisation.SAMPLE, VERL_EPS, group_filter=GroupFilter.DROP_EQUAL, beta=sp.Integer(0))


def _openrlhf_scale(advantage_estimator: str) -> Normalisation:
    if advantage_estimator not in ("group_norm", "dr_grpo"):
        raise ParameterError(
            f"advantage_estimator: got {advantage_estimator!r}; the GRPO-like estimators are 'group_norm' and 'dr_grpo'"
        )
    return _scaled(advantage_estimator == "group_norm")


def _openrlhf_group_norm(advantage_estimator: str = "group_norm") -> Settings:
    """OpenRLHF's default KL: k1 added to the normalised reward (detached), init_coef 0.01."""
    return Settings(_openrlhf_scale(advantage_estimator), OPENRLHF_EPS, Estimator.K1, Placement.REWARD_POST,
                    beta=sp.Rational(1, 100))


def _openrlhf_kl_loss(advantage_estimator: str = "group_norm") -> Settings:
    """OpenRLHF with --algo.kl.use_loss and the k3 estimator, init_coef 0.01."""
    return Settings(_openrlhf_scale(advantage_estimator), OPENRLHF_EPS, Estimator.K3, beta=sp.Rational(1, 100))


def _dr_grpo() -> Settings:
    """Dr. GRPO: A_i = r_i − mean (no std), k3 penalty; the recipe trains without KL (beta 0)."""
    return Settings(Normalisation.SHIFT, sp.Integer(0), Estimator.K3, beta=sp.Integer(0))


_VERL_GRPO_CONFIG = {"algorithm.adv_estimator": "grpo", "actor_rollout_ref.rollout.n": 5,
                     "actor_rollout_ref.actor.use_kl_loss": True, "actor_rollout_ref.actor.kl_loss_coef": 0.001,
                     "actor_rollout_ref.actor.kl_loss_type": "low_var_kl", "actor_rollout_ref.actor.entropy_coeff": 0,
                     "algorithm.use_kl_in_reward": False}

TABLE: dict[str, Preset] = {p.name: p for p in (
    Preset("paper", "Vojnovic & Yun, eq. (2) and Sec. 3", _paper, "arXiv 2502.18548"),
    Preset("trl-0.18", "TRL <= 0.18 GRPOTrainer", _trl_0_18, f"{TRL_0_18} trl/trainer/grpo_config.py",
           ("trl", {"beta": 0.04, "scale_rewards": "group", "use_bias_correction_kl": False})),
    Preset("trl-1.10", "TRL >= 1.10 GRPOTrainer", _trl_1_10,
           f"{TRL_MAIN} trl/trainer/grpo_config.py (beta 0.0, loss_type 'dapo'); use_bias_correction_kl=True "
           "from trl PR #6503", ("trl", {"beta": 0.0, "use_bias_correction_kl": True, "loss_type": "dapo"})),
    Preset("rloo", "TRL RLOOTrainer", _trl_rloo, f"{TRL_MAIN} trl/trainer/rloo_config.py, rloo_trainer.py"),
    Preset("verl-grpo", "verl examples/grpo_trainer", _verl_grpo,
           f"{VERL_MAIN} examples/grpo_trainer/run_deepseek7b_llm.sh, verl/trainer/ppo/core_algos.py",
           ("verl", _VERL_GRPO_CONFIG)),
    Preset("dapo", "DAPO (verl filter_groups)", _dapo, f"{VERL_MAIN} verl/trainer/config/algorithm.py; arXiv 2503.14476",
           ("verl", {**_VERL_GRPO_CONFIG, "actor_rollout_ref.actor.use_kl_loss": False,
                     "algorithm.filter_groups": {"enable": True, "metric": "acc"}})),
    Preset("openrlhf-group-norm", "OpenRLHF group_norm, KL in the reward", _openrlhf_group_norm,
           f"{OPENRLHF_MAIN} openrlhf/cli/train_ppo_ray.py, trainer/ppo_utils/experience_maker.py",
           ("openrlhf", {"algo.advantage.estimator": "group_norm", "rollout.n_samples_per_prompt": 8})),
    Preset("openrlhf-kl-loss", "OpenRLHF group_norm, --algo.kl.use_loss k3", _openrlhf_kl_loss,
           f"{OPENRLHF_MAIN} openrlhf/cli/train_ppo_ray.py, models/utils.py",
           ("openrlhf", {"algo.advantage.estimator": "group_norm", "rollout.n_samples_per_prompt": 8,
                         "algo.kl.use_loss": True, "algo.kl.estimator": "k3"})),
    Preset("dr_grpo", "Dr. GRPO (Liu et al. 2025)", _dr_grpo, "arXiv 2503.20783; oat critic_type='drgrpo'"),
)}

#: The first round's names, kept working.
ALIASES: dict[str, str] = {"trl": "trl-0.18", "verl": "verl-grpo", "openrlhf": "openrlhf-kl-loss"}

#: The five presets of the first round (the paper's conventions plus four trainers), by their old names.
PRESETS: dict[str, Callable[..., Settings]] = {
    name: TABLE[ALIASES.get(name, name)].build for name in ("paper", "trl", "verl", "openrlhf", "dr_grpo")
}


def preset_options(name: str) -> dict[str, Any]:
    """The options of preset ``name`` with their defaults.

    >>> preset_options("trl")
    {'scale_rewards': 'group', 'use_bias_correction_kl': False}
    >>> preset_options("trl-1.10")
    {'scale_rewards': 'group', 'use_bias_correction_kl': True}
    """
    builder = _builder(name)
    return {k: v.default for k, v in inspect.signature(builder).parameters.items()}


def preset_settings(name: str, **options: Any) -> Settings:
    """The :class:`Settings` preset ``name`` uses with these ``options``.

    >>> s = preset_settings("openrlhf", advantage_estimator="dr_grpo")
    >>> print(s.normalisation, s.eps, s.penalty, s.beta)
    shift 1/1000000000 grpo 1/100
    >>> preset_settings("trl", bias_correction=True)
    Traceback (most recent call last):
    ...
    grpo_symbolic.model.errors.ParameterError: bias_correction: not an option of preset 'trl'; its options are scale_rewards, use_bias_correction_kl
    """
    builder = _builder(name)
    known = tuple(inspect.signature(builder).parameters)
    for option in options:
        if option not in known:
            listed = ", ".join(known) if known else "none"
            raise ParameterError(f"{option}: not an option of preset {name!r}; its options are {listed}")
    return builder(**options)


def preset(
    name: str,
    reference: Iterable[NumberLike],
    rewards: Iterable[RewardSpec],
    group_size: int | float | str | sp.Expr,
    beta: NumberLike | None = None,
    *,
    names: Iterable[str] | None = None,
    **options: Any,
) -> Problem:
    """A :class:`Problem` with the settings of implementation ``name`` (β: its default unless given).

    ``name`` is a key of :data:`TABLE` or an alias (:data:`ALIASES`); ``options`` are that
    implementation's own option names (see the module docstring); ``names`` name the outputs.

    >>> print(preset("paper", ["0.3", "0.7"], [1, 0], 2, "0.5", direct_kl=True).penalty)
    direct
    >>> print(preset("trl", ["0.3", "0.7"], [1, 0], 2, "0.5", scale_rewards=False).normalisation)
    shift
    >>> preset("deepspeed", ["0.3", "0.7"], [1, 0], 2, "0.5")
    Traceback (most recent call last):
    ...
    grpo_symbolic.model.errors.ParameterError: preset: got 'deepspeed'; use one of paper, trl-0.18, trl-1.10, rloo, verl-grpo, dapo, openrlhf-group-norm, openrlhf-kl-loss, dr_grpo (aliases: trl, verl, openrlhf)
    """
    settings = preset_settings(name, **options)
    if beta is None:
        if settings.beta is None:
            raise ParameterError(f"beta: preset {name!r} has no default KL weight; give beta")
        beta = settings.beta
    return Problem(reference=reference, rewards=rewards, group_size=group_size, beta=beta, names=names,
                   **settings.problem_kwargs())


def markdown_table() -> str:
    """The README's table: preset → settings → source file and commit, one row per preset.

    >>> print(markdown_table().splitlines()[2])
    | `paper` | Vojnovic & Yun, eq. (2) and Sec. 3 | population std, eps 0, k3 in the loss, β: give it | arXiv 2502.18548 |
    """
    aliases = {target: name for name, target in ALIASES.items()}
    rows = ["| preset | trainer | settings (defaults) | source |", "|---|---|---|---|"]
    for name, row in TABLE.items():
        label = f"`{name}`" + (f" (alias `{aliases[name]}`)" if name in aliases else "")
        rows.append(f"| {label} | {row.trainer} | {describe(row.build())} | {row.source} |")
    return "\n".join(rows)


def describe(settings: Settings) -> str:
    """The settings in words, the paper's defaults left out.

    >>> describe(preset_settings("dapo"))
    'sample std, eps 1/1000000, k3 in the loss, group filter drop-equal, β 0'
    """
    parts = [f"{settings.normalisation} std" if settings.normalisation is not Normalisation.SHIFT else "r − mean",
             f"eps {settings.eps}"]
    if settings.advantage is not Advantage.GRPO:
        parts[0] = f"advantage {settings.advantage}"
    parts.append(f"{settings.kl_estimator} in the {settings.kl_placement}"
                 if settings.kl_placement is Placement.LOSS else f"{settings.kl_estimator} placed {settings.kl_placement}")
    if settings.kl_clamp is not None:
        parts.append(f"clamped at {settings.kl_clamp}")
    if settings.entropy != 0:
        parts.append(f"entropy {settings.entropy}")
    if settings.group_filter is not GroupFilter.KEEP:
        parts.append(f"group filter {settings.group_filter}")
    parts.append(f"β {settings.beta}" if settings.beta is not None else "β: give it")
    return ", ".join(parts)


def _builder(name: str) -> Callable[..., Settings]:
    target = ALIASES.get(name, name) if isinstance(name, str) else None
    if target not in TABLE:
        raise ParameterError(f"preset: got {name!r:.60}; use one of {', '.join(TABLE)} (aliases: {', '.join(ALIASES)})")
    return TABLE[target].build
