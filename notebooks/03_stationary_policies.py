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
# # 03 — Stationary policies: from KKT to (11), and the general solver
#
# The paper defines a **stationary policy** as a $\pi^*$ such that, when the group is sampled from $\pi_{\text{old}} = \pi^*$, the objective $J(\pi;\pi_{\text{old}}) = \mathbb{E}_{o\sim\pi}[P_G(o\mid\pi_{\text{old}})] - \beta\,\mathrm{KL}_0(\pi\|\pi_{\text{ref}};\pi_{\text{old}})$ is maximised at $\pi = \pi^*$. This chapter
#
# 1. derives the KKT conditions with SymPy and recovers (11), its multiplier (Appendix A) and the form $\pi = g\big((P_G - \mathbb{E}_\pi P_G)/\beta\big)\,\pi_{\text{ref}}$ with $g(x) = 1/(1-x)$;
# 2. shows that the multiplier is always zero, so (11) simplifies;
# 3. specialises (11) to $G = 2$, eq. (12), and to $G\to\infty$, eq. (13);
# 4. solves a four-output problem with stochastic rewards to 30 digits, checks the result against (11), follows it across $G$, and runs the GRPO update itself to see it converge there.

# %%
# %matplotlib inline
import mpmath
import numpy as np
import sympy as sp
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from grpo_symbolic.export.latex import inline as tex, table, use_paper_notation

use_paper_notation()  # SymPy results in the paper's notation (grpo_symbolic.export.latex.NAMES)

# %%
from grpo_symbolic import (Problem, large_group_preference, preference_exact, preference_numeric,
                           stationary_policies)
from grpo_symbolic.paper import forms as paper_forms
from grpo_symbolic.cases import general
from grpo_symbolic.theory import algebra
from grpo_symbolic.theory.objective import derive_stationarity, objective
from grpo_symbolic.dynamics.simulate import expected_flow, simulate
from grpo_symbolic.model.symbols import P_mean, P_o, lam, lose, pi_o, pi_ref_o, r_mean, r_o, sigma, win

from grpo_symbolic.numerics.precision import to_mpf

DPS = 30
mpmath.mp.dps = DPS   # mpmath arithmetic in this notebook runs at 30 digits

# %% [markdown]
# ## 1. KKT → (11)
#
# `derive_stationarity("grpo", 3)` works with three generic outputs: $\pi_i$, $\pi_{\text{old},i}$, $\rho_i = \pi_{\text{ref}}(o_i)$ and $P_i = P_G(o_i\mid\pi_{\text{old}})$, which does not depend on $\pi$. The Lagrangian adds $-\lambda(\sum_i\pi_i - 1)$:

# %%
st = derive_stationarity("grpo", 3)
st.lagrangian

# %% [markdown]
# Differentiating in $\pi_1$ and then setting $\pi_{\text{old}} = \pi$ gives the stationarity equation; solved for $\pi_1$:

# %%
display(sp.Eq(st.equations[0], 0))
sp.Eq(st.pi[0], st.policy[0])

# %% [markdown]
# Multiplying the equation by $-\pi_1/\beta$ gives the paper's (11) with $\lambda$ in place of $\mathbb{E}_\pi[P_G]$; the solved form is $g\big((P_1-\lambda)/\beta\big)\rho_1$. Both are compared with the printed forms:

# %%
names = lambda i: {P_o: st.preference[i], P_mean: lam, pi_o: st.pi[i], pi_ref_o: st.pi_ref[i]}
printed_11 = [(paper_forms.STATIONARITY_EQ11.lhs - paper_forms.STATIONARITY_EQ11.rhs).subs(names(i)) for i in range(3)]
printed_g = [paper_forms.STATIONARITY_G_FORM.subs(names(i)) for i in range(3)]
derived_11 = general.stationarity_form(3)
assert all(sp.expand(a - b) == 0 for a, b in zip(derived_11, printed_11))
assert all(sp.simplify(a - b) == 0 for a, b in zip(st.policy, printed_g))
display(paper_forms.STATIONARITY_EQ11)
derived_11[0]

# %% [markdown]
# **The multiplier.** Summing $\pi_i\times$(condition $i$) over the outputs (Appendix A) gives $\lambda = \sum_i \pi_i P_i = \mathbb{E}_\pi[P_G]$:

# %%
st.multiplier

# %% [markdown]
# But $\mathbb{E}_{o\sim\pi}[P_G(o\mid\pi)] = 0$ for every $\pi$ (advantages sum to zero in every group; notebook 01). The engine confirms it for a three-output problem with three reward values and a noisy reward, at $G = 4$, with a symbolic policy:

