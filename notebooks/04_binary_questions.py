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
# # 04 — Binary questions: (14), (15), every $G$ in between, Figures 1–2, and the floors for TRL's $\beta$
#
# Two answers $a$ and $b$ with $P(a\succ b) > P(b\succ a)$. Write $p = \pi(a)$, $p_o = \pi_{\text{old}}(a)$, $\rho = \pi_{\text{ref}}(a)$ and $\gamma = P(a\succ b) - P(b\succ a)$, the confidence margin. Section 2.3.1 and Appendix B.1 of the paper solve the stationarity condition in closed form for $G = 2$, eq. (14), and for $G\to\infty$, eq. (15). Here:
#
# 1. (16) → (17) → (14) derived from the model, and its stated properties decided by SymPy;
# 2. (18) → (19) → (15) likewise;
# 3. every $G$ between: the binomial-sum $P_G$, the floor $p_G(\beta) = \inf_\rho \pi(a)$, and the $1/G$ approach to (15);
# 4. Figures 1 and 2;
# 5. the floors for $\beta = 0.04$ (TRL's default when the paper was written), in the paper's model and with TRL's own conventions.

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
from grpo_symbolic import Problem, preference_numeric, stationary_policy
from grpo_symbolic.solve import binary_grid
from grpo_symbolic.export import figures
from grpo_symbolic.paper import forms as paper_forms
from grpo_symbolic.cases import binary, general, general_g
from grpo_symbolic.theory import algebra
from grpo_symbolic.numerics.precision import to_mpf
from grpo_symbolic.model.presets import preset
from grpo_symbolic.model.symbols import beta, gamma, p, p_old, rho

DPS = 30
mpmath.mp.dps = DPS

# %% [markdown]
# ## 1. $G = 2$: from (16) to (14)
#
# The binary problem has Bernoulli rewards with symbolic success probabilities $q_a, q_b$; the engine's $P(a\succ b) - P(b\succ a)$ is $q_a - q_b$, which is renamed $\gamma$ (and $q_b$ must then drop out). The reward term is (16):

# %%
display(binary.margin(binary.binary_problem(2, "margin")))
display(binary.preference_values(2, "margin"))   # (P_2(a | π_old), P_2(b | π_old))
derived_16 = binary.reward_term_g2()
assert sp.expand(derived_16 - paper_forms.REWARD_TERM_EQ16) == 0
derived_16

# %% [markdown]
# $J(p;p_o)$ adds $-\beta\,\mathrm{KL}_0$; differentiating in $p$ and setting $p_o = p$ gives (17). Clearing $p(1-p)$ gives the quadratic of Appendix B.1:

# %%
display(sp.Eq(binary.stationarity_g2(), 0))
display(paper_forms.STATIONARITY_EQ17)
quadratic = binary.quadratic_g2()
assert sp.expand(quadratic - paper_forms.QUADRATIC_EQ17) == 0
quadratic

# %% [markdown]
# The stationarity itself fixes the sign of $p - \rho$ (it is $\gamma p(1-p)/\beta > 0$), the quadratic is negative at $p = \rho$ and positive at $p = 1$, so exactly one root lies in $(\rho, 1)$. `admissible_root` makes each of these decisions with SymPy and returns that root; it is (14):

# %%
display(binary.sign_condition(2))
policy_14 = binary.policy_g2()
assert algebra.is_zero(policy_14 - paper_forms.POLICY_EQ14)
display(sp.Eq(sp.Symbol("\\pi(a)"), policy_14))
paper_forms.POLICY_EQ14

# %% [markdown]
# **Properties stated after (14)**, each decided here:

# %%
k = sp.Symbol("k", positive=True)   # k = β/γ
properties = [
    ("γ = 0 ⇒ π = π_ref", binary.admissible_root(2, "tie")),
    ("depends on β, γ only through k = β/γ", sp.simplify(policy_14.subs(beta, k * gamma))),
    ("sign of ∂π(a)/∂β, ∂π(a)/∂γ, ∂π(a)/∂ρ", (binary.slope_sign(2, beta), binary.slope_sign(2, gamma), binary.slope_sign(2, rho))),
    ("β → 0⁺", sp.limit(policy_14, beta, 0, "+")),
    ("β → ∞", sp.limit(policy_14, beta, sp.oo)),
    ("β = γ", policy_14.subs(beta, gamma)),
    ("ρ → 0⁺ (the floor)", binary.floor_g2()),
    ("deterministic rewards r(a) = r_b + Δ > r(b) = r_b: margin", binary.margin(binary.binary_problem(2, "ranked"))),
]
table(["property", "derived"], [[name, tex(value)] for name, value in properties])

