"""Checks of the trainers' KL estimators, placements, clamps and entropy bonus (``x-kl-*``).

The derivation is :func:`grpo_symbolic.theory.regularisers.derive_regularised`; the independent
routes are the trainers' sampled loss in numpy (:mod:`paper_checks.trainer_loss`, a Monte Carlo
gradient compared within 4 standard errors), mpmath roots of the loss differentiated numerically,
and the binary closed forms of :mod:`grpo_symbolic.cases.kl_families`.
"""

from __future__ import annotations

import sympy as sp

from grpo_symbolic.cases import kl_families
from grpo_symbolic.model.caches import cached
from grpo_symbolic.model.problem import Problem
from grpo_symbolic.model.settings import Estimator, Placement
from grpo_symbolic.model.symbols import beta, entropy_coef, gamma, indexed, kl_bound, lam, pi_ref_o, r_o, rho
from grpo_symbolic.paper import forms as paper_forms
from grpo_symbolic.numerics.precision import mp_lambdify, mpx, to_mpf, working_precision
from grpo_symbolic.numerics.roots import bracketed_newton
from grpo_symbolic.preference.engine import preference_exact, preference_numeric
from grpo_symbolic.theory.penalty import per_sample
from grpo_symbolic.theory.objective import derive_stationarity
from grpo_symbolic.theory.regularisers import Regulariser, derive_conditions, derive_regularised
from paper_checks import trainer_loss
from paper_checks.registry import agreement, check, combine, symbolic

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
    _, _, equations = derive_conditions(reg, len(PI))
    pi, pi_ref = indexed("pi", len(PI), positive=True), indexed("rho", len(PI), positive=True)
    preference = indexed("Q" if reg.placement is Placement.REWARD_PRE else "P", len(PI), real=True)
    shifts = [-BETA * k for k in _kl_values(reg)] if reg.placement is Placement.REWARD_PRE else [0, 0, 0]
    with working_precision(dps):
        drive = preference_numeric(_bandit(shifts), PI, dps)
        values = {**dict(zip(pi, PI)), **dict(zip(pi_ref, RHO)), **dict(zip(preference, drive)),
                  beta: BETA, entropy_coef: ENTROPY, kl_bound: CLAMP, lam: 0}
        full = _logit_gradient([to_mpf(e.subs(values)) for e in equations])
        plain = _logit_gradient(preference_numeric(_bandit(), PI, dps))
        return [a - b for a, b in zip(full, plain)]


def sampled_z(reg):
    """z-scores, per logit, of the trainer's Monte Carlo gradient against the derived one."""
    derived = derived_gradient(reg)
    mean, se = trainer_loss.gradient(_setup(reg), str(reg.estimator), str(reg.placement), GROUPS, SEED,
                                     baseline=_setup(Regulariser(Estimator.K1, Placement.LOSS), 0))
    return [float((m - float(d)) / s) for m, d, s in zip(mean, derived, se)]


@check("x-kl-sampled-gradient")
def check_x_kl_sampled_gradient(dps):
    worst, lines = 0.0, []
    for reg in SAMPLED:
        z = sampled_z(reg)
        worst = max(worst, max(abs(v) for v in z))
        lines.append(f"{reg.name}: z = " + ", ".join(f"{v:+.2f}" for v in z))
    return symbolic(worst < Z_LIMIT, f"trainer's numpy loss minus its beta = 0 loss on the same draws, {GROUPS} "
                    f"groups of {GROUP}, seed {SEED}: max |z| = "
                    f"{worst:.2f} < {Z_LIMIT} over {len(SAMPLED)} settings; " + "; ".join(lines))


# --- the families: derived links, and stationary points by an independent numeric route -------

