"""The derived formulas as LaTeX: ``grpo-symbolic latex -o formulas.tex [--snippets DIR]``.

Every formula is built, when it is exported, by the package's own derivation (the callable of its
row in :data:`grpo_symbolic.paper.equations.EQUATIONS`).  It is then only *arranged* for reading
with SymPy (output o_1 renamed to a generic output o, a normaliser named Z, factoring, an equation
in the paper's arrangement), and every arrangement is accepted only after SymPy confirms that it
still says what the derivation said (:func:`checked`).  No formula's LaTeX is typed by hand: the
only hand-written LaTeX are the symbol names, all in :data:`NAMES`.

One job per module: :mod:`.notation` (the paper's symbol names), :mod:`.printer` (the LaTeX
printer, :func:`to_latex`), :mod:`.arrangement` (arranging for reading, :func:`checked`),
:mod:`.builders` and :mod:`.definitions` (each formula's derivation, arranged), :mod:`.formulas` (:data:`FORMULAS`) and
:mod:`.document` (the document, snippets and the ``latex`` subcommand).
"""

from grpo_symbolic.export.latex.arrangement import bernstein, checked, evaluated, minus, over
from grpo_symbolic.export.latex.display import inline, markdown_table, show, table, use_paper_notation
from grpo_symbolic.export.latex.document import STY, STY_NAME, document, main, snippet, snippet_name, write
from grpo_symbolic.export.latex.formulas import FORMULAS, LABEL_PREFIX, Formula
from grpo_symbolic.export.latex.notation import BINOMIAL_G, NAMES, named
from grpo_symbolic.export.latex.printer import PRINTER, as_written, reading_terms, to_latex

__all__ = ["BINOMIAL_G", "FORMULAS", "Formula", "LABEL_PREFIX", "NAMES", "STY", "STY_NAME", "PRINTER", "as_written", "bernstein", "checked", "document",
           "evaluated", "inline", "main", "markdown_table", "minus", "named", "over", "reading_terms", "show", "snippet", "snippet_name", "table", "to_latex",
           "use_paper_notation", "write"]