# %% [markdown]
# The floor is $\max(1 - \beta/\gamma, 0)$, while at $\rho = 0$ exactly the stationary form $\pi(a) = g(\cdot)\,\rho$ gives $\pi(a) = 0$: for $\beta < \gamma$ the stationary policy **jumps** at $\rho = 0$. Since $\pi(a)$ increases in $\rho$ and exceeds $\rho$, $\pi(a) \ge \max\{1-\beta/\gamma, \rho\}$. With deterministic rewards the margin is $1$ whatever the reward values: only the order of the rewards matters.
#
# ## 2. $G \to \infty$: from (18) to (15)
#
# For deterministic rewards $r(a) > r(b)$ the engine's large-group preference gives (18); stationarity is (19) after clearing $p(1-p)$; squaring removes the root:

# %%
derived_18 = binary.reward_term_large_g()
assert algebra.is_zero(derived_18 - paper_forms.REWARD_TERM_EQ18)
display(derived_18)
display(sp.Eq(binary.cleared_stationarity(sp.oo, "ranked"), 0))
display(paper_forms.STATIONARITY_EQ19)
quadratic_19 = binary.quadratic_large_g()
assert sp.expand(quadratic_19 - paper_forms.QUADRATIC_EQ19) == 0
quadratic_19

# %% [markdown]
# Squaring also admits the roots of $\beta(p-\rho) = -\sqrt{p(1-p)}$; the sign condition $p - \rho = \sqrt{p(1-p)}/\beta > 0$ selects the larger root, (15):

# %%
display(binary.sign_condition(sp.oo, "ranked"))
policy_15 = binary.policy_large_g()
assert algebra.is_zero(policy_15 - paper_forms.POLICY_EQ15)
floor_15 = binary.floor_large_g()
gap = sp.factor(floor_15 - (1 - beta))
display(sp.Eq(sp.Symbol("\\pi(a)"), policy_15))
table(["property", "derived"], [
    ["r(a) = r(b) ⇒ π = π_ref", tex(binary.admissible_root(sp.oo, "equal"))],
    ["sign of ∂π(a)/∂β, ∂π(a)/∂ρ", tex((binary.slope_sign(sp.oo, beta, "ranked"), binary.slope_sign(sp.oo, rho, "ranked")))],
    ["ρ → 0⁺ (the floor)", tex(floor_15)],
    ["floor − (1 − β)", tex(gap)],
    ["real roots of β² − β + 1", tex(sp.real_roots(beta**2 - beta + 1))],
])
assert sp.expand(floor_15 - paper_forms.FLOOR_LARGE_G) == 0 and sp.real_roots(beta**2 - beta + 1) == []

# %% [markdown]
# The floor $1/(1+\beta^2)$ is positive for every $\beta$, so the large-group policy jumps at $\rho = 0$ for every $\beta > 0$; and $1/(1+\beta^2) - (1-\beta) = \beta(\beta^2-\beta+1)/(1+\beta^2) > 0$ because $\beta^2 - \beta + 1$ has no real root: large groups lean further towards the reward's preference than $G = 2$.
#
# ## 3. Every $G$ in between
#
# With rewards $1 > 0$, the other $G-1$ members contain $K\sim\mathrm{Bin}(G-1, p)$ copies of $a$, and the engine's composition sum becomes a binomial sum with surds:

# %%
rows = []
for G in (2, 3, 4, 5):
    P_a, P_b = general_g.binomial_preference(G)
    rows.append([G, tex(sp.factor(P_a)), tex(sp.factor(P_b))])
table(["G", "P_G(a | p)", "P_G(b | p)"], rows)

# %% [markdown]
# Its large-$G$ expansion, derived by SymPy from the binomial central moments, starts with the $G\to\infty$ form $\sqrt{(1-p)/p}$ of (18):

# %%
A0, A1 = general_g.large_group_expansion()
assert algebra.is_zero(A0 - binary.preference_values(sp.oo, "ranked")[0].subs(p_old, p))
A0, A1

# %% [markdown]
# Since $\lambda = 0$, stationarity reads $\beta(1 - \rho/p) = P_G(a\mid p)$; as $\rho\to0^+$ the stationary $\pi(a)$ decreases to the **floor** $p_G(\beta)$, the root of $P_G(a\mid p) = \beta$. `general_g.floor` computes it; it rises with $G$ from $1-\beta$ to $1/(1+\beta^2)$:

