"""Where the interior stationary points can lie: a proven box of logit coordinates, with its proof.

The roots of the reduced residual (:class:`~grpo_symbolic.solve.balls.BallResidual`) are reward
mixtures m = softmax(s, 0), s ∈ R^(V−1).  :func:`logit_region` returns a box of s that holds every
one of them, derived from the stationary forms (r = the mixture of π_ref, D = max v − min v):

* **bounded preferences** (finite G; G = ∞ with shift or eps > 0): |Q_v| ≤ B, so every P_c lies in
  an interval of width ΔP ≤ 2B; direct: m'_j/m'_V ∈ (r_j/r_V)·[e^{−ΔP/β}, e^{ΔP/β}]; grpo:
  π_c ∈ [βρ_c/(β + ΔP), 1].
* **G = ∞, eps = 0, grpo penalty** (P_G unbounded near the faces): |P_c| ≤ D/σ and λ = 0, so
  π_c = βρ_c/(β − P_c) ≥ βρ_c·σ/(βσ + D) and, σ ≤ D/2, m_j ≥ c_j·σ with c_j = βr_j/(D(β/2 + 1)).
  With δ the smallest gap between reward values, σ² ≥ m_j(1 − m_j)δ², so
  m_j ≥ c_j²δ²/(1 + c_j²δ²) =: μ_j at every root, and s_j ∈ [log μ_j, −log μ_V].
* **G = ∞, eps = 0, direct penalty**: P_c = (r̄_c − mean(m))·t with t = 1/σ(m), and the common
  term cancels in π_c ∝ ρ_c e^{P_c/β}: the next mixture is M(t) (classes tilted by e^{r̄_c t/β}),
  a function of the scalar t ≥ 2/D alone.  A root has m = M(t) and t·σ(M(t)) = 1.  For large t,
  M(t) tends to the mixture M∞ of the classes with the largest mean r̄* (the mass off them is at
  most E(t) = R·e^{−gap·t/β}, R = ρ(others)/ρ(top)): if σ(M∞) > 0, σ(M(t)) ≥ σ(M∞)·√(1 − E(t))
  (the variance is concave), so t·σ > 1 once E ≤ 3/4 and t > 2/σ(M∞); if σ(M∞) = 0,
  σ(M(t))² ≤ D²·E(t), so t·σ ≤ t·D·√R·e^{−gap·t/(2β)} < 1 from some T on.  So t ∈ [2/D, T], and
  the box is the enclosure of s_j = log(M_j(t)/M_V(t)) over that interval.

A proven box wider than the cap is clipped and then no longer counts as proven (said so).
"""

from __future__ import annotations

from dataclasses import dataclass
import math
from typing import Any

import sympy as sp

from grpo_symbolic.numerics.certify import _flint
from grpo_symbolic.solve.balls import BallResidual, arb_of

#: Pieces of [2/D, T] over which the direct form's tilt is enclosed (more: a tighter box).
TILT_PIECES = 256


@dataclass(frozen=True)
class Region:
    """The box of logit coordinates searched: ``bounds`` (lo, hi) per coordinate (integers);
    ``proven``: every root lies inside (with ``reason``, the argument), else only the box was searched."""

    bounds: tuple[tuple[int, int], ...]
    proven: bool
    reason: str


def logit_region(residual: BallResidual, cap: float) -> Region:
    """Where the roots of ``residual`` lie (module docstring); a proven box wider than ``cap`` is
    clipped to [−cap, cap] and then no longer counts as proven.

    >>> from grpo_symbolic import Problem
    >>> from grpo_symbolic.numerics.certify import flint_precision
    >>> prob = Problem(reference=["0.5", "0.5"], rewards=[1, 0], group_size="inf", beta="0.5")
    >>> with flint_precision(20):
    ...     region = logit_region(BallResidual(prob), 1000)
    >>> region.proven, region.bounds
    (True, ((-5, 5),))
    """
    region = _region(residual)
    clipped = tuple((max(lo, -int(cap)), min(hi, int(cap))) for lo, hi in region.bounds)
    if clipped == region.bounds:
        return region
    return Region(clipped, False, region.reason + f"; but that box ({shown_box(region.bounds)}) is wider than "
                  f"|s_j| <= {int(cap)}, so only the clipped box is searched (SolverOptions.logit_cap, "
                  "logit_cap_multi: a wider cap searches more of it, at more cost)")


