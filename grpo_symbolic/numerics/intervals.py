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

__all__ = ["Jet", "Isolation", "isolate", "refine_roots", "Fold", "fold", "fold_slope", "ball", "monotone", "positive_product", "flint_precision", "softmax_jets", "logsumexp"]


def _arb() -> Any:
    return _flint().arb


def ball(lo: Any, hi: Any) -> Any:
    """The ball enclosing the interval [lo, hi] (exact arb endpoints)."""
    arb = _arb()
    return arb(lo).union(arb(hi))


def monotone(f: Callable[[Any], Any], x: Any, decreasing: bool = False, lowest: Any = None) -> Any:
    """f(x) for a function f monotone on x (or on x ∩ [``lowest``, ∞) when x is known to be ≥ lowest),
    from the ends of the ball: tight also for wide balls, where the midpoint-radius bound is not.
    (A ball cannot hold [1e-80, 1e80] without reaching below 0, so quantities known to be ≥ 0
    pass ``lowest=0``.)

    >>> from flint import arb
    >>> with flint_precision(20):
    ...     x = ball(arb("1e-80"), arb("1e80"))
    ...     y = monotone(lambda t: 1 / (1 + t), x, decreasing=True, lowest=0)
    >>> bool(x.lower() < 0), (1 / (1 + x)).is_finite(), y.is_finite(), bool(y.upper() < 1.01)
    (True, False, True, True)
    """
    if x.is_exact() or not x.is_finite():
        return f(x)
    low = x.lower() if lowest is None else x.lower().max(_arb()(lowest))
    lo, hi = f(low), f(x.upper())
    if decreasing:
        lo, hi = hi, lo
    return ball(lo.lower(), hi.upper())


def positive_product(a: Any, b: Any) -> Any:
    """a·b for balls a, b ≥ 0, from their ends (the midpoint-radius product of wide balls would
    reach below 0)."""
    if a.lower() >= 0 and b.lower() >= 0:
        return ball((a.lower() * b.lower()).lower(), (a.upper() * b.upper()).upper())
    return a * b


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
        inverse = monotone(lambda y: 1 / y, self.value, decreasing=True) if self.value > 0 else 1 / self.value
        return self.apply(inverse, -inverse * inverse)

    def __pow__(self, n: int) -> Jet:
        if n == 0:
            return self._pair(1)
        return self.apply(self.value ** n, n * self.value ** (n - 1))

    def exp(self) -> Jet:
        e = monotone(lambda y: y.exp(), self.value)
        return self.apply(e, e)

    def log(self) -> Jet:
        return self.apply(monotone(lambda y: y.log(), self.value), 1 / self.value)

    def sqrt(self) -> Jet:
        r = monotone(lambda y: y.sqrt(), self.value)
        return self.apply(r, 1 / (2 * r))


def softmax_jets(s: Sequence[Jet]) -> list[Jet]:
    """m = softmax(s, 0) as jets: m_j = e^{s_j} / (1 + Σ e^{s_k}), the last m_V = 1 / (1 + Σ e^{s_k}).

    Each m_j is formed as 1/(1 + Σ_{k≠j} e^{s_k − s_j} + e^{−s_j}) (all terms decrease in s_j and
    increase in s_k, so the enclosure over a box is tight), and 1 − m_j as the same sum times m_j;
    gradients ∂m_j/∂s_k = m_j(δ_jk − m_k) then need no subtraction near a vertex (m_k ≈ 1).
    """
    arb = _arb()
    x = [v.value for v in s] + [arb(0)]
    m, rest = [], []
    for j in range(len(x)):
        others = sum((monotone(lambda y: y.exp(), x[k] - x[j]) for k in range(len(x)) if k != j), arb(0))
        m.append(monotone(lambda y: 1 / (1 + y), others, decreasing=True, lowest=0))
        rest.append(monotone(lambda y: y / (1 + y), others, lowest=0))
    grads = [[positive_product(m[j], rest[j]) if j == k else -positive_product(m[j], m[k]) for k in range(len(s))]
             for j in range(len(m))]
    # chain rule with the gradients of s (unit vectors for the box variables, kept general)
    return [Jet(mj, [sum((gj[k] * s[k].grad[i] for k in range(len(s))), arb(0)) for i in range(len(s[0].grad))])
            for mj, gj in zip(m, grads)]


