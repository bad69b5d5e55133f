"""The fixed-point problem of a numeric Problem, reduced to the reward mixture, and its residual.

The stationary form (:mod:`grpo_symbolic.solve.links`: derived in :mod:`grpo_symbolic.theory.objective`
for the paper's penalties, in :mod:`grpo_symbolic.theory.regularisers` for every other KL estimator,
placement and entropy bonus) gives π(o) from P_G(o|π),
π_ref(o), β and the multiplier λ.  P_G(o|π) depends on π only through the mixture law m of the
rewards, so the fixed point is sought in m (one unknown per distinct reward value, whatever K):
m ↦ π(m) ↦ mixture(π(m)), in logit coordinates s (m = softmax(s, 0)).

Per evaluation: one P_G table sum, then λ from Σ π = 1 by :func:`~grpo_symbolic.numerics.roots.bracketed_newton`
in the shifted coordinate u = λ − max P + β (no cancellation when π_ref of the top output is tiny;
bracketed per link family: the reciprocal and exponential links in closed form, any other link
by widening from u = β, where Σ π decreases in u; the linear link cut at 0 is the KKT form),
over classes of outputs with equal reward laws (the stationary form is proportional to π_ref, so
a class acts as one output).  Group filters (``drop-equal``, ``mask-penalty``) give each class its
own effective β·W_c (:mod:`grpo_symbolic.theory.filtering`), W_c a function of the mixture: the
map then evaluates the stationary form at (u + β_c − β, β_c) per class (:meth:`ReducedMap.betas`).
The same code runs in float64 (:attr:`ReducedMap.fast`, for scans
and starts, never for results) and in mpmath (:attr:`ReducedMap.exact`): only the
:class:`_Backend` differs.
"""

from __future__ import annotations

from typing import Any

import mpmath  # noqa: F401  (doctests)
import numpy as np

from grpo_symbolic.model.errors import SolverError
from grpo_symbolic.model.problem import Problem
from grpo_symbolic.numerics.precision import mpx, to_mpf
from grpo_symbolic.numerics.roots import FLOAT64, MPMATH, Arithmetic, bracketed_newton, widen_bracket
from grpo_symbolic.preference.engine import expected_advantages_float, expected_advantages_numeric, mixture
from grpo_symbolic.solve.links import forms_of
from grpo_symbolic.theory.filtering import effective_betas


WIDENINGS = 64
"""Doublings of the multiplier's bracket (β·2^64 covers any P_G the arithmetic represents)."""


class _Backend:
    """The arithmetic-specific pieces of the reduced map (mpmath: lists and fsum)."""

    arithmetic: Arithmetic = MPMATH
    module = "mpmath"
    close: Any = None  # the root core's default: 2^(−bits/2 − 8)
    form: Any = None  # the compiled policy_u of this arithmetic (set by ReducedMap)

    def __init__(self, problem: Problem, dps: int, rho: Any, laws: Any, beta: Any, entropy: Any, cut: bool) -> None:
        self.problem, self.dps, self.rho, self.laws, self.beta = problem, dps, rho, laws, beta
        self.entropy, self.cut = entropy, cut  # cut: the linear link's KKT form max(0, ·)
        self._last: tuple[Any, Any] | None = None

    def softmax(self, s: Any) -> Any:
        top = max([0, *s])
        w = [mpx.exp(x - top) for x in s] + [mpx.exp(-top)]
        total = mpx.fsum(w)
        return tuple(x / total for x in w)

    def preferences(self, m: Any) -> Any:
        """P_G per class at the mixture m; the last m is remembered (the solver's last residual and
        the policy read off at the root evaluate the same m, at the same precision)."""
        key = (mpx.prec, tuple(m))
        if self._last is None or self._last[0] != key:
            q = expected_advantages_numeric(self.problem, m, self.dps)
            self._last = (key, tuple(mpx.fsum(a * b for a, b in zip(row, q)) for row in self.laws))
        return self._last[1]

    def gaps(self, P: Any) -> tuple[Any, Any]:
        top = max(P)
        return top, [x - top for x in P]

    def each(self, form: Any, gaps: Any, u: Any, betas: Any = None, slope: bool = False) -> Any:
        """The form per class at u; ``betas``: per-class effective β (at u + β_c − β, see the module)."""
        if betas is None:
            values = tuple(form(g, r, u, self.beta, self.entropy) for g, r in zip(gaps, self.rho))
        else:
            values = tuple(form(g, r, u + b - self.beta, b, self.entropy) for g, r, b in zip(gaps, self.rho, betas))
        if not self.cut:
            return values
        inside = [v > 0 for v in self.each(self.form, gaps, u, betas)] if slope else [v > 0 for v in values]
        return tuple(v if keep else mpx.mpf(0) for v, keep in zip(values, inside))

    def total(self, form: Any, gaps: Any, u: Any, betas: Any = None, slope: bool = False) -> Any:
        return mpx.fsum(self.each(form, gaps, u, betas, slope))

    def mixture(self, pi: Any) -> Any:
        return mixture(self.laws, pi)

    def log_ratios(self, m_new: Any, s: Any) -> Any:
        return [mpx.log(m_new[j] / m_new[-1]) - s[j] for j in range(len(s))]


