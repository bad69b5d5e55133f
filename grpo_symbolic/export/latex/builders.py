"""Each formula of the export, built: its derivation (the equation table's callable) arranged for reading.

A builder takes its row of :data:`grpo_symbolic.paper.equations.EQUATIONS`, runs the derivation
and returns the SymPy Eq the document prints; every arrangement passes :func:`checked` first.
"""

from __future__ import annotations

from grpo_symbolic.model.caches import cached
from typing import Any, Callable

import sympy as sp

from grpo_symbolic.cases.general import EXAMPLES, reward_std, stationarity_form, win_lose
from grpo_symbolic.cases.shift_only import OUTPUTS
from grpo_symbolic.export.latex.arrangement import (as_hyperbolic, bernstein, checked, descending, evaluated,
                                                    hyperbolic, lambert_quotient, logit_terms, minus, normalised,
                                                    one_minus, one_output, over, over_z, split_roots,
                                                    stationarity_equation)
from grpo_symbolic.export.latex.notation import BINOMIAL_G, named
from grpo_symbolic.export.latex.printer import as_written, reading_terms
from grpo_symbolic.model.problem import Problem
from grpo_symbolic.model.symbols import (G, P_mean, P_o, beta, gamma, indexed, lam, lose, p, pi_o, pi_ref_o,
                                         pref_mean, r_mean, r_o, r_old_mean, rho, sigma, win, x)
from grpo_symbolic.paper import forms as paper_forms
from grpo_symbolic.paper.equations import Equation
from grpo_symbolic.preference.engine import large_group_preference, preference_exact
from grpo_symbolic.theory.algebra import expectation, is_zero
from grpo_symbolic.theory.objective import derive_stationarity

Builder = Callable[[Equation], sp.Basic]

#: The builder of each formula, by the key of its row in the equation table.
BUILDERS: dict[str, Builder] = {}


def builds(*keys: str) -> Callable[[Builder], Builder]:
    """Register the decorated function as the builder of the equation table's rows ``keys``."""
    def register(function: Builder) -> Builder:
        for key in keys:
            if key in BUILDERS:  # pragma: no cover - guards edits of this file
                raise RuntimeError(f"two builders for {key!r}")
            BUILDERS[key] = function
        return function
    return register


#: The left-hand side of each formula printed as derived, by its key.
_AS_DERIVED = {"eq15-floor": "floor_inf", "eq16": "R_2", "eq18": "R_inf", "bessel": "bessel", "beta-eff": "beta_eff"}

#: The left-hand side of each penalty gradient, by its part of ``cases.general.penalty_gradients()``.
_GRADIENT_NAMES = {"kl0": "dKL0", "kl": "dKL", "on_policy": "dKL0_on", "reverse": "dKL_rev"}

@builds(*_AS_DERIVED)
def as_derived(equation: Equation) -> sp.Basic:
    """The derivation itself, under its name."""
    return sp.Eq(named(_AS_DERIVED[equation.key]), equation.derived())


# Section 1: the baselines.


@builds("eq4")
def rlhf(equation: Equation) -> sp.Basic:
    """(4): the maximiser of the RLHF objective (3), normalised by Z."""
    d = equation.derived()
    return normalised(d.policy, {d.symbols["reference"][0]: pi_ref_o, d.symbols["rewards"][0]: r_o})


@builds("nlhf")
def nlhf(equation: Equation) -> sp.Basic:
    """NLHF's equilibrium: log π(o) − log π_ref(o) − E_π[P(o ≻ ·)]/β is the same for every output."""
    d = equation.derived()
    pi, reference, prefers = d.symbols["pi"], d.symbols["reference"], d.symbols["prefers"]
    on_simplex = (*pi[:-1], 1 - sp.Add(*pi[:-1]))
    mean_preference = [sp.Add(*[q * row[b] for b, q in enumerate(on_simplex)]) for row in prefers]
    offsets = [sp.expand_log(v - sp.log(r) - m / beta, force=True)
               for v, r, m in zip(d.policy, reference, mean_preference)]
    if not all(is_zero(c - offsets[0]) for c in offsets):
        raise ArithmeticError("the NLHF equilibrium is not pi_ref exp(E P / beta) up to a common factor")
    return sp.Eq(pi_o, over_z(pi_ref_o * sp.exp(pref_mean / beta)))


