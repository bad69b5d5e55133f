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
# # 07 — Your trainer's KL
#
# The paper's GRPO puts Schulman's k3 estimator into the loss. The trainers offer more: TRL defaults to $\beta = 0$ and can weight k3 by the ratio $\pi/\pi_{\text{old}}$; verl lets you choose k1, k2, k3 (`low_var_kl`, clamped) or "k3+" (k3's value, k2's gradient) in the loss, or put k1 into the reward **before** the group normalisation (`use_kl_in_reward`); OpenRLHF adds k1 to the normalised advantage **after** it; a textbook's code flips k3's ratio; and an entropy bonus $c\,H(\pi)$ can be switched on. Each choice changes what GRPO converges to.
#
# This notebook derives, for every estimator × placement, the stationarity condition at $\pi_{\text{old}} = \pi$ from the per-sample loss as the trainer writes it (detached factors held constant), names the *link* — how $\pi(o)$ depends on $P_G(o\mid\pi)$ — and then draws the stationary $\pi^*(\text{best output})$ against $\pi_{\text{ref}}$ for the five links side by side.

# %%
# %matplotlib inline
from fractions import Fraction

import matplotlib.pyplot as plt
import mpmath
import numpy as np
import sympy as sp
from IPython.display import Markdown, display

from grpo_symbolic import Problem, SolverError
from grpo_symbolic.dynamics.simulate import approach_rate, expected_flow
from grpo_symbolic.model.settings import Estimator, Placement
from grpo_symbolic.solve.api import stationary_policy
from grpo_symbolic.theory.regularisers import Regulariser, derive_regularised

# %% [markdown]
# ## 1. Every estimator × placement, derived
#
# For each combination SymPy differentiates the expected per-sample loss, sets $\pi_{\text{old}} = \pi$, adds the multiplier $\lambda$ of $\sum_o \pi(o) = 1$ and solves for $\pi(o)$. `P_1` is $P_G(o\mid\pi)$ (for the KL in the reward before normalisation: the reward $r_1$ — see section 3), `rho_1` is $\pi_{\text{ref}}(o)$. "implicit" means SymPy finds no single explicit solution (several branches: the condition is not monotone in $\pi(o)$, and the solver refuses it).

# %%
rows = ["| estimator | placement | link | $\\pi(o)$ at stationarity |", "|---|---|---|---|"]
for estimator in Estimator:
    for placement in Placement:
        st = derive_regularised(Regulariser(estimator, placement))
        form = "(no solution in $\\pi(o)$)" if st.implicit else f"${sp.latex(st.policy[0])}$"
        rows.append(f"| {estimator} | {placement} | {st.link} | {form} |")
display(Markdown("\n".join(rows)))

# %% [markdown]
# The families: **reciprocal** $\pi = \beta\pi_{\text{ref}}/(\beta + \lambda - P)$ (k3 in the loss: the paper's (11), a reverse-KL pull), **exponential** $\pi = \pi_{\text{ref}}e^{(P-\lambda)/\beta}$ (k2, the IS-weighted k3 and k3+ in the loss, k1 after the normalisation: log pooling of $P_G$, a forward-KL pull), **linear** $\pi = \pi_{\text{ref}}(1 + (P-\lambda)/\beta)$ (the flipped k3: a $\chi^2$ pull, cut at 0 — an output can leave the support), **none** (k1 in the loss: its expected gradient is a constant, so no pull at all), and for the KL in the reward before the normalisation the rewards themselves are pooled.
#
# With the entropy bonus the exponent's denominator becomes $\beta + c$ (and $\pi_{\text{ref}}$ enters as $\pi_{\text{ref}}^{\beta/(\beta+c)}$); with $\beta = 0$ only the entropy is left:

# %%
st = derive_regularised(Regulariser(Estimator.K2, Placement.LOSS, entropy=True))
display(Markdown(f"k2 in the loss with entropy: $\\pi(o) = {sp.latex(st.policy[0])}$ ({st.link})"))
st0 = derive_regularised(Regulariser(Estimator.K3, Placement.LOSS, entropy=True), weight=sp.Integer(0))
display(Markdown(f"$\\beta = 0$ with entropy: $\\pi(o) = {sp.latex(st0.policy[0])}$ ({st0.link}: $\\pi \\propto e^{{P_G/c}}$)"))

# %% [markdown]
# ## 2. Five links side by side, $G = 8$
#
# One binary question (reward 1 for the right answer, 0 otherwise), $\beta = 1$ (and $c = 1/2$ for the entropy-only curve), the population-std advantage. The stationary probability of the right answer against its reference probability:

