"""grpo_symbolic.theory.objective: J(π; π_old) and the derived stationarity conditions.

Each test names the mutation of the module it catches.
"""

import pytest
import sympy as sp

from grpo_symbolic.model.symbols import beta, lam
from grpo_symbolic.theory.objective import derive_stationarity, objective
from grpo_symbolic.theory.penalty import kl


def on_simplex(expr, st):
    """``expr`` with the last π and π_ref written as 1 minus the others."""
    return expr.subs({st.pi[-1]: 1 - sum(st.pi[:-1]), st.pi_ref[-1]: 1 - sum(st.pi_ref[:-1])})


def test_objective_is_reward_minus_weighted_penalty():
    """At π = π_old = π_ref the penalty vanishes and J = Σ π P.  Catches: a + for the − or β dropped."""
    P = sp.symbols("P_a P_b")
    ref = (sp.Rational(1, 3), sp.Rational(2, 3))
    for penalty in ("grpo", "direct"):
        assert sp.simplify(objective(P, ref, ref, ref, beta, penalty) - sum(x * y for x, y in zip(ref, P))) == 0
    x = sp.Symbol("x", positive=True)
    pi = (x, 1 - x)
    derivative = sp.diff(objective(P, pi, ref, ref, beta, "grpo"), x).subs(x, ref[0])
    assert sp.simplify(derivative - (P[0] - P[1])) == 0  # the penalty is flat at its minimum


@pytest.mark.parametrize("size", [2, 3])
def test_grpo_policy_solves_its_equations(size):
    """π(o) = β π_ref(o)/(β + λ − P(o)) and λ = Σ π P.  Catches: a wrong solve or a sign flip in (11)."""
    st = derive_stationarity("grpo", size)
    for o in range(size):
        expected = beta * st.pi_ref[o] / (beta + lam - st.preference[o])
        assert sp.simplify(st.policy[o] - expected) == 0
        assert sp.simplify(st.equations[o].subs(st.pi[o], st.policy[o])) == 0
    assert sp.expand(st.multiplier - sum(x * y for x, y in zip(st.pi, st.preference))) == 0


def test_direct_policy_is_log_pooling_and_its_multiplier():
    """π ∝ π_ref·exp(P/β) and λ = Σ π P − β KL(π‖π_ref).  Catches: the penalty's weight π/π_old lost."""
    st = derive_stationarity("direct")
    assert sp.simplify(st.policy[0] - st.pi_ref[0] * sp.exp((st.preference[0] - lam) / beta)) == 0
    expected = sum(x * y for x, y in zip(st.pi, st.preference)) - beta * kl(st.pi, st.pi_ref)
    assert sp.simplify(sp.expand_log(on_simplex(st.multiplier - expected, st), force=True)) == 0


def test_best_response_keeps_pi_old_until_it_is_set_to_pi():
    """Catches: π_old set to π before differentiating (that gives the direct KL's gradient, not (10))."""
    st = derive_stationarity("grpo")
    assert st.best_response[0].has(st.pi_old[0])
    assert not any(e.has(*st.pi_old) for e in st.equations)
    wrong = sp.diff(st.lagrangian.subs(dict(zip(st.pi_old, st.pi))), st.pi[0])
    assert sp.simplify(sp.expand_log(wrong - st.equations[0], force=True)) != 0


def test_derivation_is_cached_and_generic_in_size():
    assert derive_stationarity("grpo", 2) is derive_stationarity("grpo", 2)
    assert len(derive_stationarity("direct", 3).policy) == 3
