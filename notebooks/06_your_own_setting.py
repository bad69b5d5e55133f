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
# # 06 — Your own setting
#
# This notebook is a template: put in your rewards, your reference policy, your group size, your $\beta$ and the conventions of your trainer, run all cells, and read off the policy GRPO's objective settles on — with the checks that say whether to trust it. The prose explains what each output means; the numbers are whatever your parameters give.
#
# What is modelled: **one prompt** with a finite set of outputs (answers, or answer classes), each with a reward law; the per-prompt stationary policy of the clipping-free objective (notebook 03). What is not: function approximation across prompts, batch-level reward scaling (TRL's `scale_rewards="batch"`), length normalisation of token-level losses.

# %%
# %matplotlib inline
import mpmath
import numpy as np
import sympy as sp
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from grpo_symbolic.export.latex import inline as tex, table, use_paper_notation

use_paper_notation()  # SymPy results in the paper's notation (grpo_symbolic.export.latex.NAMES)

# %% [markdown]
# ## 1. Your parameters
#
# * `REFERENCE` — $\pi_{\text{ref}}$ over your outputs; exact decimals as strings, summing to 1, each $> 0$.
# * `REWARDS` — per output a number (deterministic reward) or a law `{value: probability}` (e.g. a verifier that is right 90 % of the time).
# * `GROUP_SIZE` — $G$ (an integer $\ge 2$, or `"inf"`).
# * `BETA` — the penalty weight.
# * `TRAINER` — `"paper"`, `"trl"`, `"verl"`, `"openrlhf"` or `"dr_grpo"`; `OPTIONS` — that trainer's own option names (see the table printed below).
# * `KL_ESTIMATOR` — `None` for the trainer's default, or `"k1"`, `"k2"`, `"k3"`, `"is_k3"` for the per-sample KL term your loss uses.

# %%
REFERENCE = ["0.05", "0.15", "0.3", "0.5"]                 # π_ref: the correct answer is the least likely
REWARDS = [1, {"1": "0.5", "0": "0.5"}, {"1": "0.1", "0": "0.9"}, 0]
GROUP_SIZE = 8
BETA = "0.04"
TRAINER = "trl"
OPTIONS = {}                                                # e.g. {"scale_rewards": "none"} or {"use_bias_correction_kl": True}
KL_ESTIMATOR = None                                         # None: the trainer's default
DPS = 30                                                    # digits of the reported results

# %%
from grpo_symbolic import SolverError, preference_numeric, stationary_policies
from grpo_symbolic.cases import conventions
from paper_checks import fixtures
from grpo_symbolic.theory import estimators
from grpo_symbolic.numerics.precision import to_mpf
from grpo_symbolic.theory.objective import derive_stationarity
from grpo_symbolic.theory.penalty import kl
from grpo_symbolic.model.presets import PRESETS, preset, preset_options, preset_settings
from grpo_symbolic.dynamics.simulate import PENALTY_ESTIMATOR, expected_flow, simulate
from grpo_symbolic.model.symbols import G, beta

mpmath.mp.dps = DPS


def settled(prob, dps=20):
    # the stationary policy of prob that is stable under best response (or the only one); None if there is none
    try:
        found = stationary_policies(prob, dps=dps)
    except SolverError:
        return None
    stable = [pt for pt in found if pt.stable]
    return (stable or found)[0].policy if len(stable) == 1 or len(found) == 1 else None


table(["trainer", "normalisation", "eps", "penalty", "options (defaults)"],
      [[name, s.normalisation, s.eps, s.penalty, ", ".join(f"{k}={v!r}" for k, v in preset_options(name).items()) or "—"]
       for name, s in ((name, preset_settings(name)) for name in PRESETS)])

# %% [markdown]
# ## 2. The problem as your trainer sets it up
#
# `preset` fills in the three settings in which implementations differ from the paper: the advantage normalisation (population std, Bessel std, or shift only), the $\epsilon$ added to the std, and the penalty. The KL estimator decides which divergence the penalty acts as at stationarity (notebook 02): the derived stationarity condition of the estimator is matched with the engine's two penalties.

# %%
problem = preset(TRAINER, REFERENCE, REWARDS, GROUP_SIZE, BETA, **OPTIONS)
estimator = KL_ESTIMATOR or PENALTY_ESTIMATOR[problem.penalty]
acts_as = estimators.identify(estimator)
display(Markdown(f"**{TRAINER}**: normalisation = `{problem.normalisation}`, eps = {problem.eps}, "
                 f"KL estimator `{estimator}` acts as **{acts_as}** KL at stationarity"))
