"""Generic SymPy helpers shared by the derivations, the checks, the LaTeX export and the tests.

Deciding identities (:func:`is_zero`, with :func:`radical_normal_form`), solving one unknown
(:func:`solve_linear`, :func:`only_solution`), expectations (:func:`expectation`) and exact
evaluation to an mpf (:func:`evaluate`).  Nothing here knows about the paper or the model.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sympy as sp

from grpo_symbolic.model.errors import ParameterError
from grpo_symbolic.model.numbers import exact
from grpo_symbolic.numerics.precision import to_mpf


def radical_normal_form(expr: sp.Expr) -> sp.Expr:
    """``expr`` with the base of every square root (or other fractional power) factored.

    Factoring pulls positive factors out of the radical (sqrt(a²X) → a·sqrt(X) for a > 0) and gives
    equal radicands one canonical form, so ``cancel`` can then decide identities between them.

    >>> a, x = sp.symbols("a x", positive=True)
    >>> radical_normal_form(sp.sqrt(a**2 * x + a**2) / a)
    sqrt(x + 1)
    """
    return expr.replace(
        lambda e: e.is_Pow and e.exp.is_Rational and not e.exp.is_Integer,
        lambda e: sp.factor(sp.expand(e.base)) ** e.exp,
    )


def is_zero(expr: sp.Expr) -> bool:
    """True when SymPy decides ``expr`` ≡ 0 (expanded radicals factored, then cancel).

    >>> x = sp.Symbol("x", positive=True)
    >>> is_zero(sp.sqrt(x**2 + 2*x + 1) - x - 1), is_zero(x - 1)
    (True, False)
    """
    return bool(sp.cancel(sp.expand(radical_normal_form(sp.expand(expr)))) == 0)


def evaluate(expr: Any, values: Mapping[Any, Any]) -> Any:
    """``expr`` with exact ``values`` substituted, as an mpf at the current mpmath precision.

    >>> import mpmath
    >>> x = sp.Symbol("x", positive=True)
    >>> with mpmath.workdps(20):
    ...     print(evaluate(sp.sqrt(x), {x: 2}))
    1.4142135623730950488
    """
    substitutions = {}
    for key, value in values.items():
        if not isinstance(key, sp.Basic):
            raise ParameterError(f"values: got the key {key!r}; give SymPy symbols as keys (strings are never parsed)")
        substitutions[key] = exact(value, f"values[{key}]")
    return to_mpf(exact(expr, "expr").subs(substitutions))


def expectation(weights: Iterable[Any], values: Iterable[Any]) -> sp.Expr:
    """Σ_o weights(o)·values(o): E_{o~weights}[values(o)].

    >>> expectation((sp.Rational(1, 4), sp.Rational(3, 4)), (4, 0))
    1
    """
    return sp.Add(*[w * v for w, v in zip(weights, values)])


def solve_linear(equation: sp.Expr, unknown: sp.Symbol) -> sp.Expr:
    """The root of ``equation`` = 0, which must be linear in ``unknown`` (fast: no sp.solve).

    >>> y, a = sp.symbols("y a", positive=True)
    >>> solve_linear(a * y + 2 * a - 1, y)
    (1 - 2*a)/a
    """
    slope = sp.diff(equation, unknown)
    if slope.has(unknown) or slope == 0:
        raise ValueError(f"{equation} = 0 is not linear in {unknown}")
    return sp.cancel(-equation.subs(unknown, 0) / slope)


def only_solution(equation: sp.Expr, unknown: sp.Symbol) -> sp.Expr:
    """The single solution of ``equation`` = 0 for ``unknown`` (RuntimeError if SymPy finds 0 or several).

    >>> x = sp.Symbol("x", positive=True)
    >>> only_solution(2 / x - 1, x)
    2
    """
    solutions = sp.solve(equation, unknown)
    if len(solutions) != 1:
        raise RuntimeError(f"expected one solution for {unknown}, SymPy gave {solutions}")
    return solutions[0]
