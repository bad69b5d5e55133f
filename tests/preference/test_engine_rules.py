"""The engine under the trainers' advantage rules: dispatch, pairwise and large-group forms, Monte Carlo."""

import mpmath
import pytest
import sympy as sp

from grpo_symbolic.model.errors import ParameterError
from grpo_symbolic.model.problem import Problem
from grpo_symbolic.model.symbols import p
from grpo_symbolic.preference.engine import (NumericTable, advantage_table, large_group_preference, monte_carlo_preference,
                                             pairwise_preference, preference_exact, preference_numeric, problem_rule)
from grpo_symbolic.preference.moments import MomentTable


def _problem(group_size, **settings):
    return Problem(["0.3", "0.7"], [1, 0], group_size, 1, **settings)


def test_dispatch_by_rule():
    """rloo has a moment form; rloo-std and pass@k use the per-composition table."""
    assert isinstance(advantage_table(_problem(6, advantage="rloo"), 30), MomentTable)
    assert isinstance(advantage_table(_problem(6, advantage="rloo-std"), 30), NumericTable)
    assert problem_rule(_problem(6, advantage="passk", pass_k=3)) == "passk-3"


def test_pairwise_forms_at_g2():
    """At G = 2 rloo and rloo-std are r_1 − r_2; pass@k has no pairwise form here."""
    for name in ("rloo", "rloo-std"):
        problem = _problem(2, advantage=name)
        exact = preference_exact(problem, (p, 1 - p))
        assert all(sp.expand(a - b) == 0 for a, b in zip(exact, pairwise_preference(problem, (p, 1 - p))))
    with pytest.raises(ParameterError, match="^advantage: the pairwise"):
        pairwise_preference(_problem(2, advantage="passk", pass_k=2), (p, 1 - p))


def test_passk_large_group_form_is_exact_at_every_g():
    """P_G = k(1 − m_1)^(k − 1) for a success: the same at G = 5 (sum over groups) and G = ∞."""
    exact = preference_exact(_problem(5, advantage="passk", pass_k=3), (p, 1 - p))
    limit = large_group_preference(_problem("inf", advantage="passk", pass_k=3), (p, 1 - p))
    assert [sp.expand(e) for e in exact] == [sp.expand(x) for x in limit] == [sp.expand(3 * (1 - p) ** 2), 0]


def test_rloo_std_numeric_paths_agree():
    problem = Problem(["0.2", "0.8"], [{"0": "1/2", "2": "1/2"}, {"1": "1/3", "0": "2/3"}], 6, 1,
                      advantage="rloo-std", eps="1/100")
    with mpmath.workdps(40):
        exact = [sp.N(v, 40) for v in preference_exact(problem, ["0.2", "0.8"])]
    numeric = preference_numeric(problem, ["0.2", "0.8"], 35)
    with mpmath.workdps(40):
        assert all(abs(a - mpmath.mpf(str(b))) < mpmath.mpf(10) ** -33 for a, b in zip(numeric, exact))


@pytest.mark.parametrize("settings", [dict(advantage="rloo-std"), dict(advantage="passk", pass_k=2)])
def test_monte_carlo_uses_the_rule(settings):
    problem = _problem(4, **settings)
    estimate, error = monte_carlo_preference(problem, ["0.5", "0.5"], samples=4000, seed=3)
    exact = preference_numeric(problem, ["0.5", "0.5"], 20)
    assert all(abs(e - float(x)) <= 4 * s + 1e-12 for e, s, x in zip(estimate, error, exact))
