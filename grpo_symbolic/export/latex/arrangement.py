"""Arranging a derived expression for reading, and :func:`checked`, which proves an arrangement equal to it.

An arrangement only regroups what a derivation produced (a difference written as it reads, a
fraction kept whole, a polynomial in Bernstein or descending form, logarithms gathered into logits,
exponentials as cosh/sinh); :func:`checked` accepts it only after SymPy confirms that it still says
what the derivation said.
"""

from __future__ import annotations

from typing import Any, Iterable

import sympy as sp

from grpo_symbolic.theory.algebra import is_zero, solve_linear
from grpo_symbolic.export.latex.notation import named
from grpo_symbolic.export.latex.printer import PLAIN, as_written, reading_terms, to_latex  # noqa: F401  (doctests)
from grpo_symbolic.model.symbols import P_o, beta, p, pi_o, pi_old_o, pi_ref_o, rho


def minus(a: Any, b: Any) -> sp.Expr:
    """a − b, printed as written.

    >>> print(to_latex(minus(1, 1 - p)))
    1 - \\left(1 - \\pi_\\theta(a)\\right)
    """
    return as_written(sp.Add, a, sp.Mul(-1, b, evaluate=False))


def over(numerator: Any, denominator: Any) -> sp.Expr:
    """numerator / denominator, unevaluated (printed as one fraction).

    >>> print(to_latex(over(2 * p, 2)))
    \\frac{2 \\pi_\\theta(a)}{2}
    """
    return sp.Mul(numerator, sp.Pow(denominator, -1, evaluate=False), evaluate=False)


def evaluated(expr: sp.Basic) -> sp.Basic:
    """``expr`` with every unevaluated sum, product and power evaluated again.

    >>> evaluated(minus(p, p))
    0
    """
    if expr.is_Atom:
        return expr
    return PLAIN.get(type(expr), expr.func)(*[evaluated(a) for a in expr.args])


def checked(arranged: sp.Basic, derived: sp.Basic, unknown: sp.Symbol | None = None) -> sp.Basic:
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
    a, d = evaluated(arranged), evaluated(derived)
    if isinstance(a, sp.Equality):
        a, d = (solve_linear(e.lhs - e.rhs, unknown) for e in (a, d))
    if not is_zero(_comparable(a - d)):
        raise ArithmeticError(f"the arranged form {arranged} differs from the derived {derived}")
    return arranged


def _comparable(expr: sp.Expr) -> sp.Expr:
    """``expr`` with hyperbolic functions as exponentials and logarithms, logarithms expanded, max as |·|,
    and e^{W(x)} as x / W(x)."""
    expr = lambert_quotient(expr)
    expr = sp.expand_log(expr.rewrite(sp.exp).rewrite(sp.log), force=True).rewrite(sp.Abs)
    return expr.replace(lambda e: isinstance(e, sp.Abs), lambda e: sp.Abs(sp.factor(e.args[0])))


def lambert_quotient(expr: sp.Expr) -> sp.Expr:
    """``expr`` with every e^{a + W(x)} written as e^{a} x / W(x), the defining identity W(x) e^{W(x)} = x
    (on every branch of W), and the exponentials of each product gathered.

    >>> x = sp.Symbol("x")
    >>> lambert_quotient(sp.exp(1 + x + sp.LambertW(-sp.exp(-1 - x))))
    -1/LambertW(-exp(-x - 1))
    """
    def quotient(power: sp.Expr) -> sp.Expr:
        lamberts = [t for t in sp.Add.make_args(power.exp) if isinstance(t, sp.LambertW)]
        if not lamberts:
            return power
        rest = sp.exp(power.exp - sp.Add(*lamberts))
        return sp.powsimp(rest * sp.Mul(*[w.args[0] / w for w in lamberts]))

    return expr.replace(lambda e: isinstance(e, sp.exp), quotient)


