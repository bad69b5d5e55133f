"""Stationary π(a) of a binary question at any group size, vectorised in float64 over grids.

For figures and parameter sweeps (a million (β, π_ref) points in a fraction of a second), never
for reported digits: :func:`grpo_symbolic.solve.solver.stationary_policy` gives those.  Nothing is typed
in.  Answer a has reward 1, b reward 0, GRPO's penalty; then

* P_G(a|p) = Σ_k b_k p^k (1 − p)^(G−1−k), with the b_k read off the engine's exact table
  (multinomial coefficient × advantage, k = number of other outputs with reward 1);
* the stationarity condition is the derived E(P_G(a|p), p, ρ, λ, β) = 0 of
  :func:`~grpo_symbolic.theory.objective.derive_stationarity`, with its multiplier λ = Σ π P_G = 0 by the
  zero-mean identity (:func:`zero_mean_holds` confirms it exactly for the table used).

E decreases in p from E(ρ) = P_G(a|ρ) > 0 to E(1) = −β(1 − ρ) < 0 (P_G(a|p) decreases in p), so
the root in (ρ, 1) is unique; it is found by Newton steps safeguarded by bisection, all points at
once.  The Bernstein sum is evaluated by Horner's rule in t = p/(1 − p) (or its inverse), where all
terms have one sign: no cancellation at any G.
"""

from __future__ import annotations

from functools import lru_cache
from typing import cast

import numpy as np
from numpy.typing import ArrayLike
import sympy as sp

from grpo_symbolic.model import inputs
from grpo_symbolic.model.errors import ParameterError
from grpo_symbolic.numerics.roots import array_newton
from grpo_symbolic.theory.objective import derive_stationarity
from grpo_symbolic.preference.engine import exact_table
from grpo_symbolic.model.problem import Problem
from grpo_symbolic.model.symbols import beta as beta_symbol, lam

MAX_GROUP_SIZE = 512
"""Above this the coefficients b_k overflow float64; use the numeric solver."""


@lru_cache(maxsize=32)
def _problem(group_size, normalisation):
    return Problem(reference=("1/2", "1/2"), rewards=(1, 0), group_size=group_size, beta=1,
                   normalisation=normalisation)


@lru_cache(maxsize=32)
def bernstein_coefficients(group_size: int, normalisation: str = "population") -> tuple[tuple[sp.Expr, ...], ...]:
    """Exact (b_k for a, b_k for b), k = 0 … G − 1: P_G(o|p) = Σ_k b_k p^k (1 − p)^(G−1−k).

    >>> bernstein_coefficients(3)
    ((sqrt(2), sqrt(2), 0), (0, -sqrt(2), -sqrt(2)))
    """
    table = exact_table(_problem(group_size, normalisation))  # focal values sorted: 0 (b), then 1 (a)
    coefficients = []
    for rows in reversed(table):
        b = [sp.Integer(0)] * group_size
        for counts, weight in rows:
            b[counts[1]] += weight
        coefficients.append(tuple(b))
    return tuple(coefficients)


def zero_mean_holds(group_size: int, normalisation: str = "population") -> bool:
    """True when p·P_G(a|p) + (1 − p)·P_G(b|p) expands to 0 (so the multiplier λ is 0), by SymPy.

    >>> zero_mean_holds(5)
    True
    """
    p = sp.Symbol("p")
    n = group_size - 1
    a, b = bernstein_coefficients(group_size, normalisation)
    total = sum((p * ca + (1 - p) * cb) * p**k * (1 - p) ** (n - k) for k, (ca, cb) in enumerate(zip(a, b)))
    return sp.expand(total) == 0


