"""Stability of a stationary policy: the linearised best-response map and the second-order test.

The best response is π_old ↦ argmax_π J(π; π_old).  Its Jacobian on the simplex at π* is built at
the working precision; its spectral radius is computed in **float64** (numpy eigenvalues), enough to
tell attracting (< 1) from repelling; the second-order test is exact in the curvatures.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import mpmath  # noqa: F401  (doctests)
import numpy as np

from grpo_symbolic.numerics.precision import mpx, working_precision
from grpo_symbolic.preference.engine import expected_advantages_numeric, mixture
from grpo_symbolic.solve.reduced import ReducedMap


def stability(reduced: ReducedMap, pi: Sequence[Any], P: Sequence[Any], multiplier: Any) -> tuple[float, bool]:
    """(spectral radius in float64 of d(best response)/d(π_old) on the simplex, is π a local maximiser)."""
    K, b, forms = len(pi), reduced.beta, reduced.forms
    args = [(Po, x, x, r, multiplier, b, reduced.entropy) for Po, x, r in zip(P, pi, reduced.rho)]
    a = [forms["br_dpi"](*t) for t in args]
    dq = [forms["br_dq"](*t) for t in args]
    dP = [forms["br_dP"](*t) for t in args]
    JP = _preference_jacobian(reduced, pi)
    # Linearised best response: a_o dπ_o − dλ = −(dq_o dq_o + dP_o Σ_j JP[o][j] dq_j), Σ dπ = 0.
    rhs = [[-(dP[o] * JP[o][j] + (dq[o] if o == j else 0)) for j in range(K)] for o in range(K)]
    inv_a = [1 / x for x in a]
    norm = mpx.fsum(inv_a)
    D = mpx.matrix(K, K)
    for j in range(K):
        dlam = -mpx.fsum(rhs[o][j] * inv_a[o] for o in range(K)) / norm
        for o in range(K):
            D[o, j] = (rhs[o][j] + dlam) * inv_a[o]
    reduced_jacobian = np.array([[float(D[o, j] - D[o, K - 1]) for j in range(K - 1)] for o in range(K - 1)])
    radius = float(max(abs(np.linalg.eigvals(reduced_jacobian)))) if K > 1 else 0.0
    return radius, negative_definite_on_simplex(a)


def _preference_jacobian(reduced: ReducedMap, pi: Sequence[Any]) -> list[list[Any]]:
    """dP_o/dπ_j through the mixture, by central differences at doubled precision (steps relative to m)."""
    V, laws, problem, dps = reduced.values, reduced.laws, reduced.problem, reduced.dps
    with working_precision(mpx.dps, guard=mpx.dps):
        m = mixture(laws, pi)
        dQ = []
        for u in range(V):
            # the step stays far below m_u: a component of 1e-300 is not stepped across 0
            h = min(mpx.mpf(10) ** (-dps - 10), m[u] * mpx.mpf(10) ** (-dps // 2 - 5))
            up = [x + (h if j == u else 0) for j, x in enumerate(m)]
            down = [x - (h if j == u else 0) for j, x in enumerate(m)]
            qu = expected_advantages_numeric(problem, up, dps)
            qd = expected_advantages_numeric(problem, down, dps)
            dQ.append([(x - y) / (2 * h) for x, y in zip(qu, qd)])
    K = len(pi)
    return [[mpx.fsum(laws[o][v] * dQ[u][v] * laws[j][u] for v in range(V) for u in range(V))
             for j in range(K)] for o in range(K)]


def negative_definite_on_simplex(curvatures: Sequence[Any]) -> bool:
    """Is Σ_o a_o v_o² < 0 for every v ≠ 0 with Σ_o v_o = 0?  (J's Hessian is diagonal in π.)

    Exact test, free of rounding: yes iff every a_o < 0, or exactly one a_j > 0 and
    Σ_o 1/a_o > 0 (with v_j = 1 the best the others can do is −1/Σ_{o≠j} 1/|a_o|).

    >>> negative_definite_on_simplex([-1, -2]), negative_definite_on_simplex([3, -1, -1])
    (True, False)
    >>> negative_definite_on_simplex([1, -4, -4])
    True
    """
    positive = [x for x in curvatures if x >= 0]
    if not positive:
        return True
    if len(positive) > 1 or positive[0] == 0:
        return False
    return bool(mpx.fsum(1 / mpx.mpf(x) for x in curvatures) > 0)


def flow_stability(gradient: Callable[[Sequence[Any]], Sequence[Any]], pi: Sequence[Any]) -> bool:
    """Is π attracting under the expected-gradient flow θ̇ = π ⊙ (g(π) − ⟨π, g(π)⟩), π = softmax(θ)?

    ``gradient`` is g(π) = ∂J/∂π at π_old = π (the stationarity condition without λ).  The flow's
    Jacobian in the logit differences θ_j − θ_K is taken by central differences at doubled
    precision; π is attracting when every eigenvalue (float64) has a negative real part.  This is
    the test for regularisers whose best response is degenerate (J linear in π).

    >>> flow_stability(lambda p: [-mpmath.log(x) for x in p], [mpmath.mpf(1) / 2] * 2)  # entropy
    True
    """
    K = len(pi)
    with working_precision(mpx.dps, guard=mpx.dps):
        theta = [mpx.log(x) - mpx.log(pi[-1]) for x in pi]
        h = mpx.mpf(10) ** (-(mpx.dps // 3))
        columns = []
        for j in range(K - 1):
            up = _logit_velocity(gradient, [t + (h if i == j else 0) for i, t in enumerate(theta)])
            down = _logit_velocity(gradient, [t - (h if i == j else 0) for i, t in enumerate(theta)])
            columns.append([(a - b) / (2 * h) for a, b in zip(up, down)])
    jacobian = np.array([[float(columns[j][i]) for j in range(K - 1)] for i in range(K - 1)])
    return bool(np.all(np.linalg.eigvals(jacobian).real < 0)) if K > 1 else True


def _logit_velocity(gradient: Callable[[Sequence[Any]], Sequence[Any]], theta: Sequence[Any]) -> list[Any]:
    """θ̇_j − θ̇_K for j < K at the logits θ."""
    top = max(theta)
    weights = [mpx.exp(t - top) for t in theta]
    total = mpx.fsum(weights)
    pi = [w / total for w in weights]
    g = gradient(pi)
    mean = mpx.fsum(x * y for x, y in zip(pi, g))
    velocity = [x * (y - mean) for x, y in zip(pi, g)]
    return [v - velocity[-1] for v in velocity[:-1]]