def bernstein(poly: sp.Expr, variable: sp.Symbol, degree: int) -> sp.Expr:
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


def one_output(expr: sp.Expr, stationarity: Any) -> sp.Expr:
    """``expr`` with output o_1 of a generic derivation renamed to the generic output o."""
    return expr.xreplace({stationarity.pi[0]: pi_o, stationarity.pi_old[0]: pi_old_o,
                          stationarity.pi_ref[0]: pi_ref_o, stationarity.preference[0]: P_o})


def stationarity_equation(condition: sp.Expr) -> sp.Basic:
    """A derived condition c·π(o) − π_ref(o) = 0 written as the paper does: (1 − X/Y)·π(o) = π_ref(o)."""
    coefficient = sp.expand(condition + pi_ref_o).coeff(pi_o)
    constant, rest = coefficient.as_independent(beta)
    numerator, denominator = sp.fraction(sp.factor(-rest))
    lhs = as_written(sp.Mul, minus(constant, over(numerator, denominator)), pi_o)
    return checked(sp.Eq(lhs, pi_ref_o), sp.Eq(condition, 0), pi_ref_o)


def normalised(policies: Iterable[sp.Expr], rename: dict) -> sp.Basic:
    """π(o) = (1/Z)·(the factors of output 1's policy), Z standing for the factors common to every output."""
    factors = [sp.Mul.make_args(sp.expand(policy)) for policy in policies]
    common = set(factors[0]).intersection(*factors[1:])
    if not common:
        raise ArithmeticError(f"the policies {policies} share no normalising factor")
    own = sp.powsimp(sp.Mul(*[f for f in factors[0] if f not in common]))
    own = own.replace(lambda e: isinstance(e, sp.exp), lambda e: sp.exp(sp.factor(e.args[0])))
    return sp.Eq(pi_o, over_z(own.xreplace(rename)))


def over_z(weight: sp.Expr) -> sp.Expr:
    """(1/Z)·weight, printed in this order: the normaliser first, then the unnormalised weight."""
    return as_written(sp.Mul, 1 / named("Z"), *sp.Mul.make_args(weight))


def one_minus(expr: sp.Expr, variables: Iterable[sp.Symbol]) -> sp.Expr:
    """``expr`` with each factor v − 1 written −(1 − v), so that probabilities read 1 − v."""
    return expr.xreplace({v - 1: sp.Mul(-1, 1 - v, evaluate=False) for v in variables})


def descending(polynomial: sp.Expr, variable: sp.Symbol) -> sp.Expr:
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


def split_roots(expr: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """(terms of ``expr`` with a square root, the other terms)."""
    def has_root(term):
        return any(e.is_Pow and e.exp == sp.S.Half and not e.base.is_Number for e in sp.preorder_traversal(term))
    terms = sp.Add.make_args(sp.expand(expr))
    return sp.Add(*[t for t in terms if has_root(t)]), sp.Add(*[t for t in terms if not has_root(t)])


def logit_terms(expr: sp.Expr, variables: Iterable[sp.Symbol]) -> sp.Expr:
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


def as_hyperbolic(expr: sp.Expr) -> sp.Expr:
    """w·cosh(a) or w·sinh(a) for a sum of exponentials e^{±a} (w free of the exponentials)."""
    exponent = next(e.args[0] for e in expr.atoms(sp.exp) if not e.args[0].could_extract_minus_sign())
    for function in (sp.cosh, sp.sinh):
        weight = sp.cancel(expr / function(exponent).rewrite(sp.exp))
        if not weight.has(sp.exp):
            return checked(weight * function(exponent), expr)
    raise ArithmeticError(f"{expr} is not a multiple of cosh or sinh")


def hyperbolic(expr: sp.Expr) -> sp.Expr:
    """``expr`` with log(β + sqrt(β² + 1)) written arsinh(β)."""
    return expr.xreplace({sp.asinh(beta).rewrite(sp.log): sp.asinh(beta)})

