"""Checks of the trainers' KL estimators, placements, clamps and entropy bonus (x-kl-*).

The derivation is :func:`grpo_symbolic.theory.regularisers.derive_regularised`; the independent
routes are the trainers' sampled loss in numpy (:mod:`paper_checks.trainer_loss`, a Monte Carlo
gradient compared within 4 standard errors), mpmath roots of the loss differentiated numerically,
and the binary closed forms of :mod:`grpo_symbolic.cases.kl_families`.
"""

from __future__ import annotations

import mpmath
import sympy as sp

from grpo_symbolic.model.problem import Problem
from grpo_symbolic.model.settings import Estimator, Placement
from grpo_symbolic.model.symbols import beta, entropy_coef, kl_bound, lam
from grpo_symbolic.numerics.precision import to_mpf, working_precision
from grpo_symbolic.preference.engine import preference_numeric
from grpo_symbolic.theory.estimators import per_sample
from grpo_symbolic.theory.regularisers import Regulariser, derive_regularised, unclamped
from paper_checks import trainer_loss
from paper_checks.registry import check, combine, symbolic

R = sp.Rational
#: The sampled-loss bandit: three outputs, one with a Bernoulli reward; not a stationary point.
RHO = (R(1, 2), R(3, 10), R(1, 5))
PI = (R(1, 5), R(1, 2), R(3, 10))
LAWS = ({1: R(7, 10), 0: R(3, 10)}, R(1, 2), 0)
GROUP, EPS, BETA, CLAMP, ENTROPY = 4, R(1, 10**4), R(3, 10), R(1, 2), R(1, 10)
GROUPS, SEED, Z_LIMIT = 20_000, 20261201, 4
#: Which combinations the sampled-loss check covers: every estimator × placement, clamped or not,
#: and the entropy bonus with one estimator per placement.
SAMPLED = ([Regulariser(e, pl, clamped) for pl in Placement for e in Estimator for clamped in (False, True)]
           + [Regulariser(Estimator.K3, Placement.LOSS, entropy=True),
              Regulariser(Estimator.K1, Placement.REWARD_POST, entropy=True),
              Regulariser(Estimator.K1, Placement.REWARD_PRE, entropy=True)])


def _values(law):
    return dict(law) if isinstance(law, dict) else {law: 1}


def _bandit(shifts=(0, 0, 0)):
    """The bandit's reward part as a Problem (paper settings), rewards shifted per output."""
    laws = [{sp.Rational(str(sp.N(v + s, 45))): q for v, q in _values(law).items()} for law, s in zip(LAWS, shifts)]
    return Problem(reference=RHO, rewards=laws, group_size=GROUP, beta=1, normalisation="sample", eps=EPS)


def _setup(reg, weight=BETA):
    values = sorted({v for law in LAWS for v in _values(law)})
    laws = tuple(tuple(float(_values(law).get(v, 0)) for v in values) for law in LAWS)
    return trainer_loss.Setup(rho=tuple(map(float, RHO)), pi=tuple(map(float, PI)), laws=laws,
                              values=tuple(map(float, values)), group_size=GROUP, beta=float(weight), eps=float(EPS),
                              clamp=float(CLAMP) if reg.clamped else None,
                              entropy=float(ENTROPY) if reg.entropy else 0.0)


def _kl_values(reg):
    """β-free per-sample KL value of each output at π_old = π (what the reward placements subtract)."""
    bound = CLAMP if reg.clamped else None
    return [per_sample(reg.estimator, x, r, x, x, bound) for x, r in zip(PI, RHO)]


def _logit_gradient(g):
    """∂(−J)/∂θ_j = −π_j (g_j − Σ_o π_o g_o) from g = ∂J/∂π (softmax logits θ)."""
    mean = sum(x * v for x, v in zip(PI, g))
    return [-x * (v - mean) for x, v in zip(PI, g)]


def derived_gradient(reg, dps=30):
    """∂(−J)/∂θ at π_old = π from the derived conditions, minus the unregularised reward term's."""
    st = derive_regularised(reg, len(PI))
    shifts = [-BETA * k for k in _kl_values(reg)] if reg.placement is Placement.REWARD_PRE else [0, 0, 0]
    with working_precision(dps):
        drive = preference_numeric(_bandit(shifts), PI, dps)
        values = {**dict(zip(st.pi, PI)), **dict(zip(st.pi_ref, RHO)), **dict(zip(st.preference, drive)),
                  beta: BETA, entropy_coef: ENTROPY, kl_bound: CLAMP, lam: 0}
        full = _logit_gradient([to_mpf(e.subs(values)) for e in st.equations])
        plain = _logit_gradient(preference_numeric(_bandit(), PI, dps))
        return [a - b for a, b in zip(full, plain)]


@check("x-kl-sampled-gradient")
def check_x_kl_sampled_gradient(dps):
    worst, lines = mpmath.mpf(0), []
    for reg in SAMPLED:
        derived = derived_gradient(reg)
        mean, se = trainer_loss.gradient(_setup(reg), str(reg.estimator), str(reg.placement), GROUPS, SEED,
                                         baseline=_setup(Regulariser(Estimator.K1, Placement.LOSS), 0))
        z = [float((m - float(d)) / s) for m, d, s in zip(mean, derived, se)]
        worst = max(worst, max(abs(v) for v in z))
        lines.append(f"{reg.name}: z = " + ", ".join(f"{v:+.2f}" for v in z))
    return symbolic(worst < Z_LIMIT, f"trainer's numpy loss minus its beta = 0 loss on the same draws, {GROUPS} "
                    f"groups of {GROUP}, seed {SEED}: max |z| = "
                    f"{float(worst):.2f} < {Z_LIMIT} over {len(SAMPLED)} settings; " + "; ".join(lines))