#: The binary question of the family checks: rewards 1 and 0 (γ = 1), π_ref(a) = 3/10.
#: β = 2: at β = 1/2 the G → ∞ conditions of the linear and exponential links have no interior root
#: (the flow goes to p = 1); at β = 2 each has two, and the bracket holds the lower one.
B_RHO, B_BETA, B_ENTROPY, BRACKET = R(3, 10), 2, 3, ("0.31", "0.9")
X = sp.Symbol("X", positive=True)  # π(a), moved
Y = sp.Symbol("Y", positive=True)  # π_old(a), also the detached copy of π(a)
W = sp.Symbol("W", real=True)  # the weight β (0 for the entropy bonus alone)


@cached
def _numeric_objective(reg):
    """J(X; Y) − Σ π P as an mpmath function of (X, Y, W): the penalty as the trainer samples it
    (``per_sample`` with π_old = detached = Y) and the entropy bonus, NOT differentiated by SymPy."""
    pi, ref, old = (X, 1 - X), (B_RHO, 1 - B_RHO), (Y, 1 - Y)
    bound = CLAMP if reg.clamped else None
    if reg.placement is Placement.LOSS:
        penalty = sum(q * per_sample(reg.estimator, x, r, q, q, bound) for x, r, q in zip(pi, ref, old))
    else:
        penalty = sum(x * per_sample(reg.estimator, q, r, q, q, bound) for x, r, q in zip(pi, ref, old))
    entropy = -sum(x * sp.log(x) for x in pi) if reg.entropy else 0
    return mp_lambdify((X, Y, W), -W * penalty + B_ENTROPY * entropy)


def _binary(group_size):
    return Problem([B_RHO, 1 - B_RHO], [1, 0], group_size, beta=1)


def numeric_residual(reg, group_size, weight):
    """p ↦ d/dX [Σ π P + penalty + entropy](X; p) at X = p, with P from the engine and the
    derivative by mpmath (the independent route: no SymPy derivative, no solve)."""
    rest, problem = _numeric_objective(reg), _binary(group_size)

    def residual(x):
        pa, pb = preference_numeric(problem, (x, 1 - x), mpx.dps)
        return pa - pb + mpx.diff(lambda y: rest(y, x, weight), x)

    return residual


def numeric_root(reg, group_size, weight, start, dps):
    """The interior stationary π(a) in the bracket ``start``: a root of :func:`numeric_residual`."""
    return _root(numeric_residual(reg, group_size, weight), start)


def derived_residual(reg, group_size, weight):
    """p ↦ the derived conditions for two outputs, λ eliminated (equation a − equation b)."""
    st = derive_regularised(reg, 2, sp.Integer(0) if weight == 0 else beta)
    difference = sp.expand(st.equations[0] - st.equations[1]).subs({st.pi_ref[0]: B_RHO, st.pi_ref[1]: 1 - B_RHO,
                                                                     beta: weight, entropy_coef: B_ENTROPY,
                                                                     kl_bound: CLAMP})
    f = mp_lambdify((st.pi[0], st.pi[1], *st.preference), difference)
    problem = _binary(group_size)
    return lambda x: f(x, 1 - x, *preference_numeric(problem, (x, 1 - x), mpx.dps))


def derived_root(reg, group_size, weight, start, dps):
    """The root in p of :func:`derived_residual` in the bracket ``start``."""
    return _root(derived_residual(reg, group_size, weight), start)


def _root(f, bracket):
    """The sign change of ``f`` in ``bracket`` (two decimal strings), by the project's root finder."""
    return bracketed_newton(f, *(mpx.mpf(end) for end in bracket), close=mpx.mpf(10) ** (5 - mpx.dps))


def _closed_value(family, group_size, weight, route):
    """The root of :func:`kl_families.closed_form` nearest the numeric ``route`` (there may be a
    spurious root from squaring), at the binary point."""
    forms = kl_families.closed_form(family, group_size)
    values = {gamma: 1, rho: B_RHO, beta: weight, entropy_coef: B_ENTROPY}
    candidates = [to_mpf(f.subs(values)) for f in forms]
    return min(candidates, key=lambda v: abs(v - route))


