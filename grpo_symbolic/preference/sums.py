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
odd one of W and W + 1 (so x or W' − x is even), c_j = x_j(W' − x_j)/2, and B the least base for
which the rows [S1'·B + U_min(S1'), S1'·B + U_max(S1')] of the states do not overlap
(:func:`_kronecker_base`; S1' = Σ x, U = Σ c): no carry, each state decodes from its row, and
Σ x² = W'·S1' − 2U.  Halving the second coordinate loses nothing, since Σ x² ≡ Σ x (mod 2); for
even W the rows slope and the least B is some 17 % below (G − 1)·max c + 1 (V = 11, G = 64:
495 496 coefficients; 596 296 with that B, 992 881 with U = Σ x(W − x)).  The power is taken by
squaring, with python-flint's integer polynomials in fixed point (each product is truncated back
to the working bits).  Then Q_v = Σ_D h(D)·Σ_{states at D} N·Prob: the advantage A = N·h(D) of
:class:`~grpo_symbolic.preference.moments.MomentTable` takes few distinct D (V = 11, G = 64: some 196 000 (v, D) pairs for 3.5 million (v, state) pairs), so the
inner sums run exactly in numpy on limbs of the probabilities; one integer square root per D and
one big-integer product per (v, D) remain.  A plain dynamic programme over the draws does the same
work with G·V passes over the states in Python and measured slower (benchmarks/run.py).

