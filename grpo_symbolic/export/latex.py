"""The derived formulas as LaTeX: ``grpo-symbolic latex -o formulas.tex [--snippets DIR]``.

Every formula is built, when it is exported, by the package's own derivation (the stationarity
conditions of :mod:`~grpo_symbolic.theory.objective`, the penalty gradients of
:mod:`~grpo_symbolic.theory.penalty`, the closed forms of :mod:`grpo_symbolic.cases`).  It is then only
*arranged* for reading with SymPy (output o_1 renamed to a generic output o, a normaliser named Z,
factoring, an equation in the paper's arrangement), and every arrangement is accepted only after
SymPy confirms that it still says what the derivation said (:func:`checked`).  No formula's LaTeX
is typed by hand: the only hand-written LaTeX are the symbol names, all in :data:`NAMES`.

Labels: ``eq:N`` is the paper's equation (N), ``p:…`` a result the paper states without a number,
``x:…`` a result beyond the paper.  The document tags each equation with (N), or with its label.
"""

from dataclasses import dataclass
import re
from functools import lru_cache
from pathlib import Path
from typing import Callable

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE

from grpo_symbolic.model.symbols import (G, P_mean, P_o, beta, gamma, lam, lose, p, pi_o, pi_old_o, pi_ref_o,
                      pref_mean, r_mean, r_o, r_old_mean, rho, sigma, win, x)

# --- Symbol names: the one place where the paper's notation is written ---------------------------

_PI = r"\pi_\theta"
_OLD = r"\pi_{\theta_{\mathrm{old}}}"
_REF = r"\pi_{\mathrm{ref}}"
_E_PI = rf"\mathbb{{E}}_{{o'\sim{_PI}}}"
_ON_POLICY = rf"\Big|_{{{_OLD} = {_PI}}}"
_FLOOR = rf"\lim_{{{_REF}(a)\to 0^+}} {_PI}(a)"

#: The paper's notation for every symbol a formula may contain, keyed by SymPy symbol name.
NAMES = {
    # parameters
    "beta": r"\beta",
    "gamma": r"\gamma_{a,b}",
    "G": "G",
    "lambda": r"\lambda",
    "Z": "Z",
    # binary questions: p = π(a), p_o = π_old(a), ρ = π_ref(a)
    "p": rf"{_PI}(a)",
    "p_o": rf"{_OLD}(a)",
    "rho": rf"{_REF}(a)",
    "p_inf": r"\pi_\infty(a)",
    "x": "x",
    "t": rf"\mathrm{{logit}}\, {_OLD}(a)",
    # one generic output o
    "pi_o": rf"{_PI}(o)",
    "pi_old_o": rf"{_OLD}(o)",
    "pi_ref_o": rf"{_REF}(o)",
    "P_o": rf"P_G(o \mid {_PI})",
    "Pbar": rf"{_E_PI}[P_G(o' \mid {_PI})]",
    "r_o": "r(o)",
    "rbar": rf"{_E_PI}[r(o')]",
    "rbar_old": rf"\mathbb{{E}}_{{o'\sim{_OLD}}}[r(o')]",
    "sigma": rf"\sigma({_PI})",
    "w_o": rf"\Pr_{{o'\sim{_PI}}}[r > r' \mid o]",
    "l_o": rf"\Pr_{{o'\sim{_PI}}}[r < r' \mid o]",
    "Qbar_o": rf"{_E_PI}[P(o \succ o')]",
    # left-hand sides
    "dKL0": rf"\frac{{\partial \mathrm{{KL}}_0({_PI} \,\|\, {_REF};\, {_OLD})}}{{\partial {_PI}(o)}}",
    "dKL": rf"\frac{{\partial \mathrm{{KL}}({_PI} \,\|\, {_REF})}}{{\partial {_PI}(o)}}",
    "dKL0_on": rf"\frac{{\partial \mathrm{{KL}}_0({_PI} \,\|\, {_REF};\, {_OLD})}}{{\partial {_PI}(o)}}{_ON_POLICY}",
    "dKL_rev": rf"\frac{{\partial \mathrm{{KL}}({_REF} \,\|\, {_PI})}}{{\partial {_PI}(o)}}",
    "R_2": rf"\mathbb{{E}}_{{o\sim{_PI}}}[P_2(o \mid {_OLD})]",
    "R_inf": rf"\mathbb{{E}}_{{o\sim{_PI}}}[P_\infty(o \mid {_OLD})]",
    "R_shift": rf"\mathbb{{E}}_{{o\sim{_PI}}}[P^{{\mathrm{{shift}}}}_G(o \mid {_OLD})]",
    "floor_2": _FLOOR,
    "floor_inf": _FLOOR,
    "x_star": "x^*",
    "h": "h(x)",
    "h_star": "h(x^*)",
    "next_logit": rf"\mathrm{{logit}}\, {_PI}(a)",
    "slope_T": rf"\frac{{\partial\, \mathrm{{logit}}\, {_PI}(a)}}{{\partial\, \mathrm{{logit}}\, {_OLD}(a)}}",
    "h_mirror": "h(1 - x^*)",
    "dbeta_c": rf"\frac{{d\beta_c}}{{d{_REF}(a)}}",
    "P_G(a)": rf"P_G(a \mid {_PI})",
    "rate": r"\lim_{G\to\infty} G\,\bigl(\pi_G(a) - \pi_\infty(a)\bigr)",
    "bessel": r"A_i^{\mathrm{sample}} / A_i^{\mathrm{population}}",
    "beta_eff": r"\beta_{\mathrm{eff}}",
}
for _k in ("k1", "k2", "k3", "is_k3"):  # expected gradients of the KL estimators used as a loss
    _loss = rf"\frac{{{_PI}(o')}}{{{_OLD}(o')}}\, k_3(o')" if _k == "is_k3" else f"k_{_k[1]}(o')"
    _expected = rf"\mathbb{{E}}_{{o'\sim{_OLD}}}\Bigl[{_loss}\Bigr]"
    NAMES[f"grad_{_k}"] = rf"\frac{{\partial}}{{\partial {_PI}(o)}} {_expected}{_ON_POLICY}"
for _i in range(1, 5):  # the generic K-output symbols of grpo_symbolic.theory.objective
    NAMES[f"pi_{_i}"] = rf"{_PI}(o_{_i})"
    NAMES[f"pi_old_{_i}"] = rf"{_OLD}(o_{_i})"
    NAMES[f"rho_{_i}"] = rf"{_REF}(o_{_i})"
    NAMES[f"P_{_i}"] = rf"P_G(o_{_i} \mid {_PI})"
    NAMES[f"r_{_i}"] = rf"r(o_{_i})"

