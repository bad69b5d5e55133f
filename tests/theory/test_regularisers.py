"""The trainers' regularisers (grpo_symbolic.theory.regularisers)."""

from pathlib import Path

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


def _readme_rows():
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = text.split("## Your trainer's KL", 1)[1].split("\n## ", 1)[0]
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[1] in Placement.choices():
            for name in cells[0].split(","):
                yield Estimator.parse(name.strip(), "estimator"), Placement(cells[1]), cells[2]


@pytest.mark.slow
def test_readme_table_matches_the_derivation():
    rows = list(_readme_rows())
    assert {(e, pl) for e, pl, _ in rows} == {(e, pl) for e in Estimator for pl in Placement}
    wrong = [(e, pl, link, derive_regularised(Regulariser(e, pl)).link) for e, pl, link in rows
             if derive_regularised(Regulariser(e, pl)).link != link]
    assert wrong == []
