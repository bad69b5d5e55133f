"""Certified root enclosures with interval Newton in ball arithmetic (python-flint's ``arb``).

Optional: needs the ``rigorous`` extra (``pip install 'grpo_symbolic[rigorous]'``, i.e.
python-flint); :func:`available` says whether it is installed, and nothing is imported from
flint until a certificate is asked for.

The function f is a SymPy expression in one variable; it is evaluated on balls by a small tree
walker over SymPy nodes (numbers, symbols, +, ×, powers, sqrt, exp, log — nothing is parsed or
evaluated from text), and f' is SymPy's derivative of it.  Interval Newton: for a ball X around an
approximation x0 and its midpoint m, if N(X) = m − f(m)/f'(X) lies strictly inside X, then X
contains exactly one root of f, and that root lies in N(X).  Iterating N shrinks the enclosure; the
certificate then bounds |x0 − root| rigorously.

>>> from grpo_symbolic.model.symbols import x
>>> with mpmath.workdps(15):
...     approximation = mpmath.sqrt(2)
>>> root = certify_root(x**2 - 2, x, approximation, dps=30)  # how many digits of x0 are right?
>>> round(root.digits, 1), root.radius < mpmath.mpf(10) ** -40, root.contains(approximation)
(16.2, True, False)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
import importlib.util
import threading
from typing import Any

import mpmath
import sympy as sp

from grpo_symbolic.model import inputs
from grpo_symbolic.model.errors import ParameterError, SolverError
from grpo_symbolic.model.numbers import exact
from grpo_symbolic.numerics.precision import check_dps, mpx, to_mpf, working_bits, working_precision

SUPPORTED = "numbers, symbols, +, *, integer/rational powers (sqrt), exp, log, pi, E"


def available() -> bool:
    """True when python-flint (the ``rigorous`` extra) is installed.

    >>> isinstance(available(), bool)
    True
    """
    return importlib.util.find_spec("flint") is not None


def _flint():
    try:
        import flint
    except ImportError:
        raise ImportError("certified enclosures need python-flint: pip install 'grpo_symbolic[rigorous]'") from None
    return flint


def precision_bits(dps: int) -> int:
    """Working precision in bits for certifying ``dps``-digit values (with 20 guard digits).

    >>> precision_bits(50)
    237
    """
    return int((dps + 20) * 3.33) + 4


def flint_precision(dps: int) -> Any:
    """The context manager that sets flint's ball precision to :func:`precision_bits` (``dps``).

    >>> with flint_precision(50):
    ...     _flint().ctx.prec
    237
    """
    return flint_bits(precision_bits(check_dps(dps)))


# python-flint has one process-wide precision: ball arithmetic runs in one thread at a time.
_FLINT = threading.RLock()


@contextmanager
def flint_bits(bits: int) -> Iterator[int]:
    """The context manager that sets flint's ball precision to ``bits`` (for cheap enclosures),
    holding the lock that keeps other threads' ball arithmetic out until it ends."""
    with _FLINT, _flint().ctx.workprec(bits):
        yield bits


# ---------------------------------------------------------------------------------------------
# SymPy -> ball arithmetic


def compile_arb(expr: sp.Expr, variables: Sequence[sp.Symbol]) -> Callable[..., Any]:
    """A function of balls evaluating the SymPy expression ``expr`` in ``variables`` (a tuple).

    Constants are turned into balls when the function is called, at the precision in force then.
    Unsupported nodes raise :class:`ParameterError` naming them.

    >>> from grpo_symbolic.model.symbols import x
    >>> f = compile_arb(sp.sqrt(x) * sp.exp(x) - sp.log(x) / 3, (x,))
    >>> from flint import arb
    >>> f(arb(2)).contains(arb(mpmath.sqrt(2) * mpmath.exp(2) - mpmath.log(2) / 3))
    True
    """
    if not isinstance(expr, sp.Basic):
        raise ParameterError(f"expr: got {type(expr).__name__}; give a SymPy expression (strings are never parsed)")
    index = {v: i for i, v in enumerate(variables)}
    compiled = _compile(expr, index, _flint())
    return lambda *args: compiled(args)


