"""The paper-check framework on a fake registry (nothing is registered in the real one)."""

import io
import json
import re

from grpo_symbolic.numerics.precision import mpx
import pytest

from paper_checks import runner
from paper_checks.claims import CLAIMS, CLAIMS_BY_ID, Claim
from paper_checks.registry import (
    REGISTRY, CheckResult, Outcome, Registry, agreement, combine, digits_of_agreement, symbolic,
)

FAKE_CLAIMS = (
    Claim("fake-pass", "Sec. 9, eq. (99)", "a claim that holds"),
    Claim("fake-fail", "Sec. 9", "a claim that does not hold"),
    Claim("fake-raise", "App. Z", "a check that raises"),
    Claim("fake-symbolic", "Sec. 9", "an exact verdict"),
    Claim("fake-missing", "Sec. 9", "a claim nobody checks yet"),
)

SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed$")


class FakeRegistry(Registry):
    """A registry of fake checks that also records what they saw (``seen``)."""

    seen: dict


def fake_registry(missing=True):
    registry = FakeRegistry(claims=FAKE_CLAIMS if missing else FAKE_CLAIMS[:-1], package=None)
    seen: dict = {}

    @registry.check("fake-pass")
    def _pass(dps):
        seen["dps"] = (dps, mpx.dps)
        return agreement(mpx.sqrt(2) ** 2, 2, dps, what="sqrt(2)^2 against 2")

    @registry.check("fake-fail")
    def _fail(dps):
        return agreement(mpx.mpf(1) / 3, "0.3333333333", dps)

    @registry.check("fake-raise")
    def _raise(dps):
        raise ZeroDivisionError("boom")

    @registry.check("fake-symbolic")
    def _symbolic(dps):
        return [symbolic(True, "x - x == 0"), agreement(1, 1, dps)]

    registry.seen = seen
    return registry


def run(argv, registry):
    out = io.StringIO()
    code = runner.main(argv, registry=registry, out=out)
    return code, out.getvalue()


def rows(text):
    return {line.split()[0]: line for line in text.splitlines()[1:] if line and not line.startswith(" ")
            and not SUMMARY.match(line)}


def test_full_run_reports_every_claim_and_ends_with_summary():
    registry = fake_registry()
    code, text = run(["--dps", "30"], registry)
    assert code == 1
    lines = text.splitlines()
    assert lines[0].split()[:2] == ["ID", "LOCATION"]
    summary = SUMMARY.match(lines[-1])
    assert summary and summary.groups() == ("2", "3")
    assert sum(bool(SUMMARY.match(line)) for line in lines) == 1
    table = rows(text)
    assert set(table) == {c.id for c in FAKE_CLAIMS}
    assert "PASS" in table["fake-pass"] and "30.0 digits" in table["fake-pass"]
    assert "Sec. 9, eq. (99)" in table["fake-pass"]
    assert "FAILED" in table["fake-fail"] and "10.0 digits" in table["fake-fail"]
    assert "FAILED" in table["fake-raise"] and "ZeroDivisionError" in table["fake-raise"]
    assert "PASS" in table["fake-symbolic"] and "holds" in table["fake-symbolic"]
    assert "FAILED" in table["fake-missing"] and "no check registered" in table["fake-missing"]
    assert "boom" in text  # the exception's message is shown under the table
    assert registry.seen["dps"] == (30, 30)  # the check ran inside workdps(30)


def test_exit_code_zero_when_everything_passes():
    code, text = run(["--dps", "20", "--only", "fake-pass", "--only", "fake-symbolic"], fake_registry())
    assert code == 0
    assert text.splitlines()[-1] == "2 passed, 0 failed"


def test_only_restricts_missing_claims_too():
    code, text = run(["--only", "fake-p*"], fake_registry())
    assert code == 0 and set(rows(text)) == {"fake-pass"}
    code, text = run(["--only", "fake-missing"], fake_registry())  # exact ID
    assert code == 1 and set(rows(text)) == {"fake-missing"}
    assert text.splitlines()[-1] == "0 passed, 1 failed"
    code, text = run(["--only", "fake"], fake_registry())  # a prefix ending at a hyphen
    assert "fake-missing" in set(rows(text))


def test_only_does_not_match_inside_an_id():
    """``slip-1`` must not select ``slip-10``: plain patterns are IDs or hyphen-ended prefixes."""
    from paper_checks.runner import _matches

    assert _matches("slip-1", "slip-1") and not _matches("slip-10", "slip-1")
    assert _matches("eq14-sqrt", "eq14") and not _matches("eq14-sqrt", "sqrt")
    assert _matches("slip-10", "slip-1*")


