"""Checks of trainers' conventions: x-bessel-beta-eff (Bessel std, eps) and x-kl-estimators."""

from grpo_symbolic.model.caches import cached

import sympy as sp

from grpo_symbolic.paper import forms as paper
from grpo_symbolic.theory.advantage import RULES, Group
from grpo_symbolic.cases import conventions
from paper_checks import fixtures
from grpo_symbolic.theory import estimators
from grpo_symbolic.theory.objective import derive_stationarity
from grpo_symbolic.preference.engine import preference_exact
from grpo_symbolic.model.presets import OPENRLHF_EPS, TRL_EPS, VERL_EPS
from grpo_symbolic.model.problem import Problem
from grpo_symbolic.solve.api import stationary_policy
from grpo_symbolic.model.symbols import G, beta, p, pi_o, pi_old_o, pi_ref_o
from grpo_symbolic.numerics.precision import mp_lambdify, mpx, working_precision
from paper_checks.registry import agreement, check, combine, symbolic

@check("x-bessel-beta-eff")
def check_x_bessel_beta_eff(dps):
    outcomes = []
    factor = conventions.bessel_factor()
    outcomes.append(symbolic(factor.free_symbols == {G},
                             f"A_sample/A_population = {factor} on a symbolic group (values, counts, eps=0)"))
    degenerate = Group(values=(sp.Integer(3),), focal_index=0, counts=(4,))
    outcomes.append(symbolic(RULES["sample"](degenerate, 0, sp.sqrt) == RULES["population"](degenerate, 0, sp.sqrt) == 0,
                             "all-equal group: both advantages 0"))
    derived = conventions.beta_eff()
    m = sp.Symbol("m", integer=True, nonnegative=True)  # G = m + 2 >= 2
    outcomes.append(symbolic(sp.cancel(derived**2 - paper.BESSEL_BETA_EFF**2) == 0 and derived.subs(G, m + 2).is_positive,
                             f"beta/c = {derived} = notes' beta*sqrt(G/(G-1)) (G >= 2)"))
    outcomes.append(symbolic(conventions.rescaling_holds("grpo") and conventions.rescaling_holds("direct"),
                             "stationarity: eq(cP; beta, lambda) = c*eq(P; beta/c, lambda/c), both penalties"))
    law = {1: sp.Rational(1, 3), 0: sp.Rational(2, 3)}  # the engine's P_G, a stochastic reward, G = 4
    prob = Problem(reference=[sp.Rational(1, 2)] * 2, rewards=[law, 0], group_size=4, beta=1, normalisation="sample")
    c4 = factor.subs(G, 4)
    gap = [sp.expand(a - c4 * b) for a, b in zip(preference_exact(prob, (p, 1 - p)),
                                                  preference_exact(prob.replace(normalisation="population"), (p, 1 - p)))]
    outcomes.append(symbolic(all(g == 0 for g in gap), "P_4^sample(o|p) = c(4)*P_4^population(o|p), symbolic p"))
    sample = stationary_policy(BASE, dps)
    effective = paper.BESSEL_BETA_EFF.subs({beta: BASE.beta, G: BASE.group_size})
    population = stationary_policy(BASE.replace(normalisation="population", beta=effective), dps)
    outcomes.append(agreement(sample, population, dps, what="G=8, rho=1/20, beta=1/2: sample vs population(beta_eff)"))
    outcomes.extend(_eps_outcomes(sample, dps))
    return combine(outcomes)


# Tiny within-group spread: rewards 1/1000 apart, so TRL's eps = 1e-4 is a tenth of the gap.
BASE = Problem(reference=[sp.Rational(1, 20), sp.Rational(19, 20)], rewards=[sp.Rational(1, 1000), 0], group_size=8,
               beta=sp.Rational(1, 2), normalisation="sample")


def _eps_outcomes(base_policy, dps):
    """eps: the per-group factor depends on the spread; the fitted β' depends on π; |Δπ*| measured."""
    e = sp.Symbol("epsilon", positive=True)
    one, two = conventions.eps_factor((0, 1, 1, 1), e), conventions.eps_factor((0, 0, 1, 1), e)
    outcomes = [symbolic(sp.cancel(one - two) != 0,
                         f"eps factor differs between groups: {one} vs {two} (no single beta_eff)")]
    trl = BASE.replace(eps=TRL_EPS)
    weights = [conventions.matching_weight(trl, x, dps).weight for x in ("0.8", "0.95")]
    spread = abs(weights[0] - weights[1]) / weights[1]
    outcomes.append(symbolic(spread > mpx.mpf("1e-3"),
                             f"TRL eps, G=8, reward gap 1e-3: matching beta' at pi(a)=0.8 vs 0.95: "
                             f"{mpx.nstr(weights[0], 8)} vs {mpx.nstr(weights[1], 8)} (relative spread > 1e-3 asked: "
                             "a visible effect, far above --dps digits)"))
    effects = fixtures.eps_effect(BASE, [TRL_EPS, VERL_EPS, OPENRLHF_EPS], dps, base=base_policy)
    shown = ", ".join(f"eps={e.eps}: {mpx.nstr(e.shift, 3)}" for e in effects)
    decreasing = all(a.shift > b.shift > 0 for a, b in zip(effects, effects[1:]))
    outcomes.append(symbolic(decreasing and effects[0].shift > mpx.mpf("1e-3"),
                             f"|pi*(eps) - pi*(0)| at rho=1/20, beta=1/2, G=8, reward gap 1e-3: {shown} (decreasing in eps, "
                             "the largest > 1e-3: a visible effect, far above --dps digits)"))
    return outcomes


