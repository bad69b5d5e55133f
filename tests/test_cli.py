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


def run_module(*argv):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    return subprocess.run([sys.executable, "-m", "grpo_symbolic", *argv], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
@pytest.mark.parametrize("argv, fragment", [case[1:] for case in BAD_INPUT], ids=[case[0] for case in BAD_INPUT])
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