if acts_as == "none":
    raise SystemExit(f"The {estimator} loss does not regularise at stationarity (notebook 02): "
                     "there is no interior stationary policy; choose another KL_ESTIMATOR.")
penalty = {"reverse": "grpo", "forward": "direct"}[acts_as]
assert estimators.stationarity(estimator).policy == derive_stationarity(penalty).policy   # same conditions
problem = problem.replace(penalty=penalty)
laws = problem.rewards
means = [law.mean for law in laws]
table(["output", "π_ref", "reward law", "E r"],
      [[o + 1, problem.reference[o], ", ".join(f"{v} w.p. {q}" for v, q in law.outcomes), means[o]] for o, law in enumerate(laws)])

# %% [markdown]
# ## 3. The stationary policy
#
# `stationary_policies` returns every interior solution of the stationarity conditions, each with its residual, whether it is a local maximiser of $J(\cdot\,;\pi_{\text{old}} = \pi^*)$ and whether repeated best responses converge to it. If it finds none, the maximiser is on the boundary (typically: all mass on the best output, with the direct penalty and large $G$).

# %%
try:
    points = stationary_policies(problem, dps=DPS + 10)
except SolverError as error:
    raise SystemExit(f"No interior stationary policy: {error}")
table(["#", "π*", "residual", "local maximiser", "stable under best response"],
      [[i + 1, ", ".join(mpmath.nstr(v, 8) for v in pt.policy), mpmath.nstr(pt.residual, 3), pt.is_local_maximum, pt.stable]
       for i, pt in enumerate(points)])
chosen = next((pt for pt in points if pt.stable), points[0])
star = chosen.policy

# %% [markdown]
# ## 4. Reading the answer
#
# * $\pi^*/\pi_{\text{ref}}$ is the factor by which GRPO reweights each output; with GRPO's penalty it is $1/(1 - P_G(o\mid\pi^*)/\beta)$ (eq. (11) with the multiplier $0$), with the direct penalty $e^{P_G(o\mid\pi^*)/\beta}/Z$.
# * $P_G(o\mid\pi^*)$ is the expected advantage of $o$ in a group drawn from $\pi^*$: positive for outputs that beat the typical group member. With GRPO's penalty every output in the support has $P_G < \beta$; an output whose $P_G$ is close to $\beta$ takes a large share.
# * The reconstruction column recomputes $\pi^*$ from $P_G$ with that form; it must agree to the reported digits.

# %%
P_star = preference_numeric(problem, star, DPS)
weight = to_mpf(problem.beta)
ref = [to_mpf(r) for r in problem.reference]
if problem.penalty == "grpo":
    rebuilt = [r / (1 - P / weight) for r, P in zip(ref, P_star)]
else:
    pooled = [r * mpmath.exp(P / weight) for r, P in zip(ref, P_star)]
    rebuilt = [v / mpmath.fsum(pooled) for v in pooled]
table(["output", "E r", "π_ref", "π*", "π*/π_ref", "P_G(o | π*)", "rebuilt from P_G"],
      [[o + 1, means[o], problem.reference[o], mpmath.nstr(star[o], 12), mpmath.nstr(star[o] / ref[o], 6),
        mpmath.nstr(P_star[o], 8), mpmath.nstr(rebuilt[o], 12)] for o in range(problem.size)])
assert max(abs(a - b) for a, b in zip(rebuilt, star)) < mpmath.mpf(10) ** (5 - DPS)

expected_ref = mpmath.fsum(r * to_mpf(m) for r, m in zip(ref, means))
expected_star = mpmath.fsum(x * to_mpf(m) for x, m in zip(star, means))
best = max(means)
display(Markdown(
    f"expected reward: {mpmath.nstr(expected_ref, 6)} under π_ref → **{mpmath.nstr(expected_star, 6)}** under π*; "
    f"mass on the best expected reward ({best}): {mpmath.nstr(mpmath.fsum(x for x, m in zip(star, means) if m == best), 8)}; "
    f"KL(π*‖π_ref) = {mpmath.nstr(to_mpf(kl(star, ref)), 6)}, KL(π_ref‖π*) = {mpmath.nstr(to_mpf(kl(ref, star)), 6)}"))

# %% [markdown]
# ## 5. What your conventions change
#
# The same problem in the paper's model (population std, $\epsilon = 0$, same penalty). With the Bessel std and $\epsilon = 0$ the model is *exactly* the paper's at $\beta_{\text{eff}} = \beta\sqrt{G/(G-1)}$ (notebook 01); what remains is the effect of $\epsilon$, measured by `conventions.eps_effect`.

