"""Q_v(m) through the law of the other rewards' sums, for reward laws with many values.

The composition sum (:mod:`~grpo_symbolic.preference.moments`) visits every way of spreading the
G − 1 other rewards over the V distinct values, C(G + V − 2, V − 1) of them.  The advantage of the
focal member depends on the others only through S1 = Σ w and S2 = Σ w² of their integer-scaled
rewards (module docstring of :mod:`~grpo_symbolic.preference.moments`), and the law of (S1, S2)
has polynomially many states (about G²·W³/4 for integers in [0, W]).  It is the (G − 1)-th power
of one draw's generating polynomial

    f(z) = Σ_j m_j z^(e_j),    e_j = x_j·B + x_j·(W' − x_j)/2,

where x_j = (w_j − min w)/g are the reward values shifted to 0 and divided by the gcd g of their
differences (the advantages do not change: they depend on differences only), W = max x, W' the
odd one of W and W + 1 (so x or W' − x is even), and the Kronecker base B = (G − 1)·max_j c_j + 1,
c_j = x_j(W' − x_j)/2, exceeds every U = Σ c (so no carry: a state is S1'·B + U with S1' = Σ x,
and Σ x² = W'·S1' − 2U).  Halving the second coordinate loses nothing, since Σ x² ≡ Σ x (mod 2),
and it about halves the polynomial (V = 11, G = 64: 596 296 coefficients; with U = Σ x(W − x),
992 881).  The power is taken by squaring, with python-flint's integer polynomials in fixed point
(each product is truncated back to the working bits), then Q_v = Σ_states Prob(state)·A(v; state)
with the advantages of :class:`~grpo_symbolic.preference.moments.MomentTable` (one integer square
root per distinct D, shared with the composition path).  A plain dynamic programme over the draws does the same work
with G·V passes over the states in Python and measured slower (benchmarks/run.py).

Accuracy: every truncation costs at most one unit of 2^−bits per coefficient; by induction over
the squaring chain the L1 error of the power is below 2k(V + L) units (k = G − 1 factors, L
coefficients), and :meth:`SumsTable._guard` adds that many bits, and those of the largest
advantage, beyond the working precision.  The float64 path (scans, never reported values) takes
the same power by FFT.  Needs python-flint (``fast`` or ``rigorous`` extra); without it the engine
keeps the composition path.
"""

from __future__ import annotations

from functools import lru_cache
import math
import operator
from typing import TYPE_CHECKING, Any

import mpmath  # noqa: F401  (doctests)
import numpy as np

from grpo_symbolic.model import cost
from grpo_symbolic.numerics.certify import available
from grpo_symbolic.preference.moments import MomentTable, _fixed, supports
from grpo_symbolic.numerics.precision import mpx

if TYPE_CHECKING:
    from grpo_symbolic.model.problem import Problem