def _family_outcomes(regs, link, weight, dps, start=BRACKET, closed=None, groups=(2, sp.oo)):
    """Derived link for every setting in ``regs``; G = 2 and G → ∞ roots, derived vs numeric."""
    outcomes = []
    for reg in regs:
        found = derive_regularised(reg, 2, sp.Integer(0) if weight == 0 else beta).link
        outcomes.append(symbolic(found == link, f"{reg.name}: link {found}"))
        for g in groups:
            with working_precision(dps):
                route = numeric_root(reg, g, weight, start, dps)
                derived = derived_root(reg, g, weight, start, dps)
                outcomes.append(agreement(derived, route, dps, what=f"{reg.name} G={g}: derived root vs numeric"))
                if closed and kl_families.closed_form(closed, g) is not None:
                    outcomes.append(agreement(_closed_value(closed, g, weight, route), route, dps,
                                              what=f"{closed} closed form G={g}"))
    return outcomes


@check("x-kl-link-reciprocal")
def check_x_kl_link_reciprocal(dps):
    outcomes = _family_outcomes([Regulariser(Estimator.K3, Placement.LOSS)], "reciprocal", B_BETA, dps,
                                closed="reciprocal")
    st, paper = derive_regularised(Regulariser(Estimator.K3, Placement.LOSS), 3), derive_stationarity("grpo", 3)
    outcomes.append(symbolic(st.policy == paper.policy and st.multiplier == paper.multiplier,
                             "k3@loss, K=3: policy and multiplier = derive_stationarity('grpo') (the paper's (11))"))
    return combine(outcomes)


EXPONENTIAL = [Regulariser(Estimator.K2, Placement.LOSS), Regulariser(Estimator.IS_K3, Placement.LOSS),
               Regulariser(Estimator.K3_PLUS, Placement.LOSS), Regulariser(Estimator.K1, Placement.REWARD_POST)]


@check("x-kl-link-exponential")
def check_x_kl_link_exponential(dps):
    outcomes = _family_outcomes(EXPONENTIAL, "exponential", B_BETA, dps, closed="exponential")
    outcomes.append(symbolic(kl_families.closed_form("exponential", "inf") is None,
                             "G -> oo: no closed form from SymPy (log and square root in p)"))
    return combine(outcomes)


@check("x-kl-link-linear")
def check_x_kl_link_linear(dps):
    reg = Regulariser(Estimator.K3_FLIPPED, Placement.LOSS)
    outcomes = _family_outcomes([reg], "linear", B_BETA, dps, closed="linear")
    st = derive_regularised(reg, 3)
    chi2 = sum((x - r) ** 2 / r for x, r in zip(st.pi, st.pi_ref)) / 2
    penalty = [sp.expand(st.preference[o] - lam - e) for o, e in enumerate(st.equations)]
    offsets = {sp.expand(a / beta - sp.diff(chi2, x)) for a, x in zip(penalty, st.pi)}
    outcomes.append(symbolic(offsets == {0}, f"E[grad k3-flipped] = grad chi^2(pi||pi_ref)/2 exactly (offset {offsets})"))
    poly = kl_families.polynomial("linear", "inf")
    outcomes.append(symbolic(kl_families.closed_form("linear", "inf") is None and poly is not None and poly.degree() == 4,
                             "G -> oo: a quartic in p, no closed form taken"))
    return combine(outcomes)


@check("x-kl-link-none")
def check_x_kl_link_none(dps):
    st = derive_regularised(Regulariser(Estimator.K1, Placement.LOSS), 3)
    no_reference = not any(e.free_symbols & set(st.pi_ref) for e in st.equations)
    no_policy = not any(e.free_symbols & set(st.pi) for e in st.equations)
    slope = kl_families.stationarity("none", 2)
    return combine(symbolic(st.link == "none" and no_reference and no_policy,
                            f"k1@loss: conditions {st.equations[0]} = 0 free of pi and pi_ref"),
                   symbolic(slope.free_symbols == {sp.Symbol("gamma", positive=True)} and slope.is_positive,
                            f"binary G=2: dJ/dp = {slope} > 0, no interior stationary point (p -> 1)"))


