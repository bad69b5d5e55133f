"""Run the paper checks and report them: ``python -m paper_checks`` or ``grpo-symbolic check``.

Options: ``--dps N`` (digits, default 50), ``--only PATTERN`` (repeatable; a claim is selected when
the pattern matches its ID as an fnmatch glob, equals it, or is a prefix of it ending at a hyphen), ``--json FILE`` (the rows as a JSON
list), ``--list`` (the claims and whether each has a check, without running anything),
``--certify`` (also run the certification checks of the selected claims, registered in
:data:`paper_checks.checks_certify.CERTIFICATIONS`, as extra rows ``<ID>:certified``; they need
python-flint, and without it one line says so and they are skipped).

One table row is printed per claim as soon as its check has run; claims without a registered check
are FAILED rows ("no check registered"), and so are ``checks_*`` modules that fail to import.  The
report ends with the single line ``N passed, N failed``.  Exit code: 0 when nothing failed, 1 when
something failed, 2 for a usage error (reported as one line on stderr).
"""

import argparse
import fnmatch
import json
import sys

from .registry import REGISTRY, CheckResult

PROG = "python -m paper_checks"
MIN_DPS = 10


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise _UsageError(message)


def make_parser(prog=PROG):
    """The runner's argument parser."""
    parser = _Parser(prog=prog, description="Verify the paper's claims (one check per claim in claims.md).")
    parser.add_argument("--dps", type=int, default=50, metavar="N",
                        help=f"working precision in decimal digits (default 50, at least {MIN_DPS})")
    parser.add_argument("--only", action="append", default=[], metavar="PATTERN",
                        help="run only claims whose ID matches PATTERN (glob, exact ID, or prefix such as eq14); repeatable")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON to FILE")
    parser.add_argument("--list", action="store_true", help="list the claims and their checks, run nothing")
    parser.add_argument("--certify", action="store_true",
                        help="also certify the selected claims' values in ball arithmetic (needs python-flint)")
    return parser


CERTIFIED = ":certified"


def flint_available():
    """True when python-flint, which the certification checks need, is installed."""
    from grpo_symbolic.numerics.certify import available

    return available()


def _default_certifications():
    from .checks_certify import CERTIFICATIONS

    return CERTIFICATIONS


def selected(claims, patterns):
    """The claims whose ID matches one of ``patterns`` (all claims when there are none)."""
    if not patterns:
        return list(claims)
    return [c for c in claims if any(_matches(c.id, p) for p in patterns)]


def _matches(claim_id, pattern):
    """A glob (``eq14*``), an exact ID (``slip-1``, not slip-10), or an ID prefix ending at a hyphen (``eq14``)."""
    if any(ch in pattern for ch in "*?["):
        return fnmatch.fnmatchcase(claim_id, pattern)
    return claim_id == pattern or claim_id.startswith(pattern + "-")


def main(argv=None, *, registry=None, prog=PROG, out=None, certifications=None):
    """Run the checks selected by ``argv`` and return the exit code (0 iff nothing failed).

    ``certifications`` is the registry of certification checks used by ``--certify`` (default:
    :data:`paper_checks.checks_certify.CERTIFICATIONS`).
    """
    registry = REGISTRY if registry is None else registry
    out = sys.stdout if out is None else out
    try:
        try:
            args = make_parser(prog).parse_args(sys.argv[1:] if argv is None else list(argv))
        except SystemExit as exc:  # --help
            return exc.code if isinstance(exc.code, int) else 0
        if args.dps < MIN_DPS:
            raise _UsageError(f"--dps: got {args.dps}; use at least {MIN_DPS} digits (a check passes at dps - 5)")
        claims = selected(registry.claims, args.only)
        if not claims:
            raise _UsageError(f"--only {' '.join(args.only)}: no claim ID matches; see --list")
    except _UsageError as exc:
        print(f"{prog.split()[0]}: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2

    registry.discover()
    certified = []
    if args.certify:
        certifications = _default_certifications() if certifications is None else certifications
        certified = [c for c in claims if c.id in certifications.functions]
    if args.list:
        return _list(registry, claims, out, certified)

    results = []
    table = _Table(claims, out, suffix=CERTIFIED if certified else "")
    table.header()
    for module, error in registry.import_errors:
        result = CheckResult(f"<{module}>", "import", "a checks module must import", passed=False,
                             verdict="error: import failed", details=error)
        results.append(result)
        table.row(result)
    for claim in claims:
        result = registry.run(claim.id, args.dps)
        results.append(result)
        table.row(result)
    if certified and not flint_available():
        print(f"python-flint is not installed: {len(certified)} certification check(s) skipped "
              "(pip install 'grpo_symbolic[rigorous]')", file=out)
    elif certified:
        for claim in certified:
            result = certifications.run(claim.id, args.dps)
            result.id += CERTIFIED
            results.append(result)
            table.row(result)

    failed = sum(not r.passed for r in results)
    for r in results:
        if not r.passed and r.details and r.verdict != "no check registered":
            print(f"  {r.id}: {r.details}", file=out)
    code = 0 if failed == 0 else 1
    if args.json:
        try:
            with open(args.json, "w", encoding="utf-8") as handle:
                json.dump([r.as_json() for r in results], handle, indent=2, ensure_ascii=False)
                handle.write("\n")
        except OSError as exc:
            print(f"{prog.split()[0]}: error: --json {args.json}: {exc.strerror or exc}", file=sys.stderr)
            code = 2
    print(f"{len(results) - failed} passed, {failed} failed", file=out, flush=True)
    return code


def _list(registry, claims, out, certified=()):
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
    def __init__(self, claims, out, suffix=""):
        self.out = out
        self.id_width = max([len(c.id) + len(suffix) for c in claims] + [2])
        self.location_width = max([len(c.location) for c in claims] + [8])

    def _line(self, ident, location, result, shown, seconds):
        print(f"{ident:<{self.id_width}}  {location:<{self.location_width}}  {result:<6}  {shown:<24}  {seconds:>8}",
              file=self.out, flush=True)

    def header(self):
        self._line("ID", "LOCATION", "RESULT", "DIGITS/VERDICT", "SECONDS")

    def row(self, r):
        if r.digits is not None:
            shown = f"{r.digits:.1f} digits"
            if r.verdict is not None:
                shown += f", {r.verdict}"
        else:
            shown = r.verdict or ""
        self._line(r.id, r.location, "PASS" if r.passed else "FAILED", shown, f"{r.seconds:.2f}")
