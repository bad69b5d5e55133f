"""GRPO's settings, each listed once: advantage normalisations, penalties and KL estimators.

Every setting is a ``str``-valued enum, so a member equals (and hashes like) its plain string:
code that compares with ``"sample"`` or looks a setting up in a dict keyed by strings keeps
working.  ``parse`` reads a user's string and raises :class:`ParameterError` naming the parameter.

>>> Normalisation.parse("sample", "normalisation") == "sample"
True
>>> f"{Penalty.DIRECT}", {"grpo": 1, "direct": 2}[Penalty.DIRECT]
('direct', 2)
>>> Estimator.choices()
('k1', 'k2', 'k3', 'is_k3', 'k3-flipped', 'k3-plus')
>>> Estimator.parse("k3-is", "kl_estimator") is Estimator.IS_K3
True
>>> Penalty.parse("k2", "penalty")
Traceback (most recent call last):
...
grpo_symbolic.model.errors.ParameterError: penalty: got 'k2'; use one of grpo, direct
"""

from __future__ import annotations

from enum import Enum
from typing import TypeVar

from grpo_symbolic.model.errors import ParameterError
from grpo_symbolic.model.errors import shown

_S = TypeVar("_S", bound="Setting")


class Setting(str, Enum):
    """Base of the settings: printed and formatted as the plain string value (as ``StrEnum``)."""

    def __str__(self) -> str:
        return str.__str__(self)

    def __format__(self, format_spec: str) -> str:
        return str.__format__(self, format_spec)

    @classmethod
    def choices(cls) -> tuple[str, ...]:
        """The values as plain strings (for argparse ``choices`` and messages)."""
        return tuple(member.value for member in cls)

    @classmethod
    def parse(cls: type[_S], value: object, name: str) -> _S:
        """The member whose value is ``value``; :class:`ParameterError` naming ``name`` if none.

        Only a string (or a member) is looked up: a numpy array or a list that compares equal
        element by element is refused, not matched.
        """
        if not isinstance(value, str):
            raise ParameterError(f"{name}: got {shown(value)}; use one of {', '.join(cls.choices())}")
        try:
            return cls(value)
        except ValueError:
            raise ParameterError(f"{name}: got {value!r}; use one of {', '.join(cls.choices())}") from None


class Normalisation(Setting):
    """How the group's rewards are normalised into advantages.

    ``POPULATION``: (r − mean)/std with the population std (the paper's (2)); ``SAMPLE``: the Bessel
    std (TRL, verl, OpenRLHF); ``SHIFT``: r − mean, no std (Dr. GRPO, the paper's Sec. 3 variant).
    """

    POPULATION = "population"
    SAMPLE = "sample"
    SHIFT = "shift"


class Penalty(Setting):
    """The KL penalty: ``GRPO`` is the paper's sampled k3 term D_i; ``DIRECT`` the importance-weighted
    one, whose expectation is KL(π‖π_ref)."""

    GRPO = "grpo"
    DIRECT = "direct"


class Estimator(Setting):
    """The per-sample KL estimators (Schulman's k1, k2, k3; k3 weighted by π/π_old; k3 with the ratio
    flipped, π/π_ref; "k3-plus": k3's value with k2's gradient).  ``"k3-is"`` (the CLI's name) is
    read as ``IS_K3``."""

    K1 = "k1"
    K2 = "k2"
    K3 = "k3"
    IS_K3 = "is_k3"
    K3_FLIPPED = "k3-flipped"
    K3_PLUS = "k3-plus"

    @classmethod
    def _missing_(cls, value: object) -> Estimator | None:
        return cls.IS_K3 if value == "k3-is" else None


class Placement(Setting):
    """Where the KL term enters: ``LOSS`` (added to the per-sample loss, differentiated through),
    ``REWARD_PRE`` (subtracted from the reward with the old policy's log-ratio, detached, before
    group normalisation: verl ``use_kl_in_reward``), ``REWARD_POST`` (added to the normalised
    advantage, detached: OpenRLHF)."""

    LOSS = "loss"
    REWARD_PRE = "reward-pre"
    REWARD_POST = "reward-post"


class Advantage(Setting):
    """The advantage rule: ``GRPO`` (the normalisation setting decides mean/std), ``RLOO`` (r_i minus
    the mean of the others), ``RLOO_STD`` (leave-one-out mean and std, NeMo-RL), ``PASSK`` (PKPO's
    unbiased pass@k advantage, binary rewards; needs ``k``)."""

    GRPO = "grpo"
    RLOO = "rloo"
    RLOO_STD = "rloo-std"
    PASSK = "passk"


class GroupFilter(Setting):
    """Groups whose rewards are all equal: ``KEEP`` (TRL: they still feel the penalty), ``DROP_EQUAL``
    (DAPO dynamic sampling: expectations conditional on a non-degenerate group), ``MASK_PENALTY``
    (dropped from the penalty as well)."""

    KEEP = "keep"
    DROP_EQUAL = "drop-equal"
    MASK_PENALTY = "mask-penalty"


PENALTY_ESTIMATOR: dict[Penalty, Estimator] = {Penalty.GRPO: Estimator.K3, Penalty.DIRECT: Estimator.IS_K3}
"""The estimator whose sampled gradient is each penalty's gradient (each placed in the loss)."""
