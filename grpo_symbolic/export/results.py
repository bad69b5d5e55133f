"""The ``solve`` subcommand's output in three formats: ``table`` (for reading), ``json`` and ``csv``.

Outputs are labelled by the Problem's ``names``, or numbered from 1 when it has none; points are
numbered from 1.  Every number is printed with the requested ``dps`` significant digits as a
decimal string (never a binary float that would lose digits), except the spectral radius, which
the solver computes in float64.

JSON (schema ``grpo-symbolic/solve/1``), one object::

    {"schema": "grpo-symbolic/solve/1",
     "dps": 50,                                  # significant digits of every decimal string
                                                 # (trailing zeros dropped)
     "outputs": [{"output": 1, "name": "a" | null, "pi_ref": "0.3"}, ...],
     "points": [{"point": 1,
                 "pi_star": ["0.71...", "0.28..."],  # in the order of "outputs"
                 ...diagnostics...}],              # with --all: multiplier, residual (strings),
                                                   # spectral_radius (number), stable,
                                                   # is_local_maximum (booleans), face (the
                                                   # labels of outputs at pi_star = 0, space-
                                                   # separated; "" inside the simplex)
     "completeness": "..." | null}               # with --all: whether every point was found;
                                                 # with beta = 0 and no entropy (no interior
                                                 # point, exit 0): where the policy goes

CSV: a header, then one row per point and output: ``point,output,pi_ref,pi_star`` and, with
``--all``, the diagnostics as further columns.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from typing import Any

import mpmath

from grpo_symbolic.model.problem import Problem
from grpo_symbolic.numerics.precision import mpx, to_mpf, working_precision
from grpo_symbolic.solve.presentation import output_labels

SCHEMA = "grpo-symbolic/solve/1"


def render(fmt: str, problem: Problem, points: Sequence[Any], dps: int, completeness: Any = None) -> str:
    """The text ``solve`` prints: ``points`` (StationaryPoints, or one bare policy) in format ``fmt``.

    >>> import grpo_symbolic as gs
    >>> prob = gs.Problem(reference=["0.3", "0.7"], rewards=[1, 0], group_size=2, beta="0.5", names=["a", "b"])
    >>> print(render("table", prob, [gs.stationary_policy(prob, dps=10)], 10), end="")
    output	pi_ref	pi_star
    a	0.3	0.7109772229
    b	0.7	0.2890227771
    >>> print(render("csv", prob, [gs.stationary_policy(prob, dps=10)], 10), end="")
    point,output,pi_ref,pi_star
    1,a,0.3,0.7109772229
    1,b,0.7,0.2890227771
    """
    with working_precision(dps, guard=0):
        reference = [mpx.nstr(to_mpf(r), dps) for r in problem.reference]
    labels = output_labels(problem.names, len(reference))
    rows = [(list(getattr(p, "policy", p)), p.diagnostics() if hasattr(p, "diagnostics") else {}) for p in points]
    for _, diagnostics in rows:  # the face's outputs (π* = 0) by their labels
        if "face" in diagnostics:
            diagnostics["face"] = " ".join(labels[o] for o in diagnostics["face"])
    if fmt == "json":
        return _json(problem, reference, rows, dps, completeness)
    if fmt == "csv":
        return _csv(labels, reference, rows, dps)
    return _table(labels, reference, rows, dps, completeness)


def _decimal(value: Any, dps: int) -> Any:
    """A JSON/CSV value: mpf as a decimal string of ``dps`` digits, non-finite floats as strings."""
    if isinstance(value, mpmath.mpf):
        return mpx.nstr(value, dps)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return str(value)


def _json(problem: Problem, reference: list[str], rows: list[tuple[list[Any], dict[str, Any]]], dps: int,
          completeness: Any) -> str:
    outputs = [{"output": i, "name": None if problem.names is None else problem.names[i - 1], "pi_ref": ref}
               for i, ref in enumerate(reference, 1)]
    points = [{"point": n, "pi_star": [mpx.nstr(x, dps) for x in policy],
               **{name: _decimal(value, dps) for name, value in diagnostics.items()}}
              for n, (policy, diagnostics) in enumerate(rows, 1)]
    document = {"schema": SCHEMA, "dps": dps, "outputs": outputs, "points": points,
                "completeness": None if completeness is None else str(completeness)}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _csv(labels: Sequence[str], reference: list[str], rows: list[tuple[list[Any], dict[str, Any]]], dps: int) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    extra = list(rows[0][1]) if rows else []
    writer.writerow(["point", "output", "pi_ref", "pi_star", *extra])
    for n, (policy, diagnostics) in enumerate(rows, 1):
        shown = [_decimal(diagnostics[name], dps) for name in extra]
        for label, ref, x in zip(labels, reference, policy):
            writer.writerow([n, label, ref, mpx.nstr(x, dps), *["" if v is None else v for v in shown]])
    return buffer.getvalue()


def _table(labels: Sequence[str], reference: list[str], rows: list[tuple[list[Any], dict[str, Any]]], dps: int,
           completeness: Any) -> str:
    lines: list[str] = []
    for n, (policy, diagnostics) in enumerate(rows, 1):
        if diagnostics:
            if n > 1:
                lines.append("")
            radius = diagnostics.get("spectral_radius")
            lines.append(f"# stationary policy {n} of {len(rows)}: stable={diagnostics.get('stable')} "
                         f"spectral_radius={'None' if radius is None else f'{radius:.{min(dps, 15)}g}'}")
            if diagnostics.get("face"):
                lines.append(f"# a face point: pi_star = 0 for output(s) {diagnostics['face']} (KKT boundary)")
        lines.append("output\tpi_ref\tpi_star")
        lines += [f"{label}\t{ref}\t{mpx.nstr(x, dps)}" for label, ref, x in zip(labels, reference, policy)]
    if completeness is not None:
        lines.append(f"# {completeness}")
    return "\n".join(lines) + "\n"
