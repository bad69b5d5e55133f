"""Complete root isolation in boxes: ball arithmetic (python-flint ``arb``), jets, Krawczyk.

A residual F: R^n → R^n is evaluated on a box X (a tuple of balls) as :class:`Jet` values: each
jet carries an enclosure of F_j over X and an enclosure of its gradient over X (forward-mode
differentiation in ball arithmetic), so one evaluation gives both F(X) and the Jacobian J(X).
:func:`isolate` then runs the classical branch-and-bound over the box:

* **exclusion**: 0 ∉ F_j(X) for some j (natural or mean-value enclosure) — no root in X;
* **Krawczyk test**: with y the midpoint of X and Y ≈ J(y)⁻¹ (any point matrix),
  K(X) = y − Y·F(y) + (I − Y·J(X))·(X − y).  Every root in X lies in K(X), so K(X) ∩ X = ∅
  proves X root-free, and K(X) ⊂ interior(X) proves X holds **exactly one** root (and it lies in
  K(X)); iterating X ← K(X) ∩ X then shrinks the enclosure quadratically;
* otherwise X is bisected along its widest side, down to ``min_width``; boxes still undecided
  there (a double root, two roots closer than the precision separates) are returned as
  *unresolved*, never dropped; so are the boxes left when the ``budget`` of evaluations is spent.

So the result is complete by construction: every root of F in the initial box lies in one of
the certified boxes or in one of the unresolved ones.  Box endpoints are exact dyadic numbers;
a root on the common face of two boxes is caught by trying the Krawczyk test on a slightly
inflated box, and two certified boxes are the same root only when one's enclosure lies inside
the other's certified box.

Needs python-flint (the ``rigorous`` extra); the flint precision is set by the caller with
:func:`grpo_symbolic.numerics.certify.flint_precision`.

>>> from flint import arb
>>> def circle(x):  # x² + y² = 4, y = x: two roots (±√2, ±√2)
...     return [x[0] * x[0] + x[1] * x[1] - 4, x[1] - x[0]]
>>> with flint_precision(30):
...     result = isolate(circle, [(-3, 3), (-3, 3)])
...     roots = sorted(float(b[0].mid()) for b in result.roots)
>>> result.complete, [round(r, 12) for r in roots]
(True, [-1.414213562373, 1.414213562373])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from grpo_symbolic.numerics.certify import _flint, flint_precision

__all__ = ["Jet", "Isolation", "isolate", "ball", "flint_precision", "softmax_jets", "logsumexp"]


def _arb() -> Any:
    return _flint().arb


def ball(lo: Any, hi: Any) -> Any:
    """The ball enclosing the interval [lo, hi] (exact arb endpoints)."""
    arb = _arb()
    lo, hi = arb(lo), arb(hi)
    return arb((lo + hi) / 2, (hi - lo) / 2)


class Jet:
    """An enclosure of a value and of its gradient (a tuple of balls) over a box.

    Arithmetic follows the chain rule; constants are plain numbers or balls.

    >>> from flint import arb
    >>> with flint_precision(20):
    ...     x = Jet.variables([arb(2)])[0]
    ...     y = (x * x + 1).log()
    >>> round(float(y.value.mid()), 12), float(y.grad[0].mid())  # log 5, 2x/(x² + 1)
    (1.609437912434, 0.8)
    """

    __slots__ = ("value", "grad")

    def __init__(self, value: Any, grad: Sequence[Any]) -> None:
        self.value, self.grad = value, tuple(grad)

    @classmethod
    def variables(cls, balls: Sequence[Any]) -> list[Jet]:
        """One jet per coordinate of the box, with unit gradients."""
        arb, n = _arb(), len(balls)
        return [cls(arb(b), [arb(int(i == k)) for k in range(n)]) for i, b in enumerate(balls)]

    def apply(self, value: Any, slope: Any) -> Jet:
        """f(self) for a unary f with f(value) = ``value`` and f'(value) = ``slope``."""
        return Jet(value, [slope * g for g in self.grad])

    def _pair(self, other: Any) -> Jet:
        if isinstance(other, Jet):
            return other
        return Jet(_arb()(other), [0 * g for g in self.grad])

    def __add__(self, other: Any) -> Jet:
        o = self._pair(other)
        return Jet(self.value + o.value, [a + b for a, b in zip(self.grad, o.grad)])

    __radd__ = __add__

    def __neg__(self) -> Jet:
        return Jet(-self.value, [-g for g in self.grad])

    def __sub__(self, other: Any) -> Jet:
        return self + (-self._pair(other))

    def __rsub__(self, other: Any) -> Jet:
        return self._pair(other) - self

    def __mul__(self, other: Any) -> Jet:
        if not isinstance(other, Jet):
            return Jet(self.value * other, [g * other for g in self.grad])
        return Jet(self.value * other.value, [self.value * b + other.value * a for a, b in zip(self.grad, other.grad)])

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> Jet:
        if not isinstance(other, Jet):
            return Jet(self.value / other, [g / other for g in self.grad])
        return self * other.reciprocal()

    def __rtruediv__(self, other: Any) -> Jet:
        return self.reciprocal() * other

    def reciprocal(self) -> Jet:
        inverse = 1 / self.value
        return self.apply(inverse, -inverse * inverse)

    def __pow__(self, n: int) -> Jet:
        if n == 0:
            return self._pair(1)
        return self.apply(self.value ** n, n * self.value ** (n - 1))

    def exp(self) -> Jet:
        e = self.value.exp()
        return self.apply(e, e)

    def log(self) -> Jet:
        return self.apply(self.value.log(), 1 / self.value)

    def sqrt(self) -> Jet:
        r = self.value.sqrt()
        return self.apply(r, 1 / (2 * r))


