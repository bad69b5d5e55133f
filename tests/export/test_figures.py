"""Tests of grpo_symbolic.export.figures: the plotted data (no matplotlib needed) and the written files."""

import argparse
import sys

import numpy as np
import pytest

from grpo_symbolic.export import figures, gallery
from grpo_symbolic.cli import main as cli_main
from grpo_symbolic.model.errors import ParameterError


@pytest.mark.parametrize("number", [1, 2, 3])
def test_curves_are_increasing_and_above_the_diagonal(number):
    data = figures.curves(number, points=120)
    assert data.number == number and len(data.curves) == len(figures.PARAMETERS)
    for curve in data.curves:
        assert curve.reference.shape == curve.policy.shape == (120,)
        assert np.all(np.diff(curve.policy) >= 0)
        assert np.all(curve.policy >= curve.reference - 1e-15)
        assert curve.policy[-1] == pytest.approx(1.0, abs=1e-15)  # pi_ref(a) = 1 gives pi(a) = 1


def test_curves_decrease_with_the_legend_parameter():
    for number in (1, 2, 3):
        policies = np.array([c.policy for c in figures.curves(number, points=60).curves])
        assert np.all(np.diff(policies, axis=0) <= 1e-15)


@pytest.mark.parametrize("number, jumps", [(1, [0.9, 0.75, 0.5, 0, 0]), (2, [1 / 1.01, 1 / 1.0625, 0.8, 0.5, 0.2]), (3, [0] * 5)])
def test_jump_at_zero_where_the_paper_puts_it(number, jumps):
    data = figures.curves(number, points=40)
    assert [c.jump_at_zero for c in data.curves] == pytest.approx(jumps, abs=1e-12)
    assert all(c.value_at_zero == 0 for c in data.curves)


def test_bad_arguments():
    with pytest.raises(ParameterError, match="Figures 1, 2 and 3"):
        figures.curves(4)
    with pytest.raises(ParameterError, match="points"):
        figures.curves(1, points=3)


def test_missing_matplotlib_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ParameterError, match="pip install matplotlib"):
        figures.draw(1, points=20)


def test_main_writes_png_and_pdf(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    only = ["fig1", "fig2", "fig3"]
    assert gallery.main(argparse.Namespace(output=tmp_path / "out", only=only)) == 0
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["fig1.pdf", "fig1.png", "fig2.pdf", "fig2.png", "fig3.pdf", "fig3.png"]
    assert (tmp_path / "out" / "fig2.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "out" / "fig3.pdf").read_bytes()[:5] == b"%PDF-"
    assert len(capsys.readouterr().out.splitlines()) == 6


def test_cli_figures(tmp_path):
    pytest.importorskip("matplotlib")
    assert cli_main(["figures", "-o", str(tmp_path), "--only", "fig1"]) == 0
    assert (tmp_path / "fig1.png").stat().st_size > 10_000


def test_no_title_and_the_legend_inside():
    pytest.importorskip("matplotlib")
    figure = figures.draw(2, points=40, width=3.3)
    axes = figure.axes[0]
    assert figure.get_size_inches() == pytest.approx([3.3, 3.3 * figures.ASPECT])
    assert axes.get_title() == "" and not figure.texts
    figure.canvas.draw()
    legend, frame = axes.get_legend().get_window_extent(), axes.get_window_extent()
    assert frame.x0 <= legend.x0 and legend.x1 <= frame.x1 and frame.y0 <= legend.y0 and legend.y1 <= frame.y1


def test_width_style_and_names_are_checked(tmp_path):
    pytest.importorskip("matplotlib")
    for bad in (dict(width=0.2), dict(style="no-such-style"), dict(only=["fig9"])):
        with pytest.raises(ParameterError, match=next(iter(bad))):
            gallery.main(argparse.Namespace(output=tmp_path, **bad))
    assert cli_main(["figures", "-o", str(tmp_path), "--only", "fig3", "--width", "3.3",
                     "--style", "seaborn-v0_8-paper"]) == 0


def test_group_size_curves_lie_between_14_and_15():
    from grpo_symbolic.export import our_figures

    for curve in our_figures.group_size_curves(betas=("0.1", "2"), sizes=(2, 3, 8, 64)):
        assert curve.policy[0] == pytest.approx(curve.eq14, abs=1e-14)  # G = 2 is (14), gamma = 1
        assert np.all(np.diff(curve.policy) > 0) and np.all(curve.policy < curve.eq15)
        assert curve.eq15 - curve.policy[-1] < (curve.eq15 - curve.policy[0]) / 10  # G = 64 close to (15)


def test_preset_policies_differ_where_the_conventions_do():
    from grpo_symbolic.export import our_figures

    policies = our_figures.preset_policies()
    assert list(policies) == ["reference", "paper", "trl", "verl", "openrlhf", "dr_grpo"]
    assert all(p.shape == (3,) and p.sum() == pytest.approx(1, abs=1e-14) for p in policies.values())
    assert np.abs(policies["trl"] - policies["verl"]).max() < 1e-3  # both Bessel std, eps tiny
    assert np.abs(policies["paper"] - policies["trl"]).max() > 1e-3  # population vs Bessel std
    assert np.abs(policies["dr_grpo"] - policies["paper"]).max() > 1e-2  # shift-only


@pytest.mark.slow
def test_all_figures_in_subprocess(tmp_path):
    pytest.importorskip("matplotlib")
    import subprocess

    result = subprocess.run([sys.executable, "-m", "grpo_symbolic", "figures", "-o", str(tmp_path)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert sorted(p.stem for p in tmp_path.glob("*.pdf")) == ["fig1", "fig2", "fig3", "pi_g", "presets"]


def test_help_says_what_is_drawn(capsys):
    assert cli_main(["figures", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    for name in ("fig1", "pi_g", "presets", "--width", "--style", "untitled"):
        assert name in text
