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
# # 02 — The penalty, and why it acts as the reverse KL at stationarity
#
# GRPO's penalty is not an exact KL divergence. Each sampled output contributes Schulman's "k3" estimator $D_i = \pi_{\text{ref}}(o_i)/\pi(o_i) - \log(\pi_{\text{ref}}(o_i)/\pi(o_i)) - 1$, and since the outputs come from $\pi_{\text{old}}$, not from $\pi$, its expectation is the quantity the paper calls $\mathrm{KL}_0(\pi\,\|\,\pi_{\text{ref}};\pi_{\text{old}})$, eq. (7). This chapter:
#
# 1. derives (7) by averaging $D_i$ over every group;
# 2. differentiates $\mathrm{KL}_0$, the KL divergence and the reverse KL — the paper's gradients (8), (9), (10);
# 3. shows that at $\pi_{\text{old}} = \pi$ the penalty has the gradient of the **reverse** KL, $\mathrm{KL}(\pi_{\text{ref}}\,\|\,\pi)$, up to a constant, so that GRPO's stationarity conditions are those of a reverse-KL-regularised objective;
# 4. does the same for the other per-sample estimators trainers use (k1, k2, and k3 weighted by $\pi/\pi_{\text{old}}$).

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
from grpo_symbolic import Problem
from grpo_symbolic.paper import forms as paper_forms
from grpo_symbolic.cases import general
from grpo_symbolic.theory import algebra
from grpo_symbolic.theory import estimators
from grpo_symbolic.theory.objective import derive_stationarity
from grpo_symbolic.theory.penalty import k3, kl, kl0
from grpo_symbolic.model.symbols import beta, lam, p, p_old, rho


def reduced(expr):
    # expr with its logarithms split and the rational rest cancelled: 0 when SymPy finds expr ≡ 0
    return sp.cancel(sp.expand(sp.expand_log(expr, force=True)))


# %% [markdown]
# ## 1. The per-sample term and its expectation (7)
#
# With $x = \pi_{\text{ref}}/\pi$, $k_3 = x - \log x - 1 \ge 0$, with equality only at $x = 1$:

# %%
display(k3(p, rho))
xs = sp.Symbol("x", positive=True)
f = k3(1, xs)                       # π = 1, π_ref = x: the function x − log x − 1
sp.solve(sp.diff(f, xs), xs), f.subs(xs, 1), sp.diff(f, xs, 2)

# %% [markdown]
# `general.sampled_penalty` averages $\frac1G\sum_i D_i$ over every group $o_1,\dots,o_G$ drawn from $\pi_{\text{old}}$ (by enumeration, here $G = 3$ and two outputs, all symbols). The result is $\mathrm{KL}_0$ as built by `penalty.kl0`, and the paper's printed (7):

# %%
q = sp.Symbol("q", positive=True)
two = Problem(reference=["0.5", "0.5"], rewards=[1, 0], group_size=3, beta=1)
pi, ref, old = (p, 1 - p), (rho, 1 - rho), (q, 1 - q)
sampled = general.sampled_penalty(two, pi, ref, old)
expected = kl0(pi, ref, old)
printed = paper_forms.kl0_eq7(pi, ref, old)
gaps = [reduced(sampled - expected), reduced(expected - printed)]
assert gaps == [0, 0]
display(sp.Eq(sp.Symbol("KL_0"), expected))
gaps

# %% [markdown]
# $\mathrm{KL}_0(\pi\|\pi_{\text{ref}};\pi_{\text{old}})$ equals $\mathrm{KL}(\pi\|\pi_{\text{ref}})$ when $\pi_{\text{old}} = \pi$, and not otherwise:

# %%
on_policy = reduced(kl0(pi, ref, pi) - kl(pi, ref))
off_policy = reduced(kl0(pi, ref, old) - kl(pi, ref))
assert on_policy == 0 and off_policy != 0
at = {p: sp.Rational(1, 2), rho: sp.Rational(1, 3), q: sp.Rational(1, 5)}
on_policy, off_policy.subs(at), sp.N(off_policy.subs(at))   # the gap at p = 1/2, ρ = 1/3, π_old(a) = 1/5

# %% [markdown]
# ## 2. Gradients (8), (9), (10) and the reverse KL
#
# `general.penalty_gradients` differentiates the engine's penalties with respect to $\pi(o)$; each is compared with the paper's printed form.

# %%
derived = general.penalty_gradients()
printed = {"kl0": paper_forms.GRADIENT_KL0_EQ8, "kl": paper_forms.GRADIENT_KL_EQ9,
           "on_policy": paper_forms.GRADIENT_ON_POLICY_EQ10, "reverse": paper_forms.GRADIENT_REVERSE_KL}
