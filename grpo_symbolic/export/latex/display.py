"""SymPy results shown in the paper's notation in Jupyter: :func:`show` and :func:`use_paper_notation`.

The names are those of the package's one notation table, :data:`~grpo_symbolic.export.latex.notation.NAMES`
(π_ref(o), not SymPy's π_{refo}); symbols it does not list are printed by SymPy's rules.
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from grpo_symbolic.export.latex.printer import to_latex


class Shown(str):
    """LaTeX text that Jupyter displays as a formula (``_repr_latex_``)."""

    def _repr_latex_(self) -> str:
        return f"$\\displaystyle {self}$"


def show(expr: Any) -> Shown:
    """``expr`` (a SymPy object, or a tuple/list of them) as LaTeX in the paper's notation.

    >>> from grpo_symbolic.model.symbols import pi_o, pi_ref_o, beta
    >>> show(pi_ref_o / pi_o)
    '\\\\frac{\\\\pi_{\\\\mathrm{ref}}(o)}{\\\\pi_\\\\theta(o)}'
    >>> show((beta, pi_o))
    '\\\\left( \\\\beta, \\\\  \\\\pi_\\\\theta(o)\\\\right)'
    """
    if isinstance(expr, (tuple, list)):
        expr = sp.Tuple(*expr)
    return Shown(to_latex(sp.sympify(expr, strict=True), strict=False))  # SymPy objects only, never text


def use_paper_notation() -> bool:
    """Make the running IPython display every SymPy object (and tuples/lists of them) through :func:`show`.

    Returns False (and does nothing) outside IPython.  It first calls ``sympy.init_printing`` (MathJax).
    """
    sp.init_printing(use_latex="mathjax")
    try:
        from IPython import get_ipython
    except ModuleNotFoundError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    formatter = shell.display_formatter.formatters["text/latex"]

    def as_latex(value: Any) -> str | None:
        if isinstance(value, (tuple, list)) and not all(isinstance(v, sp.Basic) for v in value):
            return None
        return show(value)._repr_latex_()

    for kind in (sp.Basic, sp.MatrixBase, tuple, list):
        formatter.for_type(kind, as_latex)
    return True


def inline(expr: Any) -> str:
    """``expr`` as ``$…$`` in the paper's notation, safe inside a Markdown table cell (no bare ``|``).

    >>> print(inline(sp.Abs(sp.Symbol("beta"))))
    $\\left\\lvert{\\beta}\\right\\rvert$
    """
    text = str(show(expr)).replace(r"\left|", r"\left\lvert").replace(r"\right|", r"\right\rvert")
    return "$" + text.replace(r"\|", r"\Vert ").replace("|", r"\vert ") + "$"


def markdown_table(header: list[str], rows: list[list[Any]]) -> str:
    """``rows`` under ``header`` as a Markdown table (cells as text; use :func:`inline` for formulas).

    >>> print(markdown_table(["a", "b"], [[1, inline(sp.Symbol("beta"))]]))
    | a | b |
    | --- | --- |
    | 1 | $\\beta$ |
    """
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def table(header: list[str], rows: list[list[Any]]) -> None:
    """Display :func:`markdown_table` in Jupyter (print it elsewhere)."""
    text = markdown_table(header, rows)
    try:
        from IPython.display import Markdown, display
    except ModuleNotFoundError:
        print(text)
        return
    display(Markdown(text))