# %%
three = Problem(reference=["0.2", "0.3", "0.5"], rewards=[2, {"0": "1/2", "1": "1/2"}, 0], group_size=4, beta=1)
policy = (st.pi[0], st.pi[1], 1 - st.pi[0] - st.pi[1])
sp.expand(general.zero_mean(three, policy))

# %% [markdown]
# So $\lambda = 0$ and (11) reads simply $\pi(o) = \pi_{\text{ref}}(o)\,/\,\big(1 - P_G(o\mid\pi)/\beta\big)$ — the expectation term printed in (11) is identically zero. Since $\pi(o) > 0$ on the support, the remark after (11) becomes the one-sided bound $P_G(o\mid\pi) < \beta$ there.
#
# ## 2. $G = 2$ gives (12); $G \to \infty$ gives (13)
#
# At $G = 2$, $P_2(o\mid\pi) = w_o - l_o$ with $w_o = \Pr_{o'\sim\pi}[r > r'\mid o]$ and $l_o = \Pr_{o'\sim\pi}[r < r'\mid o]$. Substituting the engine's $P_2$ into the derived (11), for three outputs with reward ties, gives (12):

# %%
ties = Problem(reference=["0.2", "0.3", "0.5"],
               rewards=[{"0": "1/2", "1": "1/2"}, 1, {"0": "4/5", "1": "1/5"}], group_size=2, beta=1)
P2 = preference_exact(ties, st.pi)
w, l = general.win_lose(ties, st.pi)
derived_12 = general.stationarity_with_preference(P2, 3)
printed_12 = [(paper_forms.STATIONARITY_EQ12.lhs - paper_forms.STATIONARITY_EQ12.rhs).subs(
    {win: w[i], lose: l[i], pi_o: st.pi[i], pi_ref_o: st.pi_ref[i]}) for i in range(3)]
assert all(algebra.is_zero(a - b) for a, b in zip(derived_12, printed_12))
assert all(algebra.is_zero(P2[i] - (w[i] - l[i])) for i in range(3))
display(paper_forms.STATIONARITY_EQ12)
sp.Eq(sp.Symbol("w_1"), w[0]), sp.Eq(sp.Symbol("l_1"), l[0])

# %% [markdown]
# As $G\to\infty$, $P_\infty(o\mid\pi) = (r(o) - \mathbb{E}_\pi r)/\sigma(\pi)$. With symbolic rewards $r_1, r_2, r_3$, the derived (11) becomes (13), where $\beta\sigma(\pi)$ plays the role of the regularisation weight:

# %%
r = sp.symbols("r_1:4", real=True)
symbolic_rewards = Problem(reference=["0.2", "0.3", "0.5"], rewards=list(r), group_size="inf", beta=1)
simplex = {st.pi[2]: 1 - st.pi[0] - st.pi[1]}
on_simplex = tuple(x.subs(simplex) for x in st.pi)
P_inf = large_group_preference(symbolic_rewards, on_simplex)
derived_13 = [f.subs(simplex) for f in general.stationarity_with_preference(P_inf, 3)]
mean, std = algebra.expectation(on_simplex, r), general.reward_std(symbolic_rewards, on_simplex)
printed_13 = [(paper_forms.STATIONARITY_EQ13.lhs - paper_forms.STATIONARITY_EQ13.rhs).subs(
    {r_o: r[i], r_mean: mean, sigma: std, pi_o: on_simplex[i], pi_ref_o: st.pi_ref[i]}) for i in range(3)]
assert all(algebra.is_zero(a - b) for a, b in zip(derived_13, printed_13))
paper_forms.STATIONARITY_EQ13

# %% [markdown]
# ## 3. The general solver: four outputs, stochastic rewards
#
# A question with four candidate answers: one always correct (reward 1), one judged correct 80 % of the time, one 30 %, one never. The reference policy prefers the wrong answers. `stationary_policies` solves the fixed-point problem (11) in the mixture law of the rewards, verifies the residual at the requested precision, and reports two properties of each solution: whether it is a local maximiser of $J(\cdot\,;\pi_{\text{old}}=\pi^*)$ (the paper's definition) and whether repeated best responses $\pi_{\text{old}}\mapsto\arg\max_\pi J(\pi;\pi_{\text{old}})$ would converge to it (`stable`).

# %%
question = Problem(reference=["0.1", "0.2", "0.3", "0.4"],
                   rewards=[1, {"1": "0.8", "0": "0.2"}, {"1": "0.3", "0": "0.7"}, 0],
                   group_size=8, beta="0.25")