#: The group size of the exported binomial-sum example (any G ≥ 3 shows the pattern).
BINOMIAL_G = 4
NAMES[f"P_{BINOMIAL_G}(a)"] = rf"P_{BINOMIAL_G}(a \mid {_PI})"
NAMES[f"P_{BINOMIAL_G}(b)"] = rf"P_{BINOMIAL_G}(b \mid {_PI})"


def named(name):
    """The SymPy symbol for a left-hand side or auxiliary quantity listed in :data:`NAMES`.

    >>> named("Z")
    Z
    """
    if name not in NAMES:
        raise KeyError(f"{name!r} has no LaTeX name in NAMES")
    return sp.Symbol(name)


#: Printer settings shared by every formula.
PRINTER = dict(fold_frac_powers=True, inv_trig_style="full")

#: Sums and products built by :func:`as_written`: printed in the order they were built.
_AS_WRITTEN = set()


def as_written(kind, *args):
    """An unevaluated sum (``kind`` = sp.Add) or product (sp.Mul) that prints its args in this order.

    >>> print(to_latex(as_written(sp.Add, p**2, -p, 1)))
    \\pi_\\theta(a)^{2} - \\pi_\\theta(a) + 1
    """
    expr = kind(*args, evaluate=False)
    _AS_WRITTEN.add(expr)
    return expr


def minus(a, b):
    """a − b, printed as written.

    >>> print(to_latex(minus(1, 1 - p)))
    1 - \\left(1 - \\pi_\\theta(a)\\right)
    """
    return as_written(sp.Add, a, sp.Mul(-1, b, evaluate=False))


def over(numerator, denominator):
    """numerator / denominator, unevaluated (printed as one fraction).

    >>> print(to_latex(over(2 * p, 2)))
    \\frac{2 \\pi_\\theta(a)}{2}
    """
    return sp.Mul(numerator, sp.Pow(denominator, -1, evaluate=False), evaluate=False)


class _ReadingPrinter(LatexPrinter):
    """SymPy's LaTeX printer with the paper's reading conventions.

    A sum SymPy evaluated is printed in SymPy's order but with its positive terms first
    (``1 - x``, not ``- x + 1``); sums and products built by :func:`as_written` keep their order;
    exponentials print a simple exponent as an inline fraction (e^{x/β}) and a compound one as
    exp(…); function arguments over an integer are inline fractions (cosh(t/2)); O(·) omits its
    limit point.
    """

    def _print_Add(self, expr, order=None):
        terms = list(expr.args) if expr in _AS_WRITTEN else reading_terms(expr)
        tex = ""
        for i, term in enumerate(terms):
            if i and term.could_extract_minus_sign():
                tex += " - "
                term = as_written(sp.Mul, *term.args[1:]) if _negated_as_written(term) else -term
            elif i:
                tex += " + "
            tex += self._add_parens(self._print(term)) if self._needs_add_brackets(term) else self._print(term)
        return tex

    def _print_Mul(self, expr):
        if expr not in _AS_WRITTEN:
            return super()._print_Mul(expr)
        factors, sign = list(expr.args), ""
        if factors[0] == -1:
            factors, sign = factors[1:], "- "
        return sign + " ".join(self.parenthesize(f, PRECEDENCE["Mul"], strict=True) for f in factors)

    def _print_ExpBase(self, expr, exp=None):
        if not sp.fraction(expr.args[0])[1].is_Atom:  # a compound denominator: exp(…), full size
            return self._do_exponent(r"\exp\left(%s\right)" % self._print(expr.args[0]), exp)
        fold = self._settings["fold_short_frac"]
        self._settings["fold_short_frac"] = True  # e^{x/β}
        try:
            tex = r"e^{%s}" % self._print(expr.args[0])
        finally:
            self._settings["fold_short_frac"] = fold
        return self._do_exponent(tex, exp)

    def _print_Function(self, expr, exp=None):
        if not any(sp.fraction(a)[1].is_Integer and sp.fraction(a)[1] != 1 for a in expr.args):
            return super()._print_Function(expr, exp)
        fold = self._settings["fold_short_frac"]
        self._settings["fold_short_frac"] = True  # cosh(t/2), not a small fraction inside the brackets
        try:
            return super()._print_Function(expr, exp)
        finally:
            self._settings["fold_short_frac"] = fold

    def _print_Order(self, expr):
        return r"O\left(%s\right)" % self._print(expr.expr)


def reading_terms(expr):
    """The terms of a sum in SymPy's print order, but positive terms first.

    >>> reading_terms(1 - p)
    [1, -p]
    """
    terms = expr.as_ordered_terms()
    return [t for t in terms if not t.could_extract_minus_sign()] + [t for t in terms if t.could_extract_minus_sign()]


def _negated_as_written(term):
    return term in _AS_WRITTEN and isinstance(term, sp.Mul) and term.args[0] == -1 and len(term.args) > 2


def to_latex(expr):
    """``expr`` in the paper's notation (the names of :data:`NAMES`), positive terms first.

    >>> print(to_latex(sp.Eq(p, 1 - rho)))
    \\pi_\\theta(a) = 1 - \\pi_{\\mathrm{ref}}(a)
    """
    names = {}
    for s in expr.free_symbols:
        if s.name not in NAMES:
            raise KeyError(f"symbol {s.name!r} has no LaTeX name in NAMES")
        names[s] = NAMES[s.name]
    return _ReadingPrinter(dict(PRINTER, symbol_names=names)).doprint(expr)


# --- Arranging for reading ---------------------------------------------------------------------


def evaluated(expr):
    """``expr`` with every unevaluated sum, product and power evaluated again.

    >>> evaluated(minus(p, p))
    0
    """
    if expr.is_Atom:
        return expr
    return expr.func(*[evaluated(a) for a in expr.args])


def checked(arranged, derived, unknown=None):
    """``arranged`` after SymPy confirms it equals ``derived`` (for equations: same solution for ``unknown``).

    Equations must be linear in ``unknown``; radicals are compared in a canonical form and
    inverse hyperbolic functions through their logarithms.

    >>> checked(sp.Eq(p, rho), sp.Eq(2 * p - 2 * rho, 0), rho)
    Eq(p, rho)
    >>> checked(p + 1, p)
    Traceback (most recent call last):
    ...
    ArithmeticError: the arranged form p + 1 differs from the derived p
    """
    from grpo_symbolic.theory.algebra import is_zero, solve_linear

    a, d = evaluated(arranged), evaluated(derived)
    if isinstance(a, sp.Equality):
        a, d = (solve_linear(e.lhs - e.rhs, unknown) for e in (a, d))
    if not is_zero(_comparable(a - d)):
        raise ArithmeticError(f"the arranged form {arranged} differs from the derived {derived}")
    return arranged