# %%
paper_model = problem.replace(normalisation="population", eps=0)
rows = [["your trainer", problem.normalisation, problem.eps, problem.beta, star]]
rows.append(["paper's model", "population", 0, problem.beta, settled(paper_model, DPS)])
if problem.normalisation == "sample" and not problem.is_large_group:
    beta_eff = conventions.beta_eff().subs({G: problem.group_size, beta: problem.beta})
    rows.append(["paper's model at β_eff", "population", 0, beta_eff, settled(paper_model.replace(beta=beta_eff), DPS)])
    rows.append(["your trainer without ε", "sample", 0, problem.beta, settled(problem.replace(eps=0), DPS)])
table(["model", "normalisation", "eps", "β", "π*"],
      [[name, norm, eps, tex(b), ", ".join(mpmath.nstr(v, 10) for v in pol) if pol else "no single stable interior point"]
       for name, norm, eps, b, pol in rows])
if problem.eps != 0 and problem.normalisation != "shift":
    (effect,) = fixtures.eps_effect(problem.replace(eps=0), [problem.eps], dps=DPS)
    display(Markdown(f"largest change of π* caused by eps = {problem.eps}: {mpmath.nstr(effect.shift, 4)}"))

# %% [markdown]
# ## 6. Sensitivity to $\beta$ and $G$
#
# The stationary policy over a range of $\beta$ around yours, and over group sizes (dotted: $G\to\infty$). Where the solver finds several interior solutions, the one that is stable under best response is shown; where it finds none, the point is left out.

# %%
base = float(problem.beta)
betas = base * np.logspace(-1.5, 1.5, 13)
sizes = [2, 3, 4, 6, 8, 12, 16, 24, 32, 64]
by_beta = [settled(problem.replace(beta=sp.Rational(str(round(b, 12))))) for b in betas]
by_size = [settled(problem.replace(group_size=g)) for g in sizes]
limit = settled(problem.replace(group_size="inf"))

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
for o in range(problem.size):
    label = f"output {o + 1} (E r = {means[o]})"
    left.semilogx([b for b, s in zip(betas, by_beta) if s], [float(s[o]) for s in by_beta if s], "o-", markersize=3, label=label)
    line, = right.semilogx([g for g, s in zip(sizes, by_size) if s], [float(s[o]) for s in by_size if s], "o-", markersize=3, label=label)
    if limit:
        right.axhline(float(limit[o]), color=line.get_color(), linestyle=":")
left.axvline(base, color="0.5", linestyle="--", linewidth=0.8)
left.set_xlabel("$\\beta$")
left.set_ylabel("$\\pi^*(o)$")
left.set_title(f"G = {problem.group_size}")
right.axvline(GROUP_SIZE if isinstance(GROUP_SIZE, int) else sizes[-1], color="0.5", linestyle="--", linewidth=0.8)
right.set_xticks(sizes, [str(g) for g in sizes])
right.minorticks_off()
right.set_xlabel("group size $G$")
right.set_title(f"$\\beta$ = {problem.beta}")
left.legend(fontsize=8)
fig.tight_layout()
display(fig)
plt.close(fig)

# %% [markdown]
# ## 7. All trainers side by side
#
# Your rewards, $\pi_{\text{ref}}$, $G$ and $\beta$ under each implementation's defaults:

# %%
rows = []
for name in PRESETS:
    other = preset(name, REFERENCE, REWARDS, GROUP_SIZE, BETA)
    policy = settled(other)
    rows.append([name, other.normalisation, other.eps, other.penalty,
                 ", ".join(mpmath.nstr(v, 6) for v in policy) if policy else "no single stable interior point"])
table(["trainer", "normalisation", "eps", "penalty", "π*"], rows)

