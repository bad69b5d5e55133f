"""One cost model: the estimated time of every long evaluation, checked before the work starts.

Each estimate is in seconds of one core of the reference machine (2 cores, 2026; constants in
:data:`RATES`, measured by ``benchmarks/run.py``, which prints the measured growth next to these
predictions).  A public entry point computes its estimate from sizes alone (K outputs, V reward
values and their integer span W, G, dps, samples, iterations), and :func:`require` raises a
:class:`ParameterError` naming the estimate and how to reduce it when it exceeds the budget:
:data:`DEFAULT_BUDGET` seconds unless the caller passes ``budget=`` (seconds; ``math.inf`` for
no limit; the CLI's ``--budget``).  Estimates are deliberately rough (a factor of a few): they
exist to refuse hours, not to predict seconds.

The models (per evaluation of P_G at ``dps`` digits, b = working bits ≈ 3.4·dps + 100):

* composition sum: the compositions with non-negligible weight (:func:`visited`, at most
  C(G + V − 2, V − 1)), each V fixed-point products;
* (S1, S2) sums: the Kronecker length L ≈ (G − 1)²·W³/8 (:func:`kronecker_length`), squared log₂ G
  times at b bits, and V limb sums per state (about L/2 states) grouped by D;
* float64 scans: the compositions of likely first counts (a table of all of them built once), or
  an FFT of length L;
* irrational reward values: every composition in mpmath (no pruning, no sums path);
* sampling: G·V per group member drawn; the expected flow: one float64 evaluation per step.

>>> work = preference_work(values=11, group_size=64, span=10)
>>> work.sums < 60 < work.compositions
True
>>> require(work.compositions, "P_G", "use fewer reward values", budget=None)
Traceback (most recent call last):
...
grpo_symbolic.model.errors.ParameterError: budget: P_G: estimated ... s (budget 100 s); use fewer reward values, or pass budget=... (seconds; CLI --budget) to run it anyway
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
import math
import numbers
from typing import Any

from grpo_symbolic.model.errors import ParameterError

DEFAULT_BUDGET = 100.0
"""Estimated seconds a call may take without an explicit ``budget=``."""

MAX_ESTIMATE = 1e300
"""Estimates are capped here (a count beyond floats is "more than any budget")."""

RATES = {
    "composition": 5e-7,        # s per composition and reward value, full precision (50 digits)
    "short_rows": 3e-5,         # the same, divided by G, when V > G: the chain of binomial rows is V
                                # deep and its rows at most G long, so the Python cost of each row dominates
    "composition_float": 1.1e-7,  # s per composition and reward value, float64
    "numeric": 5e-6,            # s per composition and reward value, per-composition mpmath table
    "kronecker": 6e-7,          # s per Kronecker coefficient and squaring (50 digits)
    "state": 1e-7,              # s per Kronecker coefficient and reward value: the limb sums of N·Prob over
                                # the states (about half the coefficients), grouped by D
    "fft": 5e-8,                # s per Kronecker coefficient, float64 FFT power
    "dilation": 1e-10,          # s per Kronecker coefficient, reward value and draw (state set)
    "symbolic": 1e-3,           # s per composition and reward value, exact SymPy sum
    "sample": 3e-8,             # s per drawn reward (Monte Carlo, simulation)
    "entry": 4e-6,              # s per entry of a K × V table built from exact numbers (K = 2000, V = 3 solve: 153 s measured)
}
"""Seconds per unit of work (reference machine); see the module docstring."""


@dataclass(frozen=True)
class PreferenceWork:
    """Estimated seconds of one P_G evaluation per path (None: the path does not apply)."""

    compositions: float
    sums: float | None
    compositions_float: float
    sums_float: float | None
    setup: float = 0.0
    """One-off: building the float64 composition table (every composition) or the state set."""

    @property
    def exact(self) -> float:
        """The cheaper full-precision path."""
        return min(self.compositions, self.sums if self.sums is not None else math.inf)

    @property
    def scan(self) -> float:
        """The float64 evaluation of the path :attr:`exact` picks."""
        if self.sums is not None and self.sums < self.compositions:
            return self.sums_float if self.sums_float is not None else self.compositions_float
        return self.compositions_float


def _capped(x: float) -> float:
    return min(float(x), MAX_ESTIMATE)


def compositions(values: int, group_size: int) -> float:
    """C(G + V − 2, V − 1): the compositions of G − 1 into V parts (capped at :data:`MAX_ESTIMATE`).

    >>> compositions(3, 8), compositions(1500, 2), compositions(10**6, 10**6)
    (36.0, 1500.0, 1e+300)
    """
    if values <= 1:
        return 1.0
    n, k = group_size + values - 2, min(values, group_size) - 1
    log_count = (sum(math.log((n - k + i) / i) for i in range(1, k + 1)) if k <= 1000  # no cancellation at G = 1e20
                 else math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1))
    if log_count > 690:  # beyond floats: do not compute the integer
        return MAX_ESTIMATE
    return _capped(math.comb(group_size + values - 2, values - 1))


def visited(values: int, group_size: int, bits: int) -> float:
    """The compositions the fixed-point sum visits: it drops the binomial tails below 2^−bits, so
    at most about √(2·ln 2·bits·G) counts per free value (the width of a binomial row at
    m = 1/2), (V − 1)! fewer over the simplex; never more than :func:`compositions`.

    >>> visited(2, 65536, 288) < 6000
    True
    """
    if values <= 1:
        return 1.0
    width = math.sqrt(2 * math.log(2) * bits * group_size)
    if width >= group_size - 1:  # no count is ever dropped (e.g. more values than group members)
        return compositions(values, group_size)
    log_count = (values - 1) * math.log(width) - math.lgamma(values)
    return min(compositions(values, group_size), math.exp(min(log_count, 690.0)))


def kronecker_length(group_size: int, span: int) -> float:
    """L = (G − 1)·(W·B + W(W' − W)/2) + 1, W' the odd one of W and W + 1: the coefficients of
    the (S1, S2) polynomial (:mod:`grpo_symbolic.preference.sums`) when every integer 0 … W is a
    reward value.  B = (G − 1)(W² − 1)/8 + 1 for odd W (the table's base); for even W the table
    takes the least base that keeps the rows apart, at most ⌊((G − 1)W² − 4)/8⌋ + 1 (the rows'
    widest point, at S1 = (G − 1)·W/2, minus the least U of the next row), which is used here.

    >>> kronecker_length(64, 10), kronecker_length(64, 15)
    (496756.0, 1667926.0)
    """
    k, odd = group_size - 1, span | 1
    if k >= 10**100 or span >= 10**100:
        return MAX_ESTIMATE
    base = k * (odd * odd - 1) // 8 + 1 if span % 2 else (k * span * span - 4) // 8 + 1
    return _capped(k * (span * base + span * (odd - span) // 2) + 1)


def bits(dps: int) -> int:
    """Working bits of a ``dps``-digit evaluation (guard digits and bits included)."""
    return int(3.33 * (dps + 15)) + 64


def preference_work(values: int, group_size: int, span: int | None, dps: int = 50, sums: bool = True) -> PreferenceWork:
    """Estimated seconds of one evaluation of Q_v at ``dps`` digits on each path.

    ``span``: W, the integer span of the rational reward values (:func:`reward_span`; None when
    they are not rational: only the per-composition table applies); ``sums=False``: the (S1, S2)
    path is not available (python-flint missing, or a rule without a moment form).

    >>> work = preference_work(3, 8, 2)
    >>> work.compositions < work.sums < 0.01
    True
    """
    scale = bits(dps) / 256
    full = compositions(values, group_size)
    build = _capped(full * values * RATES["composition_float"])  # the float table holds them all
    comp_float = build * min(1.0, math.sqrt(1500 / group_size))  # a scan reads the rows of likely first counts
    if span is None:  # the per-composition mpmath table: every composition, no pruning
        return PreferenceWork(_capped(full * values * RATES["numeric"] * scale), None, comp_float, None, build)
    rate = RATES["composition"] + (RATES["short_rows"] / group_size if values > group_size else 0)
    comp = _capped(visited(values, group_size, bits(dps)) * values * rate * scale)
    if not sums:
        return PreferenceWork(comp, None, comp_float, None, build)
    length = kronecker_length(group_size, span)
    squarings = max(1, (group_size - 1).bit_length())
    sums_exact = _capped(length * (squarings * RATES["kronecker"] + values * RATES["state"]) * scale)
    setup = build if sums_exact >= comp else _capped(length * values * group_size * RATES["dilation"])
    return PreferenceWork(comp, sums_exact, comp_float, _capped(length * RATES["fft"]), setup)


def reward_span(values: Any) -> int | None:
    """W: the span of the reward values in units of the gcd of their differences (None when a
    value is not rational).

    >>> import sympy as sp
    >>> reward_span([sp.Integer(0), sp.Rational(1, 2), sp.Integer(2)])
    4
    """
    exact = []
    for v in values:
        if not getattr(v, "is_Rational", False):
            return None
        exact.append(Fraction(int(v.p), int(v.q)))
    if len(exact) < 2:
        return 0
    low = min(exact)
    steps = [x - low for x in exact if x != low]
    denominator = math.lcm(*(s.denominator for s in steps))
    numerators = [int(s * denominator) for s in steps]
    return max(numerators) // math.gcd(*numerators)


def table_work(outputs: int, values: int, dense: int = 0) -> float:
    """Estimated seconds to build a K × V law table from exact numbers, plus ``dense`` K × K
    products of V × V (the solver's stability Jacobian).

    >>> table_work(200, 11) < 0.1 < table_work(200, 11, dense=1)
    True
    """
    return _capped(outputs * max(values, 1) * RATES["entry"] * (1 + dense * outputs * values))


def solve_evaluations(dps: int) -> int:
    """Full-precision evaluations of P_G a stationary-policy search is estimated to take: two
    roots, each refined by chord steps of some 10 digits (:func:`grpo_symbolic.numerics.roots.newton`)
    and verified.

    >>> solve_evaluations(50)
    18
    """
    return 2 * (dps // 10 + 4)


def sampling_work(draws: float, values: int) -> float:
    """Estimated seconds to draw and score ``draws`` rewards among V values.

    >>> sampling_work(1e6, 2) < 1
    True
    """
    return _capped(draws * max(values, 1) * RATES["sample"])


def check_budget(value: Any) -> float:
    """A ``budget=`` argument: None → :data:`DEFAULT_BUDGET`; else a number of seconds > 0
    (``math.inf``: no limit).

    >>> check_budget(None), check_budget(300), check_budget(math.inf)
    (100.0, 300.0, inf)
    """
    if value is None:
        return DEFAULT_BUDGET
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not float(value) > 0:
        raise ParameterError(f"budget: got {str(value)[:40]!r}; give seconds > 0 (math.inf for no limit; default {DEFAULT_BUDGET:g})")
    return float(value)


def require(estimate: float, what: str, reduce: str, budget: Any) -> None:
    """ParameterError when ``estimate`` seconds exceed the budget (see :func:`check_budget`).

    ``what`` names the work, ``reduce`` how to make it smaller.

    >>> require(10.0, "simulate", "use fewer groups", budget=None)
    """
    limit = check_budget(budget)
    if estimate > limit:
        shown = "more than 1e300" if estimate >= MAX_ESTIMATE else f"{estimate:.3g}"
        raise ParameterError(f"budget: {what}: estimated {shown} s (budget {limit:g} s); {reduce}, "
                             "or pass budget=... (seconds; CLI --budget) to run it anyway")
