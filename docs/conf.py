"""Sphinx configuration of the documentation site (myst-nb: notebooks executed at build time).

Build it (offline, into docs/_build/html) with::

    pip install -e ".[docs]"
    sphinx-build -W --keep-going -n -b html docs docs/_build/html

Before Sphinx reads anything, this file lays out docs/_generated/ (not committed): the notebooks of
notebooks/ (copied; myst-nb executes them, and any error in any cell fails the build) and the claim
list with each check's verdict and digits, from a ``python -m paper_checks --json`` run made now
(or from the report named by the environment variable GRPO_DOCS_REPORT, e.g. the committed
docs/check-report.json, to skip that run).  GRPO_DOCS_EXECUTE=0 renders the notebooks without
executing them (a quick look at the layout; not what CI builds).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
import shutil
import subprocess
import sys

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
GENERATED = DOCS / "_generated"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS))

from claims_page import claims_page  # noqa: E402  (docs/claims_page.py, beside this file)

import grpo_symbolic  # noqa: E402

project = "grpo_symbolic"
author = "the grpo_symbolic authors"
copyright = "2025, the grpo_symbolic authors"
release = version = grpo_symbolic.__version__

extensions = ["myst_nb", "sphinx.ext.autodoc", "sphinx.ext.autosummary", "sphinx.ext.mathjax"]
exclude_patterns = ["_build", "**.ipynb_checkpoints", "check-report.json"]
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
html_theme = "alabaster"
html_title = f"grpo_symbolic {release}"
suppress_warnings = ["mystnb.unknown_mime_type"]  # e.g. application/vnd.jupyter.widget-view+json

# Notebooks: executed at every build; an error in a cell fails the build.
nb_execution_mode = "off" if os.environ.get("GRPO_DOCS_EXECUTE") == "0" else "force"
nb_execution_timeout = 600  # seconds per cell
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True

# API reference: autosummary over the layered subpackages, from the docstrings.
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"members": True, "undoc-members": True, "show-inheritance": False,
                           "ignore-module-all": True, "no-value": True}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_mock_imports = ["torch", "trl", "transformers", "datasets", "accelerate"]

# Cross-references: a dead reference in the site's own pages (a Markdown link, {doc}, {ref}) fails the
# build (-W).  Nitpicky mode (every :class:/:func: in every docstring must resolve) is not on yet: the
# docstrings still have about 60 short references that resolve to nothing documented (data without a
# doc comment, names of other layers); `sphinx-build -n` lists them.  Short names that do resolve
# uniquely are linked by _resolve_short_name.
nitpicky = False
nitpick_ignore_regex = [
    (r"py:.*", r"(sympy|sp|mpmath|numpy|np|flint|matplotlib|argparse|pandas)(\..*)?"),
    (r"py:.*", r"(mpf|Expr|Basic|Symbol|Rational|Matrix|ndarray|Namespace|TextIO|NoReturn|NumberLike)"),
    (r"py:.*", r"(collections\.abc|typing|fractions|pathlib|dataclasses|enum)(\..*)?"),
    (r"py:class", r"(Any|Callable|Sequence|Mapping|Iterable|Iterator|Fraction|Path|Enum|StrEnum|object)"),
    (r"py:.*", r"(.*\.)?_\w+|(.*\.)?T"),  # private names and type variables are not documented
]


def _numpy_sections(app, what, name, obj, options, lines):
    """NumPy-style sections (a heading over a line of dashes) as reST: a rubric, and a "Parameters"
    entry ``name : text`` (continued on deeper-indented lines) as a bullet ``name`` — text."""
    out, section = [], None
    for i, line in enumerate(lines):
        if line.strip() and set(line.strip()) == {"-"} and out and out[-1].strip():
            section = out.pop().strip()
            out += [f".. rubric:: {section}", ""]
            continue
        entry = line.partition(" : ")
        if section == "Parameters" and entry[1] and not line.startswith(" "):
            out.append(f"* ``{entry[0].strip()}`` — {entry[2]}")
        elif section == "Parameters" and line.startswith(" ") and line.strip():
            out.append("  " + line.strip())
        else:
            if section == "Parameters" and not line.strip():
                section = None
            out.append(line)
    lines[:] = out


_LITERAL = re.compile(r"(``.*?``)")


def _bars_as_text(app, what, name, obj, options, lines):
    """A "|" in a docstring's prose (|x|, P_G(o|π)) is text, not a reST substitution: escape it outside
    ``literals`` and doctests."""
    in_doctest = False
    for i, line in enumerate(lines):
        in_doctest = line.lstrip().startswith(">>>") or (in_doctest and bool(line.strip()))
        if "|" in line and not in_doctest:
            lines[i] = "".join(part if part.startswith("``") else part.replace("|", "\\|")
                               for part in _LITERAL.split(line))


def _resolve_short_name(app, env, node, contnode):
    """A reference by a short name (``:class:`Problem```, ``:data:`NAMES```), as the docstrings write them,
    resolves to the one documented object of the package whose dotted name ends with it; none or several
    leave the reference unresolved (a warning, which fails the build)."""
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"].lstrip("~.")
    domain = env.get_domain("py")
    module = node.get("py:module") or ""
    nearest = [f"{module.rsplit('.', k)[0]}.{target}" for k in range(module.count(".") + 1)] if module else []
    matches = [name for name in nearest if name in domain.objects][:1]
    matches = matches or [name for name in domain.objects if name == target or name.endswith("." + target)]
    if len(matches) != 1:
        return None
    node["reftarget"] = matches[0]
    return domain.resolve_xref(env, node["refdoc"], app.builder, node["reftype"], matches[0], node, contnode)


def setup(app):
    app.connect("missing-reference", _resolve_short_name)
    app.connect("autodoc-process-docstring", _numpy_sections)
    app.connect("autodoc-process-docstring", _bars_as_text)


def _lay_out() -> None:
    """docs/_generated/: the notebooks (copied) and claims.md."""
    notebooks = GENERATED / "notebooks"
    if notebooks.exists():
        shutil.rmtree(notebooks)
    notebooks.mkdir(parents=True)
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        shutil.copy(path, notebooks / path.name)
    report_path = os.environ.get("GRPO_DOCS_REPORT")
    if report_path:
        report = json.loads((ROOT / report_path).read_text(encoding="utf-8"))  # relative: to the repository
        source = f"the report {Path(report_path).name}"
    else:
        target = GENERATED / "check-report.json"
        subprocess.run([sys.executable, "-m", "paper_checks", "--json", str(target)], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
        report = json.loads(target.read_text(encoding="utf-8"))
        source = "a `python -m paper_checks --json` run made when this site was built"
    (GENERATED / "claims.md").write_text(claims_page(report, source), encoding="utf-8")


_lay_out()
