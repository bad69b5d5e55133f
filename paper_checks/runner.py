"""Run the paper checks and report them: ``python -m paper_checks`` or ``grpo-symbolic check``.

Options: ``--dps N`` (digits, default 50), ``--only PATTERN`` (repeatable; a claim is selected when
the pattern matches its ID as an fnmatch glob, equals it, or is a prefix of it ending at a hyphen), ``--json FILE`` (the rows as a JSON
list), ``--list`` (the claims and whether each has a check, without running anything),
``--certify`` (also run the certification checks of the selected claims, registered in
:data:`paper_checks.checks_certify.CERTIFICATIONS`, as extra rows ``<ID>:certified``; they need
python-flint, and without it one line says so and they are skipped), ``--quiet`` (no progress
counter: while a check runs, ``check 12/72: <ID>`` is shown on stderr when it is a terminal).
An option given twice is a usage error; a report that cannot be written (e.g. ``> /dev/full``)
ends as one line on stderr with exit code 2.

One table row is printed per claim as soon as its check has run; claims without a registered check
are FAILED rows ("no check registered"), and so are ``checks_*`` modules that fail to import.  The
report ends with the single line ``N passed, N failed``.  Before each check the derivation caches
(:func:`grpo_symbolic.model.caches.cached`) are cleared, so every check re-derives what it reads.  Exit code: 0 when nothing failed, 1 when
something failed, 2 for a usage error (reported as one line on stderr).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import sys
from typing import TYPE_CHECKING, Iterable, Sequence, TextIO

from grpo_symbolic.export.commandline import (
    CommandParser,
    Progress,
    UsageError,
    discard_stdout,
    replacing,
    shorten,
    writable_file,
)
from grpo_symbolic.model.caches import clear_caches
from grpo_symbolic.model.errors import ParameterError

if TYPE_CHECKING:  # the claims and the registry load SymPy: imported once the options are read
    from paper_checks.claims import Claim
    from paper_checks.registry import CheckResult, Registry

PROG = "python -m paper_checks"
MIN_DPS = 10


def make_parser(prog: str = PROG) -> argparse.ArgumentParser:
    """The runner's argument parser."""
    parser = CommandParser(prog=prog, description="Verify the paper's claims (one check per claim in paper_checks/claims.py; the slips are explained in docs/errata.md).")
    parser.add_argument("--dps", type=int, default=50, metavar="N",
                        help=f"working precision in decimal digits (default 50, at least {MIN_DPS})")
    parser.add_argument("--only", action="append", default=[], metavar="PATTERN",
                        help="run only claims whose ID matches PATTERN (glob, exact ID, or prefix such as eq14); repeatable")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON to FILE")
    parser.add_argument("--list", action="store_true", help="list the claims and their checks, run nothing")
    parser.add_argument("--certify", action="store_true",
                        help="also certify the selected claims' values in ball arithmetic (needs python-flint)")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress counter on stderr (it is shown only when stderr is a terminal)")
    return parser


CERTIFIED = ":certified"


def flint_available() -> bool:
    """True when python-flint, which the certification checks need, is installed."""
    from grpo_symbolic.numerics.certify import available

    return available()


def _default_registry() -> Registry:
    from paper_checks.registry import REGISTRY

    return REGISTRY


def _default_certifications() -> Registry:
    from paper_checks.checks_certify import CERTIFICATIONS

    return CERTIFICATIONS


def selected(claims: Iterable[Claim], patterns: Sequence[str]) -> list[Claim]:
    """The claims whose ID matches one of ``patterns`` (all claims when there are none).

    >>> from paper_checks.claims import Claim
    >>> claims = [Claim(i, "Sec. 9", "") for i in ("eq14-sqrt", "eq14-binary-g2", "slip-1", "slip-10")]
    >>> [c.id for c in selected(claims, ["eq14", "slip-1"])]
    ['eq14-sqrt', 'eq14-binary-g2', 'slip-1']
    >>> [c.id for c in selected(claims, ["*-g2"])]
    ['eq14-binary-g2']
    """
    if not patterns:
        return list(claims)
    return [c for c in claims if any(_matches(c.id, p) for p in patterns)]