# %%
sizes = [2, 4, 8, 16, 64, 1024]
weights = [sp.Rational(4, 100), sp.Rational(1, 2)]
floors = {b: {G: general_g.floor(b, G, dps=DPS) for G in sizes} for b in weights}
for b in weights:
    floors[b][sp.oo] = to_mpf(floor_15.subs(beta, b))
table(["β"] + [str(G) for G in sizes] + ["∞"],
      [[b] + [mpmath.nstr(floors[b][G], 6) for G in [*sizes, sp.oo]] for b in weights])
for b in weights:   # agreement with the 4-digit reference table FLOOR_TABLE of grpo_symbolic/paper/forms.py
    for G, value in paper_forms.FLOOR_TABLE[b].items():
        assert abs(floors[b][G] - mpmath.mpf(value)) < 5e-5

# %%
many = [2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 128, 256, 512, 1024]
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
for ax, b in zip(axes, weights):
    ax.semilogx(many, [float(general_g.floor(b, G, dps=20)) for G in many], "o-", label="$p_G(\\beta)$")
    ax.axhline(float(1 - b), color="C1", linestyle="--", label="$1-\\beta$ (G = 2)")
    ax.axhline(float(floor_15.subs(beta, b)), color="C2", linestyle=":", label="$1/(1+\\beta^2)$ (G → ∞)")
    ax.set_title(f"floor of $\\pi(a)$, $\\beta = {float(b)}$")
    ax.set_xlabel("group size $G$")
    ax.legend()
fig.tight_layout()
display(fig)
plt.close(fig)

# %% [markdown]
# **The whole curve for every $G$.** `binary_grid.stationary_grid` solves the derived stationarity equation in float64 over a grid of $\rho$ (for plots; one point is checked against the 30-digit solver):

# %%
weight = 0.5
grid = np.concatenate([np.logspace(-8, -2, 30, endpoint=False), np.linspace(0.01, 0.999, 200)])
check = stationary_policy(Problem(reference=["0.3", "0.7"], rewards=[1, 0], group_size=8, beta="0.5"), dps=DPS)[0]
assert abs(binary_grid.stationary_grid(8, weight, np.array([0.3]))[0] - float(check)) < 1e-12

fig, ax = plt.subplots(figsize=(7, 4.5))
ax.plot([0, 1], [0, 1], ":", color="0.4", label="$\\pi = \\pi_{ref}$")
for G in (2, 3, 4, 8, 32, 256):
    ax.plot(grid, binary_grid.stationary_grid(G, weight, grid), label=f"G = {G}")
large = sp.lambdify(rho, policy_15.subs(beta, sp.Rational(1, 2)), "numpy")
ax.plot(grid, large(grid), "k--", label="G → ∞, (15)")
ax.set_xlabel("$\\pi_{ref}(a)$")
ax.set_ylabel("$\\pi(a)$")
ax.set_title("stationary $\\pi(a)$ for rewards 1 > 0, $\\beta = 0.5$")
ax.legend(fontsize=8)
display(fig)
plt.close(fig)

# %% [markdown]
# **How fast (15) is approached.** Perturbing the derived stationarity equation by the $1/G$ term of the expansion gives $\pi_G(a) = \pi_\infty(a) + c/G + O(1/G^2)$ with

# %%
c = general_g.rate_coefficient()
display(c)
point = {rho: sp.Rational(3, 10), beta: 2}
p_inf = policy_15.subs(point)
c_value = to_mpf(c.subs(point).subs(p, p_inf))
rows = []
for G in (16, 64, 256, 1024, 4096):
    p_G = stationary_policy(Problem(reference=["0.3", "0.7"], rewards=[1, 0], group_size=G, beta=2), dps=DPS)[0]
    rows.append([G, mpmath.nstr(p_G, 15), mpmath.nstr(G * (p_G - to_mpf(p_inf)), 8)])
display(Markdown(f"ρ = 0.3, β = 2: π_∞(a) = {mpmath.nstr(to_mpf(p_inf), 15)}, c = {mpmath.nstr(c_value, 8)}"))
table(["G", "π_G(a)", "G·(π_G(a) − π_∞(a))"], rows)
assert abs(mpmath.mpf(rows[-1][2]) - c_value) < 1e-3

# %% [markdown]
# ## 4. Figures 1 and 2
#
# `figures.draw` plots the derived closed forms — (14) for Figure 1 with several $\beta/\gamma$, (15) for Figure 2 with several $\beta$ — against $\pi_{\text{ref}}(a)$, with the value at $\pi_{\text{ref}}(a) = 0$ (filled marker) and the limit from the right (open marker). The inset uses a logarithmic axis down to $10^{-12}$. (The paper does not list its legend values; these are our choice.)

