"""Mutation testing of the core modules: ``python tools/mutate.py`` (see ``--help``).

Each mutant (one broken operator, constant, sqrt, sign or comparison on a mathematical line; see
:mod:`mutants`) is written into a temporary copy of the tree, one copy per worker, and judged by

1. the fast tests of the mutated module (its doctests, tests/<sub>/test_<module>.py and
   test_<module>_*.py, ``pytest -x``), then
2. the paper checks (``grpo-symbolic check``, stopping at the first failing check; the derivation
   caches are cleared before each check, so the order of the checks cannot change the verdict and
   the checks that killed mutants of the same module before are run first).

A mutant is *killed* when either fails or it runs past ``--timeout`` seconds (each mutant's processes
may use at most :data:`MEMORY` of address space), *equivalent* when it is
listed in ``tools/equivalent_mutants.txt`` (with the reason), and *survived* otherwise.  The kill
rate is killed / (mutants − equivalent), by module group.

Mutants are sampled deterministically: per group, ``--limit`` sites evenly spread over the group's
files in source order (``--limit 0``: every site).  ``--list`` prints the selected mutants without
running them; ``--readme`` writes the table into README.md's ``mutation`` block;
``--json FILE`` writes every mutant's verdict.
"""

from __future__ import annotations

import argparse
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
import json
import os
from pathlib import Path
import queue
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mutants import Mutant, mutants_of  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EQUIVALENT = ROOT / "tools" / "equivalent_mutants.txt"
COPIED = ("grpo_symbolic", "paper_checks", "tests", "tools", "conftest.py", "pyproject.toml")
PKG = "grpo_symbolic"

GROUPS = {
    "advantage": [f"{PKG}/theory/advantage.py"],
    "preference": [f"{PKG}/preference/engine.py"],
    "fast_preference": [f"{PKG}/preference/moments.py"],
    "penalty": [f"{PKG}/theory/penalty.py"],
    "objective": [f"{PKG}/theory/objective.py"],
    # workloads.py is left out: it builds the benchmarks' random inputs, it computes nothing
    "solve": [f"{PKG}/solve/{m}.py" for m in ("api", "binary_grid", "reduced", "search", "stability")],
    "paper_forms": [f"{PKG}/paper/forms.py"],
    "cases": [f"{PKG}/cases/{m}.py" for m in ("baselines", "binary", "bistability", "conventions",
                                                  "direct_kl", "general", "general_g", "shift_only")],
}
EXTRA_TESTS = {  # tests beyond tests/<subpackage>/test_<module>.py that exercise a module directly
    f"{PKG}/preference/engine.py": ["tests/preference/test_fast_paths.py"],
    f"{PKG}/preference/moments.py": ["tests/preference/test_fast_paths.py"],
    f"{PKG}/paper/forms.py": ["tests/paper/test_equations.py"],
    # the solver's code paths for the trainers' regularisers are exercised by the KL solver's tests
    f"{PKG}/solve/api.py": ["tests/solve/test_kl_solve.py"],
    f"{PKG}/solve/reduced.py": ["tests/solve/test_kl_solve.py"],
    f"{PKG}/solve/stability.py": ["tests/solve/test_kl_solve.py"],
}
SEP = " || "


@dataclass
class Verdict:
    """What happened to one mutant."""

    key: str
    group: str
    line: int
    status: str  # killed-tests, killed-checks, timeout, survived, equivalent
    by: str = ""
    seconds: float = 0.0


def group_of(path: str) -> str:
    return next(g for g, files in GROUPS.items() if path in files)


def tests_for(path: str) -> list[str]:
    """The fast tests of a module: its doctests, tests/<sub>/test_<name>.py, test_<name>_*.py and EXTRA_TESTS."""
    sub, name = Path(path).parent.name, Path(path).stem
    own = sorted((ROOT / "tests" / sub).glob(f"test_{name}.py")) + sorted((ROOT / "tests" / sub).glob(f"test_{name}_*.py"))
    return [path] + [str(t.relative_to(ROOT)) for t in own] + EXTRA_TESTS.get(path, [])


