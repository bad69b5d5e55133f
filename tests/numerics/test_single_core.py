"""One numerics core, read from the source: precision and root finding each have one home.

* mpmath's precision is set only in :mod:`grpo_symbolic.numerics.precision` (``working_precision``,
  ``working_bits``, ``rounded``): nowhere else ``workdps``, ``workprec``, ``extradps``,
  ``extraprec``, ``autoprec``, nor an assignment to ``mp.dps`` / ``mp.prec``;
* numbers are made and computed with the package's own context ``mpx`` (whose precision is per
  thread), never with mpmath's global one: outside the precision module and the model layer
  (which only reads numbers), ``mpmath.X`` names only the types ``mpf``/``mpc`` (``isinstance``,
  annotations) and ``libmp``; ``mpmath.mpf(…)``, ``mpmath.exp(…)``, ``mpmath.mp`` … are refused;
* roots are found only in ``grpo_symbolic/numerics/`` (:mod:`~grpo_symbolic.numerics.roots`, and the
  interval Newton of :mod:`~grpo_symbolic.numerics.certify`): nowhere else ``findroot``,
  ``nsolve``, ``polyroots`` or ``nroots``.

The files of grpo_symbolic/ and paper_checks/ are read as tokens (nothing is imported); strings
and comments are skipped, so docstrings and doctests may show mpmath's own API to a reader.
"""

from __future__ import annotations

import io
from pathlib import Path
import tokenize

import pytest

ROOT = Path(__file__).resolve().parents[2]
TREES = ("grpo_symbolic", "paper_checks")
PRECISION_HOME = "grpo_symbolic/numerics/precision.py"
ROOTS_HOME = "grpo_symbolic/numerics/"

PRECISION_NAMES = {"workdps", "workprec", "extradps", "extraprec", "autoprec"}
PRECISION_FIELDS = {"dps", "prec"}  # mp.dps = ..., mp.prec += ...
ROOT_FINDERS = {"findroot", "nsolve", "polyroots", "nroots"}
GLOBAL_CONTEXT_FREE = ("grpo_symbolic/numerics/precision.py", "grpo_symbolic/model/")
TYPES = {"mpf", "mpc", "libmp"}  # mpmath.mpf in isinstance and annotations: no context is used

#: (file, name) → why it is allowed there.  Every entry must still be needed (see the last test).
ALLOWED = {
    ("grpo_symbolic/numerics/certify.py", "workprec"):
        "flint.ctx.workprec is python-flint's ball-arithmetic precision, not mpmath's; "
        "certify derives it from dps with precision_bits",
}


def violations(source: str, path: str) -> list[tuple[str, int, str]]:
    """(path, line, name) of every precision setting or root finder outside its home in ``source``.

    >>> violations("with mpx.workdps(30):\\n    pass\\n", "paper_checks/x.py")
    [('paper_checks/x.py', 1, 'workdps')]
    >>> violations('def f():\\n    \\'\\'\\'>>> mpmath.findroot(g, 1)\\'\\'\\'\\n    self.dps = 5  # mp.dps = 5\\n', "x.py")
    []
    """
    tokens = [t for t in tokenize.generate_tokens(io.StringIO(source).readline)
              if t.type in (tokenize.NAME, tokenize.OP)]
    found = []
    for i, token in enumerate(tokens):
        if token.type != tokenize.NAME:
            continue
        name = token.string
        if name in PRECISION_NAMES and path != PRECISION_HOME:
            found.append((path, token.start[0], name))
        elif name in ROOT_FINDERS and not path.startswith(ROOTS_HOME):
            found.append((path, token.start[0], name))
        elif (name == "mpmath" and i + 2 < len(tokens) and tokens[i + 1].string == "."
              and not path.startswith(GLOBAL_CONTEXT_FREE)
              and (tokens[i + 2].string not in TYPES or tokens[i + 3:i + 4] and tokens[i + 3].string == "(")):
            found.append((path, token.start[0], f"mpmath.{tokens[i + 2].string}"))
        elif (name in PRECISION_FIELDS and path != PRECISION_HOME and 2 <= i < len(tokens) - 1
              and tokens[i - 1].string == "." and tokens[i - 2].string in ("mp", "mpx")
              and tokens[i + 1].string in ("=", "+=", "-=", "*=")):
            found.append((path, token.start[0], f"{tokens[i - 2].string}.{name} {tokens[i + 1].string}"))
    return found


def _sources():
    for tree in TREES:
        for file in sorted((ROOT / tree).rglob("*.py")):
            yield file.relative_to(ROOT).as_posix(), file.read_text(encoding="utf-8")


def _all_violations():
    return [v for path, source in _sources() for v in violations(source, path)]


def test_precision_and_root_finding_have_one_home():
    found = [v for v in _all_violations() if (v[0], v[2]) not in ALLOWED]
    assert not found, ("set mpmath's precision with grpo_symbolic.numerics.precision (working_precision, rounded), "
                       "compute with its mpx (not mpmath's global context) and "
                       f"find roots with grpo_symbolic.numerics.roots; found: {found}")


def test_types_may_be_named_without_a_context():
    assert violations("ok = isinstance(x, mpmath.mpf)\ndef f() -> mpmath.mpf: ...\n", "paper_checks/x.py") == []


@pytest.mark.parametrize("snippet, name", [
    ("x = mpx.workprec(80)\n", "workprec"),
    ("from mpmath import extradps\n", "extradps"),
    ("mpx.dps = 40\n", "mpx.dps ="),
    ("mp.prec += 10\n", "mp.prec +="),
    ("r = sp.nsolve(f, x, 1)\n", "nsolve"),
    ("r = mpx.polyroots([1, 0, -2])\n", "polyroots"),
    ("digits = mpmath.mp.dps\n", "mpmath.mp"),
    ("x = mpmath.mpf(1) / 3\n", "mpmath.mpf"),
    ("y = mpmath.exp(x)\n", "mpmath.exp"),
    ("f = mpmath.sqrt\n", "mpmath.sqrt"),
])
def test_the_scan_finds_each_kind(snippet, name):
    assert violations(snippet, "paper_checks/checks_x.py") == [("paper_checks/checks_x.py", 1, name)]


def test_homes_may_do_what_others_may_not():
    assert violations("with mpmath.workdps(5):\n    pass\n", PRECISION_HOME) == []
    assert violations("r = mpx.findroot(f, 1)\n", "grpo_symbolic/numerics/roots.py") == []
    assert violations("r = mpx.findroot(f, 1)\n", "grpo_symbolic/solve/search.py") != []


def test_every_allowance_is_still_needed():
    used = {(v[0], v[2]) for v in _all_violations()}
    assert set(ALLOWED) <= used, f"allowances no longer needed, remove them: {set(ALLOWED) - used}"
