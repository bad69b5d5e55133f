"""grpo_symbolic: the alignment objective of GRPO (Vojnovic & Yun, arXiv 2502.18548), executable.

The model is :class:`Problem` (one context: outputs, π_ref, reward laws, G, β, normalisation,
penalty, eps).  ``stationary_policy`` / ``stationary_policies`` solve the stationarity equations to
any number of digits; the ``preference_*`` functions evaluate the group-relative preference P_G;
``preset`` builds a Problem with a trainer's conventions (TRL, verl, OpenRLHF, Dr. GRPO).
Every error raised for bad input is a :class:`ValueError` (``ParameterError`` or ``SolverError``).
"""

from grpo_symbolic.model.errors import ParameterError, SolverError
from grpo_symbolic.model.presets import preset
from grpo_symbolic.model.problem import Problem, RewardLaw
from grpo_symbolic.preference.engine import (
    large_group_preference,
    monte_carlo_preference,
    pairwise_preference,
    preference_exact,
    preference_numeric,
)
from grpo_symbolic.solve.api import StationaryPoint, stationary_policies, stationary_policy

__version__ = "0.1.0"

__all__ = [
    "Problem", "RewardLaw", "ParameterError", "SolverError", "preset",
    "stationary_policy", "stationary_policies", "StationaryPoint",
    "preference_exact", "preference_numeric", "large_group_preference",
    "pairwise_preference", "monte_carlo_preference", "__version__",
]
