"""The layer rule, read from the source: every import (also inside functions) points down.

Ranks, low to high::

    0 model → 1 numerics → 2 theory → 3 preference → 4 {solve, dynamics, cases} → 5 paper
    → 6 {export, paper_checks, trainers} → 7 {cli, __main__, grpo_symbolic/__init__.py (the facade)}

A module may import modules of its own rank or a lower one; solve, dynamics and cases (rank 4)
must not import each other; imports are absolute; no import cycle inside a package and none
between packages.  The test parses the files with :mod:`ast` (nothing is imported), so a lazy
import inside a function counts like any other.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "grpo_symbolic"
FACADE = PACKAGE  # ``import grpo_symbolic`` / ``from grpo_symbolic import Problem``: the public API
RANKS = {
    "model": 0, "numerics": 1, "theory": 2, "preference": 3,
    "solve": 4, "dynamics": 4, "cases": 4,
    "paper": 5,
    "export": 6, "paper_checks": 6, "trainers": 6,
    "cli": 7, "__main__": 7, FACADE: 7,
}
INDEPENDENT_SIBLINGS = {"solve", "dynamics", "cases"}


def module_files() -> Iterator[tuple[str, Path]]:
    """(dotted module name, path) of every module in grpo_symbolic/ and paper_checks/."""
    for top in (PACKAGE, "paper_checks"):
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            yield ".".join(parts), path


MODULES = dict(module_files())


def layer(module: str) -> str:
    """The layer a dotted module name belongs to (its subpackage, or cli/__main__/the facade)."""
    parts = module.split(".")
    if parts[0] == "paper_checks":
        return "paper_checks"
    return parts[1] if len(parts) > 1 else FACADE


def _is_package(module: str) -> bool:
    return module in MODULES and MODULES[module].name == "__init__.py"


def _resolve_relative(module: str, level: int, name: str | None) -> str:
    base = module.split(".")
    if not _is_package(module):
        base = base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


@functools.lru_cache(maxsize=None)
def imported_modules(module: str, path: Path) -> tuple[tuple[int, str, bool], ...]:
    """(line, imported project module, written relative?) for every project import in ``path``."""
    return tuple(_imports(module, path))


def _imports(module: str, path: Path) -> Iterator[tuple[int, str, bool]]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield from _target(node.lineno, alias.name, False)
        elif isinstance(node, ast.ImportFrom):
            source = _resolve_relative(module, node.level, node.module) if node.level else node.module or ""
            for alias in node.names:
                candidate = f"{source}.{alias.name}"  # ``from package import submodule``
                yield from _target(node.lineno, candidate if candidate in MODULES else source, node.level > 0)


def _target(line: int, name: str, relative: bool) -> Iterator[tuple[int, str, bool]]:
    if name.split(".")[0] not in (PACKAGE, "paper_checks"):
        return
    while name not in MODULES and "." in name:  # ``import grpo_symbolic.model.problem.Problem`` etc.
        name = name.rsplit(".", 1)[0]
    yield line, name, relative


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def violations_of(module: str, path: Path) -> list[str]:
    """Every import of ``module`` that breaks the layer rule, as readable lines."""
    found = []
    here = layer(module)
    if here not in RANKS:
        return [f"{_shown(path)}: module in no layer ({here}); give it a rank in tests/test_layers.py"]
    for line, target, _ in imported_modules(module, path):
        there = layer(target)
        where = f"{_shown(path)}:{line}: {module} imports {target}"
        if there == here:
            continue
        if there not in RANKS:
            found.append(f"{where} (module in no layer)")
        elif RANKS[there] > RANKS[here]:
            found.append(f"{where} (upward: {here} is rank {RANKS[here]}, {there} is rank {RANKS[there]})")
        elif {here, there} <= INDEPENDENT_SIBLINGS:
            found.append(f"{where} ({here} and {there} are independent rank-4 siblings)")
    return found


def import_graph(key: Callable[[str], str]) -> dict[str, set[str]]:
    """Edges ``key(module) → key(imported)`` between distinct keys, over all project imports."""
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        for _, target, _ in imported_modules(module, path):
            if key(module) != key(target):
                graph.setdefault(key(module), set()).add(key(target))
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component of more than one node (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_modules_are_found():
    assert f"{PACKAGE}.model.problem" in MODULES and "paper_checks.registry" in MODULES
    assert layer(f"{PACKAGE}.model.problem") == "model" and layer(PACKAGE) == FACADE


def test_every_import_points_down():
    found = [v for module, path in MODULES.items() for v in violations_of(module, path)]
    assert not found, f"{len(found)} import(s) break the layer rule:\n" + "\n".join(found)


def test_imports_are_absolute():
    found = sorted({f"{_shown(path)}:{line}" for module, path in MODULES.items()
                    for line, _, relative in imported_modules(module, path) if relative})
    assert not found, "relative imports; write them absolute (from grpo_symbolic.… / from paper_checks.…):\n" + "\n".join(found)


def test_relative_imports_are_resolved(tmp_path, monkeypatch):
    path = tmp_path / "fake.py"
    path.write_text("from ..solve import api\nfrom . import problem\n", encoding="utf-8")
    module = f"{PACKAGE}.model.fake"
    monkeypatch.setitem(MODULES, module, path)
    assert imported_modules(module, path) == ((1, f"{PACKAGE}.solve.api", True),
                                                (2, f"{PACKAGE}.model.problem", True))
    assert any("upward" in v for v in violations_of(module, path))


def test_no_cycle_inside_a_package():
    def package_of(module: str) -> str:
        return module if _is_package(module) else module.rsplit(".", 1)[0]

    graph = import_graph(lambda m: m)
    found = []
    for package in sorted({package_of(m) for m in MODULES}):
        inside = {m: {t for t in targets if package_of(t) == package}
                  for m, targets in graph.items() if package_of(m) == package}
        found += [f"{package}: " + " ↔ ".join(c) for c in cycles(inside)]
    assert not found, "import cycles inside a package:\n" + "\n".join(found)


def test_no_cycle_between_packages():
    found = cycles(import_graph(layer))
    assert not found, "import cycles between packages:\n" + "\n".join(" ↔ ".join(c) for c in found)


@pytest.mark.parametrize("source, expected", [
    ("from grpo_symbolic.solve.solver import stationary_policy", "solve"),
    ("def f():\n    from grpo_symbolic.preference import engine", "preference"),
    ("import grpo_symbolic.paper.forms as forms", "paper"),
    ("from grpo_symbolic import Problem", FACADE),
])
def test_the_reader_sees_every_kind_of_import(tmp_path, monkeypatch, source, expected):
    """Able to fail: an import of a higher layer from model/ is reported, whatever its form."""
    path = tmp_path / "fake.py"
    path.write_text(source + "\n", encoding="utf-8")
    module = f"{PACKAGE}.model.fake"
    monkeypatch.setitem(MODULES, module, path)
    found = violations_of(module, path)
    assert found and all(f"is rank {RANKS[expected]}" in v for v in found), found


def test_siblings_at_rank_four_are_independent(tmp_path, monkeypatch):
    path = tmp_path / "fake.py"
    path.write_text("from grpo_symbolic.solve.solver import stationary_policy\n", encoding="utf-8")
    monkeypatch.setitem(MODULES, f"{PACKAGE}.cases.fake", path)
    assert any("independent" in v for v in violations_of(f"{PACKAGE}.cases.fake", path))


def test_cycles_are_found():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