def _matches(claim_id: str, pattern: str) -> bool:
    """A glob (``eq14*``), an exact ID (``slip-1``, not slip-10), or an ID prefix ending at a hyphen (``eq14``)."""
    if any(ch in pattern for ch in "*?["):
        return fnmatch.fnmatchcase(claim_id, pattern)
    return claim_id == pattern or claim_id.startswith(pattern + "-")


def main(argv: Sequence[str] | None = None, *, registry: Registry | None = None, prog: str = PROG,
         out: TextIO | None = None, certifications: Registry | None = None) -> int:
    """Run the checks selected by ``argv`` and return the exit code (0 iff nothing failed).

    ``certifications`` is the registry of certification checks used by ``--certify`` (default:
    :data:`paper_checks.checks_certify.CERTIFICATIONS`).
    """
    out = sys.stdout if out is None else out
    try:
        args = _options(argv, prog)
        chosen = _default_registry() if registry is None else registry
        claims = _claims(args, chosen)
    except UsageError as exc:
        _error(prog, " ".join(str(exc).split()))
        return 2
    except _HelpShown as shown:
        return shown.code

    try:
        return _run(args, claims, chosen, certifications, out, prog)
    except OSError as exc:  # the report itself could not be written (e.g. > /dev/full)
        if out is sys.stdout:
            discard_stdout()
        _error(prog, f"cannot write the report: {exc.strerror or exc}")
        return 2


def _run(args: argparse.Namespace, claims: list[Claim], registry: Registry, certifications: Registry | None,
         out: TextIO, prog: str) -> int:
    registry.discover()
    certifications, certified = _certified_claims(args.certify, certifications, claims)
    if args.list:
        return _list(registry, claims, out, certified)
    progress = Progress("check", len(claims) + len(certified), quiet=args.quiet)
    table = _Table(claims, out, progress, suffix=CERTIFIED if certified else "")
    table.header()
    results = _run_checks(registry, claims, args.dps, table)
    results += _run_certifications(certifications, certified, args.dps, table, out)
    code = _report(results, out, args.json, prog)
    out.flush()
    return code


def _certified_claims(certify: bool, certifications: Registry | None,
                      claims: list[Claim]) -> tuple[Registry | None, list[Claim]]:
    """The certification registry and the selected claims it certifies (none without ``--certify``)."""
    if not certify:
        return certifications, []
    certifications = _default_certifications() if certifications is None else certifications
    return certifications, [c for c in claims if c.id in certifications.functions]


def _report(results: list[CheckResult], out: TextIO, json_path: str | None, prog: str) -> int:
    """Print the failures' details and the summary line, write ``--json``; the exit code."""
    failed = sum(not r.passed for r in results)
    _print_failure_details(results, out)
    code = 0 if failed == 0 else 1
    if json_path and not _write_json(json_path, results, prog):
        code = 2
    print(f"{len(results) - failed} passed, {failed} failed", file=out, flush=True)
    return code


class _HelpShown(Exception):
    def __init__(self, code: int):
        super().__init__(code)
        self.code = code


def _options(argv: Sequence[str] | None, prog: str) -> argparse.Namespace:
    """The parsed options; ``UsageError`` for a bad command line."""
    try:
        args = make_parser(prog).parse_args(sys.argv[1:] if argv is None else list(argv))
    except SystemExit as exc:  # --help
        raise _HelpShown(exc.code if isinstance(exc.code, int) else 0) from None
    if args.dps < MIN_DPS:
        raise UsageError(f"--dps: got {args.dps}; use at least {MIN_DPS} digits (a check passes at dps - 5)")
    from grpo_symbolic.numerics.precision import check_dps

    try:
        check_dps(args.dps)
        if args.json is not None:
            writable_file(args.json, "--json")  # before the checks run, not after
    except ParameterError as exc:
        raise UsageError(str(exc) if str(exc).startswith("--") else f"--{exc}") from None
    return args


def _claims(args: argparse.Namespace, registry: Registry) -> list[Claim]:
    """The claims selected by ``--only``; ``UsageError`` when none is."""
    claims = selected(registry.claims, args.only)
    if not claims:
        raise UsageError(f"--only {' '.join(args.only)}: no claim ID matches; see --list")
    return claims