class _FloatBackend(_Backend):
    """The same pieces in float64 numpy (vectorised over the classes)."""

    arithmetic = FLOAT64
    module = "numpy"
    close = 1e-15

    def softmax(self, s: Any) -> Any:
        s = np.asarray(s, dtype=float)
        w = np.exp(np.append(s, 0.0) - max(0.0, s.max()))
        return w / w.sum()

    def preferences(self, m: Any) -> Any:
        return self.laws @ expected_advantages_float(self.problem, m, self.dps)

    def gaps(self, P: Any) -> tuple[Any, Any]:
        return P.max(), P - P.max()

    def each(self, form: Any, gaps: Any, u: Any, betas: Any = None, slope: bool = False) -> Any:
        shift, beta = (u, self.beta) if betas is None else (u + betas - self.beta, betas)
        values = np.broadcast_to(form(gaps, self.rho, shift, beta, self.entropy), np.shape(gaps))
        if not self.cut:
            return values
        return np.where((self.form(gaps, self.rho, shift, beta, self.entropy) if slope else values) > 0, values, 0.0)

    def total(self, form: Any, gaps: Any, u: Any, betas: Any = None, slope: bool = False) -> Any:
        return self.each(form, gaps, u, betas, slope).sum()

    def mixture(self, pi: Any) -> Any:
        return pi @ self.laws

    def log_ratios(self, m_new: Any, s: Any) -> Any:
        return np.log(m_new[:-1] / m_new[-1]) - np.asarray(s, dtype=float)