def _compile(node, index, flint):
    if node.is_Symbol:
        if node not in index:
            raise ParameterError(f"expr: the symbol {node} has no value; substitute it or list it among the variables")
        i = index[node]
        return lambda args: args[i]
    if node.is_Number or node is sp.pi or node is sp.E:
        return _compile_constant(node, flint)
    if node.is_Add or node.is_Mul:
        return _compile_fold(node, index, flint)
    if node.is_Pow:
        return _compile_pow(node, index, flint)
    if isinstance(node, sp.exp):
        inner = _compile(node.args[0], index, flint)
        return lambda args: inner(args).exp()
    if isinstance(node, sp.log) and len(node.args) == 1:
        inner = _compile(node.args[0], index, flint)
        return lambda args: inner(args).log()
    raise _unsupported(node)


def _compile_fold(node, index, flint):
    """A sum or a product of the compiled arguments."""
    parts = [_compile(a, index, flint) for a in node.args]
    if node.is_Add:
        return lambda args: _fold(lambda a, b: a + b, [f(args) for f in parts])
    return lambda args: _fold(lambda a, b: a * b, [f(args) for f in parts])


def _unsupported(node):
    return ParameterError(f"expr: cannot evaluate {type(node).__name__} ({node}) in ball arithmetic; supported: {SUPPORTED}")


def _compile_constant(node, flint):
    """Rationals, floats (exactly), pi and E as balls made when called (at the precision then)."""
    arb = flint.arb
    if node.is_Rational:
        p, q = int(node.p), int(node.q)
        return lambda args: arb(flint.fmpq(p, q))
    if node.is_Float:
        sign, man, exp, _ = node._mpf_
        man = -man if sign else man
        return lambda args: exact_ball(man, exp)
    if node is sp.pi:
        return lambda args: arb.pi()
    if node is sp.E:
        return lambda args: arb(1).exp()
    raise _unsupported(node)


def _compile_pow(node, index, flint):
    base = _compile(node.base, index, flint)
    exponent = node.exp
    if exponent.is_Integer:
        n = int(exponent)
        if n >= 0:
            return lambda args: _integer_power(base(args), n)
        return lambda args: 1 / _integer_power(base(args), -n)
    if exponent == sp.Rational(1, 2):
        return lambda args: base(args).sqrt()
    if exponent == sp.Rational(-1, 2):
        return lambda args: 1 / base(args).sqrt()
    power = _compile(exponent, index, flint)
    return lambda args: (power(args) * base(args).log()).exp()  # base > 0; nan (never certified) otherwise


def _integer_power(ball, n):
    """ball**n by repeated squaring (flint's ``**`` goes through log for balls that contain 0)."""
    result, square = None, ball
    while n:
        if n & 1:
            result = square if result is None else result * square
        n >>= 1
        if n:
            square = square * square
    return _flint().arb(1) if result is None else result


def _fold(op, values):
    total = values[0]
    for v in values[1:]:
        total = op(total, v)
    return total


# ---------------------------------------------------------------------------------------------
# Crossing between mpmath and arb


def exact_ball(man: int, exp: int) -> Any:
    """The exact ball man·2^exp (no rounding: the precision is raised to hold the mantissa)."""
    flint = _flint()
    with flint_bits(max(flint.ctx.prec, abs(int(man)).bit_length() + 8)):
        return flint.arb((int(man), int(exp)))


def ball_of(value: Any) -> Any:
    """An mpmath number (kept exactly as it is, whatever the working precision) as an exact ball.

    >>> print(ball_of(mpmath.mpf("0.75")))
    0.750000000000000
    """
    if not isinstance(value, mpmath.mpf):
        with working_precision(max(mpx.dps, 30), guard=0):
            value = mpx.mpf(value)
    if not mpx.isfinite(value):
        raise ParameterError(f"value: got {value}; give a finite number")
    man, exp = value.man_exp
    return exact_ball(man, exp)


def mpf_of(ball_value: Any) -> mpmath.mpf:
    """The exact value of an exact ball (e.g. a midpoint or an endpoint) as an mpf."""
    man, exp = ball_value.mid().man_exp()
    man = int(man)
    with working_bits(max(mpx.prec, man.bit_length() + 8)):
        return mpx.ldexp(mpx.mpf(man), int(exp))