# Section 2.2: the penalty's gradients (8)–(10) and the reverse KL.


@builds("eq8", "eq9", "eq10", "reverse-kl")
def gradient(equation: Equation) -> sp.Basic:
    """A penalty gradient (8)–(10) or the reverse KL's, logarithms combined."""
    derived = sp.expand(equation.derived())
    return sp.Eq(named(_GRADIENT_NAMES[str(equation.part)]), checked(sp.logcombine(derived, force=True), derived))


# Section 2.3: stationarity (11), its G = 2 and G → ∞ forms, Appendix A's multiplier.


def _example(name: str) -> Problem:
    """The problem ``cases.general.EXAMPLES[name]``."""
    settings: dict[str, Any] = EXAMPLES[name]
    return Problem(**settings)


@cached
def _grpo(size=2):
    """The derived stationarity, after confirming that its multiplier is E_π[P_G]."""
    st = derive_stationarity("grpo", size)
    if not is_zero(st.multiplier - expectation(st.pi, st.preference)):
        raise ArithmeticError(f"the multiplier {st.multiplier} is not E_pi[P_G]")
    return st


@builds("eq11")
def eq11(equation: Equation) -> sp.Basic:
    """(11): −(π(o)/β)·∂L/∂π(o) at π_old = π, with λ = E_π[P_G]."""
    st = _grpo()
    return stationarity_equation(sp.expand(-pi_o * one_output(st.equations[0], st) / beta).subs(lam, P_mean))


@builds("eq11-g")
def g_form(equation: Equation) -> sp.Basic:
    """(11) solved for π(o): β π_ref(o)/(β − (P − Ē)), i.e. g((P − Ē)/β)·π_ref(o), g(x) = 1/(1 − x)."""
    st = _grpo()
    derived = one_output(st.policy[0], st).subs(lam, P_mean)
    numerator, denominator = sp.fraction(derived)
    return sp.Eq(pi_o, checked(over(numerator, minus(beta, sp.expand(beta - denominator))), derived))


@builds("multiplier")
def multiplier(equation: Equation) -> sp.Basic:
    return sp.Eq(lam, _grpo().multiplier)


@builds("zero-mean")
def zero_mean_policy(equation: Equation) -> sp.Basic:
    """(11) with E_π[P_G] = 0, the engine's zero-mean identity (checked on a three-output example)."""
    st = _grpo(3)
    if not is_zero(equation.derive(_example("three-values-G3"), st.pi)):
        raise ArithmeticError("E_pi[P_G(.|pi)] is not identically 0")
    return sp.Eq(pi_o, one_output(st.policy[0], st).subs(lam, 0))


def _specialised(derive, preference, policy, quantities, definitions):
    """(11) with P_G(o_1|π) = ``preference[0]`` (from the engine) written in the paper's ``quantities``.

    ``quantities`` is P_G(o|π) in the paper's symbols; ``definitions`` gives those symbols for o_1.
    SymPy confirms that the engine's P_G(o_1|π) equals it and that E_π[P_G] = 0; the condition
    derived with the engine's P_G (by ``derive``, the table's ``stationarity_with_preference``) must
    equal the arranged one.
    """
    st = _grpo(3)
    if not is_zero(preference[0] - quantities.subs(definitions)):
        raise ArithmeticError(f"P_G(o_1|pi) = {preference[0]} is not {quantities}")
    if not is_zero(expectation(policy, preference)):
        raise ArithmeticError("E_pi[P_G] is not 0")
    generic = one_output(stationarity_form(3)[0], st).subs({lam: 0, P_o: quantities})
    arranged = stationarity_equation(generic)
    derived = derive(preference, 3)[0].subs(dict(zip(st.pi, policy)))
    rename = {pi_o: st.pi[0], pi_ref_o: st.pi_ref[0], **definitions}
    checked(arranged.xreplace(rename), sp.Eq(derived, 0), st.pi_ref[0])
    return arranged