def _error(prog: str, message: str) -> None:
    print(f"{prog.split()[0]}: error: {shorten(message)}", file=sys.stderr)


def _run_checks(registry: Registry, claims: list[Claim], dps: int, table: _Table) -> list[CheckResult]:
    """Rows for the modules that failed to import, then one per selected claim, each printed as it is run."""
    results = [_import_failure(module, error) for module, error in registry.import_errors]
    for result in results:
        table.row(result)
    for claim in claims:
        clear_caches()  # each check derives what it reads, not what an earlier check cached
        table.start(claim.id)
        results.append(registry.run(claim.id, dps))
        table.row(results[-1])
    return results


def _run_certifications(certifications: Registry | None, certified: list[Claim], dps: int, table: _Table,
                        out: TextIO) -> list[CheckResult]:
    """The ``<ID>:certified`` rows (none, after one line saying so, without python-flint)."""
    if not certified or certifications is None:
        return []
    if not flint_available():
        print(f"python-flint is not installed: {len(certified)} certification check(s) skipped "
              "(pip install 'grpo_symbolic[rigorous]')", file=out)
        return []
    results = []
    for claim in certified:
        clear_caches()
        table.start(claim.id + CERTIFIED)
        result = certifications.run(claim.id, dps)
        result.id += CERTIFIED
        results.append(result)
        table.row(result)
    return results


def _import_failure(module: str, error: str) -> CheckResult:
    from paper_checks.registry import CheckResult

    return CheckResult(f"<{module}>", "import", "a checks module must import", passed=False,
                       verdict="error: import failed", details=error)


def _print_failure_details(results: list[CheckResult], out: TextIO) -> None:
    for r in results:
        if not r.passed and r.details and r.verdict != "no check registered":
            print(f"  {r.id}: {r.details}", file=out)


def _write_json(path: str, results: list[CheckResult], prog: str) -> bool:
    """Write the rows as a JSON list to ``path``; False (after one line on stderr) if that fails."""
    text = json.dumps([r.as_json() for r in results], indent=2, ensure_ascii=False) + "\n"
    try:
        with replacing(path) as temporary:  # no half-written report
            temporary.write_text(text, encoding="utf-8")
    except OSError as exc:
        _error(prog, f"--json {path}: {exc.strerror or exc}")
        return False
    return True


def _list(registry: Registry, claims: list[Claim], out: TextIO, certified: Sequence[Claim] = ()) -> int:
    width = max(len(c.id) for c in claims) + (len(CERTIFIED) if certified else 0)
    for claim in claims:
        status = "check" if claim.id in registry.functions else "MISSING"
        print(f"{claim.id:<{width}}  {status:<7}  {claim.location}: {claim.statement}", file=out)
    for claim in certified:
        print(f"{claim.id + CERTIFIED:<{width}}  {'certify':<7}  {claim.location}: {claim.statement}", file=out)
    for module, error in registry.import_errors:
        print(f"<{module}> failed to import: {error}", file=out)
    return 0


class _Table:
    """The report's rows, with the progress counter (on stderr) showing the check being run."""

    def __init__(self, claims: list[Claim], out: TextIO, progress: Progress, suffix: str = ""):
        self.out, self.progress = out, progress
        self.id_width = max([len(c.id) + len(suffix) for c in claims] + [2])
        self.location_width = max([len(c.location) for c in claims] + [8])

    def _line(self, ident: str, location: str, result: str, shown: str, seconds: str) -> None:
        print(f"{ident:<{self.id_width}}  {location:<{self.location_width}}  {result:<6}  {shown:<24}  {seconds:>8}",
              file=self.out, flush=True)

    def start(self, ident: str) -> None:
        self.progress.start(ident)

    def header(self) -> None:
        self._line("ID", "LOCATION", "RESULT", "DIGITS/VERDICT", "SECONDS")

    def row(self, r: CheckResult) -> None:
        self.progress.clear()
        if r.digits is not None:
            shown = f"{r.digits:.1f} digits"
            if r.verdict is not None:
                shown += f", {r.verdict}"
        else:
            shown = r.verdict or ""
        self._line(r.id, r.location, "PASS" if r.passed else "FAILED", shown, f"{r.seconds:.2f}")