def _comparable(expr):
    """``expr`` with hyperbolic functions as exponentials and logarithms, logarithms expanded, max as |·|."""
    expr = sp.expand_log(expr.rewrite(sp.exp).rewrite(sp.log), force=True).rewrite(sp.Abs)
    return expr.replace(lambda e: isinstance(e, sp.Abs), lambda e: sp.Abs(sp.factor(e.args[0])))


def bernstein(poly, variable, degree):
    """``poly`` as Σ_k b_k x^k (1 − x)^{degree − k}, k ascending, zero terms left out, unevaluated.

    The binomial-sum results read this way: the k-th term weighs k successes among ``degree``
    draws.  When every b_k is negative the sign is taken out of the sum.

    >>> x = sp.Symbol("x")
    >>> bernstein(1 + 0 * x, x, 2).args
    ((1 - x)**2, 2*x*(1 - x), x**2)
    >>> bernstein(-x, x, 1)
    -x
    """
    t = sp.Dummy("t", positive=True)
    weights = sp.Poly(sp.cancel(poly.subs(variable, t / (1 + t)) * (1 + t) ** degree), t)
    coefficients = [sp.radsimp(weights.coeff_monomial(t**k)) for k in range(degree + 1)]
    sign = -1 if all(not b.is_positive for b in coefficients) else 1
    terms = []
    for k, b in enumerate(coefficients):
        factors = [f for f in (sign * b, variable**k, (1 - variable) ** (degree - k)) if f != 1]
        if b != 0:
            terms.append(as_written(sp.Mul, *factors) if len(factors) > 1 else factors[0])
    total = as_written(sp.Add, *terms) if len(terms) > 1 else terms[0]
    return total if sign == 1 else as_written(sp.Mul, -1, total)


# --- The derivations, arranged ------------------------------------------------------------------


def _one_output(expr, stationarity):
    """``expr`` with output o_1 of a generic derivation renamed to the generic output o."""
    return expr.xreplace({stationarity.pi[0]: pi_o, stationarity.pi_old[0]: pi_old_o,
                          stationarity.pi_ref[0]: pi_ref_o, stationarity.preference[0]: P_o})


def _stationarity_equation(condition):
    """A derived condition c·π(o) − π_ref(o) = 0 written as the paper does: (1 − X/Y)·π(o) = π_ref(o)."""
    coefficient = sp.expand(condition + pi_ref_o).coeff(pi_o)
    constant, rest = coefficient.as_independent(beta)
    numerator, denominator = sp.fraction(sp.factor(-rest))
    lhs = as_written(sp.Mul, minus(constant, over(numerator, denominator)), pi_o)
    return checked(sp.Eq(lhs, pi_ref_o), sp.Eq(condition, 0), pi_ref_o)


def _normalised(policies, rename):
    """π(o) = (1/Z)·(the factors of output 1's policy), Z standing for the factors common to every output."""
    factors = [sp.Mul.make_args(sp.expand(policy)) for policy in policies]
    common = set(factors[0]).intersection(*factors[1:])
    if not common:
        raise ArithmeticError(f"the policies {policies} share no normalising factor")
    own = sp.powsimp(sp.Mul(*[f for f in factors[0] if f not in common]))
    own = own.replace(lambda e: isinstance(e, sp.exp), lambda e: sp.exp(sp.factor(e.args[0])))
    return sp.Eq(pi_o, _over_z(own.xreplace(rename)))


def _over_z(weight):
    """(1/Z)·weight, printed in this order: the normaliser first, then the unnormalised weight."""
    return as_written(sp.Mul, 1 / named("Z"), *sp.Mul.make_args(weight))


def _one_minus(expr, variables):
    """``expr`` with each factor v − 1 written −(1 − v), so that probabilities read 1 − v."""
    return expr.xreplace({v - 1: sp.Mul(-1, 1 - v, evaluate=False) for v in variables})


def _descending(polynomial, variable):
    """A polynomial in ``variable`` as written in the paper: descending powers, signs outside."""
    poly = sp.Poly(polynomial, variable)
    terms = []
    for (k,), c in sorted(poly.terms(), reverse=True):
        c = sp.expand(c)
        sign = -1 if c.could_extract_minus_sign() else 1
        factors = [f for f in (sign * c, variable**k) if f != 1] or [sp.Integer(1)]
        if sign == -1 and k:  # − (coefficient) p^k, the coefficient first
            terms.append(as_written(sp.Mul, -1, *factors))
        else:
            terms.append(sign * (as_written(sp.Mul, *factors) if len(factors) > 1 else factors[0]))
    return checked(as_written(sp.Add, *terms), polynomial)


def _split_roots(expr):
    """(terms of ``expr`` with a square root, the other terms)."""
    def has_root(term):
        return any(e.is_Pow and e.exp == sp.S.Half and not e.base.is_Number for e in sp.preorder_traversal(term))
    terms = sp.Add.make_args(sp.expand(expr))
    return sp.Add(*[t for t in terms if has_root(t)]), sp.Add(*[t for t in terms if not has_root(t)])


def _logit_terms(expr, variables):
    """``expr`` with its logarithms gathered into ±log(v/(1 − v)) for each v in ``variables``, last."""
    terms = sp.Add.make_args(sp.expand(sp.expand_log(expr, force=True)))
    logits = []
    for v in variables:
        part = sp.Add(*[t for t in terms if t.has(sp.log) and t.has(v)])
        logit = sp.log(v / (1 - v))
        sign = sp.cancel(sp.diff(part, v) / sp.diff(logit, v))
        if not sign.is_Number:
            raise ArithmeticError(f"{part} is not a multiple of {logit}")
        logits.append(sign * logit)
        terms = [t for t in terms if not (t.has(sp.log) and t.has(v))]
    terms = [*reading_terms(sp.Add(*terms)), *logits] if terms else logits
    return checked(as_written(sp.Add, *terms) if len(terms) > 1 else terms[0], expr)


def _as_hyperbolic(expr):
    """w·cosh(a) or w·sinh(a) for a sum of exponentials e^{±a} (w free of the exponentials)."""
    exponent = next(e.args[0] for e in expr.atoms(sp.exp) if not e.args[0].could_extract_minus_sign())
    for function in (sp.cosh, sp.sinh):
        weight = sp.cancel(expr / function(exponent).rewrite(sp.exp))
        if not weight.has(sp.exp):
            return checked(weight * function(exponent), expr)
    raise ArithmeticError(f"{expr} is not a multiple of cosh or sinh")