LAMBERT = [Regulariser(e, Placement.REWARD_POST) for e in (Estimator.K3, Estimator.IS_K3, Estimator.K3_PLUS,
                                                            Estimator.K3_FLIPPED)]
BELOW = ("0.02", "0.29")  # below pi_ref(a) = 3/10, where the reward-post k3 roots lie


@check("x-kl-reward-post-lambert")
def check_x_kl_reward_post_lambert(dps):
    outcomes = (_family_outcomes(LAMBERT[:3], "lambert", B_BETA, dps, start=BELOW)
                + _family_outcomes(LAMBERT[3:], "lambert", B_BETA, dps, start=BELOW, groups=(2,)))
    for reg in LAMBERT:
        st = derive_regularised(reg, 2)
        outcomes.append(symbolic(len(st.branches[0]) == 2 and st.implicit, f"{reg.name}: branches W_0 and W_-1"))
        with working_precision(dps):
            slope = mpx.diff(numeric_residual(reg, 2, B_BETA), numeric_root(reg, 2, B_BETA, BELOW, dps))
        outcomes.append(symbolic(slope > 0, f"{reg.name} G=2: dJ/dp increases through the root "
                                 f"(slope {mpx.nstr(slope, 6)}): it repels, the flow leaves for a vertex"))
    outcomes.append(_branches_solve(LAMBERT[0], dps))
    return combine(outcomes)


def _branches_solve(reg, dps):
    """Both Lambert branches satisfy the derived condition at a point with P_1 > λ."""
    st = derive_regularised(reg, 2)
    values = {st.preference[0]: R(1, 3), lam: 0, beta: B_BETA, st.pi_ref[0]: B_RHO}
    with working_precision(dps):
        residuals = [to_mpf(st.policy[0].lhs.subs(st.pi[0], branch).subs(values)) for branch in st.branches[0]]
    return agreement(residuals, [0, 0], dps, scale=1, what=f"{reg.name}: condition at both branches (P_1 = 1/3)")


@check("x-kl-entropy-softmax")
def check_x_kl_entropy_softmax(dps):
    return combine(*_family_outcomes([Regulariser(Estimator.K1, Placement.LOSS, entropy=True)], "softmax", 0, dps,
                                     closed="softmax"),
                   symbolic(kl_families.closed_form("softmax", "inf") is None, "G -> oo: no closed form from SymPy"))


@check("x-kl-entropy-with-kl")
def check_x_kl_entropy_with_kl(dps):
    tempered = derive_regularised(Regulariser(Estimator.K2, Placement.LOSS, entropy=True), 2).policy[0]
    exponent = sp.expand(sp.expand_log(sp.log(tempered), force=True))
    weights = (sp.simplify(sp.diff(exponent, sp.Symbol("P_1", real=True)) - 1 / (beta + entropy_coef)),
               sp.simplify(sp.diff(exponent, sp.Symbol("rho_1", positive=True)) * sp.Symbol("rho_1", positive=True)
                           - beta / (beta + entropy_coef)))
    return combine(*_family_outcomes([Regulariser(Estimator.K2, Placement.LOSS, entropy=True)], "exponential", B_BETA, dps)
                   + _family_outcomes([Regulariser(Estimator.K3, Placement.LOSS, entropy=True)], "lambert", B_BETA, dps),
                   symbolic(weights == (0, 0), "k2 + entropy: pi ∝ pi_ref^(beta/(beta+c)) exp(P/(beta+c)) (geometric pooling)"))


