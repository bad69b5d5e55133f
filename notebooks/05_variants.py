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
# # 05 — The variants: the direct KL penalty and shift-only advantages
#
# Section 3 of the paper changes one of GRPO's two ingredients at a time.
#
# * **Direct KL penalty.** Weighting each sample's $k_3$ term by $\pi(o_i)/\pi_{\text{old}}(o_i)$ makes the expected penalty exactly $\mathrm{KL}(\pi\|\pi_{\text{ref}})$. The stationary policies become logarithmic pools $\pi\propto\pi_{\text{ref}}\,e^{P_G/\beta}$; for a binary question this gives the "Z formula" at $G = 2$ (Figure 3, no jump at $\pi_{\text{ref}}(a) = 0$) and, as $G\to\infty$, the function $h$ whose zeros are the stationary points — none for small $\beta$, two for large $\beta$.
# * **Shift-only advantages** $A_i = r_i - \operatorname{mean}(r)$: the reward term becomes $(1 - 1/G)(\mathbb{E}_\pi r - \mathbb{E}_{\pi_{\text{old}}} r)$, and together with the direct penalty GRPO's stationary policy is RLHF's (4).

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
from grpo_symbolic import Problem, stationary_policies, stationary_policy
from grpo_symbolic.export import figures
from grpo_symbolic.paper import forms as paper_forms
from grpo_symbolic.cases import binary, direct_kl, general, shift_only
from grpo_symbolic.theory import algebra
from grpo_symbolic.cases import baselines
from paper_checks import fixtures
from grpo_symbolic.model.presets import preset
from grpo_symbolic.model.symbols import beta, delta, gamma, p, rho, x

DPS = 30
mpmath.mp.dps = DPS


def reduced(expr):
    # expr with its logarithms split and the rest cancelled: 0 when SymPy finds expr ≡ 0
    return sp.cancel(sp.expand(sp.expand_log(expr, force=True)))


# %% [markdown]
# ## 1. The direct KL penalty
#
# **It is the KL divergence.** The expected importance-weighted penalty minus $\mathrm{KL}(\pi\|\pi_{\text{ref}})$, on the simplex, for three outputs and any $\pi_{\text{old}}$:

# %%
direct_kl.penalty_gap(3)

# %% [markdown]
# **Logarithmic pooling.** The derived stationary $\pi(o)$ divided by the paper's $\pi_{\text{ref}}(o)e^{P_o/\beta}$ is the same factor $e^{-\lambda/\beta}$ for every output, and normalisation fixes $\lambda$:

# %%
ratios, multiplier = fixtures.log_pooling(3)
assert len(set(ratios)) == 1
display(ratios)
sp.Eq(sp.Symbol("lambda"), multiplier)

# %% [markdown]
# ### Binary questions, $G = 2$: the Z formula
#
# With the engine's $P_2$ (margin $\gamma$) and the direct penalty, $dJ/dp$ at $p_o = p$ is linear in $\operatorname{logit} p$, so it has exactly one root:

# %%
display(sp.Eq(direct_kl.g2_slope(), 0))
z_formula = direct_kl.g2_policy()
assert algebra.is_zero(z_formula - paper_forms.DIRECT_KL_POLICY_G2)
display(sp.Eq(sp.Symbol("\\pi(a)"), z_formula))
sp.limit(z_formula, rho, 0, "+"), z_formula.subs(rho, 0)

# %% [markdown]
# The limit as $\pi_{\text{ref}}(a)\to0^+$ equals the value at $0$: no jump, unlike (14). Figure 3:

# %%
fig = figures.draw(3)
display(fig)
plt.close(fig)

# %% [markdown]
# **The NLHF connection (beyond the paper).** At $G = 2$ the direct-penalty stationary condition is the symmetric Nash equilibrium condition of the regularised preference game (5), with weight $\tau = \beta/(2c)$: $c = 1$ for the population std, $c = 1/\sqrt2$ for the Bessel std. `matching_tau` solves for $\tau$ from the two derived conditions; then the two equilibria are computed independently for a three-output problem with ties:

# %%
ties = Problem(reference=["0.2", "0.3", "0.5"],
               rewards=[{"0": "1/2", "1": "1/2"}, 1, {"0": "4/5", "1": "1/5"}], group_size=2, beta="0.3", penalty="direct")