def _hyperbolic(expr):
    """``expr`` with log(β + sqrt(β² + 1)) written arsinh(β)."""
    return expr.xreplace({sp.asinh(beta).rewrite(sp.log): sp.asinh(beta)})


# Section 1: the baselines.


def _rlhf():
    """(4): the maximiser of the RLHF objective (3), normalised by Z."""
    from grpo_symbolic.cases.baselines import derive_rlhf

    d = derive_rlhf(3)
    return _normalised(d.policy, {d.symbols["reference"][0]: pi_ref_o, d.symbols["rewards"][0]: r_o})


def _nlhf():
    """NLHF's equilibrium: log π(o) − log π_ref(o) − E_π[P(o ≻ ·)]/β is the same for every output."""
    from grpo_symbolic.cases.baselines import derive_nlhf
    from grpo_symbolic.theory.algebra import is_zero

    d = derive_nlhf(3)
    pi, reference, prefers = d.symbols["pi"], d.symbols["reference"], d.symbols["prefers"]
    on_simplex = (*pi[:-1], 1 - sp.Add(*pi[:-1]))
    mean_preference = [sp.Add(*[q * row[b] for b, q in enumerate(on_simplex)]) for row in prefers]
    offsets = [sp.expand_log(v - sp.log(r) - m / beta, force=True)
               for v, r, m in zip(d.policy, reference, mean_preference)]
    if not all(is_zero(c - offsets[0]) for c in offsets):
        raise ArithmeticError("the NLHF equilibrium is not pi_ref exp(E P / beta) up to a common factor")
    return sp.Eq(pi_o, _over_z(pi_ref_o * sp.exp(pref_mean / beta)))


# Section 2.2: the penalty's gradients (8)–(10) and the reverse KL.


@lru_cache(maxsize=None)
def _penalty_gradients():
    from grpo_symbolic.theory.objective import derive_stationarity
    from grpo_symbolic.theory.penalty import gradient, kl, kl0

    st = derive_stationarity("grpo")  # for its generic symbols π_i, π_old_i, ρ_i
    pi, old, ref = st.pi, st.pi_old, st.pi_ref
    kl0_gradient = gradient(kl0(pi, ref, old), pi)[0]
    gradients = {
        "dKL0": kl0_gradient,
        "dKL": gradient(kl(pi, ref), pi)[0],
        "dKL0_on": kl0_gradient.subs(dict(zip(old, pi))),
        "dKL_rev": gradient(kl(ref, pi), pi)[0],
    }
    return {name: sp.expand(_one_output(g, st)) for name, g in gradients.items()}


def _gradient(name):
    derived = _penalty_gradients()[name]
    return sp.Eq(named(name), checked(sp.logcombine(derived, force=True), derived))


# Section 2.3: stationarity (11), its G = 2 and G → ∞ forms, Appendix A's multiplier.


@lru_cache(maxsize=None)
def _grpo(size=2):
    """The derived stationarity, after confirming that its multiplier is E_π[P_G]."""
    from grpo_symbolic.theory.algebra import expectation, is_zero
    from grpo_symbolic.theory.objective import derive_stationarity

    st = derive_stationarity("grpo", size)
    if not is_zero(st.multiplier - expectation(st.pi, st.preference)):
        raise ArithmeticError(f"the multiplier {st.multiplier} is not E_pi[P_G]")
    return st


def _eq11():
    """(11): −(π(o)/β)·∂L/∂π(o) at π_old = π, with λ = E_π[P_G]."""
    st = _grpo()
    return _stationarity_equation(sp.expand(-pi_o * _one_output(st.equations[0], st) / beta).subs(lam, P_mean))


def _g_form():
    """(11) solved for π(o): β π_ref(o)/(β − (P − Ē)), i.e. g((P − Ē)/β)·π_ref(o), g(x) = 1/(1 − x)."""
    st = _grpo()
    derived = _one_output(st.policy[0], st).subs(lam, P_mean)
    numerator, denominator = sp.fraction(derived)
    return sp.Eq(pi_o, checked(over(numerator, minus(beta, sp.expand(beta - denominator))), derived))


def _multiplier():
    return sp.Eq(lam, _grpo().multiplier)


def _zero_mean_policy():
    """(11) with E_π[P_G] = 0, the engine's zero-mean identity (checked on a three-output example)."""
    from grpo_symbolic.cases.general import EXAMPLES, zero_mean
    from grpo_symbolic.theory.algebra import is_zero
    from grpo_symbolic.model.problem import Problem

    st = _grpo(3)
    if not is_zero(zero_mean(Problem(**EXAMPLES["three-values-G3"]), st.pi)):
        raise ArithmeticError("E_pi[P_G(.|pi)] is not identically 0")
    return sp.Eq(pi_o, _one_output(st.policy[0], st).subs(lam, 0))


def _specialised(preference, policy, quantities, definitions):
    """(11) with P_G(o_1|π) = ``preference[0]`` (from the engine) written in the paper's ``quantities``.

    ``quantities`` is P_G(o|π) in the paper's symbols; ``definitions`` gives those symbols for o_1.
    SymPy confirms that the engine's P_G(o_1|π) equals it and that E_π[P_G] = 0; the condition
    derived with the engine's P_G must equal the arranged one.
    """
    from grpo_symbolic.theory.algebra import expectation, is_zero
    from grpo_symbolic.cases.general import stationarity_form, stationarity_with_preference

    st = _grpo(3)
    if not is_zero(preference[0] - quantities.subs(definitions)):
        raise ArithmeticError(f"P_G(o_1|pi) = {preference[0]} is not {quantities}")
    if not is_zero(expectation(policy, preference)):
        raise ArithmeticError("E_pi[P_G] is not 0")
    generic = _one_output(stationarity_form(3)[0], st).subs({lam: 0, P_o: quantities})
    arranged = _stationarity_equation(generic)
    derived = stationarity_with_preference(preference, 3)[0].subs(dict(zip(st.pi, policy)))
    rename = {pi_o: st.pi[0], pi_ref_o: st.pi_ref[0], **definitions}
    checked(arranged.xreplace(rename), sp.Eq(derived, 0), st.pi_ref[0])
    return arranged


def _eq12():
    """(12): G = 2, P_2(o|π) = Prob[r > r'|o] − Prob[r < r'|o] (noisy rewards with ties)."""
    from grpo_symbolic.cases.general import EXAMPLES, win_lose
    from grpo_symbolic.preference.engine import preference_exact
    from grpo_symbolic.model.problem import Problem

    st = _grpo(3)
    problem = Problem(**EXAMPLES["noisy-ties-G2"])
    wins, losses = win_lose(problem, st.pi)
    return _specialised(preference_exact(problem, st.pi), st.pi, win - lose, {win: wins[0], lose: losses[0]})


