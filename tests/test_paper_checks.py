"""Every registered paper check runs under pytest, parametrised by claim ID, at 50 digits."""

import pytest

from paper_checks.claims import CLAIMS
from paper_checks.registry import REGISTRY

REGISTRY.discover()


def test_every_check_module_imports():
    assert REGISTRY.import_errors == []


def test_every_claim_has_a_check():
    """All 49 claims of the paper, the 11 results beyond it and the 9 checkable slips."""
    missing = [c.id for c in CLAIMS if c.id not in REGISTRY.functions]
    assert missing == []
    assert len(CLAIMS) == 69 and sum(not c.id.startswith(("x-", "slip-")) for c in CLAIMS) == 49


@pytest.mark.parametrize("claim_id", [c.id for c in CLAIMS if c.id in REGISTRY.functions])
def test_paper_check(claim_id):
    result = REGISTRY.run(claim_id, 50)
    assert result.passed, f"{claim_id}: {result.verdict or ''} {result.details}"
