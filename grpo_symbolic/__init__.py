"""grpo_symbolic: the alignment objective of GRPO (Vojnovic & Yun, arXiv 2502.18548), executable.

The model is :class:`Problem` (one context: outputs, π_ref, reward laws, G, β, normalisation,
penalty, eps); the settings are the enums :class:`Normalisation`, :class:`Penalty` and
:class:`Estimator` (their plain string values work too).  ``stationary_policy`` /
``stationary_policies`` solve the stationarity equations to any number of digits; the
``preference_*`` functions evaluate the group-relative preference P_G; ``preset`` builds a Problem
with a trainer's conventions (TRL, verl, OpenRLHF, Dr. GRPO, DAPO, RLOO);
``from_trainer_config`` builds it from the trainer's own config (TRL, verl, OpenRLHF field names).

Every error the package raises on purpose is a :class:`GrpoSymbolicError`: a
:class:`ParameterError` for bad input, a :class:`SolverError` (with a ``reason``) when the solver
cannot finish a well-posed problem.  Both are also :class:`ValueError`.

>>> import grpo_symbolic as gs
>>> prob = gs.Problem(reference=["0.3", "0.7"], rewards=[1, 0], group_size=8, beta="0.5")
>>> prob.normalisation == gs.Normalisation.POPULATION == "population"
True

The trainers' advantage rules and group filters are settings of the Problem too:

>>> rloo = prob.replace(advantage=gs.Advantage.RLOO, group_size=4)
>>> [str(x)[:12] for x in gs.preference_numeric(rloo, ["0.3", "0.7"], dps=20)]
['0.7', '-0.3']
>>> masked = prob.replace(group_size=2, group_filter="mask-penalty")
>>> str(gs.stationary_policy(masked, dps=20)[0])[:12]
'0.7918226796'
"""

from grpo_symbolic.model.errors import GrpoSymbolicError, ParameterError, SolverError
from grpo_symbolic.model.presets import preset
from grpo_symbolic.model.problem import Problem, RewardLaw
from grpo_symbolic.model.trainer_config import ConfiguredProblem, TrainerConfigWarning, from_trainer_config
from grpo_symbolic.model.settings import Advantage, Estimator, GroupFilter, Normalisation, Penalty
from grpo_symbolic.preference.engine import (
    large_group_preference,
    monte_carlo_preference,
    pairwise_preference,
    preference_exact,
    preference_numeric,
)
from grpo_symbolic.solve.api import StationaryPoint, stationary_policies, stationary_policy

__version__: str = "0.1.0"

__all__ = [
    "Problem", "RewardLaw", "Normalisation", "Penalty", "Estimator", "Advantage", "GroupFilter",
    "GrpoSymbolicError", "ParameterError", "SolverError", "preset",
    "from_trainer_config", "ConfiguredProblem", "TrainerConfigWarning",
    "stationary_policy", "stationary_policies", "StationaryPoint",
    "preference_exact", "preference_numeric", "large_group_preference",
    "pairwise_preference", "monte_carlo_preference", "__version__",
]