def _eq13():
    """(13): G → ∞, P_∞(o|π) = (r(o) − E_π r)/σ(π) (three outputs with symbolic rewards)."""
    from grpo_symbolic.paper import forms as paper_forms
    from grpo_symbolic.theory.algebra import expectation
    from grpo_symbolic.cases.general import reward_std
    from grpo_symbolic.preference.engine import large_group_preference
    from grpo_symbolic.model.problem import Problem

    st = _grpo(3)
    rewards = sp.symbols("r_1:4", real=True)
    problem = Problem(reference=["0.2", "0.3", "0.5"], rewards=list(rewards), group_size="inf", beta=1)
    simplex = {st.pi[2]: 1 - st.pi[0] - st.pi[1]}
    policy = tuple(v.subs(simplex) for v in st.pi)
    definitions = {r_o: rewards[0], r_mean: expectation(policy, rewards), sigma: reward_std(problem, policy)}
    return _specialised(large_group_preference(problem, policy), policy, paper_forms.LARGE_G_PREFERENCE, definitions)


# Section 2.3.1 and Appendix B: binary questions.


def _eq14():
    """(14) from the derived root, in the ratio β/γ: ½(1 − β/γ + sqrt((1 − β/γ)² + 4(β/γ)ρ))."""
    from grpo_symbolic.cases.binary import policy_g2

    derived = policy_g2()
    ratio = sp.Dummy("t", positive=True)
    doubled = sp.expand(2 * sp.simplify(derived.subs(beta, ratio * gamma)))
    root, rest = _split_roots(doubled)
    radicand = root.base
    if sp.expand(radicand.subs(rho, 0) - rest**2) != 0:
        raise ArithmeticError(f"the radicand {radicand} is not ({rest})^2 + (terms in rho)")
    back = {ratio: beta / gamma}
    rest, extra = rest.subs(back), sp.expand(radicand - rest**2).subs(back)
    radical = sp.sqrt(as_written(sp.Add, rest**2, extra))
    arranged = as_written(sp.Mul, sp.Rational(1, 2), as_written(sp.Add, *reading_terms(rest), radical))
    return sp.Eq(p, checked(arranged, derived))


def _eq15():
    """(15) from the derived root: (2β²ρ + 1 + sqrt(1 + 4β²ρ(1 − ρ)))/(2(1 + β²))."""
    from grpo_symbolic.cases.binary import policy_large_g

    derived = policy_large_g()
    numerator, denominator = sp.fraction(derived)
    root, rest = _split_roots(numerator)
    radicand = root.base
    constant = radicand.subs(rho, 0)
    inner = as_written(sp.Add, constant, _one_minus(sp.factor(radicand - constant), (rho,)))
    arranged = over(as_written(sp.Add, *reading_terms(rest), sp.sqrt(inner)), sp.factor(denominator))
    return sp.Eq(p, checked(arranged, derived))


def _floor(which):
    from grpo_symbolic.cases.binary import floor_g2, floor_large_g

    if which == "2":
        derived = floor_g2()
        return sp.Eq(named("floor_2"), checked(sp.Max(1 - beta / gamma, 0), derived))
    return sp.Eq(named("floor_inf"), floor_large_g())


def _eq16():
    from grpo_symbolic.cases.binary import reward_term_g2

    return sp.Eq(named("R_2"), reward_term_g2())


def _eq17():
    """(17): the derived dJ/dp = γ − β(p − ρ)/(p(1 − p)) at p_o = p, as penalty = reward."""
    from grpo_symbolic.cases.binary import stationarity_g2

    derived = stationarity_g2()
    reward, penalty = derived.as_independent(beta)
    return checked(sp.Eq(_one_minus(-penalty, (p,)), reward), sp.Eq(derived, 0), rho)


def _quadratic(which):
    from grpo_symbolic.cases.binary import quadratic_g2, quadratic_large_g

    derived = quadratic_g2() if which == "2" else quadratic_large_g()
    return sp.Eq(_descending(derived, p), 0)


def _eq18():
    from grpo_symbolic.cases.binary import reward_term_large_g

    return sp.Eq(named("R_inf"), reward_term_large_g())


def _eq19():
    """(19): p(1 − p)·dJ/dp = β(ρ − p) + sqrt(p(1 − p)) at p_o = p, as β(p − ρ) = sqrt(p(1 − p))."""
    from grpo_symbolic.cases.binary import cleared_stationarity

    derived = cleared_stationarity(sp.oo, "ranked")
    root, rest = _split_roots(derived)
    return checked(sp.Eq(sp.factor(-rest), root), sp.Eq(derived, 0), rho)


# Section 3: the direct KL penalty and shift-only advantages.


def _log_pooling():
    from grpo_symbolic.theory.objective import derive_stationarity

    st = derive_stationarity("direct")
    return _normalised(st.policy, {st.pi_ref[0]: pi_ref_o, st.preference[0]: P_o})


def _direct_g2():
    from grpo_symbolic.cases.direct_kl import g2_policy

    return sp.Eq(p, g2_policy())


def _h():
    from grpo_symbolic.cases.direct_kl import h

    return sp.Eq(named("h"), _logit_terms(h(), (x, rho)))


def _x_star():
    """x* = u*²/(1 + u*²) from the derived turning point, rationalised: ½(1 + β/sqrt(1 + β²))."""
    from grpo_symbolic.cases.direct_kl import h_turning_point

    derived = h_turning_point()[1]
    doubled = sp.expand(2 * sp.simplify(sp.radsimp(derived)))
    return sp.Eq(named("x_star"), checked(as_written(sp.Mul, sp.Rational(1, 2), doubled), derived))


def _shift_only():
    """Shift-only reward term, derived over three outputs, in the paper's means E_π r and E_{π_old} r."""
    from grpo_symbolic.cases.shift_only import OUTPUTS, reward_term
    from grpo_symbolic.model.symbols import indexed

    derived = reward_term(OUTPUTS)
    pi, old, rewards = (indexed(stem, OUTPUTS, positive=True) for stem in ("pi", "pi_old", "r"))
    simplex = {pi[-1]: 1 - sum(pi[:-1]), old[-1]: 1 - sum(old[:-1])}
    means = {r_mean: sum(a * r for a, r in zip(pi, rewards)), r_old_mean: sum(a * r for a, r in zip(old, rewards))}
    arranged = as_written(sp.Mul, minus(1, 1 / G), minus(r_mean, r_old_mean))
    checked(evaluated(arranged).subs(means).subs(simplex), derived)
    return sp.Eq(named("R_shift"), arranged)