def softmax_jets(s: Sequence[Jet]) -> list[Jet]:
    """m = softmax(s, 0) as jets: m_j = e^{s_j} / (1 + Σ e^{s_k}), the last m_V = 1 / (1 + Σ e^{s_k}).

    Gradients are formed as ∂m_j/∂s_k = m_j(δ_jk − m_k) with 1 − m_k summed from the other
    components, so no cancellation near a vertex (m_k ≈ 1).
    """
    arb = _arb()
    weights = [x.value.exp() for x in s] + [arb(1)]
    total = sum(weights[1:], weights[0])
    m = [w / total for w in weights]
    grads = [[0 * total for _ in s] for _ in m]
    for j, mj in enumerate(m):
        for k in range(len(s)):
            rest = sum((m[i] for i in range(len(m)) if i != k), 0 * total)
            grads[j][k] = mj * rest if j == k else -mj * m[k]
    # chain rule with the gradients of s (unit vectors for the box variables, kept general)
    return [Jet(mj, [sum((gj[k] * s[k].grad[i] for k in range(len(s))), 0 * total) for i in range(len(s[0].grad))])
            for mj, gj in zip(m, grads)]


def logsumexp(terms: Sequence[Jet]) -> Jet:
    """log Σ e^{x_c} as a jet, shifted by the term with the largest upper end (no overflow)."""
    top = max(range(len(terms)), key=lambda c: terms[c].value.upper())
    rest = [(x - terms[top]).exp() for c, x in enumerate(terms) if c != top]
    return terms[top] + (1 + sum(rest, terms[top] * 0)).log()


Residual = Callable[[list[Any]], Any]
"""F: a list of n jets (or balls) ↦ a list of n jets, or None when the box provably holds no root."""


@dataclass
class Isolation:
    """The outcome of :func:`isolate`.

    ``roots``: one certified enclosure per root (a tuple of balls, each proven to hold exactly one
    root); ``unresolved``: boxes (tuples of (lo, hi) arb pairs) where roots may remain undecided
    (too narrow to split further, or left when the budget ran out); ``evaluations``: residual
    evaluations used; ``exhausted``: the budget ran out.  ``complete`` is True when nothing is
    unresolved: the certified roots are then every root in the box.
    """

    roots: list[tuple[Any, ...]] = field(default_factory=list)
    unresolved: list[tuple[tuple[Any, Any], ...]] = field(default_factory=list)
    evaluations: int = 0
    exhausted: bool = False
    _inflated: list[tuple[Any, ...]] = field(default_factory=list, repr=False)

    @property
    def complete(self) -> bool:
        return not self.unresolved