# %%
for number in (1, 2):
    fig = figures.draw(number)
    display(fig)
    plt.close(fig)
    data = figures.curves(number, points=40)
    display(Markdown("jump at π_ref(a) = 0: " + ", ".join(f"{c.label} → {c.jump_at_zero:.6f}" for c in data.curves)))

# %% [markdown]
# ## 5. The floors for TRL's $\beta$
#
# The paper evaluates its floors at $\beta = 0.04$: $1 - \beta = 0.96$ for $G = 2$ and $1/(1 + 0.0016)$ for $G\to\infty$. From the derived forms, with $\gamma = 1$:

# %%
trl_beta = paper_forms.TRL_BETA
floor_2 = binary.floor_g2().subs({beta: trl_beta, gamma: 1})
floor_inf = floor_15.subs(beta, trl_beta)
assert floor_2 == paper_forms.TRL_FLOOR_G2 and floor_inf == paper_forms.TRL_FLOOR_LARGE_G
floor_2, floor_inf, sp.N(floor_inf, 10)


# %% [markdown]
# TRL does not use the paper's advantage: it divides by the Bessel std and adds $\epsilon = 10^{-4}$ to it (`preset("trl", ...)`). The floor is then the root of $P_G^{\text{TRL}}(a\mid p) = \beta$ with TRL's $P_G$. Without $\epsilon$, the Bessel std multiplies every advantage by $\sqrt{(G-1)/G}$, so the floor is the paper's $p_G$ at $\beta_{\text{eff}} = \beta\sqrt{G/(G-1)}$ — checked below by evaluating the paper's $P_G(a\mid\cdot)$ at the Bessel floor.

# %%
def floor_of(problem):
    # root in (0, 1) of P_G(a | p) = β for a binary problem whose answer a has the larger reward
    target = to_mpf(problem.beta)
    excess = lambda t: preference_numeric(problem, (t, 1 - t), DPS)[0] - target
    return +mpmath.findroot(excess, (mpmath.mpf(10) ** -20, 1 - mpmath.mpf(10) ** -20), solver="anderson")


rows = []
for G in (2, 4, 8, 16, 64, 256, 1024):
    trl = preset("trl", ["0.5", "0.5"], [1, 0], G, trl_beta)
    with_eps, bessel_only = floor_of(trl), floor_of(trl.replace(eps=0))
    paper = general_g.floor(trl_beta, G, dps=DPS)
    beta_eff = to_mpf(trl_beta) * mpmath.sqrt(mpmath.mpf(G) / (G - 1))
    paper_at_bessel = preference_numeric(trl.replace(normalisation="population", eps=0), (bessel_only, 1 - bessel_only), DPS)[0]
    assert abs(paper_at_bessel - beta_eff) < mpmath.mpf(10) ** (5 - DPS)
    rows.append([G, mpmath.nstr(paper, 8), mpmath.nstr(bessel_only, 8), mpmath.nstr(with_eps, 8), mpmath.nstr(beta_eff, 6)])
table(["G", "paper's model p_G(0.04)", "Bessel std, ε = 0", "TRL: Bessel std + ε = 1e-4", "β_eff"], rows)

# %% [markdown]
# Whatever the convention, at $\beta = 0.04$ no binary question with deterministic rewards $r(a) > r(b)$ can have its better answer below about 94 % probability at a stationary policy, however unlikely the reference makes it; the Bessel std lowers the floor a little for small $G$ (a larger effective $\beta$) and $\epsilon = 10^{-4}$ changes it only in the later digits.
#
# ## Summary
#
# For a binary question SymPy derives, from the model alone, the reward terms (16) and (18), the stationarity conditions (17) and (19), their quadratics, and the closed forms (14) and (15), selecting the admissible root by signs it decides itself. The stated properties follow: dependence on $\beta/\gamma$ only, monotonicity in $\beta$, $\gamma$ and $\rho$, the limits, $\sqrt{\rho}$ at $\beta = \gamma$, and the floors $\max(1-\beta/\gamma, 0)$ and $1/(1+\beta^2)$ with the resulting jumps at $\pi_{\text{ref}}(a) = 0$. Between the two extremes the binomial-sum $P_G$ gives the floor $p_G(\beta)$ for every $G$, rising from $1-\beta$ to $1/(1+\beta^2)$, and the stationary policy approaches (15) at rate $c/G$ with $c$ derived symbolically. Figures 1 and 2 are drawn from the derived forms. At $\beta = 0.04$ the floors are 0.96 and $1/1.0016$ as printed; TRL's Bessel std and $\epsilon$ move them only slightly.
