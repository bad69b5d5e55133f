"""The LaTeX document and the snippets: ``grpo-symbolic latex -o formulas.tex [--snippets DIR]``."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Sequence

from grpo_symbolic.export.latex.formulas import FORMULAS, Formula
from grpo_symbolic.export.latex.notation import NAMES

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


def _text(description: str) -> str:
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


def document(formulas: Sequence[Formula] = FORMULAS) -> str:
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


def snippet(formula: Formula) -> str:
    """One formula as a file a paper can ``\\input`` (needs amsmath and amssymb; untagged).

    >>> print(snippet(FORMULAS[0]).splitlines()[-2])
    \\label{eq:4}
    """
    return (f"% {formula.label}: {_text(formula.description)}\n% derived by grpo_symbolic ({formula.source})\n"
            + formula.environment(tagged=False))


def snippet_name(label: str) -> str:
    """The snippet file name of a label: ``eq:11`` → ``eq-11.tex``.

    >>> snippet_name("x:rate")
    'x-rate.tex'
    """
    return label.replace(":", "-") + ".tex"


def write(path: str | Path, snippets: str | Path | None = None,
          formulas: Sequence[Formula] = FORMULAS) -> list[Path]:
    """Write the document to ``path`` and, if ``snippets`` is a directory, one snippet per formula.

    Returns the paths written.

    >>> import tempfile
    >>> from pathlib import Path
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


def main(args: argparse.Namespace) -> int:
    """The ``latex`` subcommand: ``args.output`` (the .tex file) and ``args.snippets`` (a directory or None)."""
    written = write(args.output, args.snippets)
    print(f"wrote {len(FORMULAS)} formulas to {written[0]}"
          + (f" and {len(written) - 1} snippets to {args.snippets}" if args.snippets else ""))
    return 0