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
# # 01 — The reward preference model and the advantage conventions
#
# This chapter computes the quantity at the centre of the paper (Vojnovic & Yun, *What is the Alignment Objective of GRPO?*, arXiv 2502.18548): the **group-relative preference** $P_G(o\mid\pi)$, the expected normalised advantage of an output $o$ placed in a group whose other $G-1$ members are drawn from $\pi$. Without clipping, the reward part of GRPO's objective (1) is $\mathbb{E}_{o\sim\pi}[P_G(o\mid\pi_{\text{old}})]$, eq. (6).
#
# We go through:
#
# 1. the advantage rules — population std (the paper's (2)), sample (Bessel) std, shift only — on explicit groups;
# 2. $P_G(o\mid\pi)$ as an exact SymPy expression, and eq. (6) checked by brute force over all groups;
# 3. $G = 2$: the advantage is a sign, so $P_2$ is a pairwise preference;
# 4. the large-group limit $P_\infty(o\mid\pi) = (r(o) - \mathbb{E}_\pi r)/\sigma(\pi)$, with the error shown to shrink like $1/G$.
#
# Every result below is computed by the package `grpo_symbolic`; the paper's printed forms are imported from `grpo_symbolic.paper.forms` only to compare with.

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
from grpo_symbolic import (Normalisation, Problem, large_group_preference, monte_carlo_preference,
                           pairwise_preference, preference_exact, preference_numeric)
from grpo_symbolic.paper import forms as paper_forms
from grpo_symbolic.theory.advantage import RULES, Group
from grpo_symbolic.cases import general
from grpo_symbolic.theory import algebra
from grpo_symbolic.cases.conventions import bessel_factor
from grpo_symbolic.numerics.precision import to_mpf

DPS = 30  # digits for the numeric parts of this notebook
mpmath.mp.dps = DPS

# %% [markdown]
# ## 1. Advantages on an explicit group
#
# `RULES` holds the paper's three normalisations (`NORMALISATIONS` below) and the trainers' leave-one-out rules `rloo` and `rloo-std` (chapter 8); this chapter uses the paper's three. A rule sees a group from its first member: the distinct reward values, which one is the member's own, and how many of the other $G-1$ members have each value. `general.advantage(rewards, i, rule)` hands an explicit group to a rule from member $i$'s side.

# %%
NORMALISATIONS = [n.value for n in Normalisation]  # population, sample, shift
group = [3, 1, 1, 0]
rows = [[name] + [tex(general.advantage(group, i, name)) for i in range(len(group))] for name in NORMALISATIONS]
table(["rule"] + [f"$A_{i + 1}$ (r = {r})" for i, r in enumerate(group)], rows)

for name in NORMALISATIONS:  # advantages sum to zero within every group, under every normalisation
    assert sp.nsimplify(sum(general.advantage(group, i, name) for i in range(len(group)))) == 0

# %% [markdown]
# The population rule is the paper's (2); it agrees with the mean/std form and with the pairwise form $\frac1G\sum_j (r_i-r_j)\big/\sqrt{\frac{1}{2G^2}\sum_{j,k}(r_j-r_k)^2}$ printed in Section 1. All-equal groups get advantage $0$ (the paper's convention $0/0 \equiv 0$).

# %%
engine = [general.advantage(group, i) for i in range(len(group))]
printed_mean_std = [paper_forms.advantage_eq2(group, i) for i in range(len(group))]
printed_pairwise = [paper_forms.advantage_pairwise(group, i) for i in range(len(group))]
assert all(algebra.is_zero(a - b) and algebra.is_zero(a - c) for a, b, c in zip(engine, printed_mean_std, printed_pairwise))
engine, general.advantage([2, 2, 2], 0)

# %% [markdown]
# **Invariance.** Shift-and-scale normalisation makes the advantages invariant under $r \mapsto a r + b$ with $a > 0$. SymPy checks it with symbolic $a$ and $b$:

