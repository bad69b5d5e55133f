"""The mutants of ``tools/mutate.py``: where the mathematical lines are and how each is broken.

A small, deterministic AST mutator.  Each mutant changes ONE token or call of a source file (the
rest of the file stays byte-identical) by one of:

* operator swaps: ``+``/``−``, ``*``/``/``, ``//`` → ``*``, ``**`` → ``*``, ``<<``/``>>`` (also in
  ``+=`` and friends);
* constant changes: an integer k → k + 1 (so 1/2 → 1/3 and ``x[0]`` → ``x[1]``), a float f → 2f;
* sqrt removal: ``sqrt(x)`` (any module's ``sqrt``/``isqrt``) → ``(x)``;
* sign flips: ``−x`` → ``x``;
* comparison flips: ``<`` → ``>=``, ``<=`` → ``>``, ``>`` → ``<=``, ``>=`` → ``<``, ``==``/``!=``.

Not mutated (no mathematics there): docstrings and other strings, f-strings, imports, decorators,
annotations, ``raise`` and ``assert`` statements, and the test of an ``if`` whose body only raises
(input validation, the input gate's business).

A mutant's :attr:`Mutant.key` names it without line numbers (file, enclosing function, kind, the
stripped source line, and the occurrence on that line), so the list of equivalent mutants survives
edits elsewhere in the file.
"""

from __future__ import annotations

import ast
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

BINARY = {ast.Add: ("+", "-"), ast.Sub: ("-", "+"), ast.Mult: ("*", "/"), ast.Div: ("/", "*"),
          ast.FloorDiv: ("//", "*"), ast.Pow: ("**", "*"), ast.LShift: ("<<", ">>"), ast.RShift: (">>", "<<")}
COMPARE = {ast.Lt: ("<", ">="), ast.LtE: ("<=", ">"), ast.Gt: (">", "<="), ast.GtE: (">=", "<"),
           ast.Eq: ("==", "!="), ast.NotEq: ("!=", "==")}
SQRT = {"sqrt", "isqrt"}


@dataclass(frozen=True)
class Mutant:
    """One mutation of ``path``: the text from (line, col) to (end_line, end_col) becomes ``replacement``."""

    path: str
    function: str
    kind: str
    line: int
    col: int
    end_line: int
    end_col: int
    replacement: str
    mutated: str = ""

    @property
    def key(self) -> str:
        """A name without line numbers: ``path::function::kind::the mutated line`` (whitespace collapsed)."""
        return f"{self.path}::{self.function}::{self.kind}::{self.mutated}"

    def apply(self, text: str) -> str:
        """``text`` (the file's source) with this mutation made.

        >>> m = Mutant("f.py", "f", "Add:+->-", 1, 9, 1, 10, "-")
        >>> m.apply("return a + b\\n")
        'return a - b\\n'
        """
        lines = text.splitlines(keepends=True)
        start = _offset(lines, self.line, self.col)
        end = _offset(lines, self.end_line, self.end_col)
        return text[:start] + self.replacement + text[end:]


def _offset(lines: list[str], line: int, col: int) -> int:
    """The string offset of (1-based line, UTF-8 byte column), as the ast module reports positions."""
    before = sum(len(x) for x in lines[: line - 1])
    return before + len(lines[line - 1].encode("utf-8")[:col].decode("utf-8"))


