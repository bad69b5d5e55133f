"""The docs site's claim list: every check's ID, location, statement, verdict and digits, from a report."""

from __future__ import annotations

from typing import Any, Sequence


def _cell(text: Any) -> str:
    """Text for one Markdown table cell: no "|" or line break can split it."""
    return " ".join(str(text).split()).replace("|", "\\|")


def claims_page(report: Sequence[dict[str, Any]], source: str) -> str:
    """The Markdown page: a summary line and one table row per check of ``report``.

    >>> row = dict(id="eq17", location="App. B, eq. (17)", statement="a | b", passed=True, digits=50.0,
    ...            verdict="holds", seconds=0.1)
    >>> print(claims_page([row], "a test").splitlines()[-1])
    | `eq17` | App. B, eq. (17) | a \\| b | holds | 50 | 0.1 |
    """
    passed = sum(bool(row["passed"]) for row in report)
    lines = [
        "# The claims and their checks",
        "",
        f"Every claim of the paper that `grpo-symbolic check` verifies, with the verdict and the digits of "
        f"agreement of its check, from {source}: {passed} of {len(report)} checks pass. The claims are listed in "
        "`paper_checks/claims.py`; the slips (`slip-N`) are explained in the [errata](../errata.md). "
        "*Digits* is how many decimal digits the compared quantities agree to (50 is the precision asked for; "
        "symbolic identities report the full precision).",
        "",
        "| ID | where | claim | verdict | digits | seconds |",
        "|---|---|---|---|---|---|",
    ]
    for row in report:
        digits = "—" if row.get("digits") is None else f"{float(row['digits']):g}"
        verdict = row["verdict"] if row["passed"] else f"**FAILED** ({row['verdict']})"
        lines.append(f"| `{_cell(row['id'])}` | {_cell(row['location'])} | {_cell(row['statement'])} | "
                     f"{_cell(verdict)} | {digits} | {float(row.get('seconds') or 0):g} |")
    return "\n".join(lines) + "\n"