taus = {name: baselines.matching_tau(ties.replace(normalisation=name)) for name in ("population", "sample")}
display(taus)
grpo_direct = stationary_policy(ties, dps=DPS)
nlhf, _ = baselines.nlhf_equilibrium_numeric(general.tie_split_preferences(ties), ties.reference,
                                           taus["population"].subs(beta, ties.beta))
table(["output", "GRPO, G = 2, direct penalty", "NLHF equilibrium, τ = β/2"],
      [[o + 1, mpmath.nstr(a, 20), mpmath.nstr(mpmath.re(b), 20)] for o, (a, b) in enumerate(zip(grpo_direct, nlhf))])
assert max(abs(a - b) for a, b in zip(grpo_direct, nlhf)) < mpmath.mpf(10) ** (5 - DPS)

# %% [markdown]
# ### Binary questions, $G\to\infty$: the function $h$
#
# For deterministic rewards $r(a) > r(b)$, $dJ/dp$ at $p_o = p$ is $\beta\,h(p)$ with

# %%
display(direct_kl.large_group_slope())
h = direct_kl.h()
assert reduced(h - paper_forms.DIRECT_KL_H) == 0
h

# %% [markdown]
# In $u = \sqrt{x/(1-x)}$ (increasing in $x$), $\beta u^2\,dh/du$ is the quadratic $S(u)$ below, with one positive root $u^*$: $h$ decreases on $(0, x^*]$ and increases on $[x^*, 1)$. The turning point and the minimum $h(x^*)$ agree with the paper's $x^*$ and with the closed form `H_AT_X_STAR` of `grpo_symbolic.paper.forms` (see also `docs/errata.md`):

# %%
u_star, x_star, other_root = direct_kl.h_turning_point()
minimum = direct_kl.h_minimum()
assert algebra.is_zero(x_star - paper_forms.DIRECT_KL_X_STAR)
assert reduced(minimum - paper_forms.H_AT_X_STAR.rewrite(sp.log)) == 0
slope_in_beta = sp.simplify(sp.diff(minimum, beta))
table(["quantity", "derived"], [
    ["h in u", tex(direct_kl.h_in_odds_root())],
    ["S(u) = β u² dh/du", tex(direct_kl.h_slope_sign())],
    ["roots of S", tex((u_star, other_root))],
    ["x* (equal to the paper's form)", tex(paper_forms.DIRECT_KL_X_STAR)],
    ["h(x*)", tex(minimum)],
    ["d h(x*) / dβ", tex(slope_in_beta)],
])

# %% [markdown]
# Since $h\to+\infty$ at both ends, $h$ has two zeros exactly when $h(x^*) < 0$, and none when $h(x^*) > 0$ — then $dJ/dp > 0$ everywhere and the maximiser is $\pi(a) = 1$. As $h(x^*)$ decreases strictly in $\beta$, each $\rho$ has one threshold $\beta_c(\rho)$ above which the two zeros exist. Solving $h(x^*) = 0$:

# %%
minimum_at = sp.lambdify((beta, rho), minimum, "mpmath")
bracket = (mpmath.mpf(10) ** -3, mpmath.mpf(10) ** 3)   # h(x*) → +∞ as β → 0⁺ and → −∞ as β → ∞
thresholds = {r: mpmath.findroot(lambda b: minimum_at(b, mpmath.mpf(r)), bracket, solver="anderson")
              for r in ("0.1", "0.3", "0.5", "0.7", "0.9")}
table(["π_ref(a)", "β_c"], [[r, mpmath.nstr(b, 12)] for r, b in thresholds.items()])
assert fixtures.runs_to_vertex("0.5", "1.4", dps=DPS) and not fixtures.runs_to_vertex("0.5", "1.6", dps=DPS)

# %%
grid = np.linspace(0.005, 0.9995, 800)
fig, ax = plt.subplots(figsize=(7, 4))
for b in ("0.5", "1", mpmath.nstr(thresholds["0.5"], 6), "3"):
    f = sp.lambdify(x, h.subs({rho: sp.Rational(1, 2), beta: sp.Rational(b)}), "numpy")
    ax.plot(grid, f(grid), label=f"$\\beta = {b}$")