# --- x-kl-estimators ---------------------------------------------------------------------------

EXPECTED = {"k3": ("reverse", 1), "k2": ("forward", -1), "is_k3": ("forward", -1), "k1": ("none", 1)}
POINTS = [("0.5", "0.5"), ("1e-30", "0.999"), ("0.999999", "1e-20"), ("0.37", "0.0001")]  # (pi(o), pi_ref(o))


PRINTED_TARGETS = {"reverse": paper.GRADIENT_REVERSE_KL, "forward": paper.GRADIENT_KL_EQ9, "none": sp.Integer(0)}


def _one_output(expr, s, index=0):
    """A generic-K expression in output ``index``'s symbols, rewritten in paper_forms' per-output names."""
    return expr.subs({s.pi[index]: pi_o, s.pi_ref[index]: pi_ref_o, s.pi_old[index]: pi_old_o})


@cached
def _one_output_loss(name):
    """The sampled loss of one output as an mpmath function of (π(o), π_old(o), π_ref(o))."""
    return mp_lambdify((pi_o, pi_old_o, pi_ref_o), estimators.sampled_loss(name, (pi_o,), (pi_ref_o,), (pi_old_o,)))


def _numeric_gradient(name, x, r, dps):
    """d/dπ(o) of the sampled loss at π(o) = x with π_old(o) held at x: mpmath's numeric derivative."""
    loss = _one_output_loss(name)
    with working_precision(dps):
        return mpx.diff(lambda y: loss(y, x, r), x)


@check("x-kl-estimators")
def check_x_kl_estimators(dps):
    outcomes = []
    s = estimators.generic(3)
    for name, (target, constant) in EXPECTED.items():
        found = estimators.identify(name)
        outcomes.append(symbolic(found == target and estimators.offset(name, target) == constant,
                                 f"{name}: E[grad] = grad {target} + {estimators.offset(name, found)}"))
        for x, r in POINTS:  # independent: numeric differentiation of the sampled loss
            with working_precision(dps):
                xv, rv = mpx.mpf(x), mpx.mpf(r)
                derived = _numeric_gradient(name, xv, rv, dps)
                expected = PRINTED_TARGETS[target].subs({pi_o: xv, pi_ref_o: rv}).evalf(dps + 10) + constant
            outcomes.append(agreement(derived, expected, dps, scale=1, what=f"{name} at pi={x}, pi_ref={r}"))
    k3_grad = _one_output(estimators.expected_gradient("k3")[0], s)
    outcomes.append(symbolic(sp.expand(k3_grad - paper.GRADIENT_ON_POLICY_EQ10) == 0, "k3: E[grad] = (10)"))
    full = sp.diff(estimators.sampled_loss("k3", s.pi, s.pi_ref, s.pi_old), s.pi[0])
    outcomes.append(symbolic(sp.expand(_one_output(full, s) - paper.GRADIENT_KL0_EQ8) == 0, "k3 off-policy: grad = (8)"))
    forward = _one_output(estimators.expected_gradient("is_k3")[0], s)
    outcomes.append(symbolic(sp.expand(sp.expand_log(forward - (paper.GRADIENT_KL_EQ9 - 1), force=True)) == 0,
                             "IS-k3: E[grad] = (9) - 1"))
    grpo, direct = derive_stationarity("grpo").policy, derive_stationarity("direct").policy
    same = lambda a, b: all(sp.simplify(x - y) == 0 for x, y in zip(a, b))  # noqa: E731
    outcomes.append(symbolic(same(estimators.stationarity("k3").policy, grpo), "k3 loss: stationary form = GRPO's (11)"))
    outcomes.append(symbolic(same(estimators.stationarity("k2").policy, direct)
                             and same(estimators.stationarity("is_k3").policy, direct),
                             "k2 and IS-k3 losses: log pooling, the direct-penalty form"))
    outcomes.append(symbolic(estimators.k1_is_unregularised(),
                             "k1 loss: no pi_ref in the conditions; = unregularised with lambda -> lambda + beta"))
    return combine(outcomes)