# %%
a = sp.Symbol("a", positive=True)
b = sp.Symbol("b", real=True)
rescaled = [a * r + b for r in group]
[sp.simplify(general.advantage(rescaled, i) - general.advantage(group, i)) for i in range(len(group))]

# %% [markdown]
# **Groups of two.** With symbolic rewards $r_1, r_2$ the population rule gives $(r_1-r_2)/|r_1-r_2|$: the advantage is $\operatorname{sign}(r_1 - r_2)$ — only the *order* of the two rewards matters.

# %%
r1, r2 = sp.symbols("r_1 r_2", real=True)
d = sp.Symbol("d", positive=True)
A1 = sp.simplify(RULES["population"](Group(values=(r1, r2), focal_index=0, counts=(0, 1)), 0, sp.sqrt))
display(sp.Eq(sp.Symbol("A_1"), A1))
A1.subs(r1, r2 + d), A1.subs(r1, r2 - d)

# %% [markdown]
# **Bessel std.** TRL, verl and OpenRLHF divide by the sample std (divide by $G-1$). On a group with symbolic values and counts, the ratio of the two rules does not depend on the group at all — it is the constant $c = \sqrt{(G-1)/G}$ (notebook 06 turns this into an effective $\beta$):

# %%
bessel_factor()

# %% [markdown]
# ## 2. The group-relative preference $P_G(o\mid\pi)$
#
# The other $G-1$ members of the group are drawn iid from $\pi$; their rewards are then iid from the mixture law $m(v) = \sum_{o'}\pi(o')\Pr[r(o') = v]$, so $P_G(o\mid\pi)$ is a polynomial in $\pi$ (a sum over the compositions of $G-1$ into the reward values). Take three outputs, one with a random reward:

# %%
example = Problem(reference=["0.2", "0.3", "0.5"],
                  rewards=[1, {"0": "1/2", "1": "1/2"}, 0],   # output 2 is a coin flip
                  group_size=3, beta=1)
pi = sp.symbols("pi_1:4", positive=True)
policy = (pi[0], pi[1], 1 - pi[0] - pi[1])   # on the simplex
[sp.factor(v) for v in preference_exact(example, policy)]

# %% [markdown]
# **Zero mean.** $\mathbb{E}_{o\sim\pi}[P_G(o\mid\pi)] = 0$ identically: advantages sum to zero in every group. (Section 2.3 of the paper carries this expectation in (11); it is always zero — see notebook 03.)

# %%
sp.expand(general.zero_mean(example, policy))

# %% [markdown]
# **Eq. (6).** The clipping-free surrogate $R_G = \mathbb{E}_{o_1..o_G\sim\pi_{\text{old}}}\big[\frac1G\sum_i \frac{\pi(o_i)}{\pi_{\text{old}}(o_i)}A_i\big]$ is computed by brute force — every tuple of $G$ outputs and every reward outcome — and compared with $\mathbb{E}_{o\sim\pi}[P_G(o\mid\pi_{\text{old}})]$, both with symbolic $\pi$ and $\pi_{\text{old}}$:

# %%
pi_old = sp.symbols("pi_old_1:4", positive=True)
surrogate = general.surrogate_reward_term(example, pi, pi_old)
reward_term = algebra.expectation(pi, preference_exact(example, pi_old))
on_simplex = {pi_old[2]: 1 - pi_old[0] - pi_old[1]}
gap = sp.cancel(sp.expand((surrogate - reward_term).subs(on_simplex)))
assert gap == 0
gap

# %% [markdown]
# **A Monte Carlo cross-check.** `monte_carlo_preference` samples groups and rewards directly, with the same advantage rule; the exact values lie within a few standard errors.

# %%
larger = example.replace(group_size=6)
point = [sp.Rational(1, 4), sp.Rational(1, 4), sp.Rational(1, 2)]
exact = preference_numeric(larger, point, DPS)
estimate, stderr = monte_carlo_preference(larger, point, samples=40000, seed=1)
table(["output", "exact $P_6(o\\mid\\pi)$", "Monte Carlo", "z-score"],
      [[o + 1, mpmath.nstr(e, 12), f"{m:.5f} ± {s:.5f}", f"{(m - float(e)) / s:+.2f}"]
       for o, (e, m, s) in enumerate(zip(exact, estimate, stderr))])