def isolate(residual: Residual, box: Sequence[tuple[Any, Any]], min_width: Any = None, budget: int = 100000,
            refine_to: Any = None) -> Isolation:
    """Every root of ``residual`` in ``box`` (a list of (lo, hi) pairs), certified or left unresolved.

    ``min_width``: boxes narrower than this are not split further (default 2^(−prec/3));
    ``refine_to``: each certified enclosure is shrunk by Krawczyk steps until its radius is
    below this (default 2^(−prec + 16) relative).  The flint precision must be set by the caller.
    """
    arb = _arb()
    prec = _flint().ctx.prec
    min_width = arb(min_width) if min_width is not None else arb(2) ** (-prec // 3)
    result = Isolation()
    stack = [tuple((arb(lo), arb(hi)) for lo, hi in box)]
    while stack:
        X = stack.pop()
        if result.evaluations >= budget:
            result.exhausted = True
            result.unresolved.extend([X, *stack])
            break
        verdict, enclosure = _examine(residual, X, result)
        if verdict == "none":
            continue
        if verdict == "one":
            _record(residual, enclosure, result, refine_to)
            continue
        widest = max(range(len(X)), key=lambda i: X[i][1] - X[i][0])
        lo, hi = X[widest]
        if hi - lo < min_width * max(1, abs(lo), abs(hi)):
            result.unresolved.append(X)
            continue
        middle = (lo + hi) / 2
        for half in ((lo, middle), (middle, hi)):
            stack.append(tuple(half if i == widest else side for i, side in enumerate(X)))
    return result


def _examine(residual: Residual, X: tuple[tuple[Any, Any], ...], result: Isolation) -> tuple[str, Any]:
    """'none' (no root in X), 'one' (with the certified box) or 'split'."""
    balls = [ball(lo, hi) for lo, hi in X]
    result.evaluations += 1
    F = residual(Jet.variables(balls))
    if F is None or any(not _has_zero(f.value) for f in F):
        return "none", None
    test = _krawczyk(residual, balls, F)
    if test is None:
        return "split", None
    K, contracting = test
    if any(not k.overlaps(x) for k, x in zip(K, balls)):
        return "none", None
    if all(x.contains_interior(k) for k, x in zip(K, balls)):
        return "one", tuple(balls)
    if contracting:  # Newton contracts here but K pokes out: the root may sit on a face
        wider = [x + _arb()(0, 2 * x.rad()) for x in balls]
        result.evaluations += 1
        test = _krawczyk(residual, wider, residual(Jet.variables(wider)))
        if test is not None and all(x.contains_interior(k) for k, x in zip(test[0], wider)):
            return "one", tuple(wider)
    return "split", None


def _has_zero(value: Any) -> bool:
    return bool(value.contains(0)) or not value.is_finite()


def _krawczyk(residual: Residual, balls: list[Any], F: Any) -> tuple[list[Any], bool] | None:
    """(K(X), whether ‖I − Y·J(X)‖ < 1/2), or None when J(X) or F(y) is not finite or singular."""
    flint = _flint()
    arb, arb_mat = flint.arb, flint.arb_mat
    n = len(balls)
    if F is None:
        return None
    J = arb_mat([[f.grad[k] for k in range(n)] for f in F])
    if not all(J[i, k].is_finite() for i in range(n) for k in range(n)):
        return None
    y = [x.mid() for x in balls]
    Fy = residual([arb(v) for v in y])
    if Fy is None or not all(f.is_finite() for f in (_value(v) for v in Fy)):
        return None
    try:
        Y = arb_mat([[J[i, k].mid() for k in range(n)] for i in range(n)]).inv()
    except ZeroDivisionError:
        return None
    Y = arb_mat([[Y[i, k].mid() for k in range(n)] for i in range(n)])
    if not all(Y[i, k].is_finite() for i in range(n) for k in range(n)):
        return None
    residue = arb_mat(n, n) + 1 - Y * J  # I − Y·J(X)
    step = Y * arb_mat([[_value(v)] for v in Fy])
    offset = residue * arb_mat([[x - c] for x, c in zip(balls, y)])
    K = [y[i] - step[i, 0] + offset[i, 0] for i in range(n)]
    norm = max(sum(abs(residue[i, k]).upper() for k in range(n)) for i in range(n))
    return K, bool(norm < arb(1) / 2)


def _value(v: Any) -> Any:
    return v.value if isinstance(v, Jet) else v


def _record(residual: Residual, X: tuple[Any, ...], result: Isolation, refine_to: Any) -> None:
    """Shrink the certified box by Krawczyk steps; keep it unless it is a root already recorded."""
    arb, prec = _arb(), _flint().ctx.prec
    enclosure = list(X)
    for _ in range(prec):
        target = arb(refine_to) if refine_to is not None else arb(2) ** (16 - prec)
        if all(x.rad() <= target * max(1, abs(x.mid())) for x in enclosure):
            break
        test = _krawczyk(residual, enclosure, residual(Jet.variables(enclosure)))
        result.evaluations += 1
        if test is None:
            break
        shrunk = [k.intersection(x) for k, x in zip(test[0], enclosure)]
        if not all(s.rad() < x.rad() for s, x in zip(shrunk, enclosure)):
            break
        enclosure = shrunk
    for other, other_box in zip(result.roots, result._inflated):
        if all(b.contains(e) for b, e in zip(other_box, enclosure)) or all(b.contains(e) for b, e in zip(X, other)):
            return  # the same root, certified from two neighbouring boxes
    result.roots.append(tuple(enclosure))
    result._inflated.append(X)
