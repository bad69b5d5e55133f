"""tools/mutate.py and tools/mutants.py: the mutation-testing command (issue 10 item 5).

The fast tests read the mutants without running them; ``test_mutation_command_in_subprocess``
(slow) runs the command on two mutants.
"""

import ast
from pathlib import Path
import subprocess
import sys
import warnings

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import mutate  # noqa: E402
from mutants import mutants_of  # noqa: E402


@pytest.fixture(scope="module")
def every_mutant():
    return mutate.select(list(mutate.GROUPS), 0)


def test_each_selected_mutant_is_valid_python_and_changes_its_file():
    chosen = mutate.select(list(mutate.GROUPS), 25)
    texts = {path: (ROOT / path).read_text(encoding="utf-8") for path in {m.path for m in chosen}}
    for m in chosen:
        mutated = m.apply(texts[m.path])
        assert mutated != texts[m.path], m.key
        ast.parse(mutated)


def test_keys_name_each_mutant_once(every_mutant):
    keys = [m.key for m in every_mutant]
    assert len(keys) == len(set(keys))
    assert len(keys) >= 150


def test_the_default_selection_covers_every_group():
    chosen = mutate.select(list(mutate.GROUPS), 25)
    assert {mutate.group_of(m.path) for m in chosen} == set(mutate.GROUPS) and len(chosen) >= 150


def test_equivalent_mutants_give_a_reason_and_stale_ones_are_reported(every_mutant):
    """A listed mutant whose line was edited since is stale: a warning here (and in the command's
    output), not a failure, so that an edit of a core module by another branch does not break the
    suite; the next mutation run lists the new mutant anew."""
    listed = mutate.read_equivalent()
    assert listed and all(len(reason) > 10 for reason in listed.values())
    stale = mutate.stale_equivalents(listed, every_mutant)
    if stale:
        warnings.warn(f"tools/equivalent_mutants.txt: {len(stale)} entries name no current mutant: {stale}")
    assert len(stale) < len(listed)


def test_docstrings_messages_and_validation_are_not_mutated(tmp_path):
    (tmp_path / "m.py").write_text(
        '"""Module 1 + 2."""\n'
        "def f(x):\n"
        '    """Doc 3 * 4."""\n'
        "    if x < 0:\n"
        '        raise ValueError(f"x: {x + 1} < 0")\n'
        "    return x - 1\n", encoding="utf-8")
    assert [m.kind for m in mutants_of(tmp_path, "m.py")] == ["Sub:-->+", "1->2"]


def test_tests_for_a_module_include_its_doctests_and_test_file():
    assert mutate.tests_for("grpo_symbolic/theory/advantage.py") == [
        "grpo_symbolic/theory/advantage.py", "tests/theory/test_advantage.py", "tests/theory/test_advantage_rules.py"]


def test_table_rates_exclude_equivalent_mutants():
    verdicts = [mutate.Verdict("a", "penalty", 1, status) for status in ("killed-tests", "killed-checks", "equivalent", "survived")]
    row = [line for line in mutate.table(verdicts).splitlines() if line.startswith("| penalty")][0]
    assert row == "| penalty | 4 | 1 | 1 | 0 | 1 | 1 | 66.7 % |"


def test_mutation_command_in_subprocess():
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "mutate.py"), "--modules", "penalty", "--limit", "2"],
                         capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert out.returncode == 0, out.stderr
    assert "| penalty | 2 | " in out.stdout and "100.0 %" in out.stdout


def test_doctests_of_the_tools():
    import doctest

    import compare_checks
    import mutants

    for module in (mutants, compare_checks):
        assert doctest.testmod(module).failed == 0