@builds("eq12")
def eq12(equation: Equation) -> sp.Basic:
    """(12): G = 2, P_2(o | π) = Prob[r > r' | o] − Prob[r < r' | o] (noisy rewards with ties)."""
    st = _grpo(3)
    problem = _example("noisy-ties-G2")
    wins, losses = win_lose(problem, st.pi)
    definitions = {win: wins[0], lose: losses[0]}
    return _specialised(equation.derive, preference_exact(problem, st.pi), st.pi, win - lose, definitions)


@builds("eq13")
def eq13(equation: Equation) -> sp.Basic:
    """(13): G → ∞, P_∞(o|π) = (r(o) − E_π r)/σ(π) (three outputs with symbolic rewards)."""
    st = _grpo(3)
    rewards = sp.symbols("r_1:4", real=True)
    problem = Problem(reference=("0.2", "0.3", "0.5"), rewards=tuple(rewards), group_size="inf", beta=1)
    simplex = {st.pi[2]: 1 - st.pi[0] - st.pi[1]}
    policy = tuple(v.subs(simplex) for v in st.pi)
    definitions = {r_o: rewards[0], r_mean: expectation(policy, rewards), sigma: reward_std(problem, policy)}
    preference = large_group_preference(problem, policy)
    return _specialised(equation.derive, preference, policy, paper_forms.LARGE_G_PREFERENCE, definitions)


# Section 2.3.1 and Appendix B: binary questions.


@builds("eq14")
def eq14(equation: Equation) -> sp.Basic:
    """(14) from the derived root, in the ratio β/γ: ½(1 − β/γ + sqrt((1 − β/γ)² + 4(β/γ)ρ))."""
    derived = equation.derived()
    ratio = sp.Dummy("t", positive=True)
    doubled = sp.expand(2 * sp.simplify(derived.subs(beta, ratio * gamma)))
    root, rest = split_roots(doubled)
    radicand = root.base
    if sp.expand(radicand.subs(rho, 0) - rest**2) != 0:
        raise ArithmeticError(f"the radicand {radicand} is not ({rest})^2 + (terms in rho)")
    back = {ratio: beta / gamma}
    rest, extra = rest.subs(back), sp.expand(radicand - rest**2).subs(back)
    radical = sp.sqrt(as_written(sp.Add, rest**2, extra))
    arranged = as_written(sp.Mul, sp.Rational(1, 2), as_written(sp.Add, *reading_terms(rest), radical))
    return sp.Eq(p, checked(arranged, derived))


@builds("eq15")
def eq15(equation: Equation) -> sp.Basic:
    """(15) from the derived root: (2β²ρ + 1 + sqrt(1 + 4β²ρ(1 − ρ)))/(2(1 + β²))."""
    derived = equation.derived()
    numerator, denominator = sp.fraction(derived)
    root, rest = split_roots(numerator)
    radicand = root.base
    constant = radicand.subs(rho, 0)
    inner = as_written(sp.Add, constant, one_minus(sp.factor(radicand - constant), (rho,)))
    arranged = over(as_written(sp.Add, *reading_terms(rest), sp.sqrt(inner)), sp.factor(denominator))
    return sp.Eq(p, checked(arranged, derived))


@builds("eq14-floor")
def floor_g2(equation: Equation) -> sp.Basic:
    return sp.Eq(named("floor_2"), checked(sp.Max(1 - beta / gamma, 0), equation.derived()))