# %%
LINKS = {
    "reciprocal (k3, loss)": dict(beta=1, kl_estimator="k3"),
    "exponential (k2, loss)": dict(beta=1, kl_estimator="k2"),
    "linear (k3 flipped, loss)": dict(beta=1, kl_estimator="k3-flipped"),
    "softmax (beta = 0, entropy 1/2)": dict(beta=0, entropy="0.5"),
    "reward pooling (k1, reward-pre)": dict(beta=1, kl_estimator="k1", kl_placement="reward-pre"),
}
REFERENCES = ["0.02", "0.1", "0.25", "0.5", "0.75", "0.9"]

curves = {}
for name, settings in LINKS.items():
    curves[name] = [float(stationary_policy(Problem([r, 1 - Fraction(r)], [1, 0], 8, **settings), dps=15)[0])
                    for r in REFERENCES]

fig, axes = plt.subplots(1, len(LINKS), figsize=(16, 3.4), sharey=True)
x = [float(r) for r in REFERENCES]
for ax, (name, values) in zip(axes, curves.items()):
    ax.plot(x, values, marker="o")
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--")
    ax.set_title(name, fontsize=9)
    ax.set_xlabel(r"$\pi_{\mathrm{ref}}$(right answer)")
axes[0].set_ylabel(r"$\pi^*$(right answer)")
plt.tight_layout()
plt.show()

# %% [markdown]
# The linear link pins the right answer at $\pi^* = 1$ once its reference probability is large enough: the wrong answer's condition $P_G - \lambda - \beta(\pi/\pi_{\text{ref}} - 1) \le 0$ holds at $\pi = 0$, a face point of the simplex. The reward pooling curve is RLHF's $\pi \propto \pi_{\text{ref}}e^{r/\beta}$: with deterministic rewards the KL-in-reward fixed point is exactly log pooling of the rewards, not of $P_G$.

# %%
pooled = [float(Fraction(r)) * np.e / (float(Fraction(r)) * np.e + 1 - float(Fraction(r))) for r in REFERENCES]
print("reward-pre vs log pooling, max difference:", max(abs(a - b) for a, b in zip(curves["reward pooling (k1, reward-pre)"], pooled)))

# %% [markdown]
# ## 3. The KL inside the reward with stochastic rewards
#
# verl subtracts $\beta\log(\pi_{\text{old}}/\pi_{\text{ref}})$ from each sampled reward and then normalises the group; the fixed point is where every output's normalised preference of the shifted rewards vanishes. With a noisy verifier that is no longer log pooling of the mean rewards (with the mean-only advantage it still is):

# %%
laws = [{"1": "0.9", "0": "0.1"}, {"1": "0.4", "0": "0.6"}]
for normalisation in ("population", "shift"):
    problem = Problem(["0.3", "0.7"], laws, 8, 1, normalisation, kl_estimator="k1", kl_placement="reward-pre")
    print(normalisation, mpmath.nstr(stationary_policy(problem, dps=20)[0], 12))
print("log pooling of the means", mpmath.nstr(0.3 * mpmath.exp(0.9) / (0.3 * mpmath.exp(0.9) + 0.7 * mpmath.exp(0.4)), 12))

# %% [markdown]
# ## 4. $\beta = 0$ without entropy: no stationary policy
#
# TRL's default. Nothing pulls the policy back, so when the rewards differ there is no interior stationary policy; the solver says where the policy goes:

# %%
problem = Problem(["0.3", "0.7"], [1, 0], 8, 0)
try:
    stationary_policy(problem)
except SolverError as exc:
    print(exc)

# %% [markdown]
# The expected-gradient flow shows the approach, and it is slow: $1 - \pi(\text{best})$ shrinks like $C/t$, not exponentially (a lone wrong answer in a group of $G$ costs $\sqrt{G-1}$ in $P_G$, so $C = 1/(2\sqrt{G-1})$ per unit learning rate):

# %%
flow = expected_flow(problem, steps=5000, lr=1.0)
exponent, constant = approach_rate(flow, [0])
print(f"1 - pi(best) ~ {constant:.4f} * t^{exponent:.4f};  1/(2 sqrt(G - 1)) = {1 / (2 * np.sqrt(7)):.4f}")
plt.figure(figsize=(5, 3))
plt.loglog(np.arange(1, flow.shape[0]), 1 - flow[1:, 0])
plt.xlabel("flow step t")
plt.ylabel(r"$1 - \pi_t$(right answer)")
plt.show()
