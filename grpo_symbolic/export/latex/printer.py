"""SymPy's LaTeX printer with the paper's reading conventions: :func:`to_latex`.

A sum or product the arrangement wants printed in the order it was built is marked on the
expression itself: :func:`as_written` builds a :class:`WrittenAdd` or :class:`WrittenMul`, which
the printer recognises by its type.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE

from grpo_symbolic.export.latex.notation import NAMES

#: Printer settings shared by every formula.
PRINTER = dict(fold_frac_powers=True, inv_trig_style="full")


class WrittenAdd(sp.Add):
    """An unevaluated sum that prints its terms in the order given (substitutions keep the order)."""

    def __new__(cls, *args: Any, **options: Any) -> WrittenAdd:
        return super().__new__(cls, *args, evaluate=False)


class WrittenMul(sp.Mul):
    """An unevaluated product that prints its factors in the order given (substitutions keep the order)."""

    def __new__(cls, *args: Any, **options: Any) -> WrittenMul:
        return super().__new__(cls, *args, evaluate=False)


class OverOutputs(sp.Expr):
    """Σ_o term: a sum over every output ``index`` (a symbol named in :data:`NAMES`), without bounds.

    Printed as ``\\sum_{o}``; SymPy never evaluates it (the number of outputs is not a symbol of the
    model).  A builder confirms the summand on a concrete number of outputs before it prints one.
    """

    def __new__(cls, term: Any, index: sp.Symbol) -> OverOutputs:
        return super().__new__(cls, sp.sympify(term, strict=True), index)

    @property
    def term(self) -> sp.Expr:
        return self.args[0]


#: The plain SymPy class of each "as written" class, to evaluate an arrangement again.
PLAIN = {WrittenAdd: sp.Add, WrittenMul: sp.Mul}


def as_written(kind: type, *args: Any) -> sp.Expr:
    """An unevaluated sum (``kind`` = sp.Add) or product (sp.Mul) that prints its args in this order.

    >>> from grpo_symbolic.model.symbols import p
    >>> print(to_latex(as_written(sp.Add, p**2, -p, 1)))
    \\pi_\\theta(a)^{2} - \\pi_\\theta(a) + 1
    """
    written = {sp.Add: WrittenAdd, sp.Mul: WrittenMul}[kind]
    return written(*args)


class _ReadingPrinter(LatexPrinter):
    """SymPy's LaTeX printer with the paper's reading conventions.

    A sum SymPy evaluated is printed in SymPy's order but with its positive terms first
    (``1 - x``, not ``- x + 1``); sums and products built by :func:`as_written` keep their order;
    exponentials print a simple exponent as an inline fraction (e^{x/β}) and a compound one as
    exp(…); function arguments over an integer are inline fractions (cosh(t/2)); O(·) omits its
    limit point.
    """

    def _print_Add(self, expr, order=None):
        return self._print_terms(reading_terms(expr))

    def _print_WrittenAdd(self, expr, order=None):
        return self._print_terms(list(expr.args))

    def _print_terms(self, terms):
        tex = ""
        for i, term in enumerate(terms):
            if i and term.could_extract_minus_sign():
                tex += " - "
                term = WrittenMul(*term.args[1:]) if _negated_as_written(term) else -term
            elif i:
                tex += " + "
            tex += self._add_parens(self._print(term)) if self._needs_add_brackets(term) else self._print(term)
        return tex

    def _print_WrittenMul(self, expr):
        factors, sign = list(expr.args), ""
        if factors[0] == -1:
            factors, sign = factors[1:], "- "
        return sign + " ".join(self.parenthesize(f, PRECEDENCE["Mul"], strict=True) for f in factors)

    def _print_OverOutputs(self, expr):
        term = self._print(expr.term)
        if isinstance(expr.term, sp.Add):
            term = self._add_parens(term)
        return r"\sum_{%s} %s" % (self._print(expr.args[1]), term)

    def _print_ExpBase(self, expr, exp=None):
        if not sp.fraction(expr.args[0])[1].is_Atom:  # a compound denominator: exp(…), full size
            return self._do_exponent(r"\exp\left(%s\right)" % self._print(expr.args[0]), exp)
        with self._inline_fractions():  # e^{x/β}
            tex = r"e^{%s}" % self._print(expr.args[0])
        return self._do_exponent(tex, exp)

    def _print_Function(self, expr, exp=None):
        if not any(sp.fraction(a)[1].is_Integer and sp.fraction(a)[1] != 1 for a in expr.args):
            return super()._print_Function(expr, exp)
        with self._inline_fractions():  # cosh(t/2), not a small fraction inside the brackets
            return super()._print_Function(expr, exp)

    @contextmanager
    def _inline_fractions(self):
        """Print short fractions inline (x/β) while the block runs."""
        fold = self._settings["fold_short_frac"]
        self._settings["fold_short_frac"] = True
        try:
            yield
        finally:
            self._settings["fold_short_frac"] = fold

    def _print_Order(self, expr):
        return r"O\left(%s\right)" % self._print(expr.expr)


def reading_terms(expr: sp.Expr) -> list[sp.Expr]:
    """The terms of a sum in SymPy's print order, but positive terms first.

    >>> from grpo_symbolic.model.symbols import p
    >>> reading_terms(1 - p)
    [1, -p]
    """
    terms = expr.as_ordered_terms()
    return [t for t in terms if not t.could_extract_minus_sign()] + [t for t in terms if t.could_extract_minus_sign()]


def _negated_as_written(term):
    return isinstance(term, WrittenMul) and term.args[0] == -1 and len(term.args) > 2


def to_latex(expr: sp.Basic, strict: bool = True) -> str:
    """``expr`` in the paper's notation (the names of :data:`NAMES`), positive terms first.

    ``strict``: a symbol without a name in :data:`NAMES` is an error (the export); otherwise it is
    printed by SymPy's rules (notebooks).

    >>> from grpo_symbolic.model.symbols import p, rho
    >>> print(to_latex(sp.Eq(p, 1 - rho)))
    \\pi_\\theta(a) = 1 - \\pi_{\\mathrm{ref}}(a)
    >>> print(to_latex(p + sp.Symbol("q_12"), strict=False))
    \\pi_\\theta(a) + q_{12}
    """
    names = {}
    for s in expr.free_symbols:
        if s.name not in NAMES:
            if not strict:
                continue
            raise KeyError(f"symbol {s.name!r} has no LaTeX name in NAMES")
        names[s] = NAMES[s.name]
    return _ReadingPrinter(dict(PRINTER, symbol_names=names)).doprint(expr)
