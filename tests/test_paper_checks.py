"""Every registered paper check runs under pytest, parametrised by claim ID, at 50 digits.

The default run keeps a fast representative subset (:data:`FAST`: at least one claim of every
checks module but the dynamics one, the headline eq. (14) among them); the other claims are
marked slow and run with ``pytest -m slow``.  Together they are the whole suite, every claim once.
"""

import pytest

from paper_checks.claims import CLAIMS
from paper_checks.registry import REGISTRY

REGISTRY.discover()

FAST = (
    "adv-population-std", "zero-mean-identity", "eq11-stationarity", "app-a-multiplier", "eq13-large-g",
    "eq14-binary-g2", "eq15-tie", "eq16", "eq19",
    "direct-kl-penalty", "slip-8",
    "x-shift-only-grpo-penalty", "x-vertex-kkt", "x-triangulation", "x-kl-estimators", "x-large-g-rate",
    "fig1", "x-complete-roots", "x-eps-brute-force", "x-config-round-trips", "x-advantage-brute-force",
    "x-kl-link-none",
)


def test_every_check_module_imports():
    assert REGISTRY.import_errors == []


def test_every_claim_has_a_check():
    """All 49 claims of the paper, the 34 results beyond it and the 9 checkable slips."""
    missing = [c.id for c in CLAIMS if c.id not in REGISTRY.functions]
    assert missing == []
    assert len(CLAIMS) == 92 and sum(not c.id.startswith(("x-", "slip-")) for c in CLAIMS) == 49


def test_the_fast_subset_is_representative():
    """Its claims exist, and they reach every checks module except the (long) dynamics one."""
    assert set(FAST) <= set(REGISTRY.functions)
    modules = {REGISTRY.functions[claim_id].__module__ for claim_id in FAST}
    everything = {function.__module__ for function in REGISTRY.functions.values()}
    assert everything - modules == {"paper_checks.checks_dynamics"}


def _claim(claim_id):
    return pytest.param(claim_id, id=claim_id, marks=() if claim_id in FAST else pytest.mark.slow)


@pytest.mark.parametrize("claim_id", [_claim(c.id) for c in CLAIMS if c.id in REGISTRY.functions])
def test_paper_check(claim_id):
    result = REGISTRY.run(claim_id, 50)
    assert result.passed, f"{claim_id}: {result.verdict or ''} {result.details}"