@lru_cache(maxsize=4)
def _cleared_equation():
    """π·E, the derived stationarity condition times π(a) (λ = 0), and its partials in P and π."""
    st = derive_stationarity("grpo")
    P, pi, rho = st.preference[0], st.pi[0], st.pi_ref[0]
    cleared = sp.expand(st.equations[0].subs(lam, 0) * pi)
    args = (P, pi, rho, beta_symbol)
    return tuple(sp.lambdify(args, f, "numpy") for f in (cleared, sp.diff(cleared, P), sp.diff(cleared, pi)))


@lru_cache(maxsize=32)
def _power_coefficients(group_size, normalisation):
    """P_G(a|p) in the power basis (highest degree first), for Horner's rule at small G."""
    p = sp.Symbol("p")
    n = group_size - 1
    a = bernstein_coefficients(group_size, normalisation)[0]
    poly = sp.Poly(sp.expand(sum(c * p**k * (1 - p) ** (n - k) for k, c in enumerate(a))), p)
    return np.array([float(c) for c in poly.all_coeffs()])


POWER_BASIS_MAX = 16
"""Up to this G the power basis loses < 4 digits (|coefficients| < 1.2e3); above, the Bernstein form."""


def preference_a(group_size: int, p: ArrayLike, normalisation: str = "population") -> tuple[np.ndarray, np.ndarray]:
    """(P_G(a|p), dP_G(a|p)/dp) in float64 for a numpy array p in [0, 1].

    >>> [round(float(x), 12) for x in preference_a(8, np.array([0.3]))[0]]
    [1.373905113176]
    """
    p = np.asarray(p, dtype=float)
    if group_size <= POWER_BASIS_MAX:
        return _horner(_power_coefficients(group_size, normalisation), p)
    n = group_size - 1
    b = np.array([float(c) for c in bernstein_coefficients(group_size, normalisation)[0]])
    value, slope = np.empty_like(p), np.empty_like(p)
    low = p <= 0.5
    for mask, coef, x, sign in ((low, b, p, 1.0), (~low, b[::-1], 1 - p, -1.0)):
        # Σ_k c_k x^k y^(n−k) = y^n·B(t), t = x/y ≤ 1, y = 1 − x; its x-derivative is y^(n−1)(−n·B + B'(t)/y)
        xs = x[mask]
        ys = 1 - xs
        B, dB = _horner(coef[::-1], xs / ys)
        value[mask] = ys**n * B
        slope[mask] = sign * ys ** (n - 1) * (dB / ys - n * B)
    return value, slope


def _horner(coefficients, x):
    """(polynomial, derivative) at x; coefficients from the highest degree down."""
    value = np.full_like(x, coefficients[0])
    slope = np.zeros_like(x)
    for c in coefficients[1:]:
        slope *= x
        slope += value
        value *= x
        value += c
    return value, slope


MIN_ITERATIONS = 20
"""The fewest Newton steps :func:`stationary_grid` accepts: what the slowest points tried need
(β from 1e-4 to 1e4, π_ref(a) down to 1e-12, G up to 512); most converge in under 10."""


