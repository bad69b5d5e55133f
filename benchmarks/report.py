"""Pieces of benchmarks/run.py: the many-value workloads, the gmpy2 worker and the README writer.

``python benchmarks/run.py --worker TASK`` times one task in a fresh process (run.py calls it twice
per row, with and without ``MPMATH_NOGMPY=1``); ``write_readme`` puts one run's tables into
README.md between ``<!-- generated: performance -->`` and ``<!-- end: performance -->``.
"""

from fractions import Fraction
import math
import os
import platform
import random
import re
import subprocess
import sys
import time

import mpmath

from grpo_symbolic import Problem
from grpo_symbolic.numerics.certify import available as flint_available
from grpo_symbolic.preference.engine import preference_numeric
from grpo_symbolic.solve.api import stationary_policy
from grpo_symbolic.solve.search import SolverOptions

MANY_VALUE_OPTIONS = SolverOptions(multistart=(0.0,))
"""Many reward values: one multistart point (3^(V − 1) by default) — the row times the evaluations."""


def values_problem(V, G):
    """V outputs with deterministic rewards 0 … V − 1 and π_ref ∝ 1 … V (the policy evaluated)."""
    total = V * (V + 1) // 2
    policy = [Fraction(k + 1, total) for k in range(V)]
    return Problem(reference=policy, rewards=list(range(V)), group_size=G, beta=1), policy


def many_valued_outputs(K, V, G):
    """K outputs, each with a seeded random law over the rewards 0 … V − 1."""
    rng = random.Random(7)
    weights = [rng.randint(1, 9) for _ in range(K)]
    laws = []
    for _ in range(K):
        w = [rng.randint(0, 9) for _ in range(V)]
        w[rng.randrange(V)] += 1
        laws.append({str(v): Fraction(x, sum(w)) for v, x in enumerate(w) if x})
    return Problem(reference=[Fraction(w, sum(weights)) for w in weights], rewards=laws, group_size=G, beta="1/2")


def worker(task):
    """Time one task fresh (``pg:V:G:dps`` or ``solve:K:V:G:dps``, CPU seconds) and print ``seconds=…``."""
    kind, *numbers = task.split(":")
    sizes = [int(x) for x in numbers]
    start = time.process_time()
    if kind == "pg":
        prob, policy = values_problem(*sizes[:2])
        preference_numeric(prob, policy, sizes[2], budget=math.inf)
    else:
        prob = many_valued_outputs(*sizes[:3])
        stationary_policy(prob, sizes[3], options=MANY_VALUE_OPTIONS, budget=math.inf)
    print(f"seconds={time.process_time() - start!r} backend={mpmath.libmp.BACKEND}")


def gmpy_speedup(task, took, root, script):
    """Pure-Python time / gmpy2 time of ``task`` (both fresh, in subprocesses of ``script``), or None
    when gmpy2 is not installed here or the row took more than 30 s (not run three times over)."""
    if mpmath.libmp.BACKEND != "gmpy" or took > 30:
        return None
    times = []
    for nogmpy in (False, True):
        env = dict(os.environ, **({"MPMATH_NOGMPY": "1"} if nogmpy else {}))
        done = subprocess.run([sys.executable, script, "--worker", task], cwd=root, env=env, capture_output=True, text=True)
        found = re.search(r"seconds=([0-9.e+-]+)", done.stdout)
        if not found:
            return None
        times.append(float(found.group(1)))
    return times[1] / times[0]


def machine():
    """The machine line of the report."""
    return (f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"mpmath backend {mpmath.libmp.BACKEND}, python-flint {'yes' if flint_available() else 'no'}")


def write_readme(path, title, rows, growth, targets, seconds):
    """Rewrite the section between <!-- generated: performance --> and <!-- end: performance -->
    of ``path`` with the run's rows, growth exponents and targets (``seconds`` formats a time)."""
    lines = [title, "", "| row | ours | alternative | alternative time | ratio | note |", "|---|---|---|---|---|---|"]
    for name, ours, alternative, alt, extrapolated, ratio, note in rows:
        lines.append(f"| {name or '〃'} | {seconds(ours)} | {alternative} | {seconds(alt, extrapolated)} | "
                     f"{ratio:.3g}× | {note.strip('; ')} |")
    lines += ["", "| growth of (time ∝ size^e) | predicted | measured |", "|---|---|---|"]
    lines += [f"| {name} | {predicted} | {measured:.2f} |" for name, predicted, measured in growth]
    lines += ["", "| target | measured | measured / target |", "|---|---|---|"]
    lines += [f"| {name} | {shown or 'not measured'} | "
              f"{'—' if ratio is None else f'{ratio:.3g} ' + ('(met)' if ratio <= 1 else '(NOT met)')} |"
              for name, shown, ratio in targets]
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    pattern = re.compile(r"(<!-- generated: performance -->\n).*?(<!-- end: performance -->)", re.DOTALL)
    if not pattern.search(text):
        raise SystemExit(f"{path} has no <!-- generated: performance --> section")
    text = pattern.sub(lambda found: found.group(1) + "\n".join(lines) + "\n" + found.group(2), text)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