(point,) = stationary_policies(question, dps=DPS + 10)
star = point.policy
P_star = preference_numeric(question, star, DPS)
beta_value = to_mpf(question.beta)
g_form = [to_mpf(ref) / (1 - P / beta_value) for ref, P in zip(question.reference, P_star)]
pooled = [to_mpf(ref) * mpmath.exp(P / beta_value) for ref, P in zip(question.reference, P_star)]
pooled = [v / mpmath.fsum(pooled) for v in pooled]
table(["output", "E r", "π_ref", "π*", "P_8(o | π*)", "π_ref / (1 − P/β)", "log pool π_ref·e^{P/β}/Z"],
      [[o + 1, law.mean, question.reference[o], mpmath.nstr(star[o], 15), mpmath.nstr(P_star[o], 12),
        mpmath.nstr(g_form[o], 15), mpmath.nstr(pooled[o], 6)] for o, law in enumerate(question.rewards)])
display(Markdown(f"multiplier λ = {mpmath.nstr(point.multiplier, 3)}, residual = {mpmath.nstr(point.residual, 3)}, "
                 f"local maximiser: {point.is_local_maximum}, stable under best response: {point.stable} "
                 f"(spectral radius {mpmath.nstr(point.spectral_radius, 4)})"))
assert max(abs(a - b) for a, b in zip(g_form, star)) < mpmath.mpf(10) ** (5 - DPS)
assert all(P < beta_value for P in P_star)

# %% [markdown]
# The solution satisfies the reciprocal form (11) to 30 digits, and the logarithmic pool with the same $P_G$ values is a different policy. Every $P_G(o\mid\pi^*)$ lies below $\beta$, as the bound requires.
#
# **Across group sizes.** The same question for $G$ from 2 to 64 and in the limit $G\to\infty$, where (13) applies with $\beta\sigma(\pi^*)$ as the effective weight:

# %%
sizes = [2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64]
by_size = {G: stationary_policies(question.replace(group_size=G), dps=DPS)[0].policy for G in sizes}
limit_point = stationary_policies(question.replace(group_size="inf"), dps=DPS)[0]
limit = limit_point.policy
means = [to_mpf(law.mean) for law in question.rewards]
second = [to_mpf(law.second_moment) for law in question.rewards]
mean_limit = mpmath.fsum(x * m for x, m in zip(limit, means))
sigma_limit = mpmath.sqrt(mpmath.fsum(x * s for x, s in zip(limit, second)) - mean_limit ** 2)
display(Markdown(f"G → ∞: π* = ({', '.join(mpmath.nstr(x, 8) for x in limit)}), "
                 f"σ(π*) = {mpmath.nstr(sigma_limit, 8)}, effective weight βσ(π*) = {mpmath.nstr(beta_value * sigma_limit, 8)}"))

fig, ax = plt.subplots(figsize=(6.5, 4))
for o in range(4):
    line, = ax.semilogx(sizes, [float(by_size[G][o]) for G in sizes], "o-", label=f"output {o + 1} (E r = {question.rewards[o].mean})")
    ax.axhline(float(limit[o]), color=line.get_color(), linestyle=":")
ax.set_xticks(sizes, [str(G) for G in sizes])
ax.minorticks_off()
ax.set_xlabel("group size $G$")
ax.set_ylabel(r"$\pi^*(o)$")
ax.set_title(r"stationary policy against $G$ (dotted: $G\to\infty$), $\beta = 0.25$")
ax.legend(fontsize=8)
display(fig)
plt.close(fig)

# %% [markdown]
# ## 4. Does GRPO get there?
#
# Two runs of the update on a tabular softmax policy (`grpo_symbolic.dynamics.simulate`), both started at $\pi_{\text{ref}}$:
#
# * `expected_flow`: gradient steps on $J(\pi;\pi_{\text{old}})$ with $\pi_{\text{old}}$ refreshed every step and exact expectations;
# * `simulate`: the sampled algorithm — 16 groups of $G = 8$ per batch, rewards drawn from their laws, the clipped ratio objective ($\epsilon = 0.2$) and the $k_3$ penalty — in 8 independent chains.

# %%
flow = expected_flow(question, steps=300, lr=1.0)
run = simulate(question, iterations=400, lr=0.3, groups=16, seed=0, chains=8)
mean_tail, stderr_tail = run.estimate()
table(["output", "π*", "expected flow (300 steps)", "sampled GRPO, tail mean ± s.e."],
      [[o + 1, mpmath.nstr(star[o], 8), f"{flow[-1, o]:.8f}", f"{mean_tail[o]:.4f} ± {stderr_tail[o]:.4f}"] for o in range(4)])