ax.axhline(0, color="0.4", linewidth=0.8)
ax.set_ylim(-3, 12)
ax.set_xlabel("$x$")
ax.set_ylabel("$h(x)$")
ax.set_title("$h$ for $\\pi_{ref}(a) = 0.5$: no zero below $\\beta_c$, two above")
ax.legend()
display(fig)
plt.close(fig)

# %% [markdown]
# **Which zero does GRPO reach?** Both zeros are stationary in the paper's sense. The solver reports, for $\rho = 0.5$ and $\beta = 3$, which is attracting under repeated best responses $p_o\mapsto\arg\max_p J(p;p_o)$; `iterate_best_response` then runs that map from just below and just above each zero:

# %%
large_beta = direct_kl.numeric_binary_problem("0.5", 3, "inf")
points = stationary_policies(large_beta, dps=DPS)
zeros = direct_kl.h_zeros("0.5", 3, dps=DPS)
table(["π(a)", "zero of h", "stable", "spectral radius"],
      [[mpmath.nstr(pt.policy[0], 15), mpmath.nstr(z, 15), pt.stable, mpmath.nstr(pt.spectral_radius, 6)] for pt, z in zip(points, zeros)])
starts = [zeros[0] - mpmath.mpf("0.3"), zeros[0] + mpmath.mpf("0.2"), zeros[1] - mpmath.mpf("0.002"), zeros[1] + mpmath.mpf("0.001")]
fig, ax = plt.subplots(figsize=(7, 4))
for start in starts:
    path = direct_kl.iterate_best_response("0.5", 3, start, steps=40, dps=DPS)
    ax.plot(range(len(path)), [float(v) for v in path], "o-", markersize=3, label=f"start {mpmath.nstr(start, 5)}")
for z in zeros:
    ax.axhline(float(z), color="0.5", linestyle=":")
ax.set_xlabel("best-response step")
ax.set_ylabel("$\\pi(a)$")
ax.set_title("$\\rho = 0.5$, $\\beta = 3$: the smaller zero attracts, the larger repels")
ax.legend(fontsize=8)
display(fig)
plt.close(fig)
assert [pt.stable for pt in points] == [True, False]

# %% [markdown]
# Iterates starting above the larger zero run to $\pi(a) = 1$. The same two zeros are Mroueh's fixed point $\operatorname{logit} p = \operatorname{logit}\rho + 1/(\beta\sqrt{p(1-p)})$ and the stationary points of $U(p) - \beta\,\mathrm{KL}\big((p,1-p)\|(\rho,1-\rho)\big)$ with $U(p) = 2\arcsin\sqrt p$:

# %%
from grpo_symbolic.theory.penalty import kl

mroueh = paper_forms.MROUEH_FIXED_POINT.lhs - paper_forms.MROUEH_FIXED_POINT.rhs
utility_slope = sp.diff(paper_forms.ARCSIN_UTILITY - beta * kl((p, 1 - p), (rho, 1 - rho)), p)
at = lambda z: {p: sp.Float(z, DPS), rho: sp.Rational(1, 2), beta: 3}
table(["zero of h", "Mroueh: logit p − logit ρ − 1/(β√(p(1−p)))", "d/dp [U − β KL]"],
      [[mpmath.nstr(z, 15), sp.N(mroueh.subs(at(z)), 3), sp.N(utility_slope.subs(at(z)), 3)] for z in zeros])

# %% [markdown]
# ## 2. Shift-only advantages
#
# The shift rule is affine in the rewards, so the expected advantage of $o$ against $G-1$ draws from $\pi_{\text{old}}$ is the rule applied to $r(o)$ and $G-1$ copies of $\mathbb{E}_{\pi_{\text{old}}} r$ — for symbolic $G$:

# %%
u, v = sp.symbols("u v", real=True)
display(shift_only.expected_advantage())
assert shift_only.rule_is_affine(5)
assert shift_only.engine_preference_gap(5, [u, v], (sp.Rational(1, 3), sp.Rational(2, 3))) == (0, 0)   # engine at G = 5
derived, printed = fixtures.shift_only_reward_terms(3)
assert sp.expand(derived - printed) == 0
paper_forms.SHIFT_ONLY_REWARD_TERM