def test_no_check_registered_fails_the_run():
    code, _ = run([], fake_registry(missing=False))
    assert code == 1  # fake-fail and fake-raise
    code, text = run(["--only", "fake-missing"], fake_registry())
    assert code == 1 and "no check registered" in text


def test_only_matching_nothing_is_a_usage_error(capsys):
    code, text = run(["--only", "nothing-like-this"], fake_registry())
    assert code == 2 and text == ""
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "error:" in err


@pytest.mark.parametrize("argv", [["--dps", "abc"], ["--dps", "3"], ["--frobnicate"]])
def test_usage_errors_are_one_line(argv, capsys):
    code, text = run(argv, fake_registry())
    err = capsys.readouterr().err
    assert code == 2 and text == "" and len(err.splitlines()) == 1 and "Traceback" not in err


def test_json_report(tmp_path):
    path = tmp_path / "report.json"
    code, _ = run(["--dps", "25", "--json", str(path)], fake_registry())
    assert code == 1
    data = json.loads(path.read_text())
    assert [d["id"] for d in data] == [c.id for c in FAKE_CLAIMS]
    for d in data:
        assert set(d) == {"id", "location", "statement", "passed", "digits", "verdict", "seconds", "details"}
    by_id = {d["id"]: d for d in data}
    assert by_id["fake-pass"]["passed"] is True and by_id["fake-pass"]["digits"] == 25.0
    assert by_id["fake-pass"]["location"] == "Sec. 9, eq. (99)"
    assert by_id["fake-pass"]["statement"] == "a claim that holds"
    assert by_id["fake-fail"]["passed"] is False and by_id["fake-fail"]["digits"] == 10.0
    assert by_id["fake-raise"]["passed"] is False and "boom" in by_id["fake-raise"]["details"]
    assert by_id["fake-symbolic"]["verdict"] == "holds"
    assert by_id["fake-missing"]["verdict"] == "no check registered"
    assert all(isinstance(d["seconds"], float) for d in data)


def test_list_runs_nothing():
    registry = fake_registry()
    code, text = run(["--list"], registry)
    assert code == 0 and "dps" not in registry.seen
    assert "fake-missing" in text and "MISSING" in text and "fake-pass" in text


def test_check_returning_wrong_type_fails():
    registry = Registry(claims=FAKE_CLAIMS, package=None)
    registry.check("fake-pass")(lambda dps: True)
    result = registry.run("fake-pass", 20)
    assert isinstance(result, CheckResult) and not result.passed and "agreement" in result.details


def test_unknown_claim_id_is_an_error():
    registry = Registry(claims=FAKE_CLAIMS, package=None)
    with pytest.raises(ValueError, match="unknown claim ID"):
        registry.check("not-a-claim")


def test_second_check_for_one_claim_is_an_error():
    registry = fake_registry()
    with pytest.raises(ValueError, match="already has a check"):
        registry.check("fake-pass")(lambda dps: symbolic(True, ""))