assert all(abs(m - float(e)) < 5 * s for e, m, s in zip(exact, estimate, stderr))

# %% [markdown]
# **The three rules side by side**, at the same group size and policy: the Bessel rule multiplies every $P_G$ by $\sqrt{(G-1)/G}$, and the shift rule gives $(1 - 1/G)(\bar r(o) - \mathbb{E}_\pi r)$, with $\bar r(o)$ the expected reward of $o$ (notebook 05 derives this for symbolic $G$).

# %%
from grpo_symbolic.model.symbols import G

by_rule = {name: preference_numeric(larger.replace(normalisation=name), point, DPS) for name in NORMALISATIONS}
mean_reward = [to_mpf(law.mean) for law in larger.rewards]
policy_mean = mpmath.fsum(to_mpf(x) * m for x, m in zip(point, mean_reward))
table(["output", "population", "sample", "sample / population", "shift", "shift / (r̄(o) − E_π r)"],
      [[o + 1] + [mpmath.nstr(by_rule[name][o], 10) for name in ("population", "sample")]
       + [mpmath.nstr(by_rule["sample"][o] / by_rule["population"][o], 12), mpmath.nstr(by_rule["shift"][o], 10),
          mpmath.nstr(by_rule["shift"][o] / (mean_reward[o] - policy_mean), 12)] for o in range(3)])
display(Markdown(f"$\\sqrt{{(G-1)/G}}$ = {sp.N(bessel_factor().subs(G, larger.group_size), 12)}, "
                 f"$1 - 1/G$ = {sp.N(1 - sp.Rational(1, larger.group_size), 12)} at G = {larger.group_size}"))

# %% [markdown]
# ## 3. $G = 2$: a pairwise preference
#
# Since $A_1 = \operatorname{sign}(r_1 - r_2)$, $P_2(o\mid\pi) = \sum_{o'}\pi(o')\big(P(o\succ o') - P(o'\succ o)\big)$ with $P(o\succ o') = \Pr[r > r']$. `pairwise_preference` builds this form; it matches the engine's composition sum, ties included:

# %%
pair = example.replace(group_size=2)
engine_P2 = preference_exact(pair, pi)
pairwise_P2 = pairwise_preference(pair, pi)
assert all(sp.expand(a - b) == 0 for a, b in zip(engine_P2, pairwise_P2))
display(sp.Matrix(general.strict_preferences(pair)))   # P(o ≻ o'), row o, column o'
pairwise_P2

# %% [markdown]
# The paper then writes $R_2 = 2\,\mathbb{E}[P(o\succ o')] - 1$, "the NLHF preference up to constants". That needs antisymmetric preferences, $P(o\succ o') + P(o'\succ o) = 1$, including $P(o\succ o) = \tfrac12$ on the diagonal. With reward ties (outputs 1 and 2 tie with probability ½ here) the strict probabilities $\Pr[r > r']$ are not antisymmetric; splitting ties in half restores the identity:

# %%
pi_prime = sp.symbols("sigma_1:4", positive=True)   # a second policy, playing π_old
strict, split = general.strict_preferences(pair), general.tie_split_preferences(pair)
R2 = paper_forms.pairwise_reward_term_printed(pi, pi_prime, strict)
simplex = {pi[2]: 1 - pi[0] - pi[1], pi_prime[2]: 1 - pi_prime[0] - pi_prime[1]}
with_strict = sp.expand((paper_forms.nlhf_reward_term_printed(pi, pi_prime, strict) - R2).subs(simplex))
with_split = sp.expand((paper_forms.nlhf_reward_term_printed(pi, pi_prime, split) - R2).subs(simplex))
assert with_split == 0 and with_strict != 0
sp.factor(with_strict), with_split

