"""The reduced fixed-point residual of a Problem in ball arithmetic, and where its roots can lie.

The stationary policy depends on π only through the reward mixture m (V distinct reward values,
m = softmax(s, 0) with s ∈ R^(V−1), the logit coordinates of :mod:`grpo_symbolic.solve.reduced`).
Here the residual F_j(s) = log m'_j − log m'_V − s_j (m' the mixture of the policy the stationary
form gives at m) is written so that it needs **no inner solve**:

* direct penalty: π_c ∝ ρ_c·e^{P_c/β}, so log m'_j = logsumexp_c (log(ρ_c·law_c(j)) + P_c/β) up
  to a common constant that cancels;
* grpo penalty: π_c = βρ_c/(β + λ − P_c) with λ = Σ_v m_v·Q_v(m) (the multiplier
  Σ_c π_c·P_c at a fixed point); a root of F with this λ has Σ π_c = 1 automatically (sum
  π_c·(β + λ − P_c) = β over the classes), and every denominator is ≥ β·ρ_c there (π_c ≤ 1), so a
  box where some denominator stays below that holds no root.

P_c = Σ_v law_c(v)·Q_v(m).  Q_v is evaluated as a jet (value and gradient enclosures): for two
reward values and finite G as the polynomials p_v(t)/(1 + t)^(G−1), t = e^s, whose s-derivative
(A_v(t) − t·B_v(t))/(1 + t)^G has no cancellation at either end; for G = ∞ from the deviations
v − mean = Σ_u m_u(v − u) (no cancellation near a vertex); otherwise from the composition rows.

:mod:`grpo_symbolic.solve.regions` gives the box of s that holds every root, with its proof.
"""

from __future__ import annotations

from functools import reduce
import math
import operator
from typing import Any

import sympy as sp

from grpo_symbolic.model.problem import Problem
from grpo_symbolic.numerics.certify import _flint, compile_arb
from grpo_symbolic.numerics.intervals import Jet, linear_jets, logsumexp, positive_product, softmax_jets
from grpo_symbolic.preference.engine import compositions, problem_rule
from grpo_symbolic.theory.advantage import Group, rule as advantage_rule


def arb_of(value: Any) -> Any:
    """An exact SymPy number (or int) as a ball at the precision in force."""
    return compile_arb(sp.sympify(value, strict=True), ())()  # numbers only, never text


