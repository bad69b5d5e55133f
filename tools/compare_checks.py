"""Compare two ``grpo-symbolic check --json`` reports: same IDs in the same order, same pass/verdict,
digits not lower; rows only in the new report are listed (new checks are appended).

Usage: ``python tools/compare_checks.py BASELINE.json NEW.json`` (exit 1 on a difference).
"""

from __future__ import annotations

import json
import sys


def differences(baseline: list[dict], new: list[dict]) -> list[str]:
    """One line per row of ``baseline`` that ``new`` lost, changed or lowered.

    >>> old = [{"id": "a", "passed": True, "verdict": "holds", "digits": 50.0}]
    >>> differences(old, [{"id": "a", "passed": True, "verdict": "holds", "digits": 49.0}])
    ['a: digits 50.0 -> 49.0']
    >>> differences(old, old + [{"id": "x-b", "passed": True, "verdict": None, "digits": None}])
    []
    """
    rows = {r["id"]: r for r in new}
    problems = []
    for old in baseline:
        row = rows.get(old["id"])
        if row is None:
            problems.append(f"{old['id']}: missing")
            continue
        for key in ("passed", "verdict"):
            if row[key] != old[key]:
                problems.append(f"{old['id']}: {key} {old[key]!r} -> {row[key]!r}")
        if old["digits"] is not None and (row["digits"] is None or row["digits"] < old["digits"]):
            problems.append(f"{old['id']}: digits {old['digits']} -> {row['digits']}")
    order = [r["id"] for r in new if r["id"] in {o["id"] for o in baseline}]
    if order != [o["id"] for o in baseline if o["id"] in rows]:
        problems.append("the baseline's IDs are in another order")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    with open(argv[0], encoding="utf-8") as a, open(argv[1], encoding="utf-8") as b:
        baseline, new = json.load(a), json.load(b)
    problems = differences(baseline, new)
    added = [r["id"] for r in new if r["id"] not in {o["id"] for o in baseline}]
    for line in problems:
        print(line)
    print(f"{len(baseline)} baseline rows, {len(problems)} differences; new rows: {', '.join(added) or 'none'}; "
          f"all passed: {all(r['passed'] for r in new)}")
    return 1 if problems or not all(r["passed"] for r in new) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
