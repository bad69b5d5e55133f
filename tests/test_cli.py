"""The command line: bad input ends as one error line and exit code 2; a bug is an "internal error"
with exit code 1 (traceback with --debug); ``solve`` prints π*.

Every behaviour is tested in process (``cli.main``); the same cases run as subprocesses of
``python -m grpo_symbolic`` under the ``slow`` marker.
"""

import os
from pathlib import Path
import subprocess
import sys

import pytest

from grpo_symbolic import cli

ROOT = Path(__file__).resolve().parents[1]
PREFIX = "grpo-symbolic: error: "

GOOD = {"--reference": "0.3,0.7", "--rewards": "1,0", "--group-size": "8", "--beta": "0.5"}


def solve_argv(**changes):
    """``solve`` arguments: GOOD with some options changed (keys without the dashes)."""
    options = dict(GOOD)
    options.update({f"--{key.replace('_', '-')}": value for key, value in changes.items()})
    argv = ["solve"]
    for option, value in options.items():
        if value is not None:
            argv += [option, value]
    return argv


# (test id, argv, a fragment the error message must contain)
BAD_INPUT = [
    ("beta-negative", solve_argv(beta="-1"), "beta"),
    ("beta-negative", solve_argv(beta="-1"), "beta"),
    ("beta-negative-decimal", solve_argv(beta="-0.5"), "beta"),
    ("beta-nan", solve_argv(beta="nan"), "beta"),
    ("beta-inf", solve_argv(beta="inf"), "beta"),
    ("beta-text", solve_argv(beta="abc"), "beta"),
    ("group-size-one", solve_argv(group_size="1"), "group_size"),
    ("group-size-fraction", solve_argv(group_size="2.5"), "group_size"),
    ("group-size-text", solve_argv(group_size="abc"), "group_size"),
    ("reference-negative", solve_argv(reference="-0.3,1.3"), "reference[0]"),
    ("reference-zero", solve_argv(reference="0,1"), "reference[0]"),
    ("reference-not-summing-to-one", solve_argv(reference="0.3,0.6"), "sum"),
    ("reference-longer-than-rewards", solve_argv(reference="0.2,0.3,0.5"), "rewards"),
    ("reference-shorter-than-rewards", solve_argv(rewards="1,0,0"), "rewards"),
    ("reference-empty", solve_argv(reference=""), "reference"),
    ("reference-text", solve_argv(reference="abc,0.7"), "reference[0]"),
    ("reference-empty-entry", solve_argv(reference="0.3,,0.7"), "reference[1]"),
    ("one-output", solve_argv(reference="1", rewards="1"), "reference"),
    ("reward-text", solve_argv(rewards="abc,0"), "rewards[0]"),
    ("law-not-summing-to-one", solve_argv(rewards="0:0.2/1:0.7,0"), "rewards[0]"),
    ("law-negative-probability", solve_argv(rewards="0:-0.2/1:1.2,0"), "rewards[0]"),
    ("law-text-probability", solve_argv(rewards="0:abc/1:0.8,0"), "rewards[0]"),
    ("law-malformed", solve_argv(rewards="0:0.2/1,0"), "rewards[0]"),
    ("law-duplicate-value", solve_argv(rewards="1:0.5/1:0.5,0"), "rewards[0]"),
    ("eps-negative", solve_argv(eps="-1"), "eps"),
    ("eps-text", solve_argv(eps="abc"), "eps"),
    ("dps-too-small", solve_argv(dps="2"), "dps"),
    # argparse's own usage errors
    ("dps-text", solve_argv(dps="abc"), "--dps"),
    ("normalisation-unknown", solve_argv(normalisation="bessel"), "--normalisation"),
    ("penalty-unknown", solve_argv(penalty="k2"), "--penalty"),
    ("missing-beta", solve_argv(beta=None), "--beta"),
    ("unknown-option", solve_argv() + ["--frobnicate"], "--frobnicate"),
    ("unknown-command", ["frobnicate"], "frobnicate"),
    ("no-command", [], "required"),
    ("latex-without-output", ["latex"], "-o"),
    ("figures-without-output", ["figures"], "-o"),
    ("check-bad-dps", ["check", "--dps", "abc"], "--dps"),
    # issue 17: no traceback for any argument, one line, exit 2
    ("dps-fifty-digits", solve_argv(dps="9" * 50), "dps"),
    ("check-dps-fifty-digits", ["check", "--dps", "9" * 50], "--dps"),
    ("group-size-401-digits", solve_argv(group_size=str(10**400)), "group"),
    ("beta-100000-digits", solve_argv(beta="1" * 100_000), "beta"),
    ("beta-given-twice", solve_argv() + ["--beta", "2"], "--beta: given more than once"),
    ("dps-given-twice", solve_argv(dps="20") + ["--dps", "30"], "--dps: given more than once"),
    ("check-dps-given-twice", ["check", "--dps", "20", "--dps", "30"], "--dps: given more than once"),
    ("latex-output-given-twice", ["latex", "-o", "a.tex", "-o", "b.tex"], "given more than once"),
    ("names-too-few", solve_argv(names="a"), "names"),
    ("names-repeated", solve_argv(names="a,a"), "names"),
    ("names-empty-entry", solve_argv(names="a,"), "names[1]"),
    ("format-unknown", solve_argv(format="xml"), "--format"),
    ("latex-empty-output", ["latex", "-o", ""], "output: the path is empty"),
    ("figures-empty-output", ["figures", "-o", ""], "output: the path is empty"),
    ("latex-non-utf8-output", ["latex", "-o", "x\udcff.tex"], "UTF-8"),
    ("figures-non-utf8-output", ["figures", "-o", "x\udcff"], "UTF-8"),
    ("check-json-empty", ["check", "--json", ""], "--json: the path is empty"),
    ("check-json-under-a-file", ["check", "--json", str(ROOT / "README.md" / "x.json")], "--json:"),
]


