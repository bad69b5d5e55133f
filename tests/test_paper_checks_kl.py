"""The x-kl-* checks can fail: swap an estimator's formula in the derivation and watch them fail.

The mutation replaces :func:`grpo_symbolic.theory.penalty.per_sample` as the derivation
(:mod:`grpo_symbolic.theory.regularisers`) sees it; the independent routes (the trainers' numpy
loss, the mpmath-differentiated loss) keep the true formulas.
"""

import pytest

from grpo_symbolic.model.caches import clear_caches
from grpo_symbolic.model.settings import Estimator, Placement
from grpo_symbolic.theory import penalty, regularisers
from paper_checks import checks_kl
from paper_checks.registry import REGISTRY
from grpo_symbolic.theory.regularisers import Regulariser

E = Estimator
#: family claim, the setting whose sampled gradient must fail (None: the reward-pre gradient is
#: Q_o - lambda whatever the estimator, so only the family check sees the swap), the swap
FAMILIES = [
    ("x-kl-link-reciprocal", Regulariser(E.K3, Placement.LOSS), E.K3, E.K3_FLIPPED),
    ("x-kl-link-exponential", Regulariser(E.K2, Placement.LOSS), E.K2, E.K3),
    ("x-kl-link-linear", Regulariser(E.K3_FLIPPED, Placement.LOSS), E.K3_FLIPPED, E.K2),
    ("x-kl-link-none", Regulariser(E.K1, Placement.LOSS), E.K1, E.K2),
    ("x-kl-reward-post-lambert", Regulariser(E.K3, Placement.REWARD_POST), E.K3, E.K1),
    ("x-kl-reward-pre-pooling", None, E.K1, E.K3_FLIPPED),
    ("x-kl-entropy-with-kl", Regulariser(E.K3, Placement.LOSS, entropy=True), E.K3, E.K2),
]


REGISTRY.discover()


@pytest.fixture
def swapped(monkeypatch):
    def swap(true, false, keep_clamp=True):
        def mutated(name, x, r, q, detached=None, bound=None):
            return penalty.per_sample(false if name == true else name, x, r, q, detached, bound if keep_clamp else None)
        monkeypatch.setattr(regularisers, "per_sample", mutated)
        clear_caches()
    yield swap
    clear_caches()


@pytest.mark.parametrize("claim_id, reg, true, false", FAMILIES, ids=[f[0] for f in FAMILIES])
def test_mutation_kl_family(swapped, claim_id, reg, true, false):
    swapped(true, false)
    if reg is not None:
        assert max(abs(z) for z in checks_kl.sampled_z(reg)) > checks_kl.Z_LIMIT
    assert not REGISTRY.run(claim_id, 50).passed  # an exception inside the check is a failure too


def test_mutation_kl_clamp(swapped):
    swapped(E.K3, E.K3, keep_clamp=False)  # the derivation forgets the clamp; the trainer keeps it
    assert max(abs(z) for z in checks_kl.sampled_z(Regulariser(E.K3, Placement.LOSS, clamped=True))) > checks_kl.Z_LIMIT
    assert not REGISTRY.run("x-kl-clamp-region", 50).passed


def test_unmutated_sampled_z_is_small():
    assert max(abs(z) for z in checks_kl.sampled_z(Regulariser(E.K3_PLUS, Placement.LOSS, clamped=True))) < checks_kl.Z_LIMIT