# %% [markdown]
# ## 8. Does the update get there?
#
# Two runs started at $\pi_{\text{ref}}$ with your estimator: the exact-expectation flow (gradient steps on $J(\pi;\pi_{\text{old}})$ with $\pi_{\text{old}}$ refreshed each step) and, for finite $G$, the sampled, clipped algorithm (16 groups per batch, 4 chains). Convergence can be slow when $\beta$ is small or the policy is pushed towards a vertex; compare the distance with the scale of $\pi^*$.
#
# **Reading the sampled column.** The tail mean averages the second half of the run, so it is the policy the run *passes through* in that window, not necessarily $\pi^*$: an output that starts far from its stationary probability (here output 2, from $\pi_{\text{ref}} = 0.15$ down to $\pi^* \approx 0.0049$) is still decaying when the run is short. The column *expected flow, same window* is the theory's prediction for that window: the deterministic update at the same learning rate, averaged over the same iterations. With the template's TRL example, 400 iterations left output 2 at $0.005610 \pm 0.000071$ against $\pi^* = 0.004949$ (9 s.e.): the expected flow over iterations 200–400 predicts $0.005521$, i.e. $0.000572$ of the $0.000661$ gap (the rest, 1.3 s.e., is noise). It is a transient, not a bias of the learning rate or of clipping: halving the learning rate and doubling the iterations (the same $\text{lr}\times\text{iterations}$) leaves the gap, and 1600 iterations at learning rate 1 close it ($0.004882 \pm 0.000072$, within 1 s.e.). The template therefore runs 1600 iterations; `tests/test_notebooks.py` checks these numbers.

# %%
flow = expected_flow(problem, steps=3000, lr=3.0, estimator=estimator)
columns = [["π*", [float(v) for v in star]], ["expected flow, 3000 steps", list(flow[-1])]]
ITERATIONS, LR = 1600, 1.0   # sampled updates; the tail average is over the second half
if not problem.is_large_group:
    run = simulate(problem, iterations=ITERATIONS, lr=LR, groups=16, chains=4, seed=0, estimator=estimator)
    mean_tail, stderr_tail = run.estimate()
    # The theory's prediction for the same window: the expected flow at the same learning rate,
    # averaged over the same iterations (ITERATIONS/2 .. ITERATIONS) -- not yet pi* if the run is short.
    window = expected_flow(problem, steps=ITERATIONS, lr=LR, estimator=estimator)[ITERATIONS // 2:].mean(axis=0)
    columns.append(["expected flow, same window", list(window)])
    columns.append(["sampled GRPO, tail mean ± s.e.", [f"{m:.6f} ± {s:.6f}" for m, s in zip(mean_tail, stderr_tail)]])
    z_star = [(m - float(v)) / s for m, s, v in zip(mean_tail, stderr_tail, star)]
    z_window = [(m - w) / s for m, s, w in zip(mean_tail, stderr_tail, window)]
table(["output"] + [name for name, _ in columns],
      [[o + 1] + [values[o] if isinstance(values[o], str) else f"{values[o]:.8f}" for _, values in columns] for o in range(problem.size)])
display(Markdown(f"max |flow − π*| = {max(abs(flow[-1, o] - float(star[o])) for o in range(problem.size)):.2e}"))
if not problem.is_large_group:
    display(Markdown(f"sampled tail − π*: at most {max(map(abs, z_star)):.1f} s.e.; sampled tail − expected flow "
                     f"over the same window: at most {max(map(abs, z_window)):.1f} s.e."))

# %% [markdown]
# ## 9. The same from the command line
#
# The stationary policy is also available from the `grpo-symbolic` command; the command for your parameters, and its output:

# %%
import subprocess
import sys

def law_text(law):
    return "/".join(f"{v}:{q}" for v, q in law.outcomes) if len(law.outcomes) > 1 else str(law.outcomes[0][0])

command = [sys.executable, "-m", "grpo_symbolic", "solve",
           "--reference", ",".join(str(r) for r in problem.reference),
           "--rewards", ",".join(law_text(law) for law in problem.rewards),
           "--group-size", str(problem.group_size if not problem.is_large_group else "inf"), "--beta", str(problem.beta),
           "--normalisation", problem.normalisation, "--penalty", problem.penalty, "--eps", str(problem.eps), "--dps", "20", "--all"]
print("grpo-symbolic " + " ".join(command[3:]))
print(subprocess.run(command, capture_output=True, text=True, check=True).stdout)

# %% [markdown]
# ## Summary
#
# For one prompt, this notebook turns a trainer's settings — advantage normalisation, $\epsilon$, KL estimator — together with your rewards, $\pi_{\text{ref}}$, $G$ and $\beta$, into the policy that GRPO's clipping-free objective is stationary at, to 30 digits, and checks it: the residual, the reconstruction from the closed form of (11) (or the log pool for a forward-KL estimator), the comparison with the paper's model and with $\beta_{\text{eff}} = \beta\sqrt{G/(G-1)}$ for a Bessel std, the size of the $\epsilon$ effect, the sensitivity to $\beta$ and $G$, all implementations side by side, and runs of the update itself. The table of section 4 is the answer: how much each output is up- or down-weighted relative to $\pi_{\text{ref}}$, and how close each output's group-relative preference comes to $\beta$.
