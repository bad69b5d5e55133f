"""The command lines' shared plumbing: paths checked before work, atomic replacement, the progress
counter (only on a terminal), options given once, long echoes cut."""

import io
import os

import pytest

from grpo_symbolic.export.commandline import (
    CommandParser,
    Progress,
    UsageError,
    replacing,
    shorten,
    writable_file,
    writable_folder,
)
from grpo_symbolic.model.errors import ParameterError


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_shorten_cuts_long_words_only():
    assert shorten("beta: got 'abc'") == "beta: got 'abc'"
    long = shorten("beta: got " + "9" * 100_000)
    assert len(long) < 100 and "[100000 characters]" in long
    assert shorten("a\n  b") == "a b"


@pytest.mark.parametrize("path, fragment", [("", "empty"), ("   ", "empty"), ("x\udcff.tex", "UTF-8")])
def test_bad_paths(path, fragment):
    for check in (writable_file, writable_folder):
        with pytest.raises(ParameterError, match=fragment):
            check(path, "output")


def test_paths_under_a_file_or_a_missing_folder(tmp_path):
    (tmp_path / "afile").write_text("")
    with pytest.raises(ParameterError, match="is a file, not a folder"):
        writable_file(tmp_path / "afile" / "x.tex", "output")
    with pytest.raises(ParameterError, match="is a file, not a folder"):
        writable_folder(tmp_path / "afile" / "sub" / "deeper", "snippets")
    with pytest.raises(ParameterError, match="does not exist"):
        writable_file(tmp_path / "missing" / "x.tex", "output")
    with pytest.raises(ParameterError, match="is a folder"):
        writable_file(tmp_path, "output")
    assert writable_folder(tmp_path / "new" / "deeper", "snippets") == tmp_path / "new" / "deeper"
    assert not (tmp_path / "new").exists()  # checked, not created
    assert writable_file(tmp_path / "x.tex", "output") == tmp_path / "x.tex"


def test_replacing_leaves_the_old_file_on_failure(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with replacing(target) as temporary:
            temporary.write_text("half")
            raise RuntimeError("failed mid-way")
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["out.txt"]
    with replacing(target) as temporary:
        temporary.write_text("new")
    assert target.read_text() == "new" and os.listdir(tmp_path) == ["out.txt"]


def test_progress_only_on_a_terminal_and_not_when_quiet():
    shown, quiet, piped = Terminal(), Terminal(), io.StringIO()
    for stream, kwargs in ((shown, {}), (quiet, {"quiet": True}), (piped, {})):
        progress = Progress("check", 2, stream=stream, **kwargs)
        progress.start("eq14-sqrt")
        progress.clear()
        progress.start("slip-1")
        progress.clear()
    assert "check 1/2: eq14-sqrt" in shown.getvalue() and "check 2/2: slip-1" in shown.getvalue()
    assert shown.getvalue().endswith("\r\x1b[K")  # the line is erased before anything else prints
    assert quiet.getvalue() == "" and piped.getvalue() == ""


def test_a_failed_help_is_reported_not_dropped():
    class Full(io.StringIO):
        def write(self, text):
            raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        CommandParser(prog="x").print_help(Full())


def test_an_option_given_twice_is_an_error():
    parser = CommandParser()
    parser.add_argument("--beta")
    parser.add_argument("--only", nargs="+")
    assert parser.parse_args(["--beta", "1", "--only", "a", "b"]).beta == "1"
    for argv in (["--beta", "1", "--beta", "2"], ["--only", "a", "--only", "b"]):
        with pytest.raises(UsageError, match="more than once"):
            parser.parse_args(argv)


def test_latex_counts_the_formulas_it_derives(tmp_path):
    from grpo_symbolic.export.latex import FORMULAS, write

    terminal = Terminal()
    written = write(tmp_path / "f.tex", tmp_path / "snippets", FORMULAS[:2], progress=Progress("latex", 2, stream=terminal))
    assert "latex 1/2: eq:1" in terminal.getvalue() and "latex 2/2: " in terminal.getvalue()
    assert terminal.getvalue().endswith("\r\x1b[K")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.tex", "grposymbolic.sty", "snippets"]
    assert len(written) == 4 and not any(p.name.endswith(".part") for p in (tmp_path / "snippets").iterdir())
