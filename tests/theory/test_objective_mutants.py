"""grpo_symbolic.theory.objective: tests that kill mutants tools/mutate.py found alive."""

import sympy as sp

from grpo_symbolic.model.symbols import beta
from grpo_symbolic.theory.objective import derive_stationarity, objective


def test_lagrangian_equals_the_objective_on_the_simplex():
    """Catches ``lam * (sum(pi) - 1)`` → ``lam * (sum(pi) + 1)`` (the gradient cannot tell them apart)."""
    for penalty in ("grpo", "direct"):
        st = derive_stationarity(penalty, 3)
        J = objective(st.preference, st.pi, st.pi_ref, st.pi_old, beta, penalty)
        on_simplex = {st.pi[-1]: 1 - st.pi[0] - st.pi[1]}
        assert sp.expand((st.lagrangian - J).subs(on_simplex)) == 0
