"""Trainer presets: a :class:`~grpo_symbolic.model.problem.Problem` set up the way an implementation does it.

``preset(name, reference, rewards, group_size, beta, **options)`` fills in the three settings in
which GRPO implementations differ from the paper — the advantage normalisation, the eps added to
the std and the penalty — from the implementation's defaults, or from its own option names given
as keyword arguments.  What each implementation does, with the option that controls it:

``"paper"`` (Vojnovic & Yun, eq. (2) and Sec. 3)
    population std (divide by G), eps = 0, the sampled k3 penalty D_i ("grpo").
    Options: ``direct_kl`` (Sec. 3's importance-weighted penalty, = KL(π‖π_ref)),
    ``shift_only`` (Sec. 3's A_i = r_i − mean).
``"trl"`` (Hugging Face TRL, ``GRPOTrainer``)
    Bessel std (``torch.std``), eps = 1e-4 added to the std, k3 penalty.
    Options: ``scale_rewards`` ("group" or True: the default; "none" or False: shift-only;
    "batch" divides by the std of the whole batch, which a one-context model cannot express);
    ``use_bias_correction_kl`` (k3 multiplied by π/π_old: the direct penalty).
``"verl"`` (``compute_grpo_outcome_advantage``, ``kl_loss_type="low_var_kl"``)
    Bessel std, eps = 1e-6, k3 penalty (verl clamps k3 at 10, which changes nothing while
    π_ref/π stays below about 1.2e4 and is not modelled).
    Option: ``norm_adv_by_std_in_grpo`` (False: shift-only).
``"openrlhf"`` (OpenRLHF, ``--advantage_estimator group_norm``, ``--use_kl_loss``, k3)
    Bessel std, eps = 1e-9, k3 penalty.
    Option: ``advantage_estimator`` ("group_norm", or "dr_grpo": shift-only).
``"dr_grpo"`` (Liu et al. 2025, oat ``critic_type="drgrpo"``)
    no std scaling: shift-only advantages r_i − mean; k3 penalty.  No options.

Unknown preset names, unknown options and bad option values raise
:class:`~grpo_symbolic.model.errors.ParameterError` naming them.

>>> prob = preset("trl", ["0.3", "0.7"], [1, 0], 8, "0.04")
>>> print(prob.normalisation, prob.eps, prob.penalty)
sample 1/10000 grpo
>>> print(preset("verl", ["0.3", "0.7"], [1, 0], 8, "0.04", norm_adv_by_std_in_grpo=False).normalisation)
shift
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
import inspect
from typing import Any

import sympy as sp

from grpo_symbolic.model.errors import ParameterError
from grpo_symbolic.model.numbers import NumberLike
from grpo_symbolic.model.problem import Problem, RewardSpec
from grpo_symbolic.model.settings import Normalisation, Penalty

TRL_EPS = sp.Rational(1, 10**4)
VERL_EPS = sp.Rational(1, 10**6)
OPENRLHF_EPS = sp.Rational(1, 10**9)


@dataclass(frozen=True)
class Settings:
    """The settings a preset fixes: normalisation, penalty and eps (see :class:`Problem`)."""

    normalisation: Normalisation
    penalty: Penalty
    eps: sp.Expr


def _flag(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise ParameterError(f"{name}: got {value!r}; use True or False")
    return value


def _penalty(direct: bool) -> Penalty:
    return Penalty.DIRECT if direct else Penalty.GRPO


def _scaled(scaled: bool) -> Normalisation:
    return Normalisation.SAMPLE if scaled else Normalisation.SHIFT


def _paper(direct_kl: bool = False, shift_only: bool = False) -> Settings:
    """The paper: population std, eps = 0, k3 penalty; Sec. 3's two variants as options."""
    normalisation = Normalisation.SHIFT if _flag(shift_only, "shift_only") else Normalisation.POPULATION
    return Settings(normalisation, _penalty(_flag(direct_kl, "direct_kl")), sp.Integer(0))


