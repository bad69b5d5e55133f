# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 08 — Your trainer's config
#
# Notebook 06 asks for the settings one by one. Here the settings come from where you keep them: the trainer's own config. `gs.from_trainer_config(trainer, config, reference=..., rewards=...)` reads a TRL `GRPOConfig`, a verl config or OpenRLHF's arguments — the object itself or a dict with the trainer's field names — and returns the `Problem` it sets up for one prompt, with a warning for every field whose value the per-prompt model cannot represent. We put in a TRL config and a verl config, read off the predicted stationary policy $\pi^*$, and set it beside the RLHF answer for the same $\beta$: the log pooling $\pi \propto \pi_{\text{ref}}\, e^{r/\beta}$ (the paper's (4), derived in `cases/baselines.py`).
#
# The prompt: four answers, the correct one the least likely under $\pi_{\text{ref}}$, one half-right answer that a verifier rewards half the time.

# %%
import warnings

import mpmath
import sympy as sp
from IPython.display import Markdown, display

import grpo_symbolic as gs
from grpo_symbolic.cases.baselines import derive_rlhf
from grpo_symbolic.export.latex import table
from grpo_symbolic.model.presets import preset
from grpo_symbolic.model.symbols import beta

REFERENCE = ["0.1", "0.2", "0.3", "0.4"]
REWARDS = [1, {"1": "0.5", "0": "0.5"}, 0, 0]
NAMES = ["correct", "half-right", "wrong", "off-topic"]
DPS = 30

# %% [markdown]
# ## 1. A TRL config
#
# TRL's `GRPOConfig` before version 0.19 defaulted to $\beta = 0.04$ with the $k_3$ estimator in the loss and the Bessel std $+\,10^{-4}$ in the advantage. The dict holds TRL's own field names (a `GRPOConfig` object works the same way: its attributes are read, TRL is not imported). `max_completion_length = 1`: one completion is one answer, so the token aggregation of `loss_type` weights nothing.

# %%
TRL_CONFIG = {
    "num_generations": 8, "beta": 0.04, "scale_rewards": "group", "use_bias_correction_kl": False,
    "loss_type": "bnpo", "epsilon": 0.2, "num_iterations": 1, "max_completion_length": 1,
    "learning_rate": 1e-6, "logging_steps": 10,          # no effect on π*: accepted silently
}
trl = gs.from_trainer_config("trl", TRL_CONFIG, reference=REFERENCE, rewards=REWARDS, names=NAMES)
p = trl.problem
display(Markdown(f"G = {p.group_size}, β = {p.beta}, normalisation `{p.normalisation}`, eps = {p.eps}, "
                 f"KL `{p.kl_estimator}` in the `{p.kl_placement}`; warnings: {list(trl.warnings) or 'none'}"))
assert p == preset("trl-0.18", REFERENCE, REWARDS, 8, names=NAMES)   # the config reproduces the preset

# %% [markdown]
# ## 2. A verl config
#
# verl's GRPO example script sets `algorithm.adv_estimator=grpo`, five samples per prompt, and the KL as a loss: `low_var_kl` (that is $k_3$) with coefficient 0.001. Nested keys as verl's YAML writes them (dotted keys such as `"actor_rollout_ref.rollout.n"` work too). The config is read as verl runs it, and two things it does are not modelled: the $k_3$ value is clamped at ±10, and with the default batch sizes (1024 prompts a batch, mini-batches of 256) each batch gives four optimiser steps, the later ones off-policy. Both are named in the warnings below.

# %%
VERL_CONFIG = {
    "algorithm": {"adv_estimator": "grpo", "norm_adv_by_std_in_grpo": True, "use_kl_in_reward": False},
    "actor_rollout_ref": {
        "rollout": {"n": 5},
        "actor": {"use_kl_loss": True, "kl_loss_coef": 0.001, "kl_loss_type": "low_var_kl", "entropy_coeff": 0},
    },
    "data": {"max_response_length": 1},
    "trainer": {"total_epochs": 15, "logger": ["console"]},   # no effect on π*: accepted silently
}
with warnings.catch_warnings():
    warnings.simplefilter("ignore", gs.TrainerConfigWarning)  # they are returned, and listed below
    verl = gs.from_trainer_config("verl", VERL_CONFIG, reference=REFERENCE, rewards=REWARDS, names=NAMES)
