"""Command line: ``grpo-symbolic solve | check | latex | figures`` (also ``python -m grpo_symbolic``).

Numbers on the command line are handed to :class:`~grpo_symbolic.model.problem.Problem` as strings and
read there with :class:`fractions.Fraction`; nothing typed by the user is ever evaluated.

Exit codes and messages:

- a package error (:class:`~grpo_symbolic.model.errors.GrpoSymbolicError`: ``ParameterError``,
  ``SolverError``), a usage error, or a file the system refuses (``OSError``) ends as ONE line
  ``grpo-symbolic: error: <message>`` on stderr with exit code 2;
- any other exception is a bug: ``grpo-symbolic: internal error: <type>: <message> (run with
  --debug for the traceback)`` with exit code 1;
- a computation too large for the machine (``MemoryError``, ``OverflowError``) also ends with
  exit code 2 and one line saying what to reduce;
- the global option ``--debug`` (before the command) also prints the traceback.

Echoed input is cut short in messages (a 100,000-digit ``--beta`` is not printed back); an option
given twice is a usage error (not silently the last one); output paths are checked before any work
and files are written to a temporary name and renamed (nothing half-written on failure).

Start-up: SymPy, numpy and mpmath are imported only by the subcommand that needs them, so
``--help`` and usage errors answer at once.  ``check``, ``latex`` and ``figures`` show a counter on
stderr when it is a terminal (``--quiet`` turns it off).

``solve`` prints, with ``--format``: ``table`` (default; tab-separated), ``json`` (schema
``grpo-symbolic/solve/1``, every number a decimal string of ``--dps`` digits) or ``csv``, described
in :mod:`grpo_symbolic.export.results`.  Outputs are labelled by ``--names`` or numbered from 1.

Reward laws: outputs are separated by commas; a deterministic reward is a number; a stochastic
one lists ``value:probability`` pairs separated by ``/``, e.g. ``0:0.2/1:0.8``.

>>> parse_rewards("1,0:0.2/1:0.8")
['1', {'0': '0.2', '1': '0.8'}]
>>> parse_rewards("0:1/3/1:2/3")  # fractions are fine as probabilities
[{'0': '1/3', '1': '2/3'}]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
import json
import re
import sys
import traceback
from typing import TYPE_CHECKING, Any, TextIO

from grpo_symbolic.export.commandline import (
    CommandParser,
    UsageError,
    discard_stdout,
    shorten,
    writable_file,
    writable_folder,
)
from grpo_symbolic.model.errors import GrpoSymbolicError, ParameterError
from grpo_symbolic.model.settings import Advantage, Estimator, GroupFilter, Normalisation, Penalty, Placement

if TYPE_CHECKING:  # Problem loads SymPy; the parser and --help do not need it
    from grpo_symbolic.model.problem import Problem

PROG = "grpo-symbolic"
#: The ``--preset`` names, listed in --help (grpo_symbolic.model.presets.TABLE and ALIASES; checked by a test).
_PRESET_NAMES = ("paper", "trl-0.18", "trl-1.10", "rloo", "verl-grpo", "dapo", "openrlhf-group-norm", "openrlhf-kl-loss",
                 "dr_grpo", "trl", "verl", "openrlhf")
DEBUG = "--debug"


class OneLineParser(CommandParser):
    """The command line's parser: errors raised (then printed as one line), options given once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Let values such as "-0.3,1.3" or "-1e-3" reach our validation instead of being taken
        # for options (argparse's default only recognises "-1" and "-.5").
        if hasattr(self, "_negative_number_matcher"):
            self._negative_number_matcher = re.compile(r"^-\.?\d")


# ---------------------------------------------------------------------------------------------
# Parsing the problem's arguments (text → strings and mappings of strings, nothing evaluated)

# A "/" that starts a new value:probability entry: the text up to the next "/" contains a ":".
_ENTRY_SPLIT = re.compile(r"/(?=[^/:]*:)")


def parse_list(text: str, name: str) -> list[str]:
    """Split a comma-separated list; an empty text is an empty list.

    >>> parse_list("0.3, 0.7", "reference")
    ['0.3', '0.7']
    """
    if not text.strip():
        return []
    items = [item.strip() for item in text.split(",")]
    for i, item in enumerate(items):
        if not item:
            raise ParameterError(f"{name}[{i}]: empty entry in {text!r}; separate numbers with single commas")
    return items


