"""Crossing from exact SymPy numbers to mpmath numbers at the working precision."""

import mpmath
import sympy as sp

from grpo_symbolic.model.errors import ParameterError
from grpo_symbolic.model.numbers import exact


def to_mpf(value):
    """``value`` (int, Fraction, SymPy number or mpf) as an mpf at the current mpmath precision.

    >>> with mpmath.workdps(20):
    ...     print(to_mpf(sp.Rational(1, 3)))
    0.33333333333333333333
    """
    if isinstance(value, mpmath.mpf):
        return +value
    value = sp.sympify(value)  # internal numbers only, never user strings
    if value.free_symbols:
        raise ParameterError(f"cannot evaluate {value} numerically: it contains symbols {sorted(map(str, value.free_symbols))}; substitute numbers first")
    if value.is_Rational:
        return mpmath.mpf(int(value.p)) / int(value.q)
    return mpmath.mpf(value.evalf(mpmath.mp.dps + 10)._mpf_)


def policy_mpf(policy, size, name="policy", dps=None):
    """Check a numeric policy (length, finite, ≥ 0, sums to 1) and return mpf values.

    The sum may miss 1 by 10^(5 − dps), ``dps`` being the caller's digits (default: the current
    precision), so a policy rounded to ``dps`` digits, e.g. one the solver returned, is accepted.
    """
    if len(policy) != size:
        raise ParameterError(f"{name}: got {len(policy)} probabilities for {size} outputs; give one per output")
    values = []
    for i, v in enumerate(policy):
        if not isinstance(v, mpmath.mpf):
            v = to_mpf(exact(v, f"{name}[{i}]"))
        if not mpmath.isfinite(v) or v < 0:
            raise ParameterError(f"{name}[{i}]: got {v}; probabilities must be finite and >= 0")
        values.append(v)
    total = mpmath.fsum(values)
    if abs(total - 1) > mpmath.mpf(10) ** (5 - (dps or mpmath.mp.dps)):
        raise ParameterError(f"{name}: the probabilities sum to {mpmath.nstr(total, 10)}, not 1; normalise the policy")
    return tuple(values)