labels = {"kl0": "(8) ∂KL0/∂π(o)", "kl": "(9) ∂KL/∂π(o)", "on_policy": "(10) ∂KL0/∂π(o) at π_old = π",
          "reverse": "∂KL(π_ref‖π)/∂π(o)"}
for name in derived:
    assert reduced(derived[name] - printed[name]) == 0
table(["gradient", "derived", "derived − printed"],
      [[labels[n], tex(sp.factor(derived[n])), tex(reduced(derived[n] - printed[n]))] for n in derived])

# %% [markdown]
# The on-policy gradient (10) is linear in $\pi_{\text{ref}}/\pi$, while the KL gradient (9) is logarithmic; (10) differs from the reverse-KL gradient by the constant $1$, the same for every output:

# %%
reduced(derived["on_policy"] - derived["kl"]), reduced(derived["on_policy"] - derived["reverse"])

# %% [markdown]
# **A picture for two outputs.** Along the simplex $\pi = (p, 1-p)$ the constant cancels: the slope of $\mathrm{KL}_0(\cdot\,;\pi_{\text{old}})$ at $p = p_o$ *is* the slope of $\mathrm{KL}(\pi_{\text{ref}}\|\pi)$, not that of $\mathrm{KL}(\pi\|\pi_{\text{ref}})$. Left: the three penalties as functions of $p$ for a fixed $\pi_{\text{old}}$; $\mathrm{KL}_0$ touches the forward KL in value at $p = p_o$ but has the reverse KL's slope there. Right: the on-policy slopes over all $p$.

# %%
slope_kl0 = sp.diff(kl0(pi, ref, (p_old, 1 - p_old)), p).subs(p_old, p)
slope_reverse = sp.diff(kl(ref, pi), p)
slope_forward = sp.diff(kl(pi, ref), p)
assert sp.simplify(slope_kl0 - slope_reverse) == 0
display(sp.Eq(sp.Symbol("slope_KL0"), sp.factor(slope_kl0)), sp.Eq(sp.Symbol("slope_forward"), sp.expand_log(slope_forward, force=True)))

rho_value, p_o_value = sp.Rational(3, 10), sp.Rational(6, 10)
values = {"$\\mathrm{KL}_0(\\pi\\|\\pi_{ref};\\pi_{old})$": kl0(pi, ref, (p_o_value, 1 - p_o_value)),
          "$\\mathrm{KL}(\\pi\\|\\pi_{ref})$": kl(pi, ref),
          "$\\mathrm{KL}(\\pi_{ref}\\|\\pi)$": kl(ref, pi)}
grid = np.linspace(0.02, 0.98, 300)
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
for label, expr in values.items():
    f = sp.lambdify(p, expr.subs(rho, rho_value), "numpy")
    left.plot(grid, f(grid), label=label)
left.axvline(float(p_o_value), color="0.6", linestyle=":")
left.set_ylim(0, 1.5)
left.set_xlabel("$p = \\pi(a)$")
left.set_title(f"penalties, $\\pi_{{ref}}(a) = {float(rho_value)}$, $p_o = {float(p_o_value)}$")
left.legend()
for label, expr, style in (("on-policy slope of $\\mathrm{KL}_0$", slope_kl0, "-"),
                           ("slope of $\\mathrm{KL}(\\pi_{ref}\\|\\pi)$", slope_reverse, "--"),
                           ("slope of $\\mathrm{KL}(\\pi\\|\\pi_{ref})$", slope_forward, "-")):
    f = sp.lambdify(p, expr.subs(rho, rho_value), "numpy")
    right.plot(grid, f(grid), style, label=label, linewidth=2)
right.set_ylim(-8, 8)
right.axhline(0, color="0.6", linewidth=0.8)
right.set_xlabel("$p = \\pi(a)$")
right.set_title("slopes along the simplex at $\\pi_{old} = \\pi$")
right.legend()
fig.tight_layout()
display(fig)
plt.close(fig)

# %% [markdown]
# ## 3. What the penalty does at stationarity
#
# `derive_stationarity` builds the per-context objective $J(\pi;\pi_{\text{old}}) = \sum_o \pi(o)P_o - \beta\,\mathrm{KL}_0(\pi\|\pi_{\text{ref}};\pi_{\text{old}})$ with its Lagrangian, differentiates, sets $\pi_{\text{old}} = \pi$ and solves for $\pi(o)$ ($P_o$ stands for $P_G(o\mid\pi_{\text{old}})$). Below, the same is done by hand for the objective regularised by the reverse KL, $\sum_o\pi(o)P_o - \beta\,\mathrm{KL}(\pi_{\text{ref}}\|\pi)$:

