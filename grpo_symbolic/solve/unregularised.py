"""No regulariser at all (β = 0, or k1 in the loss, without entropy): where the policy goes instead.

Then the stationarity conditions read P_G(o|π) = λ for every output in the support.  Since the
advantages are centred, Σ_o π(o) P_G(o|π) = 0, so an interior stationary policy needs P_G ≡ 0,
which fails as soon as the reward laws differ (the output with the best law in a group has a
positive expected advantage).  The expected-gradient flow then runs to the boundary.  Which face
it ends on is read off P_G at the vertices: the vertex of output a attracts the flow when every
other output's P_G(o | π → e_a) is below P_G(a | e_a) = 0 (a lone o in a group of a's is worse on
average).  Outputs with one same reward law keep their ratio (their P_G is equal), so a "vertex"
is the face spanned by the outputs of one law.

The approach is slow: near the vertex of the best of two deterministic rewards, 1 − π(best)
decays like 1/t in the number of flow steps t (a lone worse output in a group of G costs
√(G − 1) in P_G with the population std, so d log-odds/dt ∝ 1 − π(best)); the rate is measured in
tests/dynamics/test_simulate_kl.py with :func:`grpo_symbolic.dynamics.simulate.expected_flow`.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from grpo_symbolic.model.errors import SolverError
from grpo_symbolic.model.problem import Problem
from grpo_symbolic.preference.engine import preference_numeric
from grpo_symbolic.solve.presentation import output_labels
from grpo_symbolic.numerics.precision import mpx

VERTEX_OFFSET = Fraction(1, 10**40)
"""π(o) of every other output at the policy standing in for a vertex (P_G is continuous there)."""


def where_the_flow_goes(problem: Problem, dps: int) -> str:
    """The SolverError text for an unregularised problem: why there is no interior point and which
    vertex or face of the simplex the expected-gradient flow goes to.

    >>> print(where_the_flow_goes(Problem(["0.5", "0.3", "0.2"], [1, 0, 1], 4, 0), 20))  # doctest: +NORMALIZE_WHITESPACE
    problem: beta = 0 and no entropy bonus: nothing pulls the policy back, so there is no interior
    stationary policy (P_G(o|pi) differs between outputs wherever every output has mass); the
    expected-gradient flow takes all the mass to the face of outputs 1, 3 (reward law 1), keeping
    their ratio as at the start; 1 - pi(face) shrinks only like 1/t in the flow steps t
    (give beta > 0 with another estimator, or entropy > 0, for an interior policy)
    """
    laws = _law_classes(problem)
    if len(laws) == 1:
        raise SolverError("problem: no regulariser (beta = 0, or k1 in the loss) and no entropy bonus, and every "
                          "output has the same reward law: "
                          "P_G is 0 everywhere, so EVERY policy is stationary (the flow does not move)",
                          reason=SolverError.NOT_UNIQUE)
    attracting = [members for members in laws.values() if _attracts(problem, members, dps)]
    cause = "beta = 0" if problem.beta == 0 else "k1 in the loss (its expected gradient is a constant)"
    head = (f"problem: {cause} and no entropy bonus: nothing pulls the policy back, so there is no interior "
            "stationary policy (P_G(o|pi) differs between outputs wherever every output has mass); ")
    tail = " (give beta > 0 with another estimator, or entropy > 0, for an interior policy)"
    if not attracting:
        return head + "no vertex attracts the expected-gradient flow: it ends on a lower face of the simplex" + tail
    places = [_describe(problem, members) for members in attracting]
    if len(places) == 1:
        where = f"the expected-gradient flow takes all the mass to {places[0]}"
    else:
        where = f"the expected-gradient flow takes all the mass to one of: {'; '.join(places)} (which one depends on the start)"
    return head + where + "; 1 - pi(face) shrinks only like 1/t in the flow steps t" + tail


def _law_classes(problem: Problem) -> dict[Any, list[int]]:
    classes: dict[Any, list[int]] = {}
    for o, row in enumerate(problem.law_matrix):
        classes.setdefault(row, []).append(o)
    return classes


def _attracts(problem: Problem, members: list[int], dps: int) -> bool:
    """Is the face of ``members`` (one reward law) attracting: every other output's P_G below theirs?"""
    others = problem.size - len(members)
    near = [VERTEX_OFFSET if o not in members else (1 - others * VERTEX_OFFSET) / len(members) for o in range(problem.size)]
    P = preference_numeric(problem, near, dps)
    inside = P[members[0]]
    return all(P[o] < inside - mpx.mpf(10) ** (-dps // 2) for o in range(problem.size) if o not in members)


def _describe(problem: Problem, members: list[int]) -> str:
    labels = output_labels(problem.names, problem.size)
    law = problem.rewards[members[0]]
    shown = "/".join(f"{v}:{q}" for v, q in law.outcomes) if len(law.outcomes) > 1 else f"{law.values[0]}"
    if len(members) == 1:
        return f"the vertex of output {labels[members[0]]} (reward law {shown})"
    return f"the face of outputs {', '.join(labels[o] for o in members)} (reward law {shown}), keeping their ratio as at the start"