class BallResidual:
    """F(s) of one numeric Problem on boxes of logit coordinates (call it with a list of jets).

    ``complement`` (grpo penalty): the class whose π is taken as 1 − Σ of the others (same roots);
    right for a class that dominates π although its π_ref is tiny.

    Outputs with the same reward law form one class with their summed π_ref (the stationary form
    is proportional to π_ref for both penalties).  Built at the flint precision in force.
    """

    def __init__(self, problem: Problem, complement: int | None = None) -> None:
        self.problem, self.complement = problem, complement
        classes: dict[Any, Any] = {}
        for row, r in zip(problem.law_matrix, problem.reference):
            classes[row] = classes.get(row, 0) + r
        self.laws = [[arb_of(x) for x in row] for row in classes]
        arb_mat = _flint().arb_mat
        self.denominator_matrix = arb_mat([[1, *(-a for a in law)] for law in self.laws])  # (β + λ, Q) ↦ β + λ − P_c
        self.mixing = arb_mat(self.laws).transpose()  # π ↦ Σ_c π_c law_c(v), the unnormalised m'_v
        self.rho = [arb_of(r) for r in classes.values()]
        self.beta = arb_of(problem.beta)
        self.values = [arb_of(v) for v in problem.reward_values]
        self.means = [sum((a * v for a, v in zip(law, self.values)), 0 * self.beta) for law in self.laws]
        self.V = len(self.values)
        self.direct = problem.penalty == "direct"
        self.table = _q_table(problem, self.values)

    def __call__(self, s: list[Any]) -> list[Jet] | None:
        """F on a box (a list of jets; None when the box provably holds no root) or at a point (balls)."""
        box = all(isinstance(x, Jet) for x in s)
        s = [x if isinstance(x, Jet) else Jet(x, [x * 0 for _ in s]) for x in s]
        m = softmax_jets(s)
        Q, scale = self.table.jets(s, m)
        logs = self._direct_logs(Q, scale) if self.direct else self._grpo_logs(m, Q, scale, box)
        if logs is None:
            return None
        return [logs[j] - logs[-1] - s[j] for j in range(self.V - 1)]

    def _direct_logs(self, Q: list[Jet], scale: Jet | None) -> list[Jet]:
        """log m'_j up to a common constant: only differences P_c − P_0 matter, and for G = ∞ they
        are (r̄_c − r̄_0)·scale exactly (no cancellation of huge preferences)."""
        zero = Q[0] * 0
        if scale is None:
            D = [sum(((a - a0) * q for a, a0, q in zip(law, self.laws[0], Q) if a != a0), zero) for law in self.laws]
        else:
            D = [scale * (r - self.means[0]) for r in self.means]
        return [logsumexp([D[c] / self.beta + (self.rho[c] * law[j]).log() for c, law in enumerate(self.laws) if law[j] != 0])
                for j in range(self.V)]

    def _grpo_logs(self, m: list[Jet], Q: list[Jet], scale: Jet | None, box: bool) -> list[Jet] | None:
        """log m'_j with π_c = βρ_c/(β + λ − P_c), λ = Σ_v m_v Q_v (exactly 0 at G = ∞); None when
        some π_c > 1 (or the complement ≤ 0) all over the box."""
        zero = Q[0] * 0
        d = self._denominators(m, Q, scale)
        if box and any(dc.value < self.beta * r for dc, r in zip(d, self.rho)):
            return None
        pi = self._complemented([self.beta * r / dc for r, dc in zip(self.rho, d)], zero)
        if box and self.complement is not None and pi[self.complement].value <= 0:
            return None
        return [x.log() for x in linear_jets(self.mixing, pi)]

    def _denominators(self, m: list[Jet], Q: list[Jet], scale: Jet | None) -> list[Jet]:
        """β + λ − P_c per class (P_c = Σ_v law_c(v) Q_v; all classes in one matrix product),
        λ = Σ_v m_v Q_v (exactly 0 at G = ∞: Σ_v m_v (v − mean) = 0)."""
        zero = Q[0] * 0
        lam = sum((mv * qv for mv, qv in zip(m, Q)), zero) if scale is None else zero
        return linear_jets(self.denominator_matrix, [lam + self.beta, *Q])

    def _complemented(self, pi: list[Jet], zero: Jet) -> list[Jet]:
        """π_top = 1 − Σ_others π_c for the ``complement`` class: the same roots (Σ_c π_c·d_c = β
        there) and no cancellation in d_top = β + λ − P_top when π_ref(top) is tiny and π(top) is not."""
        c = self.complement
        if c is not None:
            pi[c] = 1 - sum((p for i, p in enumerate(pi) if i != c), zero)
        return pi

    def bound_of_preferences(self) -> Any:
        """An upper bound (a ball) on sup_m max_v |Q_v(m)|, or None when Q is unbounded (G = ∞, eps = 0)."""
        return self.table.bound


def _q_table(problem: Problem, values: list[Any]) -> Any:
    if problem.is_large_group:
        return _LargeGroup(problem, values)
    return _Finite(problem, values)


def _advantage_rows(problem: Problem, values: list[Any]) -> list[list[tuple[tuple[int, ...], Any]]]:
    """Per focal value, (counts, multinomial · advantage) as balls; zero advantages left out."""
    arb = _flint().arb
    name = problem_rule(problem)
    rule, eps = advantage_rule(name), arb_of(problem.eps)
    others = int(problem.group_size) - 1
    table = []
    for i in range(len(values)):
        rows = []
        for counts in compositions(others, len(values)):
            group = Group(tuple(values), i, counts)
            if group.all_equal and not name.startswith("passk-"):  # pass@1: all-success groups count
                continue
            coef = math.factorial(others)
            for n in counts:
                coef //= math.factorial(n)
            rows.append((counts, arb(coef) * rule(group, eps, lambda x: x.sqrt())))
        table.append(rows)
    return table