# %% [markdown]
# With the Bessel std the $G=2$ advantage is $\pm 1/\sqrt2$ instead of $\pm1$: the same pairwise form scaled by $c = 1/\sqrt2$.

# %%
pairwise_preference(pair.replace(normalisation="sample"), pi)[0]

# %% [markdown]
# ## 4. Large groups: $P_\infty(o\mid\pi) = (r(o) - \mathbb{E}_\pi r)/\sigma(\pi)$
#
# By the law of large numbers the group mean and std converge to $\mathbb{E}_\pi r$ and $\sigma(\pi)$, the std of the reward of an output drawn from $\pi$ (reward noise included). `Problem(group_size="inf")` uses this limit. For two outputs with rewards $1$ and $0$:

# %%
from grpo_symbolic.model.symbols import p

binary = Problem(reference=["0.5", "0.5"], rewards=[1, 0], group_size="inf", beta=1)
[sp.simplify(v) for v in large_group_preference(binary, (p, 1 - p))]

# %% [markdown]
# **Convergence.** For a problem with three reward values and noisy rewards, compute $P_G - P_\infty$ exactly (to 30 digits) for $G$ from 2 to 1024. The error falls like $1/G$: $G\,(P_G - P_\infty)$ settles to a constant per output.

# %%
noisy = Problem(reference=["0.2", "0.3", "0.5"],
                rewards=[{"0": "0.5", "1": "0.5"}, 1, {"0": "0.8", "2": "0.2"}],
                group_size=2, beta=1)
at = ("0.2", "0.3", "0.5")
sizes = [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]
errors = general.large_group_error(noisy, at, sizes, DPS)
limit = preference_numeric(noisy.replace(group_size="inf"), at, DPS)
display(Markdown("$P_\\infty(o\\mid\\pi)$ = " + ", ".join(mpmath.nstr(v, 10) for v in limit)))
table(["G"] + [f"$G\\,(P_G - P_\\infty)$, o = {o + 1}" for o in range(3)],
      [[G] + [mpmath.nstr(G * e, 8) for e in err] for G, err in zip(sizes, errors)])

# %%
fig, ax = plt.subplots(figsize=(6, 4))
for o in range(3):
    ax.loglog(sizes, [abs(float(err[o])) for err in errors], "o-", label=f"output {o + 1}")
ax.loglog(sizes, [0.4 / G for G in sizes], "k:", label="slope $-1$")
ax.set_xlabel("group size $G$")
ax.set_ylabel(r"$|P_G(o\mid\pi) - P_\infty(o\mid\pi)|$")
ax.legend()
ax.grid(True, which="both", alpha=0.3)
display(fig)
plt.close(fig)

tail = [float(sizes[-1] * e) / float(sizes[-2] * f) for e, f in zip(errors[-1], errors[-2])]
assert all(abs(t - 1) < 0.01 for t in tail)   # G·error has converged to within 1 %

# %% [markdown]
# ## Summary
#
# The advantage rules of the engine reproduce the paper's (2) and its pairwise form, are invariant under positive affine maps of the rewards, and sum to zero in every group; the Bessel rule is the population rule times $\sqrt{(G-1)/G}$ and the shift rule simply drops the scale. From these rules the package builds $P_G(o\mid\pi)$ exactly, and brute-force enumeration of every group confirms eq. (6): without clipping GRPO's reward term is $\mathbb{E}_{o\sim\pi}[P_G(o\mid\pi_{\text{old}})]$, whose on-policy mean is identically zero. At $G=2$ the advantage is a sign and $P_2$ is the pairwise preference $\sum_{o'}\pi(o')(P(o\succ o') - P(o'\succ o))$ — equal to the NLHF form $2\mathbb{E}[P] - 1$ only once ties are split in half. As $G$ grows, $P_G$ converges to the standardised reward $(r(o) - \mathbb{E}_\pi r)/\sigma(\pi)$ with an error of order $1/G$.
