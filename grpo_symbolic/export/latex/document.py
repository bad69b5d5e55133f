"""The LaTeX document and the snippets: ``grpo-symbolic latex -o formulas.tex [--snippets DIR]``."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Sequence

from grpo_symbolic.export.commandline import Progress, replacing, writable_file, writable_folder
from grpo_symbolic.export.latex.formulas import FORMULAS, LABEL_PREFIX, Formula
from grpo_symbolic.export.latex.notation import NAMES
from grpo_symbolic.model.errors import ParameterError

#: The LaTeX package the formulas need, written beside the document as ``grposymbolic.sty``.
STY_NAME = "grposymbolic"
STY = r"""\NeedsTeXFormat{LaTeX2e}
\ProvidesPackage{grposymbolic}[2025/01/01 what the formulas of grpo_symbolic need]
% amsmath: equation, split, \tag, \text, \Bigl/\Bigr; amssymb: \mathbb{E}.
\RequirePackage{amsmath}
\RequirePackage{amssymb}
\endinput
"""

_PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[margin=2cm]{geometry}
\usepackage{grposymbolic}
\allowdisplaybreaks
\title{The alignment objective of GRPO: derived formulas}
\author{\texttt{grpo\_symbolic}}
\date{}
\begin{document}
\maketitle
\noindent Every formula below was derived by SymPy with \texttt{grpo\_symbolic} and only arranged for
reading. Equation numbers in parentheses are those of Vojnovic and Yun, ``What is the Alignment
Objective of GRPO?'' (arXiv 2502.18548); the other formulas are unnumbered: results the paper states
without a number (label \texttt{p:\ldots}) and results beyond the paper (label \texttt{x:\ldots}).
Each formula's label is shown before it; in \LaTeX{} it is that name after the prefix
\texttt{PREFIX}.
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


def document(formulas: Sequence[Formula] = FORMULAS, prefix: str = LABEL_PREFIX,
             progress: Progress | None = None) -> str:
    """The standalone LaTeX document: the formulas grouped by section, each with one line of text.

    The paper's equations carry the paper's numbers; the other formulas are unnumbered.  Needs
    ``grposymbolic.sty`` (:data:`STY`) beside it, as :func:`write` leaves it.  ``progress``
    counts the formulas as they are derived.

    >>> text = document(FORMULAS[:1])
    >>> text.startswith("\\\\documentclass") and "\\\\tag{1}\\\\label{grpo:eq:1}" in text
    True
    """
    parts = [_PREAMBLE.replace("PREFIX", _text(prefix))]
    section = None
    for f in formulas:
        if progress is not None:
            progress.start(f.label)
        if f.section != section:
            section = f.section
            parts.append(f"\n\\section*{{{_text(section)}}}\n")
        parts.append(f"\n\\noindent\\texttt{{{_text(f.label)}}}: {_text(f.description)}\n"
                     + f.environment(prefix=prefix))
    parts.append("\n\\end{document}\n")
    if progress is not None:
        progress.clear()
    return "".join(parts)


def snippet(formula: Formula, prefix: str = LABEL_PREFIX) -> str:
    """One formula as a file a paper can ``\\input`` (needs ``\\usepackage{grposymbolic}``; numbered by the paper).

    >>> print(snippet(FORMULAS[0]).splitlines()[-2])
    \\label{grpo:eq:1}
    """
    return (f"% {formula.label}: {_text(formula.description)}\n% derived by grpo_symbolic ({formula.source});"
            f" needs \\usepackage{{{STY_NAME}}} (or amsmath and amssymb)\n" + formula.environment(False, prefix))


def snippet_name(label: str) -> str:
    """The snippet file name of a label: ``eq:11`` → ``eq-11.tex``.

    >>> snippet_name("x:rate")
    'x-rate.tex'
    """
    return label.replace(":", "-") + ".tex"


def write(path: str | Path, snippets: str | Path | None = None,
          formulas: Sequence[Formula] = FORMULAS, prefix: str = LABEL_PREFIX,
          progress: Progress | None = None) -> list[Path]:
    """Write the document to ``path``, ``grposymbolic.sty`` beside it and, if ``snippets`` is a
    directory, one snippet per formula (labels ``prefix`` + label).

    The paths are checked before anything is derived (a :class:`ParameterError` names ``output``
    or ``snippets``); every text is built before the first file is written, and each file is
    written under a temporary name and renamed, so a failure leaves no half-written file.
    Returns the paths written.

    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     [p.name for p in write(Path(folder) / "f.tex", Path(folder) / "s", FORMULAS[:1])]
    ['f.tex', 'grposymbolic.sty', 'eq-1.tex']
    """
    _check_prefix(prefix)
    document_path = writable_file(path, "output")
    sty_path = writable_file(document_path.parent / f"{STY_NAME}.sty", "output")
    folder = None if snippets is None else writable_folder(snippets, "snippets")
    texts = {document_path: document(formulas, prefix, progress), sty_path: STY}
    if folder is not None:
        texts.update({folder / snippet_name(f.label): snippet(f, prefix) for f in formulas})
        folder.mkdir(parents=True, exist_ok=True)
    for target, text in texts.items():
        with replacing(target) as temporary:
            temporary.write_text(text, encoding="utf-8")
    return list(texts)


def _check_prefix(prefix: str) -> None:
    """A label prefix LaTeX accepts in ``\\label``: letters, digits and ``:-_.`` only (may be empty)."""
    if not isinstance(prefix, str) or not re.fullmatch(r"[A-Za-z0-9:._-]*", prefix):
        raise ParameterError(f"label_prefix: got {prefix!r}; use letters, digits and ':', '-', '_', '.' only "
                             "(e.g. grpo: or an empty string)")


def main(args: argparse.Namespace) -> int:
    """The ``latex`` subcommand: ``args.output`` (the .tex file), ``args.snippets`` (a directory or None)
    and ``args.label_prefix``."""
    prefix = getattr(args, "label_prefix", LABEL_PREFIX)
    progress = Progress("latex", len(FORMULAS), quiet=getattr(args, "quiet", False))
    written = write(args.output, args.snippets, prefix=prefix, progress=progress)
    print(f"wrote {len(FORMULAS)} formulas to {written[0]} (needs {written[1].name}, written beside it)"
          + (f" and {len(written) - 2} snippets to {args.snippets}" if args.snippets else ""))
    return 0