def parse_law(text: str, name: str) -> str | dict[str, str]:
    """One output's reward: a number (kept as a string) or ``value:prob/value:prob`` as a dict."""
    if ":" not in text:
        return text
    law: dict[str, str] = {}
    for entry in _ENTRY_SPLIT.split(text):
        value, sep, prob = entry.partition(":")
        value, prob = value.strip(), prob.strip()
        if not sep or not value or not prob or ":" in prob:
            raise ParameterError(
                f"{name}: cannot read {entry!r} in the reward law {text!r}; write value:probability "
                "pairs separated by '/', e.g. 0:0.2/1:0.8 (write law values as decimals)"
            )
        if value in law:
            raise ParameterError(f"{name}: value {value} appears twice in the reward law {text!r}; list each value once")
        law[value] = prob
    return law


def parse_rewards(text: str) -> list[str | dict[str, str]]:
    """Per output a deterministic reward (string) or a reward law (dict of strings)."""
    return [parse_law(item, f"rewards[{i}]") for i, item in enumerate(parse_list(text, "rewards"))]


FORMATS = ("table", "json", "csv")  # of solve's output (grpo_symbolic.export.results)


def _output_format(text: str) -> str:
    """``--format``: one of :data:`FORMATS` (not argparse ``choices``, which are kept for the settings' enums)."""
    if text not in FORMATS:
        raise argparse.ArgumentTypeError(f"invalid choice: {text!r} (choose from {', '.join(FORMATS)})")
    return text


def build_problem(args: argparse.Namespace) -> Problem:
    """The :class:`Problem` described by the ``solve`` arguments.

    ``--preset`` or ``--trainer``/``--config`` give the settings (and G, β where they fix them);
    an option given explicitly overrides them.  The config's warnings go to stderr.
    """
    from grpo_symbolic.model.problem import Problem  # imported here: it loads SymPy

    settings = _base_settings(args)
    explicit = {kwarg: getattr(args, dest) for dest, kwarg in _SOLVE_SETTINGS.items() if getattr(args, dest) is not None}
    if "penalty" in explicit:  # the alias replaces whatever KL setting the preset or config chose
        settings.pop("kl_estimator", None), settings.pop("kl_placement", None)
    if "kl_estimator" in explicit or "kl_placement" in explicit:  # and the KL options replace the alias
        settings.pop("penalty", None)
    settings.update(explicit)
    for kwarg, option in (("group_size", "--group-size"), ("beta", "--beta")):
        if settings.get(kwarg) is None:
            raise UsageError(f"the following arguments are required: {option} (or a --preset or --trainer/--config "
                              "that sets it)")
    names = None if args.names is None else parse_list(args.names, "names")
    return Problem(reference=parse_list(args.reference, "reference"), rewards=parse_rewards(args.rewards), names=names,
                   **settings)


#: ``solve`` option (argparse dest) → Problem keyword; unset options are ``None``.
_SOLVE_SETTINGS = {"group_size": "group_size", "beta": "beta", "normalisation": "normalisation", "penalty": "penalty",
                   "eps": "eps", "advantage": "advantage", "k": "pass_k", "filter": "group_filter",
                   "kl_estimator": "kl_estimator", "kl_placement": "kl_placement", "kl_clamp": "kl_clamp",
                   "entropy": "entropy"}


