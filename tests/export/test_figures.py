"""Tests of grpo_symbolic.export.figures: the plotted data (no matplotlib needed) and the written files."""

import argparse
import sys

import numpy as np
import pytest

from grpo_symbolic.export import figures
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
    assert figures.main(argparse.Namespace(output=tmp_path / "out")) == 0
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["fig1.pdf", "fig1.png", "fig2.pdf", "fig2.png", "fig3.pdf", "fig3.png"]
    assert (tmp_path / "out" / "fig2.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "out" / "fig3.pdf").read_bytes()[:5] == b"%PDF-"
    assert len(capsys.readouterr().out.splitlines()) == 6


def test_cli_figures(tmp_path):
    pytest.importorskip("matplotlib")
    assert cli_main(["figures", "-o", str(tmp_path)]) == 0
    assert (tmp_path / "fig1.png").stat().st_size > 10_000
