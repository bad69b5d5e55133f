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
    assert numbers == list(range(1, 20)), "every numbered equation (1)-(19) of the paper, in order"


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


def test_lambert_arrangement_is_checked_through_the_defining_identity():
    """π_ref e^{(P−λ)/β + 1 + W(x)} is shown as −π_ref / W(x); a flipped sign, a wrong argument or the
    other branch W_{-1} is refused."""
    P, lam, beta, rho = sp.symbols("P lambda beta rho", positive=True)
    x = -sp.exp((lam - P) / beta - 1)
    derived = rho * sp.exp((P - lam) / beta + 1 + sp.LambertW(x))
    assert latex.checked(-rho / sp.LambertW(x), derived) == -rho / sp.LambertW(x)
    for wrong in (rho / sp.LambertW(x), -rho / sp.LambertW(x * sp.E**2), -rho / sp.LambertW(x, -1)):
        with pytest.raises(ArithmeticError):
            latex.checked(wrong, derived)


def test_document_has_every_formula_grouped_by_section(tex_file):
    text = tex_file.read_text()
    assert text.startswith("\\documentclass") and text.rstrip().endswith("\\end{document}")
    assert "\\usepackage{grposymbolic}" in text and (tex_file.parent / "grposymbolic.sty").exists()
    for f in FORMULAS:
        assert f"\\texttt{{{f.label}}}" in text
        if f.tag is not None:
            assert f"\\tag{{{f.tag}}}\\label{{grpo:{f.label}}}" in text
    tags = re.findall(r"\\tag\{(.*?)\}", text)
    assert tags == [str(n) for n in range(1, 20)], "only the paper's numbers are shown"
    headings = re.findall(r"\\section\*\{(.*?)\}", text)
    assert len(headings) == len({f.section for f in FORMULAS})


def test_label_prefix_is_configurable_and_checked(tmp_path):
    from grpo_symbolic.model.errors import ParameterError

    written = latex.write(tmp_path / "f.tex", tmp_path / "s", FORMULAS[:2], prefix="vy-")
    assert "\\label{vy-eq:2}" in written[0].read_text() and "\\label{vy-eq:1}" in written[2].read_text()
    with pytest.raises(ParameterError, match="label_prefix"):
        latex.write(tmp_path / "g.tex", prefix="bad prefix}")


def test_line_breaks_are_found_and_keep_delimiters_balanced():
    for f in FORMULAS:
        if f.label in latex.formulas.BREAKS:
            lines = latex.formulas.broken(f.latex(), latex.formulas.BREAKS[f.label])
            assert len(lines) == len(latex.formulas.BREAKS[f.label]) + 1
            for line in lines:
                assert line.count("\\left") == line.count("\\right"), (f.label, line)


def test_command_line_writes_the_document(tmp_path, capsys):
    code = cli.main(["latex", "-o", str(tmp_path / "f.tex"), "--snippets", str(tmp_path / "s")])
    assert code == 0
    assert (tmp_path / "f.tex").exists() and len(list((tmp_path / "s").iterdir())) == len(FORMULAS)
    assert (tmp_path / "grposymbolic.sty").exists()
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
        if f.tag is not None:
            assert f"({f.tag})" in text, f"tag ({f.tag}) of {f.label} not in the PDF"
    assert "(p:" not in text and "(x:" not in text


@pytest.mark.latex
def test_snippets_fit_a_two_column_paper_with_only_the_sty(tex_file):
    """Every snippet \\input into a two-column article whose preamble is only \\usepackage{grposymbolic}:
    it compiles, every \\eqref resolves, and no formula is wider than its column (by more than 1 pt)."""
    if not shutil.which("pdflatex"):
        pytest.skip("pdflatex not installed")
    shutil.copy(tex_file.parent / "grposymbolic.sty", tex_file.parent / "snippets")
    lines = ["\\documentclass[twocolumn]{article}", "\\usepackage{grposymbolic}", "\\begin{document}"]
    for f in FORMULAS:
        lines += [f"\\typeout{{SNIPPET {f.label}}}", f"\\input{{{latex.snippet_name(f.label)}}}",
                  f"See \\eqref{{grpo:{f.label}}}."]
    paper = tex_file.parent / "snippets" / "paper.tex"
    paper.write_text("\n".join(lines + ["\\end{document}"]) + "\n")
    for _ in range(2):  # the references resolve, then the page breaks settle
        pdflatex(paper, resolved=False)
    log = pdflatex(paper)
    assert "Rerun" not in log
    too_wide = {}
    for chunk in log.split("SNIPPET ")[1:]:
        widths = [float(w) for w in re.findall(r"Overfull \\hbox \((\d+\.\d+)pt too wide\)", chunk)]
        if widths and max(widths) > 1.0:
            too_wide[chunk.split()[0]] = max(widths)
    assert not too_wide, f"wider than a column (pt): {too_wide}"


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


@pytest.mark.parametrize("label", ["eq:1", "eq:2", "eq:3", "eq:5", "eq:6", "eq:7"])
def test_a_changed_definition_is_not_exported_silently(label):
    """A summand printed for (1), (3), (5), (7) must add up to the model's function on three outputs, (2) must
    be the model's rule at G = 3, (6) the brute-force reward term: a model that is not so is refused."""
    from dataclasses import replace

    formula = next(f for f in FORMULAS if f.label == label)
    original = formula.equation.derive

    def changed(*args):
        return original(*args) + sp.Rational(1, 7)

    with pytest.raises(ArithmeticError):
        replace(formula, equation=replace(formula.equation, derive=changed)).expression()
