"""``python -m grpo_symbolic.trainers``: run every case on TRL's real GRPOTrainer and print the table.

The table goes to stdout and to ``benchmarks/trainers_results.md`` (``--out`` to change, ``--out -``
for none); progress goes to stderr when it is a terminal.  ``--cases`` picks cases by name,
``--list`` prints them.  Exit status 1 if a case fails the pass rule (|Δ prediction| < 4 s.e. and
|Δ RLHF| > 20 s.e.).

>>> [case.name for case in CASES]
['binary k3', 'binary IS-k3', '3 outputs stochastic', 'Bessel G=2', 'scale_rewards none']
"""

import argparse
import platform
import sys
import time
from typing import Any

from grpo_symbolic.trainers.compare import PASS_PREDICTION_SE, PASS_RLHF_SE, Case, compare, format_table
from grpo_symbolic.trainers.trl_run import TRLSettings

BINARY: dict[str, Any] = dict(reference=("0.3", "0.7"), rewards=(1, 0), beta="0.5")

#: Issue 13's cases.  Steps, burn-in and learning rates come from trial runs: the s.e. of the tail
#: average hardly depends on the rate (fluctuations grow as the rate, the correlation time τ
#: shrinks as 1/rate), the rate's O(lr) bias must stay below the s.e., and a batch (a tenth of the
#: tail) must be several τ long: τ ≈ 20-50 steps at lr 0.01, ≈ 90 for IS-k3 at lr 0.05.
CASES = (
    Case("binary k3", TRLSettings(**BINARY, group_size=8, groups=16, learning_rate=0.01, steps=2200),
         burn_in=200, alternative=("population std", {"normalisation": "population"})),
    Case("binary IS-k3", TRLSettings(**BINARY, group_size=8, groups=16, use_bias_correction_kl=True,
                                     learning_rate=0.1, steps=2500),
         burn_in=300, alternative=("k3 (IS off)", {"penalty": "grpo"})),
    Case("3 outputs stochastic",
         TRLSettings(reference=("0.2", "0.3", "0.5"), rewards=({1: "0.8", 0: "0.2"}, {1: "0.5", 0: "0.5"}, 0),
                     beta="0.5", group_size=8, groups=16, learning_rate=0.01, steps=2700),
         burn_in=200, alternative=("population std", {"normalisation": "population"})),
    Case("Bessel G=2", TRLSettings(**BINARY, group_size=2, groups=64, learning_rate=0.01, steps=2200),
         burn_in=200, alternative=("population std", {"normalisation": "population"})),
    Case("scale_rewards none", TRLSettings(**BINARY, group_size=8, groups=16, scale_rewards="none",
                                           learning_rate=0.01, steps=2700),
         burn_in=200, alternative=("Bessel std", {"normalisation": "sample"})),
)


def run_case(case, progress=None):
    """Run ``case`` on TRL and return its :class:`~grpo_symbolic.trainers.compare.Comparison`."""
    from grpo_symbolic.trainers.trl_run import run_trl

    record = run_trl(case.settings, label=case.name, progress=progress)
    return compare(case, record.policies, seconds=record.seconds, versions=record.versions)


def report(comparisons, seconds, versions):
    """The Markdown report: command, versions, the table and the pass rule."""
    lines = [
        "# TRL's real GRPOTrainer on a one-token bandit, against the package",
        "",
        "Produced by `python -m grpo_symbolic.trainers` "
        f"(trl {versions.get('trl', '?')}, transformers {versions.get('transformers', '?')}, "
        f"torch {versions.get('torch', '?')}, Python {platform.python_version()}, CPU); "
        f"{seconds:.0f} s in all.",
        "",
        format_table(comparisons),
        "",
        f"Pass: |measured − prediction| < {PASS_PREDICTION_SE} s.e. and |measured − RLHF| > {PASS_RLHF_SE} s.e. "
        "Policies list π of every output but the last; the distance is that of the component farthest "
        "from the target in standard errors (batch means over 10 consecutive batches of the tail). "
        "τ is the integrated autocorrelation time of π(first output) over the tail: a batch should be "
        "several τ long for its s.e. to hold.",
        "",
    ]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m grpo_symbolic.trainers", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", nargs="+", metavar="NAME", help="run only these cases (see --list)")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument("--out", default="benchmarks/trainers_results.md",
                        help="file for the Markdown report ('-' for none; default %(default)s)")
    args = parser.parse_args(argv)
    if args.list:
        for case in CASES:
            print(f"{case.name}: {case.describe()}")
        return 0
    chosen: tuple[Case, ...] = CASES
    if args.cases:
        known = {case.name: case for case in CASES}
        unknown = [name for name in args.cases if name not in known]
        if unknown:
            parser.error(f"--cases: unknown {', '.join(map(repr, unknown))}; the cases are "
                         f"{', '.join(map(repr, known))}")
        chosen = tuple(known[name] for name in args.cases)
    from grpo_symbolic.trainers.bandit import require_trainers

    try:
        require_trainers()
    except ImportError as exc:
        print(f"python -m grpo_symbolic.trainers: {exc}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    comparisons = [run_case(case) for case in chosen]
    text = report(comparisons, time.perf_counter() - started, comparisons[0].versions)
    print(text)
    if args.out != "-":
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(text)
        print(f"written to {args.out}", file=sys.stderr)
    return 0 if all(c.passed for c in comparisons) else 1


if __name__ == "__main__":
    raise SystemExit(main())