def linear_jets(matrix: Any, jets: Sequence[Jet]) -> list[Jet]:
    """[Σ_k matrix[i, k]·jets[k] for every row i] as jets, for a constant ``arb_mat``: the values and
    each gradient component by one matrix product (products and sums of balls, as term by term).

    >>> from flint import arb_mat
    >>> x, y = Jet.variables([2, 3])
    >>> row = linear_jets(arb_mat([[1, 10]]), [x, y])[0]
    >>> float(row.value.mid()), [float(g.mid()) for g in row.grad]
    (32.0, [1.0, 10.0])
    """
    n = len(jets[0].grad)
    product = matrix * _flint().arb_mat([[x.value, *x.grad] for x in jets])
    return [Jet(product[i, 0], [product[i, k + 1] for k in range(n)]) for i in range(product.nrows())]


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

    @property
    def complete(self) -> bool:
        return not self.unresolved


def isolate(residual: Residual, box: Sequence[tuple[Any, Any]], min_width: Any = None, budget: int = 100000,
            refine: bool = True) -> Isolation:
    """Every root of ``residual`` in ``box`` (a list of (lo, hi) pairs), certified or left unresolved.

    ``min_width``: boxes narrower than this are not split further (default 2^(−prec/3));
    ``refine``: shrink each certified box by :func:`refine_roots` at the same precision (else
    :attr:`Isolation.roots` holds the certified boxes themselves, possibly one root twice, for the
    caller to refine at a higher precision).  The flint precision must be set by the caller.
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
            result.roots.append(enclosure)
            continue
        widest = max(range(len(X)), key=lambda i: X[i][1] - X[i][0])
        lo, hi = X[widest]
        if hi - lo < min_width * max(1, abs(lo), abs(hi)):
            result.unresolved.append(X)
            continue
        middle = (lo + hi) / 2
        for half in ((lo, middle), (middle, hi)):
            stack.append(tuple(half if i == widest else side for i, side in enumerate(X)))
    result.unresolved = uncovered(result.unresolved, result.roots)
    if refine:
        result.roots = refine_roots(residual, result.roots)
    return result


def uncovered(unresolved: Sequence[tuple[tuple[Any, Any], ...]], roots: Sequence[tuple[Any, ...]]) -> list[Any]:
    """The unresolved boxes not inside a certified box (a certified box holds exactly one root, so a
    piece of it holds no other: the widened Krawczyk test of :func:`_examine` certifies a box that
    overlaps its neighbours, whose pieces at the root are otherwise left unresolved)."""
    return [X for X in unresolved
            if not any(all(b.contains(ball(lo, hi)) for b, (lo, hi) in zip(root, X)) for root in roots)]


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


def _finite_matrix(M: Any) -> bool:
    return all(M[i, k].is_finite() for i in range(M.nrows()) for k in range(M.ncols()))


def _midpoint_inverse(J: Any) -> Any:
    """A point matrix Y ≈ mid(J)⁻¹ (any Y keeps Krawczyk valid), or None when mid(J) is singular."""
    arb_mat, n = _flint().arb_mat, J.nrows()
    try:
        Y = arb_mat([[J[i, k].mid() for k in range(n)] for i in range(n)]).inv()
    except ZeroDivisionError:
        return None
    Y = arb_mat([[Y[i, k].mid() for k in range(n)] for i in range(n)])
    return Y if _finite_matrix(Y) else None


def _jacobian(F: Any, n: int) -> Any:
    """J(X) from the jets' gradients, or None when F or J is not finite."""
    if F is None:
        return None
    J = _flint().arb_mat([[f.grad[k] for k in range(n)] for f in F])
    return J if _finite_matrix(J) else None


def _krawczyk(residual: Residual, balls: list[Any], F: Any) -> tuple[list[Any], bool] | None:
    """(K(X), whether ‖I − Y·J(X)‖ < 1/2), or None when J(X) or F(y) is not finite or singular."""
    flint = _flint()
    arb, arb_mat = flint.arb, flint.arb_mat
    n = len(balls)
    J = _jacobian(F, n)
    if J is None:
        return None
    y = [x.mid() for x in balls]
    Fy = residual([arb(v) for v in y])
    Y = _midpoint_inverse(J)
    if Fy is None or Y is None or not all(_value(v).is_finite() for v in Fy):
        return None
    residue = arb_mat(n, n) + 1 - Y * J  # I − Y·J(X)
    step = Y * arb_mat([[_value(v)] for v in Fy])
    offset = residue * arb_mat([[x - c] for x, c in zip(balls, y)])
    K = [y[i] - step[i, 0] + offset[i, 0] for i in range(n)]
    norm = max(sum(abs(residue[i, k]).upper() for k in range(n)) for i in range(n))
    return K, bool(norm < arb(1) / 2)


def _value(v: Any) -> Any:
    return v.value if isinstance(v, Jet) else v