class SumsTable(MomentTable):
    """:class:`~grpo_symbolic.preference.moments.MomentTable` whose sums run over the states of
    (S1, S2) instead of the compositions (same arguments, same results; see the module docstring).

    >>> import sympy as sp
    >>> values = tuple(sp.Integer(v) for v in range(4))
    >>> m = [mpmath.mpf(1) / 4] * 4
    >>> with mpmath.workdps(30):
    ...     ours = SumsTable(values, 6, "sample", sp.Integer(0)).evaluate(m)
    ...     plain = MomentTable(values, 6, "sample", sp.Integer(0)).evaluate(m)
    >>> max(abs(a - b) for a, b in zip(ours, plain)) < mpmath.mpf(10) ** -30
    True
    """

    KEEP = 4_000_000
    """Most advantage values kept between evaluations (some 300 MB at 50 digits)."""

    def __init__(self, *settings: Any) -> None:
        super().__init__(*settings)
        low = min(self.w)
        self.step = math.gcd(*(w - low for w in self.w)) or 1
        self.x = [(w - low) // self.step for w in self.w]
        self.odd = max(self.x) | 1  # W': the odd one of W = max x and W + 1
        halves = [x * (self.odd - x) // 2 for x in self.x]  # integers: x or W' − x is even
        self.others = self.group_size - 1
        self.base = self.others * max(halves) + 1
        self.exponents = [x * self.base + c for x, c in zip(self.x, halves)]
        self.length = self.others * max(self.exponents) + 1
        self._states: tuple[np.ndarray, Any, Any] | None = None
        self._float_advantages: np.ndarray | None = None
        self._kept: tuple[int, list[list[int]]] | None = None

    # --- the states --------------------------------------------------------------------------
    def states(self) -> tuple[np.ndarray, Any, Any]:
        """(Kronecker indices of the reachable states, the others' Σ w and Σ w² there in the
        integer units of :attr:`w`), computed once by a dilation over the G − 1 draws."""
        if self._states is None:
            reach = np.zeros(self.length, dtype=bool)
            reach[0] = True
            span = 1
            for _ in range(self.others):
                grown = np.zeros(self.length, dtype=bool)
                for e in self.exponents:
                    grown[e:e + span] |= reach[:span]
                span += max(self.exponents)
                reach = grown
            index = np.flatnonzero(reach)
            s1, u = index // self.base, index % self.base
            dtype, low, g, k = self._dtype, min(self.w), self.step, self.others
            s1, squares = s1.astype(dtype), (self.odd * s1 - 2 * u).astype(dtype)
            self._states = (index, k * low + g * s1, k * low * low + 2 * low * g * s1 + g * g * squares)
        return self._states

    def state_count(self) -> int:
        """The number of reachable (S1, S2) states (computes them once)."""
        return len(self.states()[0])

    # --- full precision ----------------------------------------------------------------------
    def _totals(self, m, active, extra):
        """Σ_states Prob·A per focal value, at scale 2^(3·bits) like the composition path's."""
        bits = mpx.prec + self._guard() + extra
        index, s1, s2 = self.states()
        law = self._power([int(_fixed(mpx.mpf(mj), bits)) for mj in m], bits)
        coefficients = law.coeffs()
        probabilities = [int(coefficients[i]) if i < len(coefficients) else 0 for i in index.tolist()]
        totals = [sum(map(operator.mul, probabilities, advantages)) << bits for advantages in self._state_advantages(bits)]
        return totals, bits

    def _state_advantages(self, bits: int) -> Any:
        """Per focal value, A at every state (fixed point, scale 2^(bits + shift)); the lists of the
        last precision are kept when they hold at most :attr:`KEEP` numbers (a solver evaluates
        many mixtures at one precision), else they are made one focal value at a time."""
        if self._kept is not None and self._kept[0] == bits:
            return self._kept[1]
        _, s1, s2 = self.states()
        h = self._scale_cache(bits)
        made = (self._advantages(v, s1, s2, h, bits) for v in range(len(self.w)))
        if len(s1) * len(self.w) > self.KEEP:
            return made
        self._kept = (bits, list(made))
        return self._kept[1]

    def _guard(self) -> int:
        """Bits for the truncations (L1 error < 2k(V + L) units) and the largest |N| with 32 to spare."""
        spread = max(self.w) - min(self.w) + 1
        return 32 + (2 * self.others * (len(self.w) + self.length)).bit_length() + (self.group_size * spread).bit_length()

    def _power(self, fixed: list[int], bits: int) -> Any:
        """f^(G − 1) in fixed point (coefficients at scale 2^bits), left-to-right squaring; a
        factor f is applied term by term (V shifted copies), not as a dense product."""
        from flint import fmpz, fmpz_poly

        one = fmpz(1) << bits
        terms = [(e, c) for e, c in zip(self.exponents, fixed) if c]
        result = fmpz_poly([0] * max(self.exponents) + [0])
        for e, c in terms:
            result += fmpz_poly([c]).left_shift(e)
        for digit in bin(self.others)[3:]:
            result = (result * result) // one
            if digit == "1":
                result = sum((result.left_shift(e) * c for e, c in terms), fmpz_poly([])) // one
        return result

    # --- float64 (scans) ---------------------------------------------------------------------
    def evaluate_float(self, m: np.ndarray) -> np.ndarray:
        """Q_v(m) in float64 by an FFT power of f; for scans, never for reported values."""
        index = self.states()[0]
        size = 1 << max(1, (self.length - 1).bit_length())
        draw = np.zeros(size)
        np.add.at(draw, self.exponents, np.asarray(m, dtype=float))
        law = np.fft.irfft(np.fft.rfft(draw) ** self.others, size)[index]
        return self._advantages_float() @ law

    def _advantages_float(self) -> np.ndarray:
        if self._float_advantages is None:
            _, s1, s2 = self.states()
            G, rows = self.group_size, []
            for wv in self.w:
                t1 = wv + s1
                n = (G * wv - t1).astype(float)
                rows.append(n * self._scale_float((G * (wv * wv + s2) - t1 * t1).astype(float)))
            self._float_advantages = np.array(rows)
        return self._float_advantages


@lru_cache(maxsize=16)
def sums_table(*settings: Any) -> SumsTable:
    """The cached :class:`SumsTable` for these settings (those of
    :func:`~grpo_symbolic.preference.moments.moment_table`)."""
    return SumsTable(*settings)


@lru_cache(maxsize=256)
def sums_cheaper(values: Any, group_size: int, normalisation: Any) -> bool:
    """True when the sums path applies (python-flint installed, rational values, a moment rule)
    and the cost model (:func:`grpo_symbolic.model.cost.preference_work`) rates it cheaper than
    the composition sum (cached: the engine asks once per evaluation).

    >>> import sympy as sp
    >>> two = (sp.Integer(0), sp.Integer(1))
    >>> sums_cheaper(two, 64, "population")
    False
    """
    if not supports(values, normalisation):
        return False
    work = cost.preference_work(len(values), group_size, cost.reward_span(values), sums=available())
    return work.sums is not None and work.sums < work.compositions


def evaluation_work(problem: Problem, dps: int) -> cost.PreferenceWork:
    """The cost model's estimate for one evaluation of P_G of ``problem`` at ``dps`` digits, on
    the paths the engine can take for it (G = ∞: a closed form, no cost)."""
    values = problem.reward_values
    if problem.is_large_group:
        return cost.PreferenceWork(0.0, None, 0.0, None)
    moments = supports(values, problem.normalisation) and problem.advantage in ("grpo", "rloo")  # the moment rules
    span = cost.reward_span(values) if moments else None
    return cost.preference_work(len(values), int(problem.group_size), span, dps, sums=available())


def require_affordable(problem: Problem, dps: int, budget: Any, *, exact: int = 1, scans: float = 0,
                       dense: int = 0, what: str = "P_G") -> None:
    """ParameterError (:func:`grpo_symbolic.model.cost.require`) when ``exact`` evaluations of
    P_G at ``dps`` digits, ``scans`` float64 ones and the K × V tables (``dense``: K × K ones too)
    are estimated above the budget; called by the public entry points before any work.

    >>> from grpo_symbolic import Problem
    >>> big = Problem(["1/2", "1/2"], [{i: "1/30" for i in range(30)}, 0], 4096, 1)
    >>> require_affordable(big, 50, None)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    grpo_symbolic.model.errors.ParameterError: budget: P_G with 30 reward values at G = 4096 (50 digits): estimated ... s (budget 100 s); ...
    """
    work = evaluation_work(problem, dps)
    values = len(problem.reward_values)
    evaluations, scanned = float(min(exact, cost.MAX_ESTIMATE)), float(min(scans, cost.MAX_ESTIMATE))  # counts may exceed floats
    estimate = evaluations * work.exact + scanned * work.scan + (work.setup if scans else 0) + cost.table_work(problem.size, values, dense)
    cost.require(estimate, f"{what} with {values} reward values at G = {problem.group_size} ({dps} digits)",
                 "use a smaller group_size, fewer reward values (a coarser reward grid), fewer digits"
                 + (" or install python-flint (the fast extra)" if not available() else ""), budget)