@check("x-kl-reward-pre-pooling")
def check_x_kl_reward_pre_pooling(dps):
    reg = Regulariser(Estimator.K1, Placement.REWARD_PRE)
    st = derive_regularised(reg, 3)
    r1, rho1 = sp.Symbol("r_1", real=True), sp.Symbol("rho_1", positive=True)
    ratio = sp.simplify(st.policy[0] / paper_forms.RLHF_POLICY_EQ4.subs({pi_ref_o: rho1, r_o: r1}))
    outcomes = [symbolic(st.link == "exponential" and not ratio.free_symbols & {r1, rho1} and st.multiplier == sum(
        x * q for x, q in zip(st.pi, st.preference)), f"k1@reward-pre, deterministic rewards: pi = pi_ref exp(r/beta)/Z "
        f"(RLHF (4); ratio {ratio}); lambda = E_pi[Q]")]
    with working_precision(dps):
        pooled = _pooled(dps)
        exact = [sp.Rational(str(x)) for x in pooled[:-1]]
        exact.append(1 - sum(exact))
        large = [to_mpf(v) for v in preference_exact(_shifted(sp.oo, pooled), exact)]
        small = preference_numeric(_shifted(2, pooled), pooled, mpx.dps)
    outcomes.append(agreement(list(large), [0, 0, 0], dps, scale=1,
                              what="Bernoulli reward, G -> oo: Q at pi ∝ pi_ref exp(E r/beta) vanishes"))
    outcomes.append(symbolic(max(abs(v) for v in small) > mpx.mpf("1e-3"),
                             "G = 2: Q there is " + ", ".join(mpx.nstr(v, 6) for v in small)
                             + " (not 0: with stochastic rewards the finite-G fixed point is not log pooling)"))
    return combine(outcomes)


def _pooled(dps):
    """π ∝ π_ref·exp(E r/β) for the bandit's laws (β = BETA), at the working precision."""
    means = [sum(v * q for v, q in _values(law).items()) for law in LAWS]
    weights = [to_mpf(r) * mpx.exp(to_mpf(m) / to_mpf(BETA)) for r, m in zip(RHO, means)]
    return tuple(w / sum(weights) for w in weights)


def _shifted(group_size, policy):
    """The bandit with rewards r − β·k1(π(o)) (verl's reward before normalisation), population std."""
    laws = [{sp.Rational(str(mpx.nstr(v - to_mpf(BETA) * mpx.log(x / to_mpf(r)), mpx.dps))): q
             for v, q in _values(law).items()} for law, x, r in zip(LAWS, policy, RHO)]
    return Problem(reference=RHO, rewards=laws, group_size=group_size, beta=1)


@check("x-kl-clamp-region")
def check_x_kl_clamp_region(dps):
    reg = Regulariser(Estimator.K3, Placement.LOSS, clamped=True)
    x = sp.Symbol("x_o", real=True)
    active = derive_regularised(reg, 2).clamp_active[0]
    outcomes = [symbolic(active == (sp.Abs(x + sp.log(1 - x)) >= kl_bound),
                         f"k3@loss clamped at C: the clamp acts at output o iff {active}, x = (P_o - lambda)/beta")]
    for weight in (B_BETA, R(1, 10)):  # beta = 2: inactive at both outputs; beta = 1/10: active at b
        with working_precision(dps):
            p14 = _closed_value("reciprocal", 2, weight, mpx.mpf("0.5"))
            flags = [bool(active.subs({x: arg, kl_bound: CLAMP})) for arg in ((1 - p14) / weight, -p14 / weight)]
            residual = numeric_residual(reg, 2, weight)(p14)
            derived = derived_residual(reg, 2, weight)(p14)
        what = f"beta={weight}, C={CLAMP}: clamp active at (a, b) = {flags}; clamped dJ/dp at (14) = {mpx.nstr(residual, 6)}"
        outcomes.append(symbolic((abs(residual) < mpx.mpf(10) ** (5 - dps)) == (not any(flags)), what))
        outcomes.append(agreement(derived, residual, dps, scale=1, what=f"beta={weight}: derived clamped conditions at (14)"))
    return combine(outcomes)