table(["field = value", "why the model cannot represent it"], [w.split(": ", 1) for w in verl.warnings])

# %% [markdown]
# A misspelt field is an error naming the nearest real one (verl spells it `entropy_coeff`):

# %%
try:
    gs.from_trainer_config("verl", {"actor_rollout_ref": {"actor": {"entropy_coef": 0.01}}},
                           reference=REFERENCE, rewards=REWARDS)
except gs.ParameterError as exc:
    display(Markdown(f"`ParameterError`: {exc}"))

# %% [markdown]
# ## 3. The predicted policy, beside RLHF's
#
# `stationary_policy` solves the stationarity conditions of each Problem to 30 digits. The RLHF answer for the same $\beta$ is the derived maximiser of (3), $\pi(o) \propto \pi_{\text{ref}}(o)\,e^{\bar r(o)/\beta}$ with the expected rewards $\bar r$, evaluated exactly.

# %%
rlhf = derive_rlhf(len(REFERENCE))


def rlhf_policy(problem):
    symbols = rlhf.symbols
    values = {beta: problem.beta}
    values.update(zip(symbols["reference"], problem.reference))
    values.update(zip(symbols["rewards"], (law.mean for law in problem.rewards)))
    with mpmath.workdps(DPS):
        return [sp.N(pi.subs(values), DPS) for pi in rlhf.policy]


rows = []
results = {}
for label, setup in (("TRL < 0.19", trl), ("verl GRPO example", verl)):
    prob = setup.problem
    grpo = gs.stationary_policy(prob, dps=DPS)
    pooled = rlhf_policy(prob)
    results[label] = (grpo, pooled)
    for o, name in enumerate(NAMES):
        rows.append([label if o == 0 else "", name, prob.reference[o], mpmath.nstr(grpo[o], 8), sp.N(pooled[o], 8)])
table(["config", "answer", "π_ref", "GRPO π* (predicted)", "RLHF log pooling"], rows)

# %% [markdown]
# What the numbers say. Both configs put most of the mass on the correct answer, and the smaller $\beta$ of verl's example ($0.001$ against TRL's $0.04$) brings $\pi^*$ closer to that vertex. The difference from RLHF is in the tails. GRPO's stationary policy is the reciprocal link of the group preference $P_G$ (the reverse KL of the $k_3$ loss, notebook 03): $\pi^*(o)/\pi_{\text{ref}}(o) = 1/(1 + (\lambda - P_G(o\mid\pi^*))/\beta)$, a ratio that stays bounded away from zero — the wrong and the off-topic answer keep a few tenths of a percent (TRL) or about $10^{-4}$ (verl), in proportion to $\pi_{\text{ref}}$ because their rewards, and so their preferences, are equal; the half-right answer keeps twice their ratio. RLHF's exponential tilt $e^{\bar r/\beta}$ at the same $\beta$ has no such floor: the wrong answers fall to $10^{-11}$ at $\beta = 0.04$ and $10^{-434}$ at $\beta = 0.001$. Which of the two your trainer does depends on its KL setting, not only on $\beta$: with TRL $\ge$ 1.10's importance-weighted $k_3$ (`use_bias_correction_kl=True`) the stationarity condition becomes the exponential link of $P_G$ instead (notebook 05).

# %%
with mpmath.workdps(DPS):
    for label, (grpo, pooled) in results.items():
        assert abs(sum(grpo) - 1) < mpmath.mpf(10) ** (5 - DPS)
        ratios = [g / mpmath.mpf(r) for g, r in zip(grpo, REFERENCE)]
        assert abs(ratios[2] / ratios[3] - 1) < mpmath.mpf(10) ** (5 - DPS)    # equal rewards, equal ratio
        assert ratios[1] > ratios[2] and grpo[0] == max(grpo)
        assert float(pooled[2]) < 1e-6 * float(grpo[2])                         # RLHF has no floor
assert results["verl GRPO example"][0][0] > results["TRL < 0.19"][0][0]          # smaller β: closer to the vertex