@builds("eq17")
def eq17(equation: Equation) -> sp.Basic:
    """(17): the derived dJ/dp = γ − β(p − ρ)/(p(1 − p)) at p_o = p, as penalty = reward."""
    derived = equation.derived()
    reward, penalty = derived.as_independent(beta)
    return checked(sp.Eq(one_minus(-penalty, (p,)), reward), sp.Eq(derived, 0), rho)


@builds("eq17-quadratic", "eq19-quadratic")
def quadratic(equation: Equation) -> sp.Basic:
    return sp.Eq(descending(equation.derived(), p), 0)


@builds("eq19")
def eq19(equation: Equation) -> sp.Basic:
    """(19): p(1 − p)·dJ/dp = β(ρ − p) + sqrt(p(1 − p)) at p_o = p, as β(p − ρ) = sqrt(p(1 − p))."""
    derived = equation.derived()
    root, rest = split_roots(derived)
    return checked(sp.Eq(sp.factor(-rest), root), sp.Eq(derived, 0), rho)


# Section 3: the direct KL penalty and shift-only advantages.


@builds("log-pooling")
def log_pooling(equation: Equation) -> sp.Basic:
    st = equation.derived()
    return normalised(st.policy, {st.pi_ref[0]: pi_ref_o, st.preference[0]: P_o})


@builds("direct-g2")
def direct_g2(equation: Equation) -> sp.Basic:
    return sp.Eq(p, equation.derived())


@builds("h")
def h(equation: Equation) -> sp.Basic:
    return sp.Eq(named("h"), logit_terms(equation.derived(), (x, rho)))


@builds("x-star")
def x_star(equation: Equation) -> sp.Basic:
    """x* = u*²/(1 + u*²) from the derived turning point, rationalised: ½(1 + β/sqrt(1 + β²))."""
    derived = equation.derived()[1]
    doubled = sp.expand(2 * sp.simplify(sp.radsimp(derived)))
    return sp.Eq(named("x_star"), checked(as_written(sp.Mul, sp.Rational(1, 2), doubled), derived))


@builds("shift-only")
def shift_only(equation: Equation) -> sp.Basic:
    """Shift-only reward term, derived over three outputs, in the paper's means E_π r and E_{π_old} r."""
    derived = equation.derive(OUTPUTS)
    pi, old, rewards = (indexed(stem, OUTPUTS, positive=True) for stem in ("pi", "pi_old", "r"))
    simplex = {pi[-1]: 1 - sum(pi[:-1]), old[-1]: 1 - sum(old[:-1])}
    means = {r_mean: sum(a * r for a, r in zip(pi, rewards)), r_old_mean: sum(a * r for a, r in zip(old, rewards))}
    arranged = as_written(sp.Mul, minus(1, 1 / G), minus(r_mean, r_old_mean))
    checked(evaluated(arranged).subs(means).subs(simplex), derived)
    return sp.Eq(named("R_shift"), arranged)


@builds("shift-only-direct")
def shift_only_direct(equation: Equation) -> sp.Basic:
    """Shift-only advantages with the direct penalty: the derived log pool, P_G replaced by the shift form."""
    st = derive_stationarity("direct", OUTPUTS)
    rewards = indexed("r", OUTPUTS, real=True)
    on_policy_mean = sum(a * r for a, r in zip(st.pi, rewards))
    policies = [policy.subs(P, equation.derived().subs({r_o: r, r_old_mean: on_policy_mean}))
                for policy, P, r in zip(st.policy, st.preference, rewards)]
    return normalised(policies, {st.pi_ref[0]: pi_ref_o, rewards[0]: r_o})


# Beyond the paper.