def select(groups: list[str], limit: int) -> list[Mutant]:
    """``limit`` mutants per group, evenly spread over its sites in source order (0: all)."""
    chosen = []
    for group in groups:
        sites = [m for path in GROUPS[group] for m in mutants_of(ROOT, path)]
        if limit and len(sites) > limit:
            sites = [sites[(2 * i + 1) * len(sites) // (2 * limit)] for i in range(limit)]
        chosen.extend(sites)
    return chosen


def read_equivalent(path: Path = EQUIVALENT) -> dict[str, str]:
    """{mutant key: reason} from the committed list (``key || reason`` lines; # comments)."""
    if not path.exists():
        return {}
    entries = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, reason = line.partition(SEP)
            entries[key.strip()] = reason.strip()
    return entries


def stale_equivalents(listed: dict[str, str], every: list[Mutant]) -> list[str]:
    """The listed keys that name no current mutant (their line was edited since)."""
    keys = {m.key for m in every}
    return [key for key in listed if key not in keys]


# --- running one mutant ---------------------------------------------------------------------------


#: Address space of one mutant's process (bytes): a mutant that makes a loop allocate without end
#: fails with MemoryError (killed) instead of taking the machine's memory.
MEMORY = 4 << 30


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def _run(command: list[str], cwd: Path, timeout: float) -> tuple[int | None, str]:
    """(exit code or None on timeout, last output lines) of ``command`` in its own process group."""
    env = dict(os.environ, PYTHONPATH=str(cwd), PYTHONDONTWRITEBYTECODE="1")
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, start_new_session=True, preexec_fn=_limit_memory)
    try:
        out, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return None, "timeout"
    return process.returncode, "\n".join(out.strip().splitlines()[-3:])


class Runner:
    """Judges mutants in worker copies of the tree; remembers which checks kill which group."""

    def __init__(self, jobs: int, timeout: float, dps: int) -> None:
        self.timeout, self.dps = timeout, dps
        self.copies: queue.Queue[Path] = queue.Queue()
        self.tmp = Path(tempfile.mkdtemp(prefix="grpo-mutate-"))
        for i in range(jobs):
            copy = self.tmp / f"worker{i}"
            copy.mkdir()
            for name in COPIED:
                source = ROOT / name
                if source.is_dir():
                    shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
                else:
                    shutil.copy2(source, copy / name)
            self.copies.put(copy)
        self.killers: dict[str, Counter[str]] = {g: Counter() for g in GROUPS}
        self.lock = threading.Lock()

    def close(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    def judge(self, mutant: Mutant | None, path: str) -> tuple[str, str]:
        """(status, by) of ``mutant`` (None: the unmutated tree) of the module ``path``."""
        copy = self.copies.get()
        target = copy / path
        original = target.read_text(encoding="utf-8")
        try:
            if mutant is not None:
                target.write_text(mutant.apply(original), encoding="utf-8")
            return self._stages(copy, path)
        finally:
            target.write_text(original, encoding="utf-8")
            self.copies.put(copy)

    def _stages(self, copy: Path, path: str) -> tuple[str, str]:
        deadline = time.monotonic() + self.timeout
        tests = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "--no-header", *tests_for(path)]
        code, out = _run(tests, copy, self.timeout)
        if code is None:
            return "timeout", "tests"
        if code not in (0, 5):  # 5: no test collected
            return "killed-tests", out.splitlines()[-1] if out else f"pytest exit {code}"
        group = group_of(path)
        with self.lock:
            first = [claim for claim, _ in self.killers[group].most_common()]
        checks = [sys.executable, str(copy / "tools" / "mutate.py"), "--checks", "--dps", str(self.dps), "--first", ",".join(first)]
        code, out = _run(checks, copy, max(deadline - time.monotonic(), 1))
        if code is None:
            return "timeout", "checks"
        if code != 0:
            killer = out.splitlines()[-1] if out else f"exit {code}"
            with self.lock:
                self.killers[group][killer] += 1
            return "killed-checks", killer
        return "survived", ""


def run_checks(dps: int, first: list[str]) -> int:
    """The paper checks in the current tree, ``first`` first, stopping at the first failure
    (whose ID is the last line printed); exit code 1 then, 0 when every check passes."""
    from grpo_symbolic.model.caches import clear_caches
    from paper_checks.registry import REGISTRY

    REGISTRY.discover()
    if REGISTRY.import_errors:
        print(f"<{REGISTRY.import_errors[0][0]}>")
        return 1
    ids = [c.id for c in REGISTRY.claims]
    for claim in [c for c in first if c in ids] + [c for c in ids if c not in first]:
        clear_caches()
        result = REGISTRY.run(claim, dps)
        if not result.passed:
            print(result.details[:300])
            print(claim)
            return 1
    return 0


# --- the report -----------------------------------------------------------------------------------


def table(verdicts: list[Verdict]) -> str:
    """The kill rate by module group as a Markdown table."""
    lines = ["| module group | mutants | killed by tests | killed by checks | timeout | equivalent | survived | kill rate |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    rows = [(g, [v for v in verdicts if v.group == g]) for g in GROUPS]
    for name, vs in rows + [("**all**", verdicts)]:
        if not vs:
            continue
        count = Counter(v.status for v in vs)
        killed = count["killed-tests"] + count["killed-checks"] + count["timeout"]
        judged = len(vs) - count["equivalent"]
        rate = f"{100 * killed / judged:.1f} %" if judged else "n/a"
        lines.append(f"| {name} | {len(vs)} | {count['killed-tests']} | {count['killed-checks']} | {count['timeout']} "
                     f"| {count['equivalent']} | {count['survived']} | {rate} |")
    return "\n".join(lines)


def write_readme(text: str) -> None:
    """Replace the README's block between ``<!-- generated: mutation -->`` and ``<!-- end: mutation -->``."""
    readme = ROOT / "README.md"
    current = readme.read_text(encoding="utf-8")
    start, end = "<!-- generated: mutation -->", "<!-- end: mutation -->"
    if start not in current or end not in current:
        raise SystemExit(f"README.md has no {start} block")
    head, rest = current.split(start, 1)
    readme.write_text(f"{head}{start}\n{text}\n{end}{rest.split(end, 1)[1]}", encoding="utf-8")


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python tools/mutate.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--modules", default=",".join(GROUPS), help=f"comma-separated groups (default: all: {', '.join(GROUPS)})")
    parser.add_argument("--limit", type=int, default=25, help="mutants per group, evenly spread (0: all; default 25)")
    parser.add_argument("--jobs", type=int, default=2, help="parallel workers (default 2)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per mutant before it counts as killed (default 300)")
    parser.add_argument("--dps", type=int, default=50, help="digits for the paper checks (default 50)")
    parser.add_argument("--list", action="store_true", help="list the selected mutants, run nothing")
    parser.add_argument("--json", metavar="FILE", help="write every mutant's verdict to FILE")
    parser.add_argument("--readme", action="store_true", help="write the table into README.md")
    parser.add_argument("--checks", action="store_true", help=argparse.SUPPRESS)  # the per-mutant check run
    parser.add_argument("--first", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    unknown = set(args.modules.split(",")) - set(GROUPS)
    if unknown:
        parser.error(f"--modules: unknown group(s) {', '.join(sorted(unknown))}; choose from {', '.join(GROUPS)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    if args.checks:
        return run_checks(args.dps, [c for c in args.first.split(",") if c])
    chosen = select(args.modules.split(","), args.limit)
    equivalent = read_equivalent()
    for key in stale_equivalents(equivalent, select(list(GROUPS), 0)):
        print(f"stale entry in {EQUIVALENT.name} (no such mutant now; remove it): {key}", file=sys.stderr)
    if args.list:
        for m in chosen:
            print(f"{m.path}:{m.line}  {m.kind}  {'[equivalent] ' if m.key in equivalent else ''}{m.key}")
        return 0
    verdicts = _run_all(chosen, equivalent, args)
    if verdicts is None:
        return 1
    report = table(verdicts)
    print(report)
    for v in verdicts:
        if v.status == "survived":
            print(f"SURVIVED {v.key}")
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(v) for v in verdicts], indent=1) + "\n", encoding="utf-8")
    if args.readme:
        write_readme(report)
    return 0


def _run_all(chosen: list[Mutant], equivalent: dict[str, str], args: argparse.Namespace) -> list[Verdict] | None:
    """Every mutant's verdict (None when the unmutated tree already fails)."""
    runner = Runner(args.jobs, args.timeout, args.dps)
    started = time.monotonic()
    try:
        status, by = runner.judge(None, chosen[0].path)
        if status != "survived":
            print(f"the unmutated tree fails ({status}: {by}); fix it first", file=sys.stderr)
            return None
        print(f"{len(chosen)} mutants; baseline run {time.monotonic() - started:.0f} s", flush=True)

        def one(m: Mutant) -> Verdict:
            if m.key in equivalent:
                return Verdict(m.key, group_of(m.path), m.line, "equivalent", equivalent[m.key])
            t0 = time.monotonic()
            status, by = runner.judge(m, m.path)
            v = Verdict(m.key, group_of(m.path), m.line, status, by, round(time.monotonic() - t0, 1))
            print(f"{v.status:<13} {v.seconds:6.1f}s  {m.path}:{m.line} {m.kind}  {by[-60:]}", flush=True)
            return v

        with ThreadPoolExecutor(args.jobs) as pool:
            verdicts = list(pool.map(one, chosen))
    finally:
        runner.close()
    print(f"{time.monotonic() - started:.0f} s in all", flush=True)
    return verdicts


if __name__ == "__main__":
    sys.exit(main())
