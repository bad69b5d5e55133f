"""The LaTeX export: labels, the document, snippets, and (when pdflatex is installed) compilation."""

import re
import shutil
import subprocess

import pytest
import sympy as sp

from grpo_symbolic import cli

from grpo_symbolic.export import latex
from grpo_symbolic.export.latex import FORMULAS

PAPER_LABEL = re.compile(r"eq:([1-9]|1[0-9])")  # the paper numbers its equations (1)-(19)
OWN_LABEL = re.compile(r"[px]:[a-z0-9]+(-[a-z0-9]+)*")


@pytest.fixture(scope="module")
def rendered():
    """label -> LaTeX of every formula (each derivation runs once)."""
    return {f.label: f.latex() for f in FORMULAS}


@pytest.fixture(scope="module")
def tex_file(tmp_path_factory, rendered):
    folder = tmp_path_factory.mktemp("latex")
    latex.write(folder / "formulas.tex", snippets=folder / "snippets")
    return folder / "formulas.tex"


def test_labels_are_unique():
    labels = [f.label for f in FORMULAS]
    assert len(labels) == len(set(labels))


def test_labels_follow_the_scheme():
    for f in FORMULAS:
        assert PAPER_LABEL.fullmatch(f.label) or OWN_LABEL.fullmatch(f.label), f.label
        if f.label.startswith("eq:"):
            assert f.tag == f.label[3:]


def test_paper_equations_come_in_paper_order():
    numbers = [int(f.label[3:]) for f in FORMULAS if f.label.startswith("eq:")]
    assert numbers, "no paper equation exported"
    assert len(set(numbers)) == len(numbers)


def test_sections_are_contiguous():
    sections = [f.section for f in FORMULAS]
    starts = [s for i, s in enumerate(sections) if i == 0 or sections[i - 1] != s]
    assert len(starts) == len(set(starts)), f"a section appears in two places: {starts}"


def test_formulas_are_equations_in_paper_notation(rendered):
    for f in FORMULAS:
        expr = f.expression()
        assert isinstance(expr, sp.Equality), f.label
        text = rendered[f.label]
        assert text.count("=") >= 1, f.label
        for soup in ("\\operatorname{log}", "\\operatorname{exp}", "\\operatorname{sqrt}"):
            assert soup not in text, f"{f.label}: {text}"
        assert "\\rho" not in text and not re.search(r"\\pi_\{\d", text), f"{f.label}: a raw SymPy name in {text}"


def test_unnamed_symbol_is_refused():
    with pytest.raises(KeyError, match="no LaTeX name"):
        latex.to_latex(sp.Symbol("unknown_thing") + 1)


def test_arrangement_must_equal_the_derivation():
    p, rho = sp.symbols("p rho", positive=True)
    with pytest.raises(ArithmeticError):
        latex.checked(sp.Eq(p, 2 * rho), sp.Eq(p - rho, 0), rho)
    assert latex.checked(sp.Eq(2 * p, 2 * rho), sp.Eq(p - rho, 0), rho) == sp.Eq(2 * p, 2 * rho)


def test_document_has_every_formula_grouped_by_section(tex_file):
    text = tex_file.read_text()
    assert text.startswith("\\documentclass") and text.rstrip().endswith("\\end{document}")
    for f in FORMULAS:
        assert f"\\label{{{f.label}}}" in text
        assert f"\\tag{{{f.tag}}}" in text
    headings = re.findall(r"\\section\*\{(.*?)\}", text)
    assert len(headings) == len({f.section for f in FORMULAS})


def test_snippets_are_written(tex_file):
    folder = tex_file.parent / "snippets"
    files = sorted(p.name for p in folder.iterdir())
    assert files == sorted(latex.snippet_name(f.label) for f in FORMULAS)
    for f in FORMULAS:
        text = (folder / latex.snippet_name(f.label)).read_text()
        assert f"\\label{{{f.label}}}" in text and "\\begin{equation}" in text and "\\tag" not in text


def test_command_line_writes_the_document(tmp_path, capsys):
    code = cli.main(["latex", "-o", str(tmp_path / "f.tex"), "--snippets", str(tmp_path / "s")])
    assert code == 0
    assert (tmp_path / "f.tex").exists() and len(list((tmp_path / "s").iterdir())) == len(FORMULAS)
    assert "wrote" in capsys.readouterr().out


def pdflatex(tex, resolved=True):
    """Run pdflatex on ``tex`` (a Path) in its folder; return the log after asserting a clean run.

    ``resolved``: also assert that no reference is undefined (false for a first run with \\eqref).
    """
    result = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name],
                            cwd=tex.parent, capture_output=True, text=True, timeout=120)
    log = tex.with_suffix(".log").read_text(errors="replace")
    assert result.returncode == 0, log[-3000:]
    assert not re.search(r"^! ", log, re.MULTILINE), log[-3000:]
    assert not resolved or "undefined" not in log.lower(), log[-3000:]
    return log


@pytest.mark.latex
def test_document_compiles(tex_file):
    if not shutil.which("pdflatex"):
        pytest.skip("pdflatex not installed")
    log = pdflatex(tex_file)
    overfull = re.findall(r"Overfull \\hbox \((\d+\.\d+)pt too wide\)", log)
    assert not overfull, f"formulas run into the margin by {overfull} pt"
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext not installed: compiled, equation numbers not checked")
    text = subprocess.run(["pdftotext", "formulas.pdf", "-"], cwd=tex_file.parent, capture_output=True,
                          text=True, timeout=60, check=True).stdout
    for f in FORMULAS:
        assert f"({f.tag})" in text, f"tag ({f.tag}) of {f.label} not in the PDF"


@pytest.mark.latex
def test_snippets_can_be_input_and_referenced(tex_file):
    if not shutil.which("pdflatex"):
        pytest.skip("pdflatex not installed")
    lines = ["\\documentclass{article}", "\\usepackage{amsmath,amssymb}", "\\begin{document}"]
    for f in FORMULAS:
        lines += [f"\\input{{snippets/{latex.snippet_name(f.label)}}}", f"See \\eqref{{{f.label}}}."]
    paper = tex_file.parent / "paper.tex"
    paper.write_text("\n".join(lines + ["\\end{document}"]) + "\n")
    pdflatex(paper, resolved=False)
    log = pdflatex(paper)  # second run: the references resolve
    assert "Rerun" not in log


def test_a_changed_derivation_is_not_exported_silently():
    from dataclasses import replace

    from grpo_symbolic.model.symbols import rho

    eq14 = next(f for f in FORMULAS if f.label == "eq:14")
    original = eq14.equation.derived()
    changed = replace(eq14, equation=replace(eq14.equation, derive=lambda: original + rho / 7))
    with pytest.raises(ArithmeticError):
        changed.expression()


def test_as_written_is_marked_on_the_expression():
    p = sp.Symbol("p")
    written = latex.as_written(sp.Add, 1, -p)
    plain = sp.Add(1, -p, evaluate=False)
    assert latex.to_latex(written.xreplace({p: sp.Symbol("x")})) == "1 - x"  # substitution keeps the order
    assert latex.evaluated(written) == 1 - p and type(latex.evaluated(written)) is sp.Add
    assert written != plain  # an equal-looking plain sum is not marked
