"""The README's generated sections equal what paper_checks.readme renders from the committed report."""

import copy
import json

import pytest

from paper_checks import readme
from paper_checks.claims import CLAIMS


@pytest.fixture(scope="module")
def report():
    return json.loads(readme.REPORT.read_text(encoding="utf-8"))


def test_committed_report_covers_every_claim_and_passes(report):
    assert [row["id"] for row in report] == [c.id for c in CLAIMS]
    assert all(row["passed"] for row in report)


def test_readme_sections_are_generated(report):
    text = readme.README.read_text(encoding="utf-8")
    assert readme.render(text, report) == text
    for name, section in readme.sections(report).items():
        assert f"<!-- generated: {name} -->\n{section}<!-- end: {name} -->" in text


def test_findings_follow_the_report(report):
    changed = copy.deepcopy(report)
    row = next(r for r in changed if r["id"] == "x-stochastic-large-g")
    row["details"] = row["details"].replace("noisy 0.98193371", "noisy 0.97000001")
    assert "to 0.9700 for" in readme.findings_section(changed)
    row["details"] = "nothing to read"
    with pytest.raises(ValueError, match="no longer says"):
        readme.findings_section(changed)


def test_main_reports_an_outdated_readme(tmp_path, monkeypatch, capsys):
    stale = tmp_path / "README.md"
    stale.write_text("<!-- generated: checks -->\nold\n<!-- end: checks -->\n"
                     "<!-- generated: findings -->\nold\n<!-- end: findings -->\n", encoding="utf-8")
    monkeypatch.setattr(readme, "README", stale)
    assert readme.main([]) == 1 and "out of date" in capsys.readouterr().out
    assert readme.main(["--write"]) == 0 and readme.main([]) == 0