class _Finder(ast.NodeVisitor):
    """Collects the mutation sites of one module (see the module docstring for what is skipped)."""

    def __init__(self, path: str, text: str) -> None:
        self.path, self.text = path, text
        self.lines = text.splitlines(keepends=True)
        self.scope: list[str] = []
        self.sites: list[Mutant] = []

    # --- scopes and skipped parts -------------------------------------------------------
    def _visit_scope(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        self.scope.append(node.name)
        body = node.body[1:] if _docstring(node.body) else node.body
        for statement in body:
            self.visit(statement)
        if not isinstance(node, ast.ClassDef):
            for default in node.args.defaults + [d for d in node.args.kw_defaults if d is not None]:
                self.visit(default)
        self.scope.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _visit_scope

    def visit_Module(self, node: ast.Module) -> None:
        for statement in node.body[1:] if _docstring(node.body) else node.body:
            self.visit(statement)

    def _skip(self, node: ast.AST) -> None:
        return None

    visit_Raise = visit_Assert = visit_Import = visit_ImportFrom = visit_JoinedStr = _skip

    def visit_Expr(self, node: ast.Expr) -> None:
        if not (isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
            self.visit(node.value)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)

    def visit_If(self, node: ast.If) -> None:
        if not all(isinstance(s, ast.Raise) for s in node.body) and not _is_type_checking(node.test):
            self.visit(node.test)
        for statement in node.body + node.orelse:
            self.visit(statement)

    # --- the mutations ------------------------------------------------------------------
    def visit_BinOp(self, node: ast.BinOp) -> None:
        if type(node.op) in BINARY:
            token, new = BINARY[type(node.op)]
            self._token(node, node.left, node.right, token, new, type(node.op).__name__)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        if type(node.op) in BINARY:
            token, new = BINARY[type(node.op)]
            self._token(node, node.target, node.value, token + "=", new + "=", "Aug" + type(node.op).__name__)
        self.visit(node.value)

    def visit_Compare(self, node: ast.Compare) -> None:
        if len(node.ops) == 1 and type(node.ops[0]) in COMPARE:
            token, new = COMPARE[type(node.ops[0])]
            self._token(node, node.left, node.comparators[0], token, new, type(node.ops[0]).__name__)
        self.generic_visit(node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        if isinstance(node.op, ast.USub):
            self._add(node, "USub->", node, f"({self._segment(node.operand)})")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name in SQRT and len(node.args) == 1 and not node.keywords:
            self._add(node, f"{name}->identity", node, f"({self._segment(node.args[0])})")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return
        new = value + 1 if isinstance(value, int) else (2 * value if value else 1.0)
        self._add(node, f"{value!r}->{new!r}", node, repr(new))

    # --- helpers ------------------------------------------------------------------------
    def _segment(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.text, node) or ""

    def _token(self, node: ast.AST, left: ast.AST, right: ast.AST, token: str, new: str, name: str) -> None:
        """Replace the operator ``token`` found between ``left`` and ``right`` by ``new``."""
        line, col = left.end_lineno, left.end_col_offset  # type: ignore[attr-defined]
        gap_end = (right.lineno, right.col_offset)  # type: ignore[attr-defined]
        while (line, col) < gap_end:
            text = self.lines[line - 1].encode("utf-8")
            stop = gap_end[1] if line == gap_end[0] else len(text)
            found = text.find(token.encode("utf-8"), col, stop)
            if found >= 0 and not text[col:found].lstrip().startswith(b"#"):
                span = _Span(line, found, line, found + len(token.encode("utf-8")))
                self._add(node, f"{name}:{token}->{new}", span, new)
                return
            line, col = line + 1, 0

    def _add(self, node: ast.AST, kind: str, where: ast.AST | _Span, replacement: str) -> None:
        first = min(node.lineno, where.lineno)  # type: ignore[attr-defined]
        last = where.end_lineno  # type: ignore[attr-defined]
        mutant = Mutant(self.path, ".".join(self.scope) or "<module>", kind, where.lineno - first + 1,
                        where.col_offset, last - first + 1, where.end_col_offset, replacement)  # type: ignore[arg-type]
        mutated = " ".join(mutant.apply("".join(self.lines[first - 1:last])).split())
        self.sites.append(replace(mutant, line=where.lineno, end_line=last, mutated=mutated))  # type: ignore[arg-type]


@dataclass(frozen=True)
class _Span:
    lineno: int
    col_offset: int
    end_lineno: int
    end_col_offset: int


def _docstring(body: list[ast.stmt]) -> bool:
    first = body[0] if body else None
    return isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str)


def _is_type_checking(test: ast.expr) -> bool:
    return isinstance(test, ast.Name) and test.id == "TYPE_CHECKING"


def mutants_of(root: Path, path: str) -> list[Mutant]:
    """Every mutant of the file ``root/path``, in source order.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = (Path(d) / "m.py").write_text('def f(x):\\n    "doc 1"\\n    return -x * 2 if x < 0 else x ** 0.5\\n')
    ...     [m.kind for m in mutants_of(Path(d), "m.py")]
    ['USub->', 'Mult:*->/', '2->3', 'Lt:<->>=', '0->1', 'Pow:**->*', '0.5->1.0']
    """
    text = (root / path).read_text(encoding="utf-8")
    finder = _Finder(path, text)
    finder.visit(ast.parse(text, filename=path))
    sites, seen = [], Counter()
    for m in sorted(finder.sites, key=lambda m: (m.line, m.col, m.kind)):
        seen[m.key] += 1  # the same line twice in one function: the later ones are named #2, #3, ...
        sites.append(replace(m, mutated=f"{m.mutated} #{seen[m.key]}") if seen[m.key] > 1 else m)
    return sites
