"""paper_checks: one executable check per claim of the paper (the IDs of ``claims.md``).

Checks live in ``paper_checks/checks_*.py`` and register themselves with
:func:`paper_checks.registry.check`; run them with ``python -m paper_checks`` or
``grpo-symbolic check`` (see :mod:`paper_checks.runner`).
"""

from paper_checks.claims import CLAIMS, CLAIMS_BY_ID, Claim
from paper_checks.registry import REGISTRY, CheckResult, Outcome, Registry, agreement, check, combine, symbolic

__all__ = ["CLAIMS", "CLAIMS_BY_ID", "Claim", "REGISTRY", "CheckResult", "Outcome", "Registry",
           "agreement", "check", "combine", "symbolic"]