def refine_roots(residual: Residual, boxes: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Shrink each certified box (exactly one root in it) by Krawczyk steps X ← K(X) ∩ X to a radius
    of 2^(16 − prec) relative; a box whose root is already listed (its enclosure lies in an earlier
    certified box) is dropped."""
    arb, prec = _arb(), _flint().ctx.prec
    target = arb(2) ** (16 - prec)
    roots: list[tuple[Any, ...]] = []
    kept: list[tuple[Any, ...]] = []
    for X in boxes:
        enclosure = list(X)
        for _ in range(prec):
            if all(x.rad() <= target * max(1, abs(x.mid())) for x in enclosure):
                break
            test = _krawczyk(residual, enclosure, residual(Jet.variables(enclosure)))
            if test is None:
                break
            shrunk = [k.intersection(x) for k, x in zip(test[0], enclosure)]
            if not all(a.rad() < x.rad() for a, x in zip(shrunk, enclosure)):
                break
            enclosure = shrunk
        same = any(all(b.contains(e) for b, e in zip(box, enclosure)) or all(b.contains(e) for b, e in zip(X, root))
                   for box, root in zip(kept, roots))
        if not same:
            roots.append(tuple(enclosure))
            kept.append(tuple(X))
    return roots


@dataclass(frozen=True)
class Fold:
    """A certified double root of a one-dimensional residual at a tolerance (see :func:`fold`).

    ``centre``: the critical point c (F'(c) = 0, located to the working precision), a thin ball;
    ``radius``: δ, the half-width of the box X = [c − δ, c + δ]; ``bound``: an upper bound on |F|
    over X (≤ the tolerance asked for).
    """

    centre: Any
    radius: Any
    bound: Any


def fold_slope(residual: Residual, y: Any) -> Any:
    """F'(y) of a one-dimensional ``residual`` at a point, as a thin enclosure (nan where the
    residual says no root can be there: no sign is then read from it)."""
    F = residual(Jet.variables([y]))
    return _arb()("nan") if F is None else F[0].grad[0]


def _sign(value: Any) -> int:
    return 1 if value > 0 else -1 if value < 0 else 0


def fold(residual: Residual, lo: Any, hi: Any, tol: Any) -> tuple[str, Any]:
    """A double root of a one-dimensional ``residual`` between ``lo`` and ``hi``, to the tolerance ``tol``.

    When F' changes sign between lo and hi (certified at the two points), the critical point c is
    located by bisection on the sign of F' and the box X = [c − δ, c + δ] is chosen so that
    |F'(X)|·δ stays below ``tol``/2.  Then: F(X) ⊂ F(c) + F'(X)·[−δ, δ] (mean value form);
    if that excludes 0, X holds no root (``("none", X)``); if it lies within [−tol, tol], X holds a
    critical point of F and F vanishes to ``tol`` all over it: a double root at this tolerance
    (``("fold", Fold)``): a double root, or two roots or none within δ of c, which the tolerance
    cannot tell apart.  Otherwise ``("undecided", None)``.

    >>> with flint_precision(30):
    ...     verdict, found = fold(lambda s: [(s[0] - 1) * (s[0] - 1)], 0.5, 1.75, _arb()("1e-30"))
    >>> verdict, float(found.centre.mid()), bool(found.radius < 1e-14)
    ('fold', 1.0, True)
    """
    arb, prec = _arb(), _flint().ctx.prec
    lo, hi = arb(lo), arb(hi)
    left, right = _sign(fold_slope(residual, lo)), _sign(fold_slope(residual, hi))
    if left == 0 or left != -right:
        return "undecided", None
    curvature = abs(fold_slope(residual, hi) - fold_slope(residual, lo)) / (hi - lo)
    while hi - lo > arb(2) ** (20 - prec) * max(1, abs(lo)):
        middle = arb((lo + hi).mid() / 2)
        side = _sign(fold_slope(residual, middle))
        if side == 0:
            lo = hi = middle
            break
        lo, hi = (middle, hi) if side == left else (lo, middle)
    centre = arb(((lo + hi) / 2).mid())
    radius = arb(((tol / (8 * curvature.upper())).sqrt()).mid()).max(4 * (hi - lo))
    return _fold_verdict(residual, centre, radius, tol, left)


def _fold_verdict(residual: Residual, centre: Any, radius: Any, tol: Any, left: int) -> tuple[str, Any]:
    box = ball(centre - radius, centre + radius)
    F, value = residual(Jet.variables([box])), residual([centre])
    if F is None:
        return "none", box
    if value is None:
        return "undecided", None
    slopes, value = F[0].grad[0], value[0]
    enclosure = (value.value if isinstance(value, Jet) else value) + slopes * _arb()(0, radius)
    if not _has_zero(enclosure):
        return "none", box
    turns = (_sign(fold_slope(residual, centre - radius)) == left
             and _sign(fold_slope(residual, centre + radius)) == -left)
    bound = abs(enclosure).upper()
    if turns and bound <= tol:
        return "fold", Fold(centre, radius, bound)
    return "undecided", None
