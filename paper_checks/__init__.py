"""paper_checks: one executable check per claim of the paper (the IDs of ``claims.md``).

Checks live in ``paper_checks/checks_*.py`` and register themselves with
:func:`paper_checks.registry.check`; run them with ``python -m paper_checks`` or
``grpo-symbolic check`` (see :mod:`paper_checks.runner`).  The names below are imported on first
use, so ``check --help`` and usage errors answer before SymPy loads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from grpo_symbolic.model.lazy import lazy_attributes

if TYPE_CHECKING:
    from paper_checks.claims import CLAIMS, CLAIMS_BY_ID, Claim
    from paper_checks.registry import REGISTRY, CheckResult, Outcome, Registry, agreement, check, combine, symbolic

_EXPORTS: dict[str, str] = {
    **dict.fromkeys(["CLAIMS", "CLAIMS_BY_ID", "Claim"], "paper_checks.claims"),
    **dict.fromkeys(["REGISTRY", "CheckResult", "Outcome", "Registry", "agreement", "check", "combine", "symbolic"],
                    "paper_checks.registry"),
}

__all__ = list(_EXPORTS)

__getattr__ = lazy_attributes(__name__, _EXPORTS)

