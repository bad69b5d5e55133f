"""The real trainers on a one-token bandit, against the package's prediction (issue 13).

``python -m grpo_symbolic.trainers`` trains TRL's own ``GRPOTrainer`` on a tiny local language
model whose next-token distribution after one prompt is π_ref over K output tokens, records the
policy after every optimiser step, and compares its time average with the stationary policy the
package predicts for TRL's conventions and with RLHF's π ∝ π_ref·exp(E[r]/β).

Nothing heavy is imported here: torch, transformers and trl are imported when a run starts, and
a missing one raises :class:`TrainersNotInstalled` (an ImportError) naming
``pip install -e ".[trainers]"``.

Modules: :mod:`.bandit` (model, tokenizer, reward), :mod:`.trl_run` (the TRL run and its
settings), :mod:`.compare` (batch means, prediction, RLHF, the table), ``__main__`` (the cases).
"""

from grpo_symbolic.trainers.bandit import TrainersNotInstalled, require_trainers
from grpo_symbolic.trainers.compare import Case, Comparison, batch_means, compare, format_table, predicted_problem, rlhf_policy
from grpo_symbolic.trainers.trl_run import TRLSettings, run_trl

__all__ = [
    "TrainersNotInstalled", "require_trainers", "Case", "Comparison", "batch_means", "compare",
    "format_table", "predicted_problem", "rlhf_policy", "TRLSettings", "run_trl",
]