def _shift_only_direct():
    """Shift-only advantages with the direct penalty: the derived log pool, P_G replaced by the shift form."""
    from grpo_symbolic.cases.shift_only import OUTPUTS, expected_advantage
    from grpo_symbolic.theory.objective import derive_stationarity
    from grpo_symbolic.model.symbols import indexed

    st = derive_stationarity("direct", OUTPUTS)
    rewards = indexed("r", OUTPUTS, real=True)
    on_policy_mean = sum(a * r for a, r in zip(st.pi, rewards))
    policies = [policy.subs(P, expected_advantage().subs({r_o: r, r_old_mean: on_policy_mean}))
                for policy, P, r in zip(st.policy, st.preference, rewards)]
    return _normalised(policies, {st.pi_ref[0]: pi_ref_o, rewards[0]: r_o})


# Beyond the paper.


def _binomial(which):
    from grpo_symbolic.cases.general_g import binomial_preference

    derived = binomial_preference(BINOMIAL_G)["ab".index(which)]
    lhs = named(f"P_{BINOMIAL_G}({which})")
    return sp.Eq(lhs, checked(bernstein(sp.expand(derived), p, BINOMIAL_G - 1), derived))


def _large_group_expansion():
    from grpo_symbolic.cases.general_g import large_group_expansion

    a0, a1 = large_group_expansion()
    return sp.Eq(named("P_G(a)"), as_written(sp.Add, a0, a1 / (G - 1), sp.O(G**-2, (G, sp.oo))))


def _rate():
    """c = −p^{5/2}/(4(2βp²ρ√(1 − p) + p^{5/2})) at p = π_∞(a), cancelled in s = √p."""
    from grpo_symbolic.cases.general_g import rate_coefficient

    derived = rate_coefficient()
    s = sp.Dummy("s", positive=True)
    p_inf = named("p_inf")
    cancelled = sp.factor(sp.cancel(derived.subs(p, s**2))).subs(s, sp.sqrt(p_inf))
    return sp.Eq(named("rate"), checked(cancelled, derived.subs(p, p_inf)))


def _h_minimum():
    from grpo_symbolic.cases.direct_kl import h_minimum

    derived = h_minimum()
    return sp.Eq(named("h_star"), _logit_terms(_hyperbolic(derived), (rho,)))


def _best_response():
    """The derived best-response map in logits: logit ρ + (e^{t/2} + e^{−t/2})/β = logit ρ + 2cosh(t/2)/β."""
    from grpo_symbolic.cases.direct_kl import best_response_logit

    derived = best_response_logit()
    logs = sp.Add(*[t for t in sp.Add.make_args(derived) if t.has(sp.log)])
    arranged = as_written(sp.Add, _logit_terms(logs, (rho,)), _as_hyperbolic(derived - logs))
    return sp.Eq(named("next_logit"), checked(arranged, derived))


def _best_response_slope():
    from grpo_symbolic.cases.bistability import best_response_slope

    derived = best_response_slope()
    return sp.Eq(named("slope_T"), checked(_as_hyperbolic(derived), derived))


def _h_mirror():
    from grpo_symbolic.cases.bistability import h_at_mirror

    return sp.Eq(named("h_mirror"), _logit_terms(_hyperbolic(h_at_mirror()), (rho,)))


def _critical_beta_slope():
    from grpo_symbolic.cases.bistability import critical_beta_slope_in_rho

    derived = critical_beta_slope_in_rho()
    return sp.Eq(named("dbeta_c"), checked(_one_minus(derived, (rho,)), derived))


def _estimator(name):
    from grpo_symbolic.theory.estimators import expected_gradient

    st = _grpo(3)
    derived = _one_output(expected_gradient(name, 3)[0], st)
    return sp.Eq(named(f"grad_{name}"), checked(sp.logcombine(derived, force=True), derived))


def _bessel():
    from grpo_symbolic.cases.conventions import bessel_factor

    return sp.Eq(named("bessel"), bessel_factor())


def _beta_eff():
    from grpo_symbolic.cases.conventions import beta_eff

    return sp.Eq(named("beta_eff"), beta_eff())


# --- The formulas -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Formula:
    """One exported formula: where it sits, what it says, and how to derive it.

    ``build`` is a zero-argument callable returning the SymPy Eq; it imports and runs the
    derivation only when called.  ``source`` names the derivation it comes from.

    >>> f = Formula("x:demo", "Demo", "A demo.", lambda: sp.Eq(p, 1 - rho), "none")
    >>> f.tag, FORMULAS[0].tag
    ('x:demo', '4')
    >>> print(f.environment())
    \\begin{equation}
    \\pi_\\theta(a) = 1 - \\pi_{\\mathrm{ref}}(a)
    \\tag{x:demo}\\label{x:demo}
    \\end{equation}
    <BLANKLINE>
    """

    label: str
    section: str
    description: str
    build: Callable[[], sp.Basic]
    source: str

    def expression(self):
        """The derived expression, arranged for reading."""
        return self.build()

    def latex(self):
        """The formula as LaTeX math (no environment).

        >>> print(FORMULAS[0].latex())
        \\pi_\\theta(o) = \\frac{1}{Z} \\pi_{\\mathrm{ref}}(o) e^{r(o) / \\beta}
        """
        return to_latex(self.expression())

    @property
    def tag(self):
        """What the document shows in the equation's parentheses: the paper's number or the label."""
        return self.label[3:] if self.label.startswith("eq:") else self.label

    def environment(self, tagged=True):
        """The formula in an ``equation`` environment, labelled (and tagged, for the document)."""
        tag = f"\\tag{{{self.tag}}}" if tagged else ""
        return f"\\begin{{equation}}\n{self.latex()}\n{tag}\\label{{{self.label}}}\n\\end{{equation}}\n"


_BASELINES = "1 The baselines: RLHF and NLHF"
_PENALTY = "2.2 The penalty"
_STATIONARY = "2.3 Stationary policies"
_BINARY = "2.3.1 Binary questions"
_EXTENSIONS = "3 Extensions: the direct KL penalty and shift-only advantages"
_APPENDIX_B = "Appendix B: binary questions, step by step"
_BEYOND_G = "Beyond the paper: binary questions at every group size"
_BEYOND_DIRECT = "Beyond the paper: the direct KL penalty for large groups"
_BEYOND_TRAINERS = "Beyond the paper: what trainers implement"

