"""GRPO's settings, each listed once: advantage normalisations, penalties and KL estimators.

Every setting is a ``str``-valued enum, so a member equals (and hashes like) its plain string:
code that compares with ``"sample"`` or looks a setting up in a dict keyed by strings keeps
working.  ``parse`` reads a user's string and raises :class:`ParameterError` naming the parameter.

>>> Normalisation.parse("sample", "normalisation") == "sample"
True
>>> f"{Penalty.DIRECT}", {"grpo": 1, "direct": 2}[Penalty.DIRECT]
('direct', 2)
>>> Estimator.choices()
('k1', 'k2', 'k3', 'is_k3')
>>> Penalty.parse("k2", "penalty")
Traceback (most recent call last):
...
grpo_symbolic.model.errors.ParameterError: penalty: got 'k2'; use one of grpo, direct
"""

from __future__ import annotations

from enum import Enum
from typing import TypeVar

from grpo_symbolic.model.errors import ParameterError

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
        """The member whose value is ``value``; :class:`ParameterError` naming ``name`` if none."""
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
    """The per-sample KL estimators used as a loss (Schulman's k1, k2, k3 and k3 weighted by π/π_old)."""

    K1 = "k1"
    K2 = "k2"
    K3 = "k3"
    IS_K3 = "is_k3"


PENALTY_ESTIMATOR: dict[Penalty, Estimator] = {Penalty.GRPO: Estimator.K3, Penalty.DIRECT: Estimator.IS_K3}
"""The estimator whose sampled gradient is each penalty's gradient."""