# %% [markdown]
# **With GRPO's own penalty** the reciprocal form survives: for a binary question with deterministic rewards $r(a) = r(b) + \Delta$, the derived stationary $\pi(a)$ is (14) with $\gamma$ replaced by $(1-1/G)\Delta$ — now the size of the reward gap matters, not only the order:

# %%
rows = []
for size in (2, 3, 4, 8):
    root = binary.admissible_root(size, "ranked", "shift")
    assert algebra.is_zero(root - paper_forms.POLICY_EQ14.subs(gamma, (1 - sp.Rational(1, size)) * delta))
    rows.append([size, tex(root)])
table(["G", "derived π(a), shift-only advantages, GRPO penalty"], rows)

# %% [markdown]
# **With the direct penalty** the stationary policy is RLHF's maximiser (4) at $\beta' = \beta G/(G-1)$. Symbolically, the derived log pool with the shift-only $P_G$, divided by $\pi_{\text{ref}}e^{r/\beta'}$, is one common factor; numerically, the solver agrees with `rlhf_policy` — and TRL with `scale_rewards="none"` and `use_bias_correction_kl=True` is this combination ($\epsilon$ plays no role without the std):

# %%
ratios = fixtures.shift_only_direct_ratios(3)
assert len(set(ratios)) == 1
display(paper_forms.SHIFT_ONLY_DIRECT_BETA, baselines.derive_rlhf(3).policy[0])

laws = [{"0": "1/2", "1": "1/2"}, 1, {"0": "4/5", "2": "1/5"}]
combined = Problem(reference=["0.2", "0.3", "0.5"], rewards=laws, group_size=4, beta="0.5",
                   normalisation="shift", penalty="direct")
trl = preset("trl", ["0.2", "0.3", "0.5"], laws, 4, "0.5", scale_rewards="none", use_bias_correction_kl=True)
solved, rlhf, trl_solved = stationary_policy(combined, DPS), fixtures.rlhf_policy(combined, DPS), stationary_policy(trl, DPS)
table(["output", "E r", "shift-only + direct (solver)", "RLHF (4), β' = βG/(G−1)", "TRL preset"],
      [[o + 1, combined.rewards[o].mean, mpmath.nstr(a, 20), mpmath.nstr(b, 20), mpmath.nstr(c, 20)]
       for o, (a, b, c) in enumerate(zip(solved, rlhf, trl_solved))])
assert max(abs(a - b) for a, b in zip(solved, rlhf)) < mpmath.mpf(10) ** (5 - DPS)
assert max(abs(a - c) for a, c in zip(solved, trl_solved)) < mpmath.mpf(10) ** (5 - DPS)

# %% [markdown]
# ## Summary
#
# The importance-weighted penalty has expectation exactly $\mathrm{KL}(\pi\|\pi_{\text{ref}})$ and turns GRPO's stationary policies into logarithmic pools $\pi\propto\pi_{\text{ref}}e^{P_G/\beta}$. For a binary question at $G = 2$ this is the Z formula, continuous at $\pi_{\text{ref}}(a) = 0$ (Figure 3) and identical to an NLHF equilibrium with $\tau = \beta/2$. As $G\to\infty$ the slope is $\beta h(p)$; SymPy finds $h$ decreasing then increasing with turning point $x^*$, and its minimum $h(x^*)$ decreasing in $\beta$, so below a threshold $\beta_c(\rho)$ ($\approx 1.509$ at $\rho = 0.5$) the maximiser is $\pi(a) = 1$ and above it there are two zeros; the larger repels repeated best responses (iterates above it run to $\pi(a) = 1$), while at $\rho = 0.5$, $\beta = 3$ the smaller attracts them; both coincide with Mroueh's fixed point and the arcsin-utility stationary points. Shift-only advantages give the reward term $(1-1/G)(\mathbb{E}_\pi r - \mathbb{E}_{\pi_{\text{old}}}r)$: with GRPO's penalty the binary answer is (14) with $\gamma\to(1-1/G)\Delta$, and with the direct penalty the stationary policy is exactly RLHF's (4) at $\beta' = \beta G/(G-1)$, which is what TRL computes with `scale_rewards="none"` and `use_bias_correction_kl=True`.
