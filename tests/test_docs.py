"""The documentation site (docs/): its claim list, and (slow) the whole site built as README says.

The build needs the ``docs`` extra (Sphinx, myst-nb); without it the build test is skipped with the
reason shown.  CI builds the site itself after the slow set (.ci/run).
"""

import json
import os
from pathlib import Path
import subprocess
import sys

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "docs"))

from claims_page import claims_page  # noqa: E402

BUILD = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", "docs"]


def test_claims_page_lists_every_check_of_the_committed_report():
    report = json.loads((ROOT / "docs" / "check-report.json").read_text(encoding="utf-8"))
    page = claims_page(report, "the committed report")
    rows = [line for line in page.splitlines() if line.startswith("| `")]
    assert len(rows) == len(report) and f"{len(report)} of {len(report)} checks pass" in page
    assert all(line.count(" | ") == 5 for line in rows), "a '|' inside a cell would split it"


def test_claims_page_marks_a_failed_check():
    row = dict(id="x", location="here", statement="s", passed=False, digits=None, verdict="fails", seconds=1)
    assert "**FAILED** (fails)" in claims_page([row], "a test")


def test_readme_documents_the_build_command():
    assert "sphinx-build -W --keep-going -b html docs docs/_build/html" in (ROOT / "README.md").read_text()


@pytest.mark.slow
def test_docs_build_in_subprocess(tmp_path):
    pytest.importorskip("sphinx", reason="the docs extra is not installed: pip install -e '.[docs]'")
    pytest.importorskip("myst_nb", reason="the docs extra is not installed: pip install -e '.[docs]'")
    env = dict(os.environ, GRPO_DOCS_REPORT="docs/check-report.json", MPLBACKEND="Agg")
    result = subprocess.run([*BUILD, str(tmp_path / "html")], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=3600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    site = tmp_path / "html"
    for name in ("01_reward_preference", "06_your_own_setting"):
        page = (site / "_generated" / "notebooks" / f"{name}.html").read_text(encoding="utf-8")
        assert "cell_output" in page, f"{name}: no executed outputs in the site"
    assert (site / "api.html").exists() and (site / "_generated" / "claims.html").exists()
    assert "grpo_symbolic.solve.api.stationary_policy" in (site / "_generated" / "api" /
                                                          "grpo_symbolic.solve.api.html").read_text(encoding="utf-8")