def _trl(scale_rewards: bool | str = "group", use_bias_correction_kl: bool = False) -> Settings:
    """TRL: Bessel std + 1e-4; ``scale_rewards`` and ``use_bias_correction_kl`` as in GRPOConfig."""
    scale = ("group" if scale_rewards else "none") if isinstance(scale_rewards, bool) else scale_rewards
    if scale == "batch":
        raise ParameterError(
            "scale_rewards: 'batch' divides by the std over the whole batch (all contexts), which a "
            "one-context Problem cannot express; use 'group' or 'none'"
        )
    if scale not in ("group", "none"):
        raise ParameterError(f"scale_rewards: got {scale_rewards!r}; use 'group' (or True) or 'none' (or False)")
    penalty = _penalty(_flag(use_bias_correction_kl, "use_bias_correction_kl"))
    return Settings(_scaled(scale == "group"), penalty, TRL_EPS)


def _verl(norm_adv_by_std_in_grpo: bool = True) -> Settings:
    """verl: Bessel std + 1e-6 (``norm_adv_by_std_in_grpo=False``: shift-only), k3 (low_var_kl) loss."""
    scaled = _flag(norm_adv_by_std_in_grpo, "norm_adv_by_std_in_grpo")
    return Settings(_scaled(scaled), Penalty.GRPO, VERL_EPS)


def _openrlhf(advantage_estimator: str = "group_norm") -> Settings:
    """OpenRLHF: group_norm = Bessel std + 1e-9; dr_grpo = shift-only; k3 KL loss."""
    if advantage_estimator not in ("group_norm", "dr_grpo"):
        raise ParameterError(
            f"advantage_estimator: got {advantage_estimator!r}; the GRPO-like estimators are "
            "'group_norm' and 'dr_grpo'"
        )
    return Settings(_scaled(advantage_estimator == "group_norm"), Penalty.GRPO, OPENRLHF_EPS)


def _dr_grpo() -> Settings:
    """Dr. GRPO: A_i = r_i − mean (no std), k3 penalty."""
    return Settings(Normalisation.SHIFT, Penalty.GRPO, sp.Integer(0))


PRESETS: dict[str, Callable[..., Settings]] = {"paper": _paper, "trl": _trl, "verl": _verl, "openrlhf": _openrlhf, "dr_grpo": _dr_grpo}


def preset_options(name: str) -> dict[str, Any]:
    """The options of preset ``name`` with their defaults.

    >>> preset_options("trl")
    {'scale_rewards': 'group', 'use_bias_correction_kl': False}
    """
    builder = _builder(name)
    return {k: v.default for k, v in inspect.signature(builder).parameters.items()}


def preset_settings(name: str, **options: Any) -> Settings:
    """The :class:`Settings` preset ``name`` uses with these ``options``.

    >>> preset_settings("openrlhf", advantage_estimator="dr_grpo")
    Settings(normalisation=<Normalisation.SHIFT: 'shift'>, penalty=<Penalty.GRPO: 'grpo'>, eps=1/1000000000)
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
    beta: NumberLike,
    **options: Any,
) -> Problem:
    """A :class:`Problem` with the normalisation, eps and penalty of implementation ``name``.

    ``name`` is one of "paper", "trl", "verl", "openrlhf", "dr_grpo"; ``options`` are that
    implementation's own option names (see the module docstring).

    >>> print(preset("paper", ["0.3", "0.7"], [1, 0], 2, "0.5", direct_kl=True).penalty)
    direct
    >>> print(preset("trl", ["0.3", "0.7"], [1, 0], 2, "0.5", scale_rewards=False).normalisation)
    shift
    >>> preset("deepspeed", ["0.3", "0.7"], [1, 0], 2, "0.5")
    Traceback (most recent call last):
    ...
    grpo_symbolic.model.errors.ParameterError: preset: got 'deepspeed'; use one of paper, trl, verl, openrlhf, dr_grpo
    """
    settings = preset_settings(name, **options)
    return Problem(reference=reference, rewards=rewards, group_size=group_size, beta=beta,
                   normalisation=settings.normalisation, penalty=settings.penalty, eps=settings.eps)


def _builder(name: str) -> Callable[..., Settings]:
    if not isinstance(name, str) or name not in PRESETS:
        raise ParameterError(f"preset: got {name!r:.60}; use one of {', '.join(PRESETS)}")
    return PRESETS[name]