@builds("binomial-a", "binomial-b")
def binomial(equation: Equation) -> sp.Basic:
    """The binomial-sum preference of answer a or b (the key's last letter) at G = BINOMIAL_G, in Bernstein form."""
    which = equation.key[-1]
    derived = equation.derive(BINOMIAL_G)["ab".index(which)]
    lhs = named(f"P_{BINOMIAL_G}({which})")
    return sp.Eq(lhs, checked(bernstein(sp.expand(derived), p, BINOMIAL_G - 1), derived))


@builds("large-g-expansion")
def large_group_expansion(equation: Equation) -> sp.Basic:
    a0, a1 = equation.derived()
    return sp.Eq(named("P_G(a)"), as_written(sp.Add, a0, a1 / (G - 1), sp.O(G**-2, (G, sp.oo))))


@builds("rate")
def rate(equation: Equation) -> sp.Basic:
    """c = −p^{5/2}/(4(2βp²ρ√(1 − p) + p^{5/2})) at p = π_∞(a), cancelled in s = √p."""
    derived = equation.derived()
    s = sp.Dummy("s", positive=True)
    p_inf = named("p_inf")
    cancelled = sp.factor(sp.cancel(derived.subs(p, s**2))).subs(s, sp.sqrt(p_inf))
    return sp.Eq(named("rate"), checked(cancelled, derived.subs(p, p_inf)))


@builds("h-minimum")
def h_minimum(equation: Equation) -> sp.Basic:
    derived = equation.derived()
    return sp.Eq(named("h_star"), logit_terms(hyperbolic(derived), (rho,)))


@builds("best-response")
def best_response(equation: Equation) -> sp.Basic:
    """The derived best-response map in logits: logit ρ + (e^{t/2} + e^{−t/2})/β = logit ρ + 2cosh(t/2)/β."""
    derived = equation.derived()
    logs = sp.Add(*[t for t in sp.Add.make_args(derived) if t.has(sp.log)])
    arranged = as_written(sp.Add, logit_terms(logs, (rho,)), as_hyperbolic(derived - logs))
    return sp.Eq(named("next_logit"), checked(arranged, derived))


@builds("best-response-slope")
def best_response_slope(equation: Equation) -> sp.Basic:
    derived = equation.derived()
    return sp.Eq(named("slope_T"), checked(as_hyperbolic(derived), derived))


@builds("h-mirror")
def h_mirror(equation: Equation) -> sp.Basic:
    return sp.Eq(named("h_mirror"), logit_terms(hyperbolic(equation.derived()), (rho,)))


@builds("critical-beta")
def critical_beta_slope(equation: Equation) -> sp.Basic:
    derived = equation.derived()
    return sp.Eq(named("dbeta_c"), checked(one_minus(derived, (rho,)), derived))


@builds("k1", "k2", "k3", "is-k3")
def estimator(equation: Equation) -> sp.Basic:
    """The expected gradient of a KL estimator used as a loss (the table's ``expected_gradient``), for output o."""
    derived = one_output(equation.derived()[0], _grpo(3))
    lhs = named(f"grad_{equation.key.replace('-', '_')}")
    return sp.Eq(lhs, checked(sp.logcombine(derived, force=True), derived))


@builds("kl-linear", "kl-lambert", "kl-softmax", "kl-tempered")
def regularised(equation: Equation) -> sp.Basic:
    """A trainer regulariser's stationary π(o) (the principal branch where there are two), for output o."""
    st = equation.derived()
    form = st.branches[0][0] if st.implicit else st.policy[0]
    arranged = sp.factor(form) if st.link == "linear" else sp.powsimp(lambert_quotient(form), deep=True)
    return sp.Eq(pi_o, checked(arranged, form).xreplace({st.pi_ref[0]: pi_ref_o, st.preference[0]: P_o}))


@builds("kl-linear-g2", "kl-softmax-g2")
def kl_binary_g2(equation: Equation) -> sp.Basic:
    """A binary closed form at G = 2 (:func:`grpo_symbolic.cases.kl_families.closed_form`)."""
    (root,) = equation.derived()
    return sp.Eq(p, root)