def _largest_advantage(table: list[list[tuple[tuple[int, ...], Any]]], problem: Problem) -> Any:
    """max |A| over the rows: a bound on every |Q_v| (Q_v is an average of advantages)."""
    arb, others = _flint().arb, int(problem.group_size) - 1
    best = arb(0)
    for rows in table:
        for counts, w in rows:
            coef = math.factorial(others)
            for n in counts:
                coef //= math.factorial(n)
            best = best.max(abs(w / coef).upper())
    return best


class _Finite:
    """Finite G: Q_v(m) = E[A_v(N)], N ~ Multinomial(G − 1, m), evaluated in mean-value form.

    At the midpoint y of the box Q and ∇Q are evaluated as point balls (no overestimation); over
    the box they are widened by proven bounds on the derivatives: with n = G − 1 and
    |A| ≤ B, ∂Q/∂s_k = Cov(A, N_k), so |∂Q/∂s_k| ≤ B·√(n·M_k), and
    ∂²Q/∂s_j∂s_k = E[A·((N_j − n m_j)(N_k − n m_k) − Cov(N_j, N_k))], so its modulus is
    ≤ 2·B·n·√(M_j M_k), where M_k ≥ m_k(1 − m_k) all over the box.  (The natural interval extension
    of the degree-(G − 1) polynomial would widen by a factor of order G·width instead.)
    """

    def __init__(self, problem: Problem, values: list[Any]) -> None:
        self.rows = _advantage_rows(problem, values)
        self.bound = _largest_advantage(self.rows, problem)
        self.n = int(problem.group_size) - 1
        self.polys = _binary_polynomials(self.rows, self.n) if len(values) == 2 else None
        self.counts: list[tuple[int, ...]] = []
        self.moments: Any = None
        if len(values) > 2:
            self.counts, self.moments = _moment_matrix(self.rows, self.n)

    def jets(self, s: list[Jet], m: list[Jet]) -> tuple[list[Jet], None]:
        arb = _flint().arb
        radius = [x.value.rad() for x in s]
        y = [arb(x.value.mid()) for x in s]
        point = self._at(y)
        if all(r == 0 for r in radius):
            return [Jet(v, [sum((gk * x.grad[i] for gk, x in zip(g, s)), 0 * v) for i in range(len(s[0].grad))])
                    for v, g in point], None
        first, second = self._remainders(m, radius)
        curvature = sum((w * r for w, r in zip(second, radius)), arb(0)) / 2
        result = []
        for v, g in point:
            taylor = v + sum((gk * arb(0, r) for gk, r in zip(g, radius)), arb(0)) + arb(0, curvature.upper())
            value = taylor.intersection(v + arb(0, first.upper()))  # 2nd-order Taylor ∩ mean-value form
            result.append(Jet(value, [gk + arb(0, w.upper()) for gk, w in zip(g, second)]))
        return result, None

    def _remainders(self, m: list[Jet], radius: list[Any]) -> tuple[Any, list[Any]]:
        """(bound on |Q(x) − Q(y)|, per k a bound on |∂_k Q(x) − ∂_k Q(y)|) over the box (class docstring)."""
        arb = _flint().arb
        spread = [(mk * (1 - mk)).upper() for mk in (x.value for x in m[:-1])]
        spread = [arb(0.25).min(x) if x.is_finite() else arb(0.25) for x in spread]
        first = sum((self.bound * (self.n * x).sqrt() * r for x, r in zip(spread, radius)), arb(0))
        second = [sum((2 * self.bound * self.n * (spread[j] * spread[k]).sqrt() * radius[j] for j in range(len(radius))), arb(0))
                  for k in range(len(radius))]
        return first, second

    def _at(self, y: list[Any]) -> list[tuple[Any, list[Any]]]:
        """(Q_v, ∇Q_v) at the point y, as thin balls."""
        arb = _flint().arb
        if self.polys is not None:
            t = y[0].exp()
            u = 1 + t
            un = u ** self.n
            return [(p(t) / un, [(a(t) - t * b(t)) / (un * u)]) for p, a, b in self.polys]
        m = softmax_jets(Jet.variables(y))
        mv = [x.value for x in m]
        rest = [x.grad[k] / x.value for k, x in enumerate(m[:-1])]  # 1 − m_k, formed without subtraction
        powers = [[x ** k for k in range(self.n + 1)] for x in mv]
        monomials = [[reduce(operator.mul, (powers[j][c] for j, c in enumerate(counts) if c), arb(1))]
                     for counts in self.counts]
        sums = self.moments * _flint().arb_mat(monomials)
        # ∂/∂s_k of Π m_j^{n_j} = term·(n_k(1 − m_k) − (n − n_k)·m_k): two sums, no subtraction per term
        k_count, result = len(y), []
        for v in range(len(self.rows)):
            base = v * (1 + 2 * k_count)
            result.append((sums[base, 0], [rest[k] * sums[base + 1 + 2 * k, 0] - mv[k] * sums[base + 2 + 2 * k, 0]
                                           for k in range(k_count)]))
        return result


