"""The input gate: the one place where every public function checks the numbers it is given.

Every public callable that takes numbers passes them through these checks at its entry, so bad
input never reaches a computation (and never yields a wrong number):

* :func:`policy` — a probability vector of the right length: entries read by the exact reader
  :func:`~grpo_symbolic.model.numbers.exact` (strings via :class:`fractions.Fraction`, never
  evaluated; SymPy objects taken as objects) or mpmath numbers; non-negative and finite; summing
  to exactly 1 (exact entries), within float rounding of 1 (float entries, then renormalised
  exactly: :func:`normalised`) or within 10^(−dps) of 1 (when any entry is an mpf);
* :func:`dps` — a whole number of digits in [5, :data:`MAX_DPS`];
* :func:`count` — a whole number ≥ a least value (sizes, iterations, samples, seeds, points);
  :func:`index` — a whole number in [0, size);
* :func:`step` — a finite float > 0 (learning rates, clipping widths);
* :func:`sequence` — an ordered collection of entries (not a string, mapping, set or scalar);
  :func:`numbers` — such a collection read entry by entry by the exact reader;
* :func:`float_array` — numbers or numpy arrays for the float64 grids (strings are not read);
  :func:`float_values` — exact reward values that float64 sampling can carry.

Every failure is a :class:`~grpo_symbolic.model.errors.ParameterError` naming the parameter
and the fix.

>>> policy(["0.25", "3/4"], 2)
(1/4, 3/4)
>>> policy(["0.9", "0.9"], 2)
Traceback (most recent call last):
...
grpo_symbolic.model.errors.ParameterError: policy: the probabilities sum to 9/5, not 1; give a probability vector (exact entries summing to exactly 1, e.g. '0.3' and '0.7', or floats summing to 1 within rounding)
>>> sum(policy([0.1, 0.2, 0.7], 3))  # floats: read exactly, renormalised exactly (they sum to 1 + 2**-55)
1
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
import math
import numbers as _numbers
from typing import Any, Union

import mpmath
import numpy as np
import sympy as sp

from grpo_symbolic.model.errors import ParameterError, shown
from grpo_symbolic.model.numbers import exact

MAX_DPS = 10_000
"""The most digits any function computes to (a cost limit: time grows faster than dps²)."""

Entry = Union[sp.Expr, mpmath.mpf]
"""A checked policy entry: an exact SymPy expression, or an mpf as the caller gave it."""


def dps(value: object, least: int = 5) -> int:
    """``value`` if it is a whole number of digits in [``least``, :data:`MAX_DPS`], else ParameterError.

    >>> dps(30)
    30
    >>> dps(1)
    Traceback (most recent call last):
    ...
    grpo_symbolic.model.errors.ParameterError: dps: got 1; give a whole number of digits >= 5 and <= 10000 (default 50)
    """
    if isinstance(value, bool) or not isinstance(value, _numbers.Integral) or not least <= int(value) <= MAX_DPS:
        raise ParameterError(f"dps: got {shown(value)}; give a whole number of digits >= {least} and <= {MAX_DPS} (default 50)")
    return int(value)


def count(value: object, name: str, least: int = 1) -> int:
    """``value`` if it is a whole number ≥ ``least`` (a size, iteration count, sample count, seed).

    >>> count(3, "iterations")
    3
    >>> count(2.0, "iterations")
    Traceback (most recent call last):
    ...
    grpo_symbolic.model.errors.ParameterError: iterations: got 2.0; give a whole number >= 1
    """
    if isinstance(value, bool) or not isinstance(value, _numbers.Integral) or value < least:
        raise ParameterError(f"{name}: got {shown(value)}; give a whole number >= {least}")
    return int(value)


def index(value: object, size: int, name: str) -> int:
    """``value`` if it is a whole number in [0, ``size``) (a position in a group or a policy).

    >>> index(1, 2, "i")
    1
    >>> index(2, 2, "i")
    Traceback (most recent call last):
    ...
    grpo_symbolic.model.errors.ParameterError: i: got 2; give a whole number from 0 to 1 (a position among 2 entries)
    """
    if isinstance(value, bool) or not isinstance(value, _numbers.Integral) or not 0 <= int(value) < size:
        raise ParameterError(f"{name}: got {shown(value)}; give a whole number from 0 to {size - 1} (a position among {size} entries)")
    return int(value)


def step(value: object, name: str, fix: str, allow_inf: bool = False) -> float:
    """``value`` as a float if it is a real number > 0 and finite (or +inf when ``allow_inf``).

    ``fix`` says what to give instead, e.g. "the learning rate must be > 0 (e.g. 0.5)".

    >>> step(0.5, "lr", "give a learning rate > 0")
    0.5
    >>> step(float("nan"), "lr", "give a learning rate > 0")
    Traceback (most recent call last):
    ...
    grpo_symbolic.model.errors.ParameterError: lr: got nan; give a learning rate > 0
    """
    if isinstance(value, (bool, str)) or not isinstance(value, (_numbers.Real, mpmath.mpf)):
        raise ParameterError(f"{name}: got {shown(value)}; {fix}")
    number = float(value)
    if not (number > 0 and (math.isfinite(number) or allow_inf)):
        raise ParameterError(f"{name}: got {number!r}; {fix}")
    return number


def sequence(values: object, name: str) -> list[Any]:
    """``values`` as a list, if it is an ordered collection of entries: a list, tuple, numpy array or
    iterator, not a string, bytes, mapping, set or scalar (a set's order depends on the hash seed,
    and the entries' order says which output each belongs to).

    >>> sequence(("0.5", "0.5"), "policy")
    ['0.5', '0.5']
    >>> sequence("0.5", "policy")
    Traceback (most recent call last):
    ...
    grpo_symbolic.model.errors.ParameterError: policy: got '0.5'; give a list or tuple with one entry per output
    >>> sequence({"0.5", "0.25"}, "reference")
    Traceback (most recent call last):
    ...
    grpo_symbolic.model.errors.ParameterError: reference: got a set, whose order is arbitrary; give a list or tuple with one entry per output, in the outputs' order
    """
    if isinstance(values, Set):
        raise ParameterError(f"{name}: got a set, whose order is arbitrary; give a list or tuple with one entry per "
                             "output, in the outputs' order")
    if isinstance(values, (str, bytes, Mapping, sp.Basic)) or not hasattr(values, "__iter__"):
        raise ParameterError(f"{name}: got {shown(values)}; give a list or tuple with one entry per output")
    if isinstance(values, np.ndarray) and values.ndim != 1:
        raise ParameterError(f"{name}: got a numpy array of shape {values.shape}; give a flat list or array, one entry per output")
    try:
        return list(values)  # type: ignore[call-overload]
    except TypeError as error:  # an object whose __iter__ does not iterate
        raise ParameterError(f"{name}: cannot iterate over {shown(values)} ({error}); give a list or tuple") from None


def numbers(values: object, name: str) -> tuple[sp.Expr, ...]:
    """``values`` (an ordered collection, see :func:`sequence`) read entry by entry by :func:`exact`.

    >>> numbers(["1", 0.5, sp.Symbol("u")], "rewards")
    (1, 1/2, u)
    """
    return tuple(exact(v, f"{name}[{i}]") for i, v in enumerate(sequence(values, name)))


FLOAT_ULPS = 8
"""Units of 2⁻⁵³ per entry by which float64 probabilities may miss a sum of 1 (see :func:`normalised`)."""


def float_slack(size: int) -> sp.Rational:
    """How far ``size`` float64 probabilities may sum from 1 by rounding alone: 8·K·2⁻⁵³.

    A probability computed in float64 (a softmax: exp, a sum of K terms, a division; or a decimal
    typed as a float) is within a few units of 2⁻⁵³ of its true value relative to its size, and the
    sum of K of them, itself rounded, adds at most K − 1 more (Higham, *Accuracy and Stability of
    Numerical Algorithms*, §4.2): |Σ p_i − 1| ≤ (K + 3)·2⁻⁵³ + O(2⁻¹⁰⁶) for a vector that sums to 1
    before rounding.  The factor 8 per entry leaves room for an exp that is off by one ulp and for
    sums taken in any order, while anything off by more (0.3 and 0.6, or a 1e-12 mistake) is still
    refused.

    >>> float_slack(2)
    1/562949953421312
    """
    return sp.Rational(FLOAT_ULPS * size, 2**53)


class Probabilities(tuple):  # type: ignore[type-arg]
    """A checked probability vector (a tuple of exact entries) with the ``correction`` applied to it.

    ``correction`` is Σ(given) − 1: 0 when the entries summed to 1 exactly; for float entries the
    (tiny) amount the renormalisation removed.
    """

    correction: sp.Expr

    def __new__(cls, entries: Sequence[sp.Expr], correction: sp.Expr = sp.Integer(0)) -> Probabilities:
        vector = super().__new__(cls, entries)
        vector.correction = correction
        return vector


def normalised(entries: Sequence[sp.Expr], given: Sequence[object], name: str) -> Probabilities:
    """The exact entries if they sum to 1; renormalised exactly if float entries miss 1 by rounding only.

    ``given`` are the values as the caller gave them (to tell floats from exact entries; a
    :class:`Probabilities` given again keeps its correction).  Exact
    entries must sum to exactly 1 (symbolic sums are left to the caller).  When any entry was a
    Python or numpy float, each has been read exactly (``Fraction(0.3)``, the binary fraction
    nearest 3/10) and a sum within :func:`float_slack` of 1 is divided out exactly, so the result
    sums to exactly 1; the ``correction`` records the sum minus 1.  Otherwise ParameterError.

    >>> v = normalised((sp.Rational(1, 2), sp.Rational(1, 2) - sp.Rational(1, 2**54)), (0.5, 0.49999999999999994), "reference")
    >>> sum(v), v.correction
    (1, -1/18014398509481984)
    """
    total = sp.expand(sp.Add(*entries))
    if total == 1 or total.free_symbols:
        return Probabilities(entries, getattr(given, "correction", sp.Integer(0)))  # a vector checked before keeps its own
    if any(isinstance(v, (float, np.floating)) for v in given) and bool(abs(total - 1) <= float_slack(len(entries))):
        return Probabilities([e / total for e in entries], total - 1)
    raise ParameterError(
        f"{name}: the probabilities sum to {_shown_number(total)}, not 1; give a probability vector (exact entries "
        "summing to exactly 1, e.g. '0.3' and '0.7', or floats summing to 1 within rounding)")


def _shown_number(value: sp.Expr) -> str:
    text = str(value)
    return text if len(text) <= 20 else str(sp.Float(value, 17))


def float_array(values: object, name: str) -> np.ndarray:
    """``values`` (a number, sequence or numpy array of ints or floats) as a float64 array.

    For the float64 grids only: strings, booleans and other objects are refused, not read.
    Finiteness and ranges are the caller's to check (they differ per parameter).

    >>> float_array([1, 0.5], "beta")
    array([1. , 0.5])
    >>> float_array("0.5", "beta")
    Traceback (most recent call last):
    ...
    grpo_symbolic.model.errors.ParameterError: beta: got '0.5'; give floats or a numpy array of floats (the float grid reads no strings)
    """
    array = np.asarray(values) if not isinstance(values, (str, bytes)) else np.asarray([], dtype=object)
    if array.dtype.kind not in "iuf":
        raise ParameterError(f"{name}: got {shown(values)}; give floats or a numpy array of floats (the float grid reads no strings)")
    return array.astype(float)


FLOAT_REWARD_LIMIT = 1e150
"""The float64 functions (Monte Carlo, the dynamics) take reward values of size at most this, and
distinct values at least 1/this apart: their squares (in the std) stay finite and nonzero."""


def float_values(values: Sequence[sp.Expr], name: str) -> tuple[float, ...]:
    """The exact (sorted, distinct) reward ``values`` as floats, if float64 can carry them.

    Every |v| must be at most :data:`FLOAT_REWARD_LIMIT`, distinct values at least
    1/:data:`FLOAT_REWARD_LIMIT` apart and still distinct after rounding; otherwise a float64
    group's std would overflow, vanish or merge two rewards into a tie (a wrong number).  The exact
    functions (``preference_numeric``, ``stationary_policy``) take any magnitude.

    >>> float_values((sp.Integer(0), sp.Rational(1, 3)), "rewards")
    (0.0, 0.3333333333333333)
    >>> float_values((sp.Integer(0), sp.Integer(10)**300), "rewards")
    Traceback (most recent call last):
    ...
    grpo_symbolic.model.errors.ParameterError: rewards: the reward values (0, 1.0e+300) are beyond what float64 sampling carries (|r| <= 1e+150, distinct values >= 1e-150 apart and distinct as floats); rescale the rewards (and beta, for normalisation='shift'), or use the exact functions
    """
    floats = tuple(float(sp.Float(v, 17)) for v in values)
    gaps = [b - a for a, b in zip(values, values[1:])]
    if (any(abs(f) > FLOAT_REWARD_LIMIT for f in floats) or any(g < sp.Float(1 / FLOAT_REWARD_LIMIT) for g in gaps)
            or len(set(floats)) < len(floats)):
        shown_values = ", ".join(_shown_number(v) if len(str(v)) <= 20 else str(sp.Float(v, 2)) for v in values[:4])
        raise ParameterError(
            f"{name}: the reward values ({shown_values}{', ...' if len(values) > 4 else ''}) are beyond what float64 "
            f"sampling carries (|r| <= {FLOAT_REWARD_LIMIT:g}, distinct values >= {1 / FLOAT_REWARD_LIMIT:g} apart and "
            "distinct as floats); rescale the rewards (and beta, for normalisation='shift'), or use the exact functions")
    return floats


def policy(values: object, size: int, name: str = "policy", dps: int | None = None) -> tuple[Entry, ...]:
    """Check a probability vector over ``size`` outputs; return its entries (SymPy, or mpf as given).

    Entries may be ints, decimal or fraction strings, Fractions, floats and numpy numbers (read
    exactly), SymPy numbers or expressions, or mpf.  Exact entries must sum to exactly 1 (floats:
    within rounding, then renormalised exactly, see :func:`normalised`), unless the sum holds
    SymPy symbols: then the policy is a formal one for symbolic work (e.g. ``(p, 1 - p)``, or free
    π_1, π_2, … whose simplex constraint the caller imposes) and only its length and the signs
    SymPy can decide are checked; when any entry is an mpf the sum may miss 1 by 10^(−dps)
    (``dps`` default: the precision of the mpf entries' context), so a policy rounded to ``dps`` digits, e.g.
    one the solver returned, is accepted.

    >>> policy([mpmath.mpf(1) / 3, mpmath.mpf(2) / 3], 2, dps=15)
    (mpf('0.33333333333333331'), mpf('0.66666666666666663'))
    >>> policy(["1", "-0"], 3)
    Traceback (most recent call last):
    ...
    grpo_symbolic.model.errors.ParameterError: policy: got 2 probabilities for 3 outputs; give one per output
    """
    entries = sequence(values, name)
    if len(entries) != size:
        raise ParameterError(f"{name}: got {len(entries)} probabilities for {size} outputs; give one per output")
    checked = tuple(_entry(v, f"{name}[{i}]") for i, v in enumerate(entries))
    if not any(isinstance(v, mpmath.mpf) for v in checked):
        return tuple(normalised(checked, entries, name))
    as_exact = [exact(v, name) if isinstance(v, mpmath.mpf) else v for v in checked]
    total = sp.expand(sp.Add(*as_exact))
    if total.free_symbols:
        raise ParameterError(f"{name}: mixes symbols with mpmath numbers; give numbers only, or exact entries")
    digits = min(v.context.dps for v in checked if isinstance(v, mpmath.mpf)) if dps is None else dps
    if abs(total - 1) > sp.Rational(1, 10**digits):
        shown = mpmath.libmp.to_str(sp.Float(total, digits + 5)._mpf_, 12)
        raise ParameterError(
            f"{name}: the probabilities sum to {shown}, more than 1e-{digits} away from 1; normalise the policy")
    return checked


def _entry(value: Any, name: str) -> Entry:
    if isinstance(value, mpmath.mpf):
        if not mpmath.isfinite(value) or value < 0:
            raise ParameterError(f"{name}: got {value}; probabilities must be finite and >= 0")
        return value
    entry = exact(value, name)
    if entry.is_negative:
        raise ParameterError(f"{name}: got {entry}; probabilities must be >= 0")
    return entry