#: Every exported formula, in the paper's order (the paper's sections, then results beyond it).
#: Descriptions are plain text; ``{name}`` is set as the symbol ``NAMES[name]``.
FORMULAS = (
    Formula("eq:4", _BASELINES, "Maximiser of the RLHF objective (3): logarithmic pooling of the reference policy "
            "and the Luce law of the rewards, with weights 1 and 1/{beta} ({Z} normalises).",
            _rlhf, "cases.general.derive_rlhf"),
    Formula("p:nlhf", _BASELINES, "Symmetric Nash equilibrium of the regularised NLHF game (5).",
            _nlhf, "cases.general.derive_nlhf"),
    Formula("eq:8", _PENALTY, "Gradient of GRPO's expected penalty.",
            lambda: _gradient("dKL0"), "penalty.gradient(penalty.kl0)"),
    Formula("eq:9", _PENALTY, "Gradient of the KL divergence, for comparison.",
            lambda: _gradient("dKL"), "penalty.gradient(penalty.kl)"),
    Formula("eq:10", _PENALTY, "Gradient (8) on policy: linear in the ratio of the two policies, not logarithmic.",
            lambda: _gradient("dKL0_on"), "penalty.gradient(penalty.kl0) at pi_old = pi"),
    Formula("p:reverse-kl", _PENALTY, "Gradient of the reverse KL divergence: (10) up to the constant 1, which the "
            "Lagrange multiplier absorbs.", lambda: _gradient("dKL_rev"), "penalty.gradient(penalty.kl(pi_ref, pi))"),
    Formula("eq:11", _STATIONARY, "Stationarity with GRPO's penalty: the KKT conditions of Appendix A, with the old "
            "policy set equal to the new one.", _eq11, "objective.derive_stationarity('grpo').equations"),
    Formula("p:11-g", _STATIONARY, "The same condition solved for the policy: g(x) = 1/(1 - x) pooling, not "
            "logarithmic pooling.", _g_form, "objective.derive_stationarity('grpo').policy"),
    Formula("p:multiplier", _STATIONARY, "Appendix A: the Lagrange multiplier {lambda} is the expected preference "
            "(two outputs shown).", _multiplier, "objective.derive_stationarity('grpo').multiplier"),
    Formula("x:11-zero-mean", _STATIONARY, "Stationarity (11) with the expected preference at its value, 0: "
            "advantages sum to zero in every group.", _zero_mean_policy,
            "objective.derive_stationarity('grpo').policy, cases.general.zero_mean"),
    Formula("eq:12", _STATIONARY, "Groups of two ({G} = 2): the preference is the probability of winning minus "
            "that of losing.", _eq12, "cases.general.stationarity_with_preference, cases.general.win_lose"),
    Formula("eq:13", _STATIONARY, "Large groups ({G} to infinity): {beta} times the standard deviation of the reward "
            "acts as the regularisation weight.", _eq13,
            "cases.general.stationarity_with_preference, preference.large_group_preference"),
    Formula("eq:14", _BINARY, "Binary question, {G} = 2: the stationary probability of the better answer a, with "
            "confidence margin {gamma}.", _eq14, "cases.binary.policy_g2"),
    Formula("p:14-floor", _BINARY, "Its limit as {rho} vanishes: the floor of (14).",
            lambda: _floor("2"), "cases.binary.floor_g2"),
    Formula("eq:15", _BINARY, "Binary question, {G} to infinity, deterministic rewards with r(a) > r(b).",
            _eq15, "cases.binary.policy_large_g"),
    Formula("p:15-floor", _BINARY, "Its limit as {rho} vanishes: a jump at 0 for every {beta}.",
            lambda: _floor("inf"), "cases.binary.floor_large_g"),
    Formula("p:log-pooling", _EXTENSIONS, "Direct KL penalty: the stationary policy is a logarithmic pool.",
            _log_pooling, "objective.derive_stationarity('direct').policy"),
    Formula("p:direct-g2", _EXTENSIONS, "Direct KL penalty, binary question, {G} = 2: continuous at {rho} = 0.",
            _direct_g2, "cases.direct_kl.g2_policy"),
    Formula("p:h", _EXTENSIONS, "Direct KL penalty, binary question, {G} to infinity: the derivative of the "
            "objective in {p} at the old policy is {beta} {h} at x = {p}.", _h, "cases.direct_kl.h"),
    Formula("p:x-star", _EXTENSIONS, "Where {h} turns from decreasing to increasing.",
            _x_star, "cases.direct_kl.h_turning_point"),
    Formula("p:shift-only", _EXTENSIONS, "Shift-only advantages (no division by the std): an RLHF-like reward term.",
            _shift_only, "cases.shift_only.reward_term"),
    Formula("p:shift-only-direct", _EXTENSIONS, "Shift-only advantages with the direct KL penalty: the RLHF "
            "policy (4) with {beta} replaced by {beta}{G}/({G} - 1).", _shift_only_direct,
            "objective.derive_stationarity('direct'), cases.shift_only.expected_advantage"),
    Formula("eq:16", _APPENDIX_B, "Reward term, {G} = 2.", _eq16, "cases.binary.reward_term_g2"),
    Formula("eq:17", _APPENDIX_B, "Stationarity, {G} = 2: the derivative of the objective in {p}, at the old policy "
            "equal to the new one, vanishes.", _eq17, "cases.binary.stationarity_g2"),
    Formula("p:17-quadratic", _APPENDIX_B, "The quadratic equivalent to (17); its admissible root is (14).",
            lambda: _quadratic("2"), "cases.binary.quadratic_g2"),
    Formula("eq:18", _APPENDIX_B, "Reward term, {G} to infinity, deterministic rewards with r(a) > r(b).",
            _eq18, "cases.binary.reward_term_large_g"),
    Formula("eq:19", _APPENDIX_B, "Stationarity, {G} to infinity.", _eq19, "cases.binary.cleared_stationarity"),
    Formula("p:19-quadratic", _APPENDIX_B, "(19) squared; its root with {p} > {rho} is (15).",
            lambda: _quadratic("inf"), "cases.binary.quadratic_large_g"),
    Formula("x:binomial-a", _BEYOND_G, f"Preference of the better answer at {{G}} = {BINOMIAL_G}: a binomial sum over "
            "the number of better answers among the other {G} - 1.", lambda: _binomial("a"),
            "cases.general_g.binomial_preference"),
    Formula("x:binomial-b", _BEYOND_G, f"Preference of the worse answer at {{G}} = {BINOMIAL_G}.",
            lambda: _binomial("b"), "cases.general_g.binomial_preference"),
    Formula("x:large-g-expansion", _BEYOND_G, "The binomial sum expanded in 1/{G}; its limit is the large-group "
            "preference.", _large_group_expansion, "cases.general_g.large_group_expansion"),
    Formula("x:rate", _BEYOND_G, "How fast the stationary policy at group size {G} approaches the large-group one.",
            _rate, "cases.general_g.rate_coefficient"),
    Formula("x:h-minimum", _BEYOND_DIRECT, "The minimum of {h}: two stationary policies when it is negative, none "
            "in the interior when it is positive.", _h_minimum, "cases.direct_kl.h_minimum"),
    Formula("x:best-response", _BEYOND_DIRECT, "Repeated best response, in logits; its fixed points are the zeros "
            "of {h}.", _best_response, "cases.direct_kl.best_response_logit"),
    Formula("x:best-response-slope", _BEYOND_DIRECT, "Its slope: a zero of {h} attracts repeated best responses "
            "iff the slope there lies in (-1, 1).", _best_response_slope, "cases.bistability.best_response_slope"),
    Formula("x:h-mirror", _BEYOND_DIRECT, "The smaller zero of {h} attracts iff {h_mirror} > 0; the larger zero "
            "always repels.", _h_mirror, "cases.bistability.h_at_mirror"),
    Formula("x:critical-beta", _BEYOND_DIRECT, "Two zeros of {h} exist iff {beta} exceeds a threshold, which increases "
            "with {rho}: its slope, with {beta} at the threshold.", _critical_beta_slope,
            "cases.bistability.critical_beta_slope_in_rho"),
    Formula("x:bessel", _BEYOND_TRAINERS, "Advantages with the sample (Bessel) std over those with the population "
            "std: the same for every group.", _bessel, "cases.conventions.bessel_factor"),
    Formula("x:beta-eff", _BEYOND_TRAINERS, "Hence the sample std is the paper's model with an effective {beta}.",
            _beta_eff, "cases.conventions.beta_eff"),
    Formula("x:k1", _BEYOND_TRAINERS, "The k1 estimator as a loss: a constant, so no regularisation at all.",
            lambda: _estimator("k1"), "cases.estimators.expected_gradient('k1')"),
    Formula("x:k2", _BEYOND_TRAINERS, "The k2 estimator as a loss: the gradient (9) of KL, up to a constant.",
            lambda: _estimator("k2"), "cases.estimators.expected_gradient('k2')"),
    Formula("x:k3", _BEYOND_TRAINERS, "The k3 estimator as a loss (GRPO's penalty): the reverse KL, as in (10).",
            lambda: _estimator("k3"), "cases.estimators.expected_gradient('k3')"),
    Formula("x:is-k3", _BEYOND_TRAINERS, "The importance-weighted k3 (the direct KL penalty): the gradient (9) of KL, "
            "up to a constant.", lambda: _estimator("is_k3"), "cases.estimators.expected_gradient('is_k3')"),
)