Accuracy: every truncation costs less than one unit of 2^−bits per coefficient.  With e_j the L1
error of f^j in such units, e_1 ≤ V; a squaring gives e_2j ≤ 2·e_j + L + 1 (|f^j|_1 ≤ 1, and the
e_j² term is below one unit while e_j < 2^(bits/2)) and a factor f, itself truncated, gives
e_(j+1) ≤ e_j + V + L, so e_j ≤ (2j − 1)(V + L + 1) by induction.  :meth:`SumsTable._guard` adds the bits of
2k(V + L + 1) (k = G − 1) and of the largest |N|, which bound the error of Σ Prob·A.  The float64
path (scans, never reported values) takes the same power by FFT.  Needs python-flint (``fast`` or
``rigorous`` extra); without it the engine keeps the composition path.
"""

from __future__ import annotations

from functools import lru_cache
import math
import operator
from typing import TYPE_CHECKING, Any

import mpmath  # noqa: F401  (doctests)
import numpy as np

from grpo_symbolic.model import cost
from grpo_symbolic.model.errors import ParameterError
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

    LIMBS = (32, 16, 8)
    """Limb widths tried for the grouped sums, widest first (see :meth:`_limb_bits`)."""

    def __init__(self, *settings: Any) -> None:
        super().__init__(*settings)
        low = min(self.w)
        self.step = math.gcd(*(w - low for w in self.w)) or 1
        self.x = [(w - low) // self.step for w in self.w]
        self.odd = max(self.x) | 1  # W': the odd one of W = max x and W + 1
        halves = [x * (self.odd - x) // 2 for x in self.x]  # integers: x or W' − x is even
        self.others = self.group_size - 1
        self.base, self._rows = _kronecker_base(self.x, halves, self.others)
        self.exponents = [x * self.base + c for x, c in zip(self.x, halves)]
        self.length = self.others * max(self.exponents) + 1
        self._states: tuple[np.ndarray, Any, Any] | None = None
        self._float_advantages: np.ndarray | None = None
        self._grouping: list[tuple[np.ndarray, np.ndarray]] | None = None
        self._width: int | None = None

    # --- the states --------------------------------------------------------------------------
    def states(self) -> tuple[np.ndarray, Any, Any]:
        """(Kronecker indices of the reachable states, the others' Σ w and Σ w² there in the
        integer units of :attr:`w`), computed once by a dilation over the G − 1 draws."""
        index, s1, squares = self._shifted_states()
        dtype, low, g, k = self._dtype, min(self.w), self.step, self.others
        s1, squares = s1.astype(dtype), squares.astype(dtype)
        return index, k * low + g * s1, k * low * low + 2 * low * g * s1 + g * g * squares

    def _shifted_states(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(Kronecker indices, Σ x, Σ x²) of the reachable states in the shifted units x (int64)."""
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
            rows, starts = self._rows
            s1 = rows[np.searchsorted(starts, index, side="right") - 1]
            self._states = (index, s1, self.odd * s1 - 2 * (index - s1 * self.base))
        return self._states

    def state_count(self) -> int:
        """The number of reachable (S1, S2) states (computes them once)."""
        return len(self._shifted_states()[0])

    # --- full precision ----------------------------------------------------------------------
    def _totals(self, m, active, extra):
        """Σ_states Prob·A per focal value, at scale 2^(3·bits) like the composition path's.

        A = N·h(D) takes few distinct D, so the sum runs as Σ_D h(D)·(Σ_{states at D} N·Prob): the
        inner sums are exact integer sums of limbs (:meth:`_grouped`), one big product per (v, D)."""
        bits = mpx.prec + self._guard() + extra
        law = self._power([int(_fixed(mpx.mpf(mj), bits)) for mj in m], bits)
        limbs = self._limbs(law, bits)
        h, g, s1 = self._scale_cache(bits), self.step, self._shifted_states()[1]
        totals = []
        for x, (d, inverse) in zip(self.x, self._groups()):
            weights = self._grouped(limbs, inverse, len(d), self.others * x - s1)
            scales = self._scales_at([g * g * value for value in d.tolist()], h, bits)  # D in the units of w
            totals.append(g * sum(map(operator.mul, weights, scales)) << bits)
        return totals, bits

    def _groups(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per focal value: (the distinct D/g² over the states, each state's position among them)."""
        if self._grouping is None:
            _, s1, s2 = self._shifted_states()
            G, groups = self.group_size, []
            if G * G * max(self.x) ** 2 >= 2**62:
                raise ParameterError(f"group_size: G = {G} with a reward span of {max(self.x)} steps overflows the "
                                     "state moments; use a smaller group_size or a coarser reward grid")
            for x in self.x:
                t1 = x + s1
                groups.append(_positions(G * (x * x + s2) - t1 * t1))
            self._grouping = groups
        return self._grouping

    def _limb_bits(self) -> int:
        """The widest limb with |N|·(2^limb − 1)·(most states at one D) < 2^53: the float64 sums
        of :meth:`_grouped` are then exact integers."""
        if self._width is not None:
            return self._width
        crowd = max(int(np.bincount(inverse).max()) for _, inverse in self._groups())
        largest = self.others * max(self.x) * crowd
        for width in self.LIMBS:
            if largest << width < 2**53:
                self._width = width
                return width
        raise ParameterError(f"group_size: G = {self.group_size} puts {crowd} states at one D; "
                             "use a smaller group_size or a coarser reward grid")

    def _limbs(self, law: Any, bits: int) -> np.ndarray:
        """The law's coefficients at the reachable states as a (limbs, states) float64 array of
        unsigned limbs of :meth:`_limb_bits` bits (least significant first; coefficients ≥ 0)."""
        width = self._limb_bits() // 8
        size = -(-(bits + 2) // (8 * width)) * width  # bytes per coefficient, whole limbs
        raw = b"".join([int(law[i]).to_bytes(size, "little") for i in self._shifted_states()[0].tolist()])
        unsigned = np.frombuffer(raw, dtype=f"<u{width}").reshape(-1, size // width)
        return unsigned.T.astype(np.float64, order="C")  # limb-major: each limb's row is contiguous

    def _grouped(self, limbs: np.ndarray, inverse: np.ndarray, groups: int, n: np.ndarray) -> list[int]:
        """Σ n·Prob over the states of each group, as Python integers (exact: see :meth:`_limb_bits`):
        one ``bincount`` per limb, the carries propagated in int64, each group's digits read as one
        integer."""
        n, width = n.astype(np.float64), self._limb_bits()
        digits = np.empty((groups, len(limbs)), dtype=f"<u{width // 8}")
        carry = np.zeros(groups, dtype=np.int64)
        for place, column in enumerate(limbs):  # least significant first
            value = np.bincount(inverse, weights=column * n, minlength=groups).astype(np.int64) + carry
            digits[:, place] = value & ((1 << width) - 1)
            carry = value >> width  # floor: a negative sum keeps its sign in the carry
        raw, size, top = digits.tobytes(), digits.shape[1] * digits.itemsize, width * len(limbs)
        return [int.from_bytes(raw[i:i + size], "little") + (c << top) for i, c in zip(range(0, len(raw), size), carry.tolist())]

    def _guard(self) -> int:
        """Bits for the truncations (L1 error < 2k(V + L + 1) units, module docstring) and the
        largest |N|, with 4 to spare."""
        spread = max(self.w) - min(self.w) + 1
        return 4 + (2 * self.others * (len(self.w) + self.length + 1)).bit_length() + (self.group_size * spread).bit_length()

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
        index = self._shifted_states()[0]
        size = _fft_length(self.length)
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


def _positions(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the distinct values ascending, each value's position among them as int32) for non-negative
    int64 values: by a table of presence when the largest is at most 16 per value (no sort; D ≤
    G²W²/4 is that small for the tables the cost model admits), else by ``np.unique``.

    >>> [a.tolist() for a in _positions(np.array([5, 0, 5, 3]))]
    [[0, 3, 5], [2, 0, 2, 1]]
    >>> [a.tolist() for a in _positions(np.array([10**6, 0, 10**6]))]  # sparse: by sorting
    [[0, 1000000], [1, 0, 1]]
    """
    top = int(values.max()) + 1
    if top > 16 * len(values) + 1024:
        distinct, inverse = np.unique(values, return_inverse=True)
        return distinct, inverse.astype(np.int32)
    present = np.zeros(top, dtype=bool)
    present[values] = True
    return np.flatnonzero(present), (np.cumsum(present, dtype=np.int32) - 1)[values]


def _fft_length(n: int) -> int:
    """The least 2^a·3^b·5^c ≥ max(n, 2): a length numpy's FFT transforms fast (600 000 for
    n = 596 296, where the next power of two, 1 048 576, took 1.7 times as long).

    >>> _fft_length(596296), _fft_length(1), _fft_length(1025)
    (600000, 2, 1080)
    """
    n, best = max(n, 2), 1 << (max(n, 2) - 1).bit_length()
    five = 1
    while five < best:
        three = five
        while three < best:
            size = three
            while size < n:
                size *= 2
            best = min(best, size)
            three *= 3
        five *= 5
    return best


def _kronecker_base(x: list[int], c: list[int], k: int) -> tuple[int, tuple[np.ndarray, np.ndarray]]:
    """(B, (the reachable S1, the index where each one's row starts)): the least B ≥ 1 for which the
    rows [S1·B + U_min(S1), S1·B + U_max(S1)] of the k-draw states follow each other without
    overlap, i.e. B·d > U_max(s) − U_min(s + d) for reachable s < s + d (U over the states with
    Σ x = S1).  Then S1·B + U is one-to-one on the states of every j ≤ k draws, and the row decodes
    a state.  (k·max c + 1 always qualifies; for even W the rows' slope lets B be some 17 % less.)"""
    size, none = k * max(x) + 1, np.iinfo(np.int64).max // 4
    low, high = np.full(size, none), np.full(size, -none)
    low[0] = high[0] = 0
    for _ in range(k):  # the least and greatest Σ c per Σ x after one more draw
        new_low, new_high = np.full(size, none), np.full(size, -none)
        for xj, cj in zip(x, c):
            np.minimum(new_low[xj:], low[:size - xj] + cj, out=new_low[xj:])
            np.maximum(new_high[xj:], high[:size - xj] + cj, out=new_high[xj:])
        low, high = new_low, new_high
    rows = np.flatnonzero(low <= high)
    low, high = low[rows], high[rows]
    need, spread = 0, int(high.max() - low.min())
    for apart in range(1, len(rows)):  # pairs of rows `apart` places apart: d ≥ apart
        if spread // apart <= need:
            break
        need = max(need, int(((high[:-apart] - low[apart:]) // (rows[apart:] - rows[:-apart])).max()))
    base = need + 1
    return base, (rows, rows * base + low)


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
