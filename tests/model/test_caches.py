"""grpo_symbolic.model.caches: one registry of memoised derivations, cleared by the check runner."""

import io
from pathlib import Path
import re

from grpo_symbolic.model import caches
from grpo_symbolic.theory.objective import derive_stationarity

ROOT = Path(__file__).resolve().parents[2]
#: Where the derivations live: their memoisation must go through the registry.
DERIVATIONS = ("grpo_symbolic/theory", "grpo_symbolic/cases", "grpo_symbolic/export", "paper_checks")


def test_derivations_are_cached_through_the_registry():
    bare = [f"{path.relative_to(ROOT)}:{n}" for top in DERIVATIONS for path in sorted((ROOT / top).rglob("*.py"))
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if re.search(r"\blru_cache\b|functools\.cache\b", line)]
    assert bare == []


def test_clear_caches_forgets_a_derivation():
    first = derive_stationarity("grpo", 2)
    assert derive_stationarity("grpo", 2) is first
    assert caches.clear_caches() >= 1
    assert derive_stationarity("grpo", 2) is not first


def test_runner_clears_the_caches_before_each_check(monkeypatch):
    from paper_checks import runner
    from paper_checks.registry import REGISTRY

    events = []
    monkeypatch.setattr(runner, "clear_caches", lambda: events.append("clear"))
    monkeypatch.setattr(REGISTRY, "run", lambda claim, dps: events.append(claim) or _passed(claim))
    runner.main(["--only", "slip-1", "--only", "slip-3"], out=io.StringIO())
    assert events == ["clear", "slip-1", "clear", "slip-3"]


def _passed(claim):
    from paper_checks.registry import CheckResult

    return CheckResult(claim, "", "", passed=True)