def shown_box(bounds: tuple[tuple[int, int], ...]) -> str:
    """A box as text: [lo, hi] per coordinate, joined by x."""
    return " x ".join(f"[{lo}, {hi}]" for lo, hi in bounds)


def _region(residual: BallResidual) -> Region:
    bound = residual.bound_of_preferences()
    if bound is not None:
        return _bounded(residual, bound)
    if residual.direct:
        return Region(_integer_box(_tilt_box(residual)), True,
                      "G = ∞, eps = 0: the direct form's next mixture depends on t = 1/σ alone, and "
                      "t·σ(M(t)) = 1 has its roots in t ∈ [2/D, T] (the tilt's limit bounds T)")
    return Region(_integer_box(_grpo_floor_box(residual)), True,
                  "G = ∞, eps = 0: π_c >= βρ_c·σ/(βσ + D) at a root, and σ² >= m_j(1 − m_j)δ², so every "
                  "m_j is at least (c_j δ)²/(1 + (c_j δ)²), c_j = βr_j/(D(β/2 + 1))")


def _reference_mixture(residual: BallResidual) -> list[Any]:
    arb = _flint().arb
    return [sum((rho * law[j] for rho, law in zip(residual.rho, residual.laws)), arb(0)) for j in range(residual.V)]


def _bounded(residual: BallResidual, bound: Any) -> Region:
    n, r, beta, spread = residual.V - 1, _reference_mixture(residual), residual.beta, 2 * bound
    if residual.direct:
        box = [((r[j] / r[-1]).log() - spread / beta, (r[j] / r[-1]).log() + spread / beta) for j in range(n)]
        why = "the preferences P_G are bounded (|Q| <= %s), so log(m'_j/m'_V) is within ΔP/β of log(r_j/r_V)"
    else:
        box = [((beta * r[j] / (beta + spread)).log(), ((beta + spread) / (beta * r[-1])).log()) for j in range(n)]
        why = "the preferences P_G are bounded (|Q| <= %s), so every π_c lies in [βρ_c/(β + ΔP), 1]"
    return Region(_integer_box(box), True, why % bound.str(5, radius=False))


def _spread_and_gap(values: list[Any]) -> tuple[Any, Any]:
    """(D = max v − min v, δ = the smallest gap between distinct reward values)."""
    ordered = sorted(values, key=lambda v: float(v.mid()))
    gaps = [b - a for a, b in zip(ordered, ordered[1:])]
    smallest = gaps[0]
    for g in gaps[1:]:
        smallest = smallest.min(g)
    return ordered[-1] - ordered[0], smallest


def _grpo_floor_box(residual: BallResidual) -> list[tuple[Any, Any]]:
    """G = ∞, eps = 0, grpo: every m_j ≥ μ_j (module docstring), so s_j ∈ [log μ_j, −log μ_V]."""
    spread, gap = _spread_and_gap(residual.values)
    beta = residual.beta
    floors = []
    for rj in _reference_mixture(residual):
        x = (beta * rj * gap / (spread * (beta / 2 + 1))) ** 2
        floors.append(x / (1 + x))
    return [(floors[j].log(), -floors[-1].log()) for j in range(residual.V - 1)]


def _tilt_box(residual: BallResidual) -> list[tuple[Any, Any]]:
    """G = ∞, eps = 0, direct: the enclosure of s_j = log(M_j(t)/M_V(t)) over t ∈ [2/D, T]."""
    arb = _flint().arb
    spread, _ = _spread_and_gap(residual.values)
    lo, hi = 2 / spread, _tilt_limit(residual, spread)
    box: list[tuple[Any, Any]] = []
    for k in range(TILT_PIECES):
        t = (lo + (hi - lo) * arb(k) / TILT_PIECES).union(lo + (hi - lo) * arb(k + 1) / TILT_PIECES)
        logs = _tilted_logs(residual, t)
        piece = [logs[j] - logs[-1] for j in range(residual.V - 1)]
        box = [(x.lower(), x.upper()) for x in piece] if not box else \
            [(a.min(x.lower()), b.max(x.upper())) for (a, b), x in zip(box, piece)]
    return box