# ---------------------------------------------------------------------------------------------
# Interval Newton


@dataclass(frozen=True)
class CertifiedRoot:
    """A certified simple root of f.

    ``ball``: the ball X (around the approximation) shown to contain exactly one root, by
    N(X) ⊂ interior(X); ``enclosure``: a ball containing that root, after further Newton steps;
    ``approximation``: the mpmath value x0 that was certified; ``error_bound``: a rigorous upper
    bound on |x0 − root| (an mpf); ``digits``: −log10(error_bound/|x0|), certified digits of x0.
    """

    ball: Any
    enclosure: Any
    approximation: Any
    error_bound: Any
    digits: float

    @property
    def radius(self) -> mpmath.mpf:
        """The radius of :attr:`enclosure` as an mpf."""
        return mpf_of(self.enclosure.rad())

    def contains(self, value: Any) -> bool:
        """True when ``value`` (an mpmath number) lies in :attr:`enclosure`."""
        return bool(self.enclosure.contains(ball_of(value)))


def certify_root(expr: sp.Expr, variable: sp.Symbol, approximation: Any, dps: int = 50, radius: Any = None,
                 steps: int = 6) -> CertifiedRoot:
    """Certify that f = ``expr`` has exactly one root in a ball around ``approximation``.

    ``radius`` (default 10^(−dps/2)·max(1, |x0|)) is the radius of the ball X; if N(X) is not
    strictly inside X, the radius is tried 10^8 times smaller and larger before giving up with
    :class:`SolverError`.

    >>> from grpo_symbolic.model.symbols import x
    >>> with mpmath.workdps(50):
    ...     root = certify_root(sp.exp(x) - 3, x, mpmath.log(3))
    >>> root.digits >= 50, root.radius < mpmath.mpf(10) ** -60
    (True, True)
    """
    dps, steps = inputs.dps(dps), inputs.count(steps, "steps", 0)
    flint = _flint()
    if isinstance(approximation, mpmath.mpf):
        x0 = approximation  # exactly as given: rounding it to the working precision would move it
    else:
        with working_precision(dps + 10, guard=0):
            x0 = to_mpf(exact(approximation, "approximation"))
    derivative = sp.diff(expr, variable)
    f = compile_arb(expr, (variable,))
    df = compile_arb(derivative, (variable,))
    with working_precision(dps + 10, guard=0):
        radius = mpx.mpf(10) ** (-(dps // 2)) * max(1, abs(x0)) if radius is None else to_mpf(exact(radius, "radius"))
    if not radius > 0:
        raise ParameterError(f"radius: got {mpx.nstr(radius, 5)}; give a ball radius > 0 (or None for the default)")
    with flint_precision(dps):
        center = ball_of(x0)
        for scale in (1, mpx.mpf(10) ** -8, mpx.mpf(10) ** 8):
            ball = flint.arb(center, ball_of(radius * scale))
            newton = _newton_step(f, df, ball)
            if ball.contains_interior(newton):
                break
        else:
            raise SolverError(
                f"certify: interval Newton did not contract around {mpx.nstr(x0, 15)} "
                f"(f' may vanish near the root, or the approximation is off by more than {mpx.nstr(radius, 3)})"
            )
        enclosure = newton
        for _ in range(steps):
            refined = _newton_step(f, df, enclosure)
            if not refined.is_finite() or not refined.rad() < enclosure.rad():
                break
            enclosure = refined.intersection(enclosure)
        bound = mpf_of(abs(enclosure - center).upper())  # ≥ |x0 − root|: the root is in the enclosure
    with working_precision(dps + 10, guard=0):
        digits = float(min(-mpx.log10(bound / abs(x0)), 10 * dps)) if bound > 0 and x0 != 0 else float(10 * dps)
    return CertifiedRoot(ball, enclosure, x0, bound, digits)


def _newton_step(f, df, ball):
    """N(X) = m − f(m)/f'(X) for the ball X, m its midpoint."""
    mid = ball.mid()
    return mid - f(mid) / df(ball)