def _moment_matrix(rows: list[list[tuple[tuple[int, ...], Any]]], n: int) -> tuple[list[tuple[int, ...]], Any]:
    """(the compositions of any row, the matrix that maps their monomials Π m_j^{n_j} to, per focal
    value, Σ w, then per free coordinate k Σ w·n_k and Σ w·(n − n_k)), for :meth:`_Finite._at`."""
    counts = sorted({c for focal in rows for c, _ in focal})
    column = {c: i for i, c in enumerate(counts)}
    free, matrix = len(rows) - 1, []
    for focal in rows:
        lines = [[0] * len(counts) for _ in range(1 + 2 * free)]
        for c, w in focal:
            lines[0][column[c]] = w
            for k in range(free):
                lines[1 + 2 * k][column[c]] = w * c[k]
                lines[2 + 2 * k][column[c]] = w * (n - c[k])
        matrix.extend(lines)
    return counts, _flint().arb_mat(matrix)


def _binary_polynomials(rows: list[list[tuple[tuple[int, ...], Any]]], n: int) -> list[tuple[Any, Any, Any]]:
    """Two reward values: Q_v = p_v(t)/(1 + t)^n with t = e^s, and dQ_v/ds = (A_v(t) − t·B_v(t))/(1 + t)^(n+1)
    (A_v, B_v with coefficients k·w_k and (n − k)·w_k: no cancellation at either end)."""
    flint = _flint()
    polys = []
    for focal in rows:
        coef = [flint.arb(0)] * (n + 1)
        for (k, _), w in focal:
            coef[k] = w
        polys.append((flint.arb_poly(coef), flint.arb_poly([k * c for k, c in enumerate(coef)]),
                      flint.arb_poly([(n - k) * c for k, c in enumerate(coef)])))
    return polys


class _LargeGroup:
    """G = ∞: Q_v = (v − mean)/(σ + eps) (shift: v − mean), mean and σ of the mixture m.

    v − mean = Σ_u m_u (v − v_u) and σ² = Σ_{u<w} m_u m_w (v_u − v_w)²: no cancellation near a face.
    """

    def __init__(self, problem: Problem, values: list[Any]) -> None:
        self.values = values
        self.shift = problem.normalisation == "shift"
        self.eps = arb_of(problem.eps)
        spread = max(values) - min(values) if len(values) > 1 else 0 * values[0]
        if self.shift:
            self.bound = spread
        elif self.eps > 0:
            self.bound = spread / self.eps
        else:
            self.bound = None

    def jets(self, s: list[Jet], m: list[Jet]) -> tuple[list[Jet], Jet]:
        """(Q_v per value, the scale 1/(σ + eps), or 1 for shift)."""
        dev = [sum((m[u] * (v - w) for u, w in enumerate(self.values) if u != i), m[0] * 0)
               for i, v in enumerate(self.values)]
        if self.shift:
            return dev, m[0] * 0 + 1
        # Var = Σ_{u<w} m_u m_w (v_u − v_w)²: no cancellation, and positive wherever two m's are
        variance = sum((_positive_jet(m[u], m[w]) * (self.values[u] - self.values[w]) ** 2
                        for u in range(len(m)) for w in range(u + 1, len(m))), m[0] * 0)
        scale = 1 / (variance.sqrt() + self.eps)
        return [d * scale for d in dev], scale


def _positive_jet(a: Jet, b: Jet) -> Jet:
    """a·b for positive jets, the value from the ends of the balls."""
    product = a * b
    return Jet(positive_product(a.value, b.value), product.grad)