def stationary_grid(group_size: int, beta: ArrayLike, reference: ArrayLike, normalisation: str = "population",
                    iterations: int = 100) -> np.ndarray:
    """The stationary π(a) in float64 for arrays (broadcast together) of β > 0 and π_ref(a) ∈ (0, 1).

    Answer a has reward 1 > reward 0 of b, GRPO's penalty.  Newton on F = π·E from above the root
    (:func:`~grpo_symbolic.numerics.roots.array_newton`): F is concave in p (p·P_G(a|p) is; tests
    check it), so the iterates decrease monotonically to it.  The start is min(1, ρ + M/β),
    M ≥ max_p p·P_G(a|p): the root has β(p − ρ) = p·P_G(a|p) ≤ M.  A point stops when its step is
    below 1e-13·p; accurate to about 1e-13 (more where F' is not small).  ``iterations`` (at least
    :data:`MIN_ITERATIONS`) caps the steps; a point still moving then raises
    :class:`~grpo_symbolic.model.errors.SolverError` (NOT_CONVERGED) naming it.

    The root is always below 1 (E(1) < 0), but float64 cannot hold it when 1 − π(a) is below
    its rounding of 1 (about 1.1e-16: β = 1e-300 gives 1 − π(a) ≈ 5e-301): such points raise
    :class:`~grpo_symbolic.model.errors.ParameterError` rather than return π(a) = 1.0 with
    1 − π(a) = 0; :func:`~grpo_symbolic.solve.api.stationary_policy` gives π(b) = 1 − π(a) to
    every digit asked.  Near 1, 1 − π(a) carries only the digits above the 1e-13 accuracy.

    >>> [round(float(x), 10) for x in stationary_grid(2, np.array([0.5, 1.0]), 0.3)]
    [0.7109772229, 0.5477225575]
    """
    if isinstance(group_size, (bool, np.bool_)) or not isinstance(group_size, (int, np.integer)) or not 2 <= group_size <= MAX_GROUP_SIZE:
        raise ParameterError(f"group_size: got {group_size!r}; the float grid takes 2 <= G <= {MAX_GROUP_SIZE} "
                             "(use stationary_policy beyond)")
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < MIN_ITERATIONS:
        raise ParameterError(f"iterations: got {iterations!r}; give a whole number >= {MIN_ITERATIONS} (default 100)")
    group_size = int(group_size)
    beta, rho = np.broadcast_arrays(inputs.float_array(beta, "beta"), inputs.float_array(reference, "reference"))
    if not (np.all(np.isfinite(beta)) and np.all(beta > 0)):
        raise ParameterError("beta: every entry must be a finite number > 0")
    if not (np.all(np.isfinite(rho)) and np.all((rho > 0) & (rho < 1))):
        raise ParameterError("reference: every entry (pi_ref(a)) must be a number in (0, 1)")
    shape, beta, rho = beta.shape, beta.ravel(), rho.ravel()
    start = np.minimum(1.0, rho + _reward_bound(group_size, normalisation) / beta)
    result = np.empty_like(start)
    for i in range(0, start.size, CHUNK):
        part = slice(i, i + CHUNK)
        result[part] = _newton_from_above(group_size, normalisation, start[part], beta[part], rho[part], iterations)
    if np.any(result >= 1):
        at = int(np.argmax(result >= 1))
        raise ParameterError(
            f"beta: at beta = {beta[at]!r}, pi_ref(a) = {rho[at]!r} the stationary pi(a) is within float64 rounding of 1 "
            "(1 - pi(a) < 1.1e-16), which the float grid cannot represent; use larger beta or smaller pi_ref(a), "
            "or stationary_policy, which gives 1 - pi(a) to every digit asked")
    return result.reshape(shape)


CHUNK = 16384
"""Points per block: blocks that stay in the CPU cache make the numpy passes 2–3 times faster."""


def _newton_from_above(group_size: int, normalisation: str, start: np.ndarray, beta: np.ndarray, rho: np.ndarray,
                       iterations: int) -> np.ndarray:
    cleared, by_preference, by_policy = _cleared_equation()

    def value_and_slope(x: np.ndarray, b: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        P, dP = preference_a(group_size, x, normalisation)
        return cleared(P, x, r, b), by_preference(P, x, r, b) * dP + by_policy(P, x, r, b)

    roots = array_newton(value_and_slope, start, args=(beta, rho), lower=rho, upper=1.0, maxsteps=iterations,
                         what=f"the float grid's Newton iteration (G = {group_size})")
    return cast(np.ndarray, roots)


@lru_cache(maxsize=32)
def _reward_bound(group_size, normalisation):
    """About max_p p·P_G(a|p), from above (grid maximum plus the spacing times the largest grid slope)."""
    p = np.linspace(0.0, 1.0, 4097)
    P, dP = preference_a(group_size, p, normalisation)
    slope = np.abs(P + p * dP).max()
    return float((p * P).max() + slope / 4096)
