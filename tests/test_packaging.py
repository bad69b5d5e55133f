"""The project's metadata agree with each other: LICENSE, CITATION.cff, pyproject's classifiers."""

import re
from pathlib import Path
import sys

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = (ROOT / "pyproject.toml").read_text(encoding="utf-8")


def _field(name):
    match = re.search(rf'^{name} = "([^"]*)"', PYPROJECT, re.MULTILINE)
    assert match, f"pyproject.toml has no {name}"
    return match.group(1)


def test_license_file_is_the_mit_licence_pyproject_declares():
    assert 'license = { text = "MIT" }' in PYPROJECT
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "the grpo_symbolic authors" in text
    assert "License :: OSI Approved :: MIT License" in PYPROJECT


def test_citation_names_the_package_version_and_the_paper():
    text = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    assert re.search(r"^cff-version: 1\.2\.0$", text, re.MULTILINE)
    assert re.search(rf"^version: {re.escape(_field('version'))}$", text, re.MULTILINE), "CITATION.cff's version"
    assert "What is the Alignment Objective of GRPO?" in text and "arXiv:2502.18548" in text
    assert text.count("family-names: Vojnovic") == 2 and text.count("family-names: Yun") == 2


def test_classifiers_list_exactly_the_versions_from_requires_python_on():
    lowest = re.fullmatch(r">=3\.(\d+)", _field("requires-python"))
    assert lowest, "requires-python is a lower bound >=3.N"
    listed = sorted(int(m) for m in re.findall(r'"Programming Language :: Python :: 3\.(\d+)"', PYPROJECT))
    assert listed and listed[0] == int(lowest.group(1)), (listed, lowest.group(0))
    assert listed == list(range(listed[0], listed[-1] + 1)), f"a gap in the classifiers: {listed}"
    if sys.version_info[0] == 3 and sys.version_info[1] > listed[-1]:
        pytest.skip(f"running on 3.{sys.version_info[1]}, newer than the classifiers list (3.{listed[-1]})")
    assert sys.version_info[1] in listed, f"the tests run on 3.{sys.version_info[1]}, not a listed version"


def test_changelog_has_an_unreleased_section():
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(r"^## \d+\.\d+\.\d+ \(Unreleased\)$", text, re.MULTILINE)