def _base_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The settings of ``--preset`` or of ``--trainer``/``--config`` (empty when neither is given)."""
    if args.preset is not None and (args.trainer is not None or args.config is not None):
        raise UsageError("give --preset or --trainer/--config, not both")
    if args.preset is not None:
        from grpo_symbolic.model.presets import preset_settings

        chosen = preset_settings(args.preset)
        return {**chosen.problem_kwargs(), "beta": chosen.beta}
    if args.config is not None and args.trainer is None:
        raise UsageError("--config needs --trainer trl|verl|openrlhf (whose field names the file uses)")
    if args.trainer is None:
        return {}
    from grpo_symbolic.model.trainer_config import settings_from_config

    kwargs, notes = settings_from_config(args.trainer, {} if args.config is None else read_config(args.config))
    for note in notes:
        print(f"{PROG}: warning: {args.trainer}: {note}", file=sys.stderr)
    return kwargs


def read_config(path: str) -> dict[str, Any]:
    """A trainer config file: JSON, or YAML (``.yaml``/``.yml``, needs PyYAML: the ``yaml`` extra)."""
    with open(path, encoding="utf-8") as handle:
        config = _parse_config(path, handle.read())
    if not isinstance(config, dict):
        raise ParameterError(f"--config: {path} holds a {type(config).__name__}; give a mapping of the trainer's "
                             "field names to values")
    return config


def _parse_config(path: str, text: str) -> Any:
    if path.endswith((".yaml", ".yml")):
        try:
            import yaml
        except ModuleNotFoundError:
            raise ParameterError(f"--config: reading {path} needs PyYAML: pip install 'grpo_symbolic[yaml]', "
                                 "or give the config as JSON") from None
        try:
            return yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise ParameterError(f"--config: {path} is not valid YAML: {' '.join(str(exc).split())}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParameterError(f"--config: {path} is not valid JSON ({exc}); YAML files must end in .yaml or .yml") from None


# ---------------------------------------------------------------------------------------------
# Subcommands


def _solve(args: argparse.Namespace, out: TextIO) -> int:
    problem = build_problem(args)  # first: a bad value is reported before the solver is imported
    from grpo_symbolic.export.results import render
    from grpo_symbolic.model.errors import SolverError
    from grpo_symbolic.numerics.precision import check_dps
    from grpo_symbolic.solve.api import stationary_policies, stationary_policy
    from grpo_symbolic.solve.links import unregularised

    check_dps(args.dps)  # before anything is allocated at that precision
    _announce(problem, args.dps)
    if unregularised(problem):  # no interior policy to print: say where the policy goes (exit 0)
        try:
            stationary_policies(problem, dps=args.dps, budget=args.budget)
        except SolverError as exc:
            out.write(render(args.format, problem, [], args.dps, exc))
            if args.format == "csv":
                print(f"{PROG}: {exc}", file=sys.stderr)
            return 0
    if args.all:
        points = stationary_policies(problem, dps=args.dps, budget=args.budget)
        out.write(render(args.format, problem, points, args.dps, points.completeness))
    else:
        out.write(render(args.format, problem, [stationary_policy(problem, dps=args.dps, budget=args.budget)], args.dps))
    return 0


def _announce(problem: Problem, dps: int) -> None:
    """On a terminal, say on stderr what a long solve will cost (the cost model's estimate per P_G)."""
    from grpo_symbolic.preference.sums import evaluation_work

    seconds = evaluation_work(problem, dps).exact
    if seconds > 1 and sys.stderr.isatty():
        print(f"{PROG}: about {seconds:.2g} s per evaluation of P_G at {dps} digits; solving ...", file=sys.stderr)


def _latex(args: argparse.Namespace, out: TextIO) -> int:
    writable_file(args.output, "output")  # a bad path is reported at once, before SymPy loads
    if args.snippets is not None:
        writable_folder(args.snippets, "snippets")
    from grpo_symbolic.export import latex  # imported here: it loads every derivation module

    latex.main(args)
    return 0


def _figures(args: argparse.Namespace, out: TextIO) -> int:
    writable_folder(args.output, "output")  # a bad path is reported at once, before matplotlib loads
    from grpo_symbolic.export import gallery  # imported here: it loads the derivations and the solver

    gallery.main(args)
    return 0


def _check(argv: list[str]) -> int:
    try:
        from paper_checks.runner import main as run_checks
    except ModuleNotFoundError as exc:
        if exc.name not in ("paper_checks", "paper_checks.runner"):
            raise
        raise UsageError("the 'check' subcommand needs the paper_checks package (install the project with pip install -e .)") from None
    return run_checks(argv, prog=f"{PROG} check")


def make_parser() -> OneLineParser:
    """The argparse parser of the command line (its errors raise instead of exiting)."""
    parser = OneLineParser(prog=PROG, description="The alignment objective of GRPO, derived and verified.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument(DEBUG, action="store_true",
                        help="on an error, also print the Python traceback (give it before the command)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    solve = sub.add_parser("solve", help="stationary policy of one context",
                           description="Print the stationary policy pi* of one context (one line per output).")
    solve.add_argument("--reference", required=True, metavar="P1,P2,...",
                       help="pi_ref over the outputs, e.g. 0.3,0.7 (each > 0, summing to exactly 1)")
    solve.add_argument("--rewards", required=True, metavar="R1,R2,...",
                       help="per output a reward (1) or a law value:prob/value:prob (0:0.2/1:0.8)")
    solve.add_argument("--group-size", metavar="G", help="group size G >= 2, or inf (required unless the preset "
                                                         "or config sets it)")
    solve.add_argument("--beta", metavar="BETA", help="penalty weight >= 0 (0: no KL term, TRL's default; required "
                                                   "unless the preset or config sets it)")
    solve.add_argument("--normalisation", choices=Normalisation.choices(),
                       help="advantage normalisation (default: population, as in the paper)")
    solve.add_argument("--penalty", choices=Penalty.choices(),
                       help="grpo: the paper's k3 term (default); direct: importance-weighted = KL(pi||pi_ref) "
                            "(aliases of --kl-estimator k3 / k3-is in the loss)")
    solve.add_argument("--eps", metavar="X", help="added to the std (default 0)")
    # -- the trainer's settings: a preset, or the trainer's own config; explicit options override them
    solve.add_argument("--preset", metavar="NAME", help="a trainer's defaults: " + ", ".join(_PRESET_NAMES)
                       + " (explicit options override them)")
    solve.add_argument("--trainer", choices=("trl", "verl", "openrlhf"),
                       help="read --config with this trainer's field names (alone: the trainer's defaults)")
    solve.add_argument("--config", metavar="FILE", help="the trainer's config as JSON, or YAML (.yaml/.yml, needs "
                       "PyYAML); fields it cannot represent are warned about on stderr")
    solve.add_argument("--advantage", choices=Advantage.choices(),
                       help="advantage rule (default grpo: the normalisation decides mean/std)")
    solve.add_argument("--k", type=int, metavar="K", help="the k of --advantage passk")
    solve.add_argument("--filter", choices=GroupFilter.choices(),
                       help="groups whose rewards are all equal: keep (default), drop-equal, mask-penalty")
    solve.add_argument("--dps", type=int, default=50, metavar="N", help="decimal digits (default 50)")
    solve.add_argument("--all", action="store_true",
                       help="print every stationary policy found, with its stability")
    solve.add_argument("--names", metavar="A,B,...",
                       help="names of the outputs, used in the output (default: numbered from 1)")
    solve.add_argument("--format", default="table", type=_output_format, metavar="{" + ",".join(FORMATS) + "}",
                       help="table (default), json (numbers as decimal strings of --dps digits; schema "
                            "grpo-symbolic/solve/1) or csv")
    solve.add_argument("--budget", type=float, default=None, metavar="SECONDS",
                       help="allow work estimated up to SECONDS (default 100; inf: no limit)")
    # --- the KL block (issue 11): estimator, placement, clamp, entropy bonus ---
    solve.add_argument("--kl-estimator", choices=tuple("k3-is" if name == "is_k3" else name for name in Estimator.choices()),
                       help="the per-sample KL estimator (overrides --penalty): k3 = TRL/verl low_var_kl, "
                            "k3-is = importance-weighted k3, k3-flipped = k3 of pi/pi_ref, k3-plus = k3 value with k2 gradient")
    solve.add_argument("--kl-placement", choices=Placement.choices(),
                       help="loss (differentiated through; default), reward-pre (subtracted from the reward before "
                            "the group normalisation: verl use_kl_in_reward), reward-post (added to the normalised "
                            "advantage, detached: OpenRLHF)")
    solve.add_argument("--kl-clamp", metavar="X", help="clamp the per-sample KL value to [-X, X] (verl, OpenRLHF: 10)")
    solve.add_argument("--entropy", metavar="C", help="entropy bonus c*H(pi) (TRL entropy_coef; default 0)")
    solve.set_defaults(handler=_solve)

    # Parsed by paper_checks.runner itself (see main); registered here for --help.
    sub.add_parser("check", add_help=False, help="run the paper checks (grpo-symbolic check --help)")

    latex = sub.add_parser("latex", help="write the formulas as a standalone LaTeX document",
                           description="Write the derived formulas as a LaTeX document (the paper's equations (1)-(19) "
                                       "with the paper's numbers, the other results unnumbered), grposymbolic.sty "
                                       "beside it (\\usepackage{grposymbolic}: what the formulas need), and "
                                       "optionally one snippet per formula to \\input into a paper.")
    latex.add_argument("-o", "--output", required=True, metavar="FILE", help="the .tex file to write")
    latex.add_argument("--snippets", metavar="DIR", help="also write one snippet per formula into DIR")
    latex.add_argument("--label-prefix", default="grpo:", metavar="TEXT",
                       help="prefix of every \\label, so labels cannot collide with yours (default: grpo:, "
                            "e.g. \\eqref{grpo:eq:11})")
    latex.add_argument("--quiet", action="store_true", help="no progress counter on stderr")
    latex.set_defaults(handler=_latex)

    figures = sub.add_parser(
        "figures", help="draw the paper's Figures 1-3 and ours (PNG and PDF)",
        description="Draw, as PNG and PDF, untitled (captions belong to your paper): fig1, fig2, fig3 - the "
                    "paper's Figures 1-3, the stationary pi(a) against pi_ref(a) from the derived (14), (15) and "
                    "the direct-KL closed form; pi_g - the stationary pi_G(a) of a binary question against the "
                    "group size G, between (14) at G = 2 and (15) as G -> inf; presets - the stationary policies "
                    "of one three-output context under each trainer preset (paper, trl, verl, openrlhf, dr_grpo).")
    figures.add_argument("-o", "--output", required=True, metavar="DIR", help="directory for the figures")
    figures.add_argument("--width", type=float, default=6.0, metavar="INCHES",
                         help="figure width in inches, the height follows (default 6.0; about 3.3 for one "
                              "column of a two-column paper)")
    figures.add_argument("--style", default="default", metavar="STYLE",
                         help="a matplotlib style name (e.g. seaborn-v0_8-paper) or a .mplstyle file")
    figures.add_argument("--only", nargs="+", metavar="NAME",
                         help="draw only these: fig1 fig2 fig3 pi_g presets")
    figures.add_argument("--quiet", action="store_true", help="no progress counter on stderr")
    figures.set_defaults(handler=_figures)
    return parser


def _version() -> str:
    from grpo_symbolic import __version__

    return __version__


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = bool(argv) and argv[0] == DEBUG
    if debug:
        argv = argv[1:]
    try:
        return _run(argv)
    except (GrpoSymbolicError, UsageError, OSError) as exc:
        if isinstance(exc, OSError):
            discard_stdout()  # standard output may be what failed (a full disk, a closed pipe)
        _report(exc, "error", debug)
        return 2
    except (MemoryError, OverflowError) as exc:
        _report(exc, "error", debug, kind=f"too large to compute ({type(exc).__name__})",
                hint="reduce --group-size, --dps or the number of reward values")
        return 2
    except Exception as exc:  # a bug: say so, and where with --debug
        _report(exc, "internal error", debug, kind=type(exc).__name__)
        return 1


def _run(argv: list[str]) -> int:
    if argv and argv[0] == "check":
        return _check(argv[1:])
    try:
        args = make_parser().parse_args(argv)
    except SystemExit as exc:  # --help / --version
        sys.stdout.flush()  # argparse ignores a failed write; report it (e.g. > /dev/full)
        return exc.code if isinstance(exc.code, int) else 0
    handler: Callable[[argparse.Namespace, TextIO], int] = args.handler
    code = handler(args, sys.stdout)
    sys.stdout.flush()  # a failed write (e.g. > /dev/full) is reported here, not at exit
    return code


def _report(exc: BaseException, label: str, debug: bool, kind: str = "", hint: str = "") -> None:
    """Print ``exc`` as one line, long echoed values cut short (after its traceback with ``--debug``)."""
    if debug:
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    message = shorten(str(exc)) or type(exc).__name__
    if kind:
        message = f"{kind}: {message}"
        if hint:
            message += f"; {hint}"
        elif not debug:
            message += f" (run with {DEBUG} for the traceback)"
    print(f"{PROG}: {label}: {message}", file=sys.stderr)
