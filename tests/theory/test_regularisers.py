"""The trainers' regularisers (grpo_symbolic.theory.regularisers)."""

import pytest
import sympy as sp

from grpo_symbolic.model.problem import Problem
from grpo_symbolic.model.settings import Estimator, Placement
from grpo_symbolic.theory.objective import derive_stationarity
from grpo_symbolic.theory.regularisers import LINKS, Regulariser, derive_regularised, regulariser_of

LOSS = Placement.LOSS


@pytest.mark.parametrize("estimator, penalty", [(Estimator.K3, "grpo"), (Estimator.IS_K3, "direct")])
@pytest.mark.parametrize("size", [2, 3])
def test_reproduces_the_paper_penalties(estimator, penalty, size):
    new, old = derive_regularised(Regulariser(estimator, LOSS), size), derive_stationarity(penalty, size)
    assert (new.pi, new.pi_old, new.pi_ref, new.preference) == (old.pi, old.pi_old, old.pi_ref, old.preference)
    assert new.equations == old.equations and new.policy == old.policy and new.multiplier == old.multiplier
    assert all(sp.expand(sp.expand_log(a - b, force=True)) == 0 for a, b in zip(new.best_response, old.best_response))
    assert not new.implicit and new.entropy_symbol is None


@pytest.mark.parametrize("estimator, link", [
    (Estimator.K1, "none"), (Estimator.K2, "exponential"), (Estimator.K3, "reciprocal"),
    (Estimator.IS_K3, "exponential"), (Estimator.K3_FLIPPED, "linear"), (Estimator.K3_PLUS, "exponential"),
])
def test_loss_links(estimator, link):
    st = derive_regularised(Regulariser(estimator, LOSS))
    assert st.link == link and st.link in LINKS


def test_regulariser_of_problem():
    prob = Problem(["0.3", "0.7"], [1, 0], 8, 1)
    assert regulariser_of(prob) == Regulariser(Estimator.K3, LOSS)