def assert_one_error_line(code, stdout, stderr, fragment):
    assert code == 2, (code, stdout, stderr)
    assert "Traceback" not in stderr and "Traceback" not in stdout
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith(PREFIX), stderr
    assert fragment in lines[0], stderr
    assert stdout == ""


@pytest.mark.parametrize("argv, fragment", [case[1:] for case in BAD_INPUT], ids=[case[0] for case in BAD_INPUT])
def test_bad_input_in_process(argv, fragment, capsys):
    code = cli.main(argv)
    captured = capsys.readouterr()
    assert_one_error_line(code, captured.out, captured.err, fragment)
    assert len(captured.err) < 400  # echoed input is cut short


def run_module(*argv):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    return subprocess.run([sys.executable, "-m", "grpo_symbolic", *argv], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


SUBPROCESS_CASES = [case for case in BAD_INPUT if "\udcff" not in "".join(case[1])]  # not passable as str


@pytest.mark.slow
@pytest.mark.parametrize("argv, fragment", [case[1:] for case in SUBPROCESS_CASES],
                         ids=[case[0] for case in SUBPROCESS_CASES])
def test_bad_input_in_subprocess(argv, fragment):
    proc = run_module(*argv)
    assert_one_error_line(proc.returncode, proc.stdout, proc.stderr, fragment)


INTERNAL = "grpo-symbolic: internal error: RuntimeError: a bug (run with --debug for the traceback)"


def _raise_a_bug(args, out):
    raise RuntimeError("a bug")


def test_internal_error_is_exit_1_with_one_line(monkeypatch, capsys):
    monkeypatch.setattr(cli, "_solve", _raise_a_bug)
    assert cli.main(solve_argv()) == 1
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [INTERNAL] and captured.out == ""


def test_a_plain_value_error_is_internal_not_bad_input(monkeypatch, capsys):
    def value_error(args, out):
        raise ValueError("math domain error")

    monkeypatch.setattr(cli, "_solve", value_error)
    assert cli.main(solve_argv()) == 1
    assert capsys.readouterr().err.startswith("grpo-symbolic: internal error: ValueError: math domain error")


def test_debug_shows_the_traceback(monkeypatch, capsys):
    monkeypatch.setattr(cli, "_solve", _raise_a_bug)
    assert cli.main(["--debug", *solve_argv()]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):") and "_raise_a_bug" in err
    assert err.splitlines()[-1] == "grpo-symbolic: internal error: RuntimeError: a bug"


def test_debug_shows_the_traceback_of_a_package_error(capsys):
    assert cli.main(["--debug", *solve_argv(beta="-1")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and "ParameterError" in err
    assert err.splitlines()[-1].startswith(PREFIX + "beta:")


@pytest.mark.slow
def test_internal_error_in_subprocess():
    code = ("import sys; from grpo_symbolic import cli\n"
            "def bug(args, out): raise RuntimeError('a bug')\n"
            "cli._solve = bug\n"
            "raise SystemExit(cli.main(sys.argv[1:]))")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    plain = subprocess.run([sys.executable, "-c", code, *solve_argv()], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=300)
    assert (plain.returncode, plain.stderr.splitlines(), plain.stdout) == (1, [INTERNAL], "")
    debug = subprocess.run([sys.executable, "-c", code, "--debug", *solve_argv()], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=300)
    assert debug.returncode == 1 and debug.stderr.startswith("Traceback") and "RuntimeError: a bug" in debug.stderr


def test_negative_value_written_with_equals_sign(capsys):
    code = cli.main(["solve", "--reference=-0.3,1.3", "--rewards", "1,0", "--group-size", "8", "--beta", "0.5"])
    captured = capsys.readouterr()
    assert_one_error_line(code, captured.out, captured.err, "reference[0]")


def test_reward_law_syntax():
    assert cli.parse_rewards("1,0") == ["1", "0"]
    assert cli.parse_rewards("0:0.2/1:0.8, 0.5") == [{"0": "0.2", "1": "0.8"}, "0.5"]
    assert cli.parse_rewards("1/3,0:1/3/1:2/3") == ["1/3", {"0": "1/3", "1": "2/3"}]
    assert cli.parse_rewards("-1:0.5/2.5:0.5") == [{"-1": "0.5", "2.5": "0.5"}]
    assert cli.parse_rewards("") == []


def test_help_exits_zero(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "solve" in out and "--debug" in out
    assert cli.main(["solve", "--help"]) == 0
    assert "--group-size" in capsys.readouterr().out


def test_check_list_delegates_to_runner(capsys):
    assert cli.main(["check", "--list"]) == 0
    out = capsys.readouterr().out
    assert "eq14-binary-g2" in out and "x-grpo-dynamics" in out


def solved_rows(out):
    """(π_ref, π*) per output from ``solve`` output (header line first)."""
    lines = [line for line in out.splitlines() if line and not line.startswith("#")]
    assert lines[0].split("\t") == ["output", "pi_ref", "pi_star"]
    rows = [line.split("\t") for line in lines if line != lines[0]]
    assert all(len(r) == 3 and r[0].isdigit() for r in rows), rows
    assert rows[0][0] == "1"  # numbered from 1, as in the notebooks
    return [(r[1], r[2]) for r in rows]


def test_solve_binary_g8(capsys):
    """Needs the solver (grpo_symbolic.solve.api)."""
    import mpmath

    code = cli.main(["solve", "--reference", "0.3,0.7", "--rewards", "1,0", "--group-size", "8", "--beta", "0.5",
                     "--dps", "30"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.err == ""
    rows = solved_rows(captured.out)
    assert [ref for ref, _ in rows] == ["0.3", "0.7"]
    with mpmath.workdps(40):
        pi = [mpmath.mpf(p) for _, p in rows]
        assert all(0 < p < 1 for p in pi)
        assert abs(mpmath.fsum(pi) - 1) < mpmath.mpf(10) ** -28
        assert pi[0] > mpmath.mpf("0.3")  # the better answer gains probability


def test_solve_all_prints_stability(capsys):
    """Needs the solver (grpo_symbolic.solve.api)."""
    code = cli.main(["solve", "--reference", "0.5,0.5", "--rewards", "1,0", "--group-size", "inf", "--beta", "3",
                     "--penalty", "direct", "--dps", "20", "--all"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    headers = [line for line in captured.out.splitlines() if line.startswith("# stationary policy")]
    assert headers and all("stable=" in h and "spectral_radius=" in h for h in headers)
    assert len(solved_rows(captured.out)) == 2 * len(headers)


def test_solve_names_and_formats(capsys):
    import json

    argv = solve_argv(dps="25", names="right,wrong")
    assert cli.main(argv) == 0
    table = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in table] == ["output", "right", "wrong"]
    assert cli.main(argv + ["--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert [o["name"] for o in document["outputs"]] == ["right", "wrong"]
    assert document["points"][0]["pi_star"] == [line.split("\t")[2] for line in table[1:]]  # the same digits
    assert cli.main(argv + ["--format", "csv", "--all"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert rows[0].startswith("point,output,pi_ref,pi_star,") and rows[1].startswith("1,right,0.3,")


def test_latex_refuses_bad_paths_before_building_and_writes_nothing(tmp_path, capsys, monkeypatch):
    import importlib

    document = importlib.import_module("grpo_symbolic.export.latex.document")

    def never(*args, **kwargs):
        raise AssertionError("the formulas were built before the paths were checked")

    monkeypatch.setattr(document, "document", never)
    (tmp_path / "afile").write_text("")
    cases = [(["-o", str(tmp_path / "afile" / "f.tex")], "output"),
             (["-o", str(tmp_path / "f.tex"), "--snippets", str(tmp_path / "afile" / "s")], "snippets"),
             (["-o", str(tmp_path)], "is a folder")]
    for options, fragment in cases:
        code = cli.main(["latex", *options])
        captured = capsys.readouterr()
        assert_one_error_line(code, captured.out, captured.err, fragment)
        with pytest.raises(cli.ParameterError, match=fragment):  # the API checks the paths too
            document.write(options[1], options[3] if len(options) > 2 else None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_figures_refuse_a_path_under_a_file(tmp_path, capsys):
    (tmp_path / "afile").write_text("")
    code = cli.main(["figures", "-o", str(tmp_path / "afile" / "figs"), "--only", "fig1"])
    captured = capsys.readouterr()
    assert_one_error_line(code, captured.out, captured.err, "is a file")


class _Terminal:
    """stderr as a terminal, recording what is written."""

    def __init__(self):
        self.text = ""

    def write(self, text):
        self.text += text

    def flush(self):
        pass

    def isatty(self):
        return True


def test_check_shows_a_counter_with_the_id_on_a_terminal_only(monkeypatch, capsys):
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert cli.main(["check", "--only", "eq14-binary-g2"]) == 0
    assert "\rcheck 1/1: eq14-binary-g2" in terminal.text and terminal.text.endswith("\r\x1b[K")
    assert "eq14-binary-g2" in capsys.readouterr().out
    monkeypatch.setattr(sys, "stderr", quiet := _Terminal())
    assert cli.main(["check", "--quiet", "--only", "eq14-binary-g2"]) == 0
    assert quiet.text == ""


def test_figures_show_a_counter_on_a_terminal(monkeypatch, capsys, tmp_path):
    pytest.importorskip("matplotlib")
    monkeypatch.setattr(sys, "stderr", terminal := _Terminal())
    assert cli.main(["figures", "-o", str(tmp_path / "figs"), "--only", "fig1"]) == 0
    assert "\rfigures 1/1: fig1" in terminal.text and terminal.text.endswith("\r\x1b[K")
    assert sorted(p.name for p in (tmp_path / "figs").iterdir()) == ["fig1.pdf", "fig1.png"]
    assert capsys.readouterr().out.count("fig1.") == 2


def test_a_failed_write_to_stdout_is_one_line(monkeypatch, capsys):
    class Full:
        def write(self, text):
            raise OSError(28, "No space left on device")

        def flush(self):
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(sys, "stdout", Full())
    assert cli.main(["check", "--only", "eq14-binary-g2"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == ["python: error: cannot write the report: No space left on device"] or \
        (len(err) == 1 and "No space left on device" in err[0])


def _in_subprocess(*argv, stdout=subprocess.PIPE, code=None, module="grpo_symbolic", limit=None):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    command = [sys.executable, "-c", code, *argv] if code else [sys.executable, "-m", module, *argv]

    def limit_memory():
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return subprocess.run(command, cwd=ROOT, env=env, stdout=stdout, stderr=subprocess.PIPE, text=True,
                          timeout=300, preexec_fn=limit_memory if limit else None)


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("module, argv", [("paper_checks", ["--only", "eq14-binary-g2"]),
                                          ("grpo_symbolic", ["check", "--only", "eq14-binary-g2"]),
                                          ("grpo_symbolic", solve_argv(dps="20")),
                                          ("grpo_symbolic", ["--help"])])
def test_dev_full_is_exit_2_with_one_line_in_subprocess(module, argv):
    with open("/dev/full", "w") as full:
        proc = _in_subprocess(*argv, module=module, stdout=full)
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.splitlines()) == 1 and "No space left on device" in proc.stderr, proc.stderr


@pytest.mark.slow
def test_huge_group_size_is_refused_not_allocated_in_subprocess():
    """G = 10**9 must end as one error line (the cost model refuses it; at worst the memory limit)."""
    proc = _in_subprocess(*solve_argv(group_size="1000000000"), limit=3 * 2**30)
    assert_one_error_line(proc.returncode, proc.stdout, proc.stderr, "")


@pytest.mark.slow
@pytest.mark.parametrize("argv", [["--help"], ["solve", "--help"], ["check", "--help"], ["latex", "--help"],
                                  solve_argv(beta="0", frobnicate="1"), ["latex", "-o", ""]])
def test_help_and_usage_errors_load_no_sympy_in_subprocess(argv):
    code = ("import sys\nfrom grpo_symbolic import cli\ncode = cli.main(sys.argv[1:])\n"
            "heavy = sorted(m for m in ('sympy', 'numpy', 'mpmath', 'matplotlib') if m in sys.modules)\n"
            "print('HEAVY', heavy, file=sys.stderr)")
    proc = _in_subprocess(*argv, code=code)
    assert proc.stderr.splitlines()[-1] == "HEAVY []", proc.stderr