def _tilted_logs(residual: BallResidual, t: Any) -> list[Any]:
    """log M_j(t) up to a common constant: logsumexp_c (log(ρ_c law_c(j)) + r̄_c·t/β)."""
    logs = []
    for j in range(residual.V):
        terms = [(rho * law[j]).log() + mean * t / residual.beta
                 for rho, law, mean in zip(residual.rho, residual.laws, residual.means) if law[j] != 0]
        top = terms[0]
        for x in terms[1:]:
            top = top.max(x)
        logs.append(top + sum(((x - top).exp() for x in terms), 0 * top).log())
    return logs


def _tilt_limit(residual: BallResidual, spread: Any) -> Any:
    """T: for t ≥ T, t·σ(M(t)) ≠ 1 (module docstring).  The top classes and the gap are found
    from the exact class means."""
    problem = residual.problem
    rows = list(dict.fromkeys(problem.law_matrix))  # the classes, in BallResidual's order
    means = [sum((q * v for q, v in zip(row, problem.reward_values)), sp.Integer(0)) for row in rows]
    best = max(means)
    top = [c for c, m in enumerate(means) if m == best]
    limit = _top_mixture(residual, top)
    if len(top) == len(rows):  # one mean: M(t) = r for every t, the root is t = 1/σ(r)
        return 1 / _sigma(limit, residual.values) + 2 / spread + 1
    gap = arb_of(best - max(m for m in means if m != best))
    ratio = sum((r for c, r in enumerate(residual.rho) if c not in top), 0 * gap) / sum((residual.rho[c] for c in top), 0 * gap)
    beta = residual.beta
    if sum(1 for j in range(residual.V) if any(rows[c][j] != 0 for c in top)) > 1:  # σ(M∞) > 0
        floor = 2 / _sigma(limit, residual.values)  # E(t) <= 3/4 and t > 2/σ(M∞)
        return (beta * (4 * ratio / 3).log() / gap).max(floor).max(2 / spread) + 1
    return _decay_limit(gap / (2 * beta), spread, ratio)


def _decay_limit(k: Any, spread: Any, ratio: Any) -> Any:
    """The first doubling t ≥ max(1/k, 2/D) with t·D·√R·e^{−kt} < 1 (it decreases for t > 1/k)."""
    t = (1 / k).max(2 / spread) + 1
    while not (t * spread * ratio.sqrt() * (-k * t).exp() < 1):
        t = 2 * t
    return t


def _top_mixture(residual: BallResidual, top: list[int]) -> list[Any]:
    """M∞: the reward mixture of the classes in ``top``, weighted by π_ref."""
    mass = sum((residual.rho[c] for c in top), 0 * residual.beta)
    return [sum((residual.rho[c] * residual.laws[c][j] for c in top), 0 * mass) / mass for j in range(residual.V)]


def _sigma(mixture: list[Any], values: list[Any]) -> Any:
    """σ of a mixture as a ball (Σ_{u<w} m_u m_w (v_u − v_w)², no cancellation)."""
    arb = _flint().arb
    variance = sum((mixture[u] * mixture[w] * (values[u] - values[w]) ** 2
                    for u in range(len(values)) for w in range(u + 1, len(values))), arb(0))
    return variance.sqrt()


def _integer_box(box: list[tuple[Any, Any]]) -> tuple[tuple[int, int], ...]:
    """Integer ends just outside the balls' ends (a non-finite end becomes ±10^9, clipped later)."""
    def end(x: Any, up: bool) -> int:
        value = float(x.upper() if up else x.lower())
        if not math.isfinite(value) or abs(value) > 1e9:
            return 10**9 if up else -(10**9)
        return math.ceil(value) + 1 if up else math.floor(value) - 1
    return tuple((end(lo, False), end(hi, True)) for lo, hi in box)