# --- The document ----------------------------------------------------------------------------------

_PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[margin=2cm]{geometry}
\usepackage{amsmath,amssymb}
\allowdisplaybreaks
\title{The alignment objective of GRPO: derived formulas}
\author{\texttt{grpo\_symbolic}}
\date{}
\begin{document}
\maketitle
\noindent Every formula below was derived by SymPy with \texttt{grpo\_symbolic} and only arranged for
reading. Equation numbers in parentheses are those of Vojnovic and Yun, ``What is the Alignment
Objective of GRPO?'' (arXiv 2502.18548); labels starting with \texttt{p:} are results the paper
states without a number, labels starting with \texttt{x:} results beyond the paper.
"""


_PLACEHOLDER = re.compile(r"\{([A-Za-z][\w()]*)\}")
_ESCAPES = (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"), ("#", r"\#"),
            ("$", r"\$"), (">", "$>$"), ("<", "$<$"))


def _text(description):
    """A description as LaTeX text: special characters escaped, ``{name}`` set as the symbol of :data:`NAMES`.

    >>> print(_text("weight {beta} > 0, 100%"))
    weight $\\beta$ $>$ 0, 100\\%
    """
    parts = _PLACEHOLDER.split(description)
    for i in range(0, len(parts), 2):
        for char, escaped in _ESCAPES:
            parts[i] = parts[i].replace(char, escaped)
    for i in range(1, len(parts), 2):
        parts[i] = f"${NAMES[parts[i]]}$"
    return "".join(parts)


def document(formulas=FORMULAS):
    """The standalone LaTeX document: the formulas grouped by section, each with one line of text.

    >>> text = document(FORMULAS[:1])
    >>> text.startswith("\\\\documentclass") and "\\\\label{eq:4}" in text
    True
    """
    parts = [_PREAMBLE]
    section = None
    for f in formulas:
        if f.section != section:
            section = f.section
            parts.append(f"\n\\section*{{{_text(section)}}}\n")
        parts.append(f"\n\\noindent\\texttt{{{f.label}}}: {_text(f.description)}\n{f.environment()}")
    parts.append("\n\\end{document}\n")
    return "".join(parts)


def snippet(formula):
    """One formula as a file a paper can ``\\input`` (needs amsmath and amssymb; untagged).

    >>> print(snippet(FORMULAS[0]).splitlines()[-2])
    \\label{eq:4}
    """
    return (f"% {formula.label}: {_text(formula.description)}\n% derived by grpo_symbolic ({formula.source})\n"
            + formula.environment(tagged=False))


def snippet_name(label):
    """The snippet file name of a label: ``eq:11`` → ``eq-11.tex``.

    >>> snippet_name("x:rate")
    'x-rate.tex'
    """
    return label.replace(":", "-") + ".tex"


def write(path, snippets=None, formulas=FORMULAS):
    """Write the document to ``path`` and, if ``snippets`` is a directory, one snippet per formula.

    Returns the paths written.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     [p.name for p in write(Path(folder) / "f.tex", Path(folder) / "s", FORMULAS[:1])]
    ['f.tex', 'eq-4.tex']
    """
    written = [Path(path)]
    Path(path).write_text(document(formulas), encoding="utf-8")
    if snippets is not None:
        folder = Path(snippets)
        folder.mkdir(parents=True, exist_ok=True)
        for f in formulas:
            target = folder / snippet_name(f.label)
            target.write_text(snippet(f), encoding="utf-8")
            written.append(target)
    return written


def main(args):
    """The ``latex`` subcommand: ``args.output`` (the .tex file) and ``args.snippets`` (a directory or None)."""
    written = write(args.output, args.snippets)
    print(f"wrote {len(FORMULAS)} formulas to {written[0]}"
          + (f" and {len(written) - 1} snippets to {args.snippets}" if args.snippets else ""))
    return 0