class ReducedMap:
    """The reduced fixed-point map of one numeric Problem, at the precision in force.

    Outputs with the same reward law have the same P_G; when the stationary form is proportional
    to π_ref (every link without the entropy bonus), they are merged into one class with their summed π_ref, so the
    cost per evaluation grows with the number of distinct laws, not with K.
    """

    def __init__(self, problem: Problem, dps: int) -> None:
        self.problem, self.dps = problem, dps
        self.forms = forms_of(problem)
        self.rho = tuple(to_mpf(r) for r in problem.reference)
        self.beta = to_mpf(problem.beta)
        self.entropy = to_mpf(problem.entropy)
        self.laws = tuple(tuple(to_mpf(x) for x in row) for row in problem.law_matrix)
        self.values = len(problem.reward_values)
        classes: dict[Any, list[int]] = {}
        for o, row in enumerate(problem.law_matrix):
            classes.setdefault(row if self.forms["proportional_to_rho"] else o, []).append(o)
        self.members = list(classes.values())
        self.class_of = [0] * problem.size
        for c, outputs in enumerate(self.members):
            for o in outputs:
                self.class_of[o] = c
        class_laws = tuple(self.laws[outputs[0]] for outputs in self.members)
        class_rho = tuple(mpx.fsum(self.rho[o] for o in outputs) for outputs in self.members)
        cut = self.forms["cut_at_zero"]
        self.exact = _Backend(problem, dps, class_rho, class_laws, self.beta, self.entropy, cut)
        self.fast = _FloatBackend(problem, dps, np.array([float(r) for r in class_rho]),
                                  np.array([[float(x) for x in row] for row in class_laws]), float(self.beta),
                                  float(self.entropy), cut)
        self.exact.form, self.fast.form = self.forms["policy_u"]["mpmath"], self.forms["policy_u"]["numpy"]

    def betas(self, m: Any, backend: _Backend | None = None) -> Any:
        """The effective β per class at the mixture m under the group filter; None for ``keep``."""
        if self.problem.group_filter == "keep":
            return None
        backend = backend or self.exact
        betas = effective_betas(backend.laws, m, self.problem.group_size, backend.beta)
        return np.array(betas, dtype=float) if backend is self.fast else betas

    def policy(self, P: Any, backend: _Backend | None = None, betas: Any = None) -> tuple[Any, Any, Any]:
        """π per class from the stationary form, with λ fixed by Σ π = 1; returns (π, λ, u).

        ``betas``: per-class effective β (:meth:`betas`), None for the one β of the problem."""
        backend = backend or self.exact
        top, gaps = backend.gaps(P)
        u = self.shift(gaps, backend, betas)
        return backend.each(self.forms["policy_u"][backend.module], gaps, u, betas), top - backend.beta + u, u

    def shift(self, gaps: Any, backend: _Backend, betas: Any = None) -> Any:
        """The u solving Σ_classes π(gap, ρ, u) = 1 (Σ π decreases in u); mpmath starts from float64."""
        form, slope = self.forms["policy_u"][backend.module], self.forms["policy_u_slope"][backend.module]
        lo, hi = self._shift_bracket(gaps, backend, betas)
        if backend is self.exact:
            start = self._float_start(gaps, betas)
            if betas is not None and start is not None:
                start = min(max(start, lo), hi)
        else:
            start = (lo + hi) / 2
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            return bracketed_newton(lambda u: backend.total(form, gaps, u, betas) - 1, lo, hi,
                                    slope=lambda u: backend.total(slope, gaps, u, betas, slope=True), start=start,
                                    increasing=False, close=backend.close, arithmetic=backend.arithmetic,
                                    what="the multiplier lambda")

    def _float_start(self, gaps: Any, betas: Any) -> Any:
        """The float64 u as a start for the mpmath solve; None (bisect first) where float64 cannot
        give one (a π_ref below its range reads 0, and its class then never reaches π = 1)."""
        fast_betas = None if betas is None else np.array([float(b) for b in betas])
        try:
            return self.shift(np.array([float(g) for g in gaps]), self.fast, fast_betas)
        except SolverError:
            return None

    def _shift_bracket(self, gaps: Any, backend: _Backend, betas: Any = None) -> tuple[Any, Any]:
        """An interval of u in which Σ π − 1 changes sign."""
        b = backend.beta
        if self.forms["family"] == "exponential":  # π = ρ·e^{(gap + β − u)/β}
            return b + min(gaps), b
        if betas is not None and self.forms["family"] == "reciprocal":
            # the class reaching π = 1 first: u = β − β_c + gap_c + β_c·ρ_c
            return max(b - bc + g + bc * r for g, r, bc in zip(gaps, backend.rho, betas)), b
        if self.forms["family"] == "reciprocal":  # π = βρ/(u − gap): the pole u = 0 at the top
            return b * max(r for g, r in zip(gaps, backend.rho) if g == 0), b
        # any other derived link: Σ π decreases in u on the whole line; widen from u = β (λ = max P)
        form, width = self.forms["policy_u"][backend.module], max(b, backend.entropy)

        def excess(u: Any) -> Any:
            return backend.total(form, gaps, u, betas) - 1

        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            if excess(b) > 0:
                return widen_bracket(lambda u: excess(u) > 0, b, width, maxsteps=WIDENINGS, what="the multiplier's bracket")
            hi, lo = widen_bracket(lambda u: not excess(u) > 0, b, -width, maxsteps=WIDENINGS,
                                   what="the multiplier's bracket")
            return lo, hi

    def residual(self, s: Any, backend: _Backend | None = None) -> Any:
        """log(m'_j / m'_V) − s_j: zero exactly at a fixed point m = softmax(s, 0).

        ``backend``: :attr:`exact` (default) or :attr:`fast` (float64, for scans and starts only).
        """
        backend = backend or self.exact
        m = backend.softmax(s)
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):  # a filter's β·W underflows at a vertex
            try:
                pi, _, _ = self.policy(backend.preferences(m), backend, self.betas(m, backend))
            except SolverError:  # float64 overflow far out (G = ∞ near a face): no bracket there
                if backend is not self.fast:
                    raise
                return np.full(len(s), np.nan)
            return backend.log_ratios(backend.mixture(pi), s)

    def softmax(self, s: Any) -> Any:
        """The mixture m = softmax(s, 0) in mpmath."""
        return self.exact.softmax(s)

    def preferences(self, m: Any) -> Any:
        """P_G per class of outputs at the reward mixture m, in mpmath."""
        return self.exact.preferences(m)