def test_failed_import_of_a_checks_module_is_a_failed_row(tmp_path, monkeypatch):
    package = tmp_path / "fake_checks_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "checks_broken.py").write_text("raise RuntimeError('cannot import me')\n")
    (package / "checks_fine.py").write_text("FINE = True\n")
    (package / "helpers.py").write_text("raise RuntimeError('not a checks module: never imported')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = Registry(claims=FAKE_CLAIMS, package="fake_checks_pkg")
    code, text = run(["--only", "fake-missing"], registry)
    assert code == 1
    assert "fake_checks_pkg.checks_broken" in text and "cannot import me" in text
    assert "never imported" not in text
    assert text.splitlines()[-1] == "0 passed, 2 failed"


def test_real_registry_knows_every_claim():
    assert REGISTRY.claims == CLAIMS
    assert set(REGISTRY.functions) <= set(CLAIMS_BY_ID)


def test_digits_of_agreement():
    with mpx.workdps(50):
        assert digits_of_agreement(mpx.pi, mpx.pi, 50) == 50.0
        assert digits_of_agreement(mpx.pi, mpx.pi * (1 + mpx.mpf(10) ** -20), 50) == pytest.approx(20, abs=0.01)
        assert digits_of_agreement(3, 1, 50) == 0.0  # floored at 0
        assert digits_of_agreement(mpx.mpf(10) ** -60, 0, 50) < 50  # relative to 0: no agreement
        assert digits_of_agreement(mpx.mpf(10) ** -60, 0, 50, scale=1) == 50.0  # absolute: 60 → capped
    assert agreement(1, "1.000000000000000000000001", 30).passed is False  # 24 digits < 30 - 5
    assert agreement(1, "1.0000000000000000000000001", 30).passed is True  # 25 digits, read beyond 15
    with pytest.raises(ValueError):
        agreement([1, 2], [1], 30)


def test_combine():
    outcome = combine(agreement(1, 1, 30), agreement(1, "1.001", 30), symbolic(True, "ok"))
    assert isinstance(outcome, Outcome)
    assert outcome.passed is False and outcome.digits == pytest.approx(3, abs=0.01) and outcome.verdict == "holds"
    assert combine([symbolic(False, "no")]).verdict == "does not hold"


# --- --certify: certification checks as extra rows <ID>:certified ------------------------------


def fake_certifications():
    certifications = Registry(claims=FAKE_CLAIMS, package=None)

    @certifications.check("fake-pass")
    def _certified(dps):
        return Outcome(passed=True, digits=float(dps), verdict="certified", details="N(X) inside X")

    @certifications.check("fake-fail")
    def _not_certified(dps):
        return Outcome(passed=False, digits=3.0, verdict="not certified", details="no contraction")

    return certifications


def run_certify(argv, monkeypatch, flint=True):
    def available():
        if flint is None:
            raise AssertionError("flint_available() must not be called without --certify")
        return flint

    monkeypatch.setattr(runner, "flint_available", available)
    out = io.StringIO()
    code = runner.main(argv, registry=fake_registry(), out=out, certifications=fake_certifications())
    return code, out.getvalue()


def test_certify_adds_rows_for_selected_claims(monkeypatch):
    code, text = run_certify(["--certify", "--only", "fake-pass", "--only", "fake-symbolic"], monkeypatch)
    assert code == 0
    table = rows(text)
    assert set(table) == {"fake-pass", "fake-symbolic", "fake-pass:certified"}
    assert "PASS" in table["fake-pass:certified"] and "certified" in table["fake-pass:certified"]
    assert text.splitlines()[-1] == "3 passed, 0 failed"
    assert list(table).index("fake-pass:certified") == 2  # after the ordinary rows


def test_failed_certification_fails_the_run(monkeypatch):
    code, text = run_certify(["--certify", "--only", "fake-fail"], monkeypatch)
    assert code == 1
    assert "FAILED" in rows(text)["fake-fail:certified"]
    assert "fake-fail:certified: no contraction" in text
    assert text.splitlines()[-1] == "0 passed, 2 failed"


def test_certify_without_flint_skips_with_one_line(monkeypatch):
    code, text = run_certify(["--certify", "--only", "fake-p*", "--only", "fake-fail"], monkeypatch, flint=False)
    lines = text.splitlines()
    notes = [line for line in lines if "python-flint is not installed" in line]
    assert len(notes) == 1 and "2 certification check(s) skipped" in notes[0]
    assert not any(":certified" in line for line in lines)
    assert lines[-1] == "1 passed, 1 failed" and code == 1  # only fake-fail's ordinary check failed


def test_no_certify_flag_no_certification_rows(monkeypatch):
    code, text = run_certify(["--only", "fake-pass"], monkeypatch, flint=None)
    assert code == 0 and set(rows(text)) == {"fake-pass"}


def test_certify_with_nothing_to_certify_says_nothing(monkeypatch):
    code, text = run_certify(["--certify", "--only", "fake-symbolic"], monkeypatch, flint=False)
    assert code == 0 and "python-flint" not in text and set(rows(text)) == {"fake-symbolic"}


def test_certify_rows_in_json_and_list(monkeypatch, tmp_path):
    path = tmp_path / "report.json"
    run_certify(["--certify", "--only", "fake-pass", "--json", str(path)], monkeypatch)
    data = json.loads(path.read_text())
    assert [d["id"] for d in data] == ["fake-pass", "fake-pass:certified"]
    assert data[1]["verdict"] == "certified" and data[1]["location"] == "Sec. 9, eq. (99)"
    code, text = run_certify(["--certify", "--list"], monkeypatch, flint=None)
    assert code == 0 and "fake-pass:certified" in text and "fake-fail:certified" in text


def test_real_certification_of_eq14():
    pytest.importorskip("flint", reason="python-flint (the 'rigorous' extra) is not installed")
    code, text = run(["--certify", "--only", "eq14-binary-g2"], REGISTRY)
    table = rows(text)
    assert "eq14-binary-g2:certified" in table and "PASS" in table["eq14-binary-g2:certified"]
    assert SUMMARY.match(text.splitlines()[-1])