# %%
st = derive_stationarity("grpo", 3)
reverse_lagrangian = (sum(x * P for x, P in zip(st.pi, st.preference))
                      - beta * kl(st.pi_ref, st.pi) - lam * (sum(st.pi) - 1))
reverse_policy = [algebra.only_solution(sp.diff(reverse_lagrangian, x), x) for x in st.pi]
display(sp.Eq(st.pi[0], st.policy[0]), sp.Eq(st.pi[0], sp.simplify(reverse_policy[0])))
shifted = [sp.simplify(a - b.subs(lam, lam + beta)) for a, b in zip(st.policy, reverse_policy)]
assert shifted == [0, 0, 0]
shifted

# %% [markdown]
# The two policies coincide once the reverse-KL multiplier is taken as $\lambda + \beta$: the constant $1$ in (10) is absorbed by the Lagrange multiplier. So, at a stationary policy, GRPO's penalty acts as $\beta\,\mathrm{KL}(\pi_{\text{ref}}\|\pi)$ and yields the form $\pi(o) = \pi_{\text{ref}}(o)\,\big/\big(1 - (P_o-\lambda)/\beta\big)$, not the logarithmic pooling $\pi \propto \pi_{\text{ref}}\,e^{P/\beta}$ that the forward KL gives. The importance-weighted ("direct") penalty of Section 3 gives the latter:

# %%
derive_stationarity("direct", 3).policy[0]

# %% [markdown]
# Away from $\pi_{\text{old}} = \pi$ the best-response condition still carries $\pi_{\text{old}}(o)$, the weight with which $o$ is sampled — eq. (8) inside the first-order condition:

# %%
st.best_response[0]

# %% [markdown]
# ## 4. The estimators trainers use
#
# Implementations differ in the per-sample term added to the loss: $k_1 = \log(\pi/\pi_{\text{ref}})$, $k_2 = \tfrac12\log^2(\pi/\pi_{\text{ref}})$, $k_3$ (DeepSeekMath, TRL, verl's `low_var_kl`), and $k_3\cdot\pi/\pi_{\text{old}}$ (TRL's `use_bias_correction_kl`, the paper's direct penalty). `cases.estimators` derives the expected gradient of each at $\pi_{\text{old}} = \pi$ and finds the divergence whose gradient it equals up to a constant common to all outputs:

# %%
rows = []
for name in estimators.ESTIMATORS:
    target = estimators.identify(name)
    policy = estimators.stationarity(name).policy[0]
    rows.append([name, tex(estimators.expected_gradient(name, 2)[0]), target, tex(estimators.offset(name, target)),
                 "— (π(o₁) drops out)" if policy is None else tex(policy)])
table(["estimator", "E[∂ loss/∂π(o₁)] at π_old = π", "acts as", "constant", "stationary π(o₁)"], rows)
assert estimators.k1_is_unregularised()

# %% [markdown]
# "reverse" is $\mathrm{KL}(\pi_{\text{ref}}\|\pi)$, "forward" is $\mathrm{KL}(\pi\|\pi_{\text{ref}})$. The k1 loss has an expected gradient that is the same constant for every output: its stationarity conditions contain no $\pi_{\text{ref}}$ at all (`k1_is_unregularised`), i.e. used as a loss on samples from $\pi_{\text{old}}$ it does not regularise.
#
# ## Summary
#
# Averaging GRPO's per-sample $k_3$ term over every group reproduces the paper's $\mathrm{KL}_0(\pi\|\pi_{\text{ref}};\pi_{\text{old}})$, eq. (7), which equals $\mathrm{KL}(\pi\|\pi_{\text{ref}})$ only on policy. Differentiation gives (8) and (9), and at $\pi_{\text{old}} = \pi$ the gradient (10), $1 - \pi_{\text{ref}}(o)/\pi(o)$: the gradient of the reverse KL $\mathrm{KL}(\pi_{\text{ref}}\|\pi)$ plus a constant that the Lagrange multiplier absorbs. Deriving the stationary policies both ways confirms it — GRPO's stationarity conditions are exactly those of the reverse-KL-regularised objective, with the reciprocal form $\pi = \pi_{\text{ref}}/(1 - (P-\lambda)/\beta)$ rather than logarithmic pooling. Among trainers' estimators, $k_3$ acts as the reverse KL, $k_2$ and importance-weighted $k_3$ as the forward KL, and $k_1$ as no regulariser at all.