assert max(abs(flow[-1, o] - float(star[o])) for o in range(4)) < 1e-8

fig, ax = plt.subplots(figsize=(6.5, 4))
for o in range(4):
    line, = ax.plot(run.policies[:, :, o].mean(axis=1), linewidth=1, label=f"output {o + 1}")
    ax.plot(flow[:, o], color=line.get_color(), linestyle="--", linewidth=1)
    ax.axhline(float(star[o]), color=line.get_color(), linestyle=":")
ax.set_xlabel("iteration")
ax.set_ylabel(r"$\pi(o)$")
ax.set_title("sampled GRPO (solid, mean of 8 chains), expected flow (dashed), $\\pi^*$ (dotted)")
ax.legend(fontsize=8)
display(fig)
plt.close(fig)

# %% [markdown]
# **A caution about the definition.** The solver's flags matter. With a larger weight, $\beta = 1$, the only interior solution of (11) is *not* a local maximiser of $J(\cdot\,;\pi^*)$: $\mathrm{KL}_0(\cdot\,;\pi_{\text{old}})$ is not convex where $\pi(o) > 2\pi_{\text{ref}}(o)$. The Hessian of $J$ along the simplex, built with SymPy from the objective at $\pi_{\text{old}} = \pi^*$, has a positive eigenvalue; repeated best responses would move away. Yet the small-step update still converges to $\pi^*$:

# %%
heavy = question.replace(beta=1)
(saddle,) = stationary_policies(heavy, dps=DPS + 10)
P_saddle = preference_numeric(heavy, saddle.policy, DPS)
x = sp.symbols("x_1:5", positive=True)
J = objective([sp.Float(v, DPS) for v in P_saddle], x, heavy.reference, [sp.Float(v, DPS) for v in saddle.policy], heavy.beta, "grpo")
at_star = dict(zip(x, [sp.Float(v, DPS) for v in saddle.policy]))
hessian = sp.hessian(J, x).subs(at_star)
tangent = sp.Matrix([[1 if i == j else (-1 if i == 3 else 0) for j in range(3)] for i in range(4)])   # e_j − e_4
curvatures = (tangent.T * hessian * tangent).evalf(12).eigenvals()
flow_heavy = expected_flow(heavy, steps=2000, lr=1.0)
display(Markdown(f"π* = ({', '.join(mpmath.nstr(v, 8) for v in saddle.policy)}); local maximiser: {saddle.is_local_maximum}, "
                 f"stable: {saddle.stable}; expected flow after 2000 steps: ({', '.join(f'{v:.8f}' for v in flow_heavy[-1])})"))
assert max(sp.re(c) for c in curvatures) > 0 and not saddle.is_local_maximum
assert max(abs(flow_heavy[-1, o] - float(saddle.policy[o])) for o in range(4)) < 1e-6
sorted(sp.N(sp.re(c), 8) for c in curvatures)   # curvatures of J along the simplex at π*

# %% [markdown]
# So (11) characterises the points where GRPO's small-step dynamics can rest, but such a point need not maximise $J(\cdot\,;\pi^*)$ as the paper's definition asks.
#
# ## Summary
#
# SymPy derives the KKT conditions of $J(\pi;\pi_{\text{old}})$ at $\pi_{\text{old}} = \pi$ and recovers (11), the multiplier $\lambda = \mathbb{E}_\pi[P_G]$ of Appendix A and the reciprocal form $\pi = \pi_{\text{ref}}/(1 - (P_G - \lambda)/\beta)$. Because $P_G$ has mean zero under $\pi$ for every $G$ and every reward law, $\lambda = 0$ and the stationary policy is $\pi(o) = \pi_{\text{ref}}(o)/(1 - P_G(o\mid\pi)/\beta)$, with $P_G(o\mid\pi) < \beta$ on the support. With $G = 2$ and $G\to\infty$ the same derivation yields (12) and (13). The numeric solver finds the stationary policy of a four-output problem with stochastic rewards to 30 digits; it satisfies (11) and differs from the log pool; it moves towards the best answer as $G$ grows; and both the exact-expectation flow and the sampled, clipped GRPO update converge to it. For larger $\beta$ the solution of (11) can be a saddle of $J(\cdot\,;\pi^*)$ rather than a maximiser, while the small-step update still converges to it.
