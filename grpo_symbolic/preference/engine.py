"""P_G(o | π): the expected normalised reward of output o against a group drawn from π.

With the other G − 1 outputs drawn iid from π, their rewards are iid from the mixture law
m(v) = Σ_o' π(o') Prob[r(o') = v].  So P_G(o|π) = Σ_v Prob[r(o) = v] Q_v(m), where

    Q_v(m) = Σ_{n ⊢ G−1} multinomial(n) Π_u m(u)^{n_u} A(v; n)

sums over the compositions n of G − 1 into the distinct reward values.  The table of
multinomial(n)·A(v; n) depends on the rewards, G and the advantage rule but not on π, so it is
built once and shared by every output and every evaluation.  Numeric evaluation uses
:class:`~grpo_symbolic.preference.moments.MomentTable` when the reward values are rational (integer
moments, fixed-point sums over the compositions that carry probability) and the per-composition
:class:`NumericTable` otherwise; both are held against each other in tests/test_fast_paths.py.

Forms provided: the exact sum as a SymPy expression (:func:`preference_exact`) or an mpmath
value (:func:`preference_numeric`); the pairwise G = 2 form (:func:`pairwise_preference`); the
G → ∞ form (r̄(o) − E_π r)/σ(π) (:func:`large_group_preference`); and a seeded Monte Carlo
estimate for cross-checks (:func:`monte_carlo_preference`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import lru_cache
import math
from typing import TYPE_CHECKING, Any, Union, cast

import mpmath
import numpy as np
import sympy as sp

from grpo_symbolic.theory.advantage import Group, rule, rule_name
from grpo_symbolic.model import inputs
from grpo_symbolic.model.errors import ParameterError, SolverError
from grpo_symbolic.model.numbers import exact
from grpo_symbolic.model.problem import require_problem
from grpo_symbolic.preference.moments import moment_table, supports
from grpo_symbolic.preference.sums import require_affordable, sums_cheaper, sums_table
from grpo_symbolic.model import cost
from grpo_symbolic.numerics.precision import GUARD_DIGITS, mpx, policy_mpf, rounded, to_mpf, working_precision

if TYPE_CHECKING:
    from grpo_symbolic.model.problem import Problem, RewardLaw
    from grpo_symbolic.preference.moments import MomentTable

Row = tuple[tuple[int, ...], Any]
"""One row of a table: counts of the other G − 1 rewards per reward value, and its weight."""


def compositions(total: int, parts: int) -> Iterator[tuple[int, ...]]:
    """All tuples of ``parts`` non-negative ints summing to ``total``, in lexicographic order.

    >>> list(compositions(2, 2))
    [(0, 2), (1, 1), (2, 0)]
    """
    if parts == 1:
        yield (total,)
        return
    for first in range(total + 1):
        for rest in compositions(total - first, parts - 1):
            yield (first, *rest)


def mixture(law_matrix: Sequence[Sequence[Any]], policy: Sequence[Any]) -> tuple[Any, ...]:
    """The reward law of an output drawn from ``policy``, over the distinct reward values.

    ``law_matrix[o][j]`` is the probability that output o has the j-th reward value.

    >>> mixture(((1, 0), (sp.Rational(1, 2), sp.Rational(1, 2))), (sp.Rational(1, 4), sp.Rational(3, 4)))
    (5/8, 3/8)
    """
    return tuple(sum(p * row[j] for p, row in zip(policy, law_matrix)) for j in range(len(law_matrix[0])))


def problem_rule(problem: Problem) -> str:
    """The name of the advantage rule ``problem``'s settings select (see
    :func:`grpo_symbolic.theory.advantage.rule_name`).

    >>> from grpo_symbolic import Problem
    >>> problem_rule(Problem(["0.5", "0.5"], [1, 0], 4, 1, advantage="passk", pass_k=2))
    'passk-2'
    """
    return rule_name(problem.advantage, problem.normalisation, problem.pass_k)


def _table(values, group_size, name, eps, sqrt, factorial):
    """Per focal value: (counts, multinomial coefficient, advantage) over compositions of G − 1,
    for the rule called ``name``.

    Compositions whose advantage is 0 (e.g. all-equal groups) are left out.
    """
    advantage = rule(name)
    others = group_size - 1
    fact = [factorial(k) for k in range(others + 1)]
    table = []
    for i in range(len(values)):
        rows = []
        for counts in compositions(others, len(values)):
            a = advantage(Group(values, i, counts), eps, sqrt)
            if a == 0:
                continue
            coef = fact[others]
            for n in counts:
                coef = coef / fact[n]
            rows.append((counts, coef, a))
        table.append(rows)
    return table


def exact_table(problem: Problem) -> list[list[Row]]:
    """Per focal reward value, the exact rows (counts of the other G − 1 rewards, multinomial × advantage).

    Q_v(m) = Σ_rows weight · Π_j m_j^{counts_j}; rows with advantage 0 are left out.

    >>> from grpo_symbolic import Problem
    >>> exact_table(Problem(reference=["0.5", "0.5"], rewards=[1, 0], group_size=3, beta=1))
    [[((0, 2), -sqrt(2)), ((1, 1), -sqrt(2))], [((1, 1), sqrt(2)), ((2, 0), sqrt(2))]]
    """
    table = _table(problem.reward_values, problem.group_size, problem_rule(problem), problem.eps,
                   sp.sqrt, lambda k: sp.Integer(math.factorial(k)))
    return [[(counts, coef * a) for counts, coef, a in rows] for rows in table]


def _expected_advantages(table, m, one):
    """Q_v(m) = Σ_rows w·Π_j m_j^{n_j} for every focal value v (exact or mpmath arithmetic)."""
    top = max((max(c) for rows in table for c, _ in rows), default=0)
    powers = []
    for mj in m:
        column = [one]
        for _ in range(top):
            column.append(column[-1] * mj)
        powers.append(column)
    result = []
    for rows in table:
        total = 0 * one
        for counts, w in rows:
            term = w
            for j, n in enumerate(counts):
                if n:
                    term = term * powers[j][n]
            total += term
        result.append(total)
    return result


class NumericTable:
    """The table multinomial(n)·A(v; n) of one reward set, G and rule (by name), at ``dps`` digits.

    Built once per setting and shared by every output and every evaluation; it also keeps a
    float64 copy (log coefficients) for fast vectorised scans.
    """

    def __init__(self, values: Sequence[Any], group_size: int, name: str, eps: Any, dps: int) -> None:
        with working_precision(dps):
            mp_values = tuple(to_mpf(v) for v in values)
            table = _table(mp_values, group_size, name, to_mpf(eps), mpx.sqrt, mpx.factorial)
            self.rows = [[(counts, coef * a) for counts, coef, a in rows] for rows in table]
        log_factorial = np.array([math.lgamma(k + 1) for k in range(group_size)])
        self.float_rows = []
        for rows in table:
            counts = np.array([c for c, _, _ in rows], dtype=np.int64).reshape(len(rows), len(values))
            log_coef = log_factorial[group_size - 1] - log_factorial[counts].sum(axis=1)
            self.float_rows.append((counts, log_coef, np.array([float(a) for _, _, a in rows])))

    def evaluate(self, m: Sequence[Any], relative: bool = False) -> list[Any]:
        """Q_v(m) for every focal value, in mpmath at the current precision.

        The terms are mpf, each accurate relative to itself, so tiny values keep their digits and
        only cancellation between terms of opposite signs costs any (:func:`preference_numeric`
        checks for that at a higher precision).  ``relative=True``: a value that cancels below the
        rounding noise of its terms (e.g. an exact zero by symmetry) is returned as 0, not as noise.
        """
        values = _expected_advantages(self.rows, m, mpx.mpf(1))
        if not relative:
            return values
        sizes = _expected_advantages([[(c, abs(w)) for c, w in rows] for rows in self.rows], m, mpx.mpf(1))
        noise = mpx.mpf(2) ** (8 - mpx.prec) * len(max(self.rows, key=len, default=()))
        return [v if abs(v) > noise * size else 0 * v for v, size in zip(values, sizes)]

    def evaluate_float(self, m: np.ndarray) -> np.ndarray:
        """Q_v(m) in float64 (m a numpy array); for scans, never for reported values."""
        result = []
        with np.errstate(divide="ignore", invalid="ignore"):  # log 0 = −inf, used only where n > 0
            log_m = np.log(m)
            for counts, log_coef, adv in self.float_rows:
                exponent = log_coef + np.where(counts > 0, counts * log_m, 0.0).sum(axis=1)
                result.append(float(np.dot(adv, np.exp(exponent))))
        return np.array(result)


@lru_cache(maxsize=64)
def numeric_table(values: Sequence[Any], group_size: int, name: str, eps: Any, dps: int) -> NumericTable:
    """The cached :class:`NumericTable` for these settings (``name``: the rule's, see :func:`problem_rule`)."""
    return NumericTable(values, group_size, name, eps, dps)


def advantage_table(problem: Problem, dps: int) -> Union[MomentTable, NumericTable]:
    """The table the numeric paths use: the fast :class:`~grpo_symbolic.preference.moments.MomentTable`
    for rational reward values and a built-in rule, else the per-composition :class:`NumericTable`."""
    settings = (problem.reward_values, problem.group_size, problem_rule(problem), problem.eps)
    if supports(problem.reward_values, settings[2]):
        return (sums_table if sums_cheaper(*settings[:3]) else moment_table)(*settings)
    return numeric_table(*settings, dps)


def _combine(law_matrix, q):
    return tuple(sum(prob * qv for prob, qv in zip(row, q)) for row in law_matrix)


def _numeric_laws(problem):
    return tuple(tuple(to_mpf(x) for x in row) for row in problem.law_matrix)


def preference_exact(problem: Problem, policy: Sequence[Any], budget: Any = None) -> tuple[sp.Expr, ...]:
    """P_G(o | policy) for every output as exact SymPy expressions (finite G).

    ``policy`` may hold symbols; small G keeps the expression small.  ``budget``: seconds the
    cost model may estimate before refusing (:mod:`grpo_symbolic.model.cost`).

    >>> from grpo_symbolic import Problem
    >>> from grpo_symbolic.model.symbols import p
    >>> prob = Problem(reference=["0.3", "0.7"], rewards=[1, 0], group_size=3, beta=1)
    >>> [sp.factor(e) for e in preference_exact(prob, (p, 1 - p))]
    [-sqrt(2)*(p - 1), -sqrt(2)*p]
    """
    if require_problem(problem).is_large_group:
        return large_group_preference(problem, policy)
    values = len(problem.reward_values)
    cost.require(cost.compositions(values, problem.group_size) * values * cost.RATES["symbolic"],
                 f"preference_exact with {values} reward values at G = {problem.group_size}",
                 "use a smaller group_size or preference_numeric", budget)
    policy = exact_policy(policy, problem.size)
    q = _expected_advantages(exact_table(problem), mixture(problem.law_matrix, policy), sp.Integer(1))
    return _combine(problem.law_matrix, q)


def preference_numeric(problem: Problem, policy: Sequence[Any], dps: int = 50, budget: Any = None) -> tuple[mpmath.mpf, ...]:
    """P_G(o | policy) for every output as mpmath numbers, each to ``dps`` significant digits.

    ``budget``: seconds the cost model may estimate before refusing (:mod:`grpo_symbolic.model.cost`).

    Relative precision, tiny values included: the tables sum with as many more bits as a small
    value needs, and a value small against the largest (cancellation, probabilities near 0 or 1)
    is computed again with more digits until two precisions agree to ``dps`` + 1 digits
    (:class:`SolverError` UNVERIFIED if they do not by 3·dps + 600 extra digits).  A value that
    cancels exactly (e.g. by symmetry) is rounding noise at every precision; it is returned as 0
    once two precisions, the second of 2·dps + guard digits, put it below their noise floors
    (relative to the largest expected advantage Q_v, the size of the terms P_G sums).

    >>> from grpo_symbolic import Problem
    >>> prob = Problem(reference=["0.3", "0.7"], rewards=[1, 0], group_size=8, beta=1)
    >>> [mpmath.nstr(v, 12) for v in preference_numeric(prob, ["0.3", "0.7"], dps=30)]
    ['1.37390511318', '-0.588816477075']
    >>> from fractions import Fraction
    >>> tiny = Fraction(1, 10**300)
    >>> [mpmath.nstr(v, 12) for v in preference_numeric(prob, [tiny, 1 - tiny], dps=30)]
    ['2.64575131106', '-2.64575131106e-300']
    """
    dps, problem = inputs.dps(dps), require_problem(problem)
    require_affordable(problem, dps, budget, what="preference_numeric")
    extra, previous, previous_digits = 0, None, 0
    while True:
        with working_precision(dps + extra) as digits:
            laws = _numeric_laws(problem)
            q = expected_advantages_numeric(problem, mixture(laws, policy_mpf(policy, problem.size, dps=dps)),
                                            dps + extra, relative=True)
            result = _combine(laws, q)
        scale = max((abs(v) for v in q), default=0)  # |P_G| ≤ max |Q_v|: the size of the terms
        if previous is None:
            lacking = _lacking_digits(result, scale)
        else:
            result, lacking = _settled(result, previous, digits, previous_digits, dps, scale)
        if lacking <= 0:
            return rounded(tuple(result), dps)
        if extra > 3 * dps + 600:
            raise SolverError(f"policy: P_G did not settle to {dps} digits within {extra} extra digits; "
                              "the values cancel too closely", reason=SolverError.UNVERIFIED)
        previous, previous_digits, extra = result, digits, max(2 * extra, GUARD_DIGITS + lacking)


def _lacking_digits(values, scale):
    """Digits a value lacks against ``scale``, the largest |Q_v| (0: none lacks more than half the
    guard digits)."""
    if scale == 0:
        return 0
    small = min(abs(v) for v in values)
    lacking = int(mpx.ceil(mpx.log10(scale / small))) if small else GUARD_DIGITS
    return lacking if lacking > GUARD_DIGITS // 2 else 0


def _settled(values, previous, digits, previous_digits, dps, scale):
    """Compare two precisions (``digits`` > ``previous_digits`` working digits): (values, 0) when
    each pair agrees to ``dps`` + 1 significant digits or is rounding noise at both precisions, the
    second of at least 2·dps + guard digits (then 0: an exact cancellation; a true value that small,
    below 10^(8 − 2·dps − guard) of ``scale``, the largest |Q_v|, is returned as 0 too); else
    (values, digits to add)."""
    floor, previous_floor = scale * mpx.mpf(10) ** (8 - digits), scale * mpx.mpf(10) ** (8 - previous_digits)
    settled = []
    for a, b in zip(values, previous):
        if a == b or abs(a - b) <= abs(a) * mpx.mpf(10) ** (-dps - 1):
            settled.append(a)
        elif abs(a) <= floor and abs(b) <= previous_floor and digits >= 2 * dps + GUARD_DIGITS:
            settled.append(0 * a)
        else:
            return values, GUARD_DIGITS
    return settled, 0


def expected_advantages_numeric(problem: Problem, m: Sequence[Any], dps: int,
                                relative: bool = False) -> Sequence[mpmath.mpf]:
    """Q_v(m) for every reward value v (finite G), or the G → ∞ analogue, at the current precision.

    ``relative=True``: every value accurate relative to itself (see :meth:`MomentTable.evaluate`
    and :meth:`NumericTable.evaluate`), as :func:`preference_numeric` promises; the solver, which
    compares residuals with an absolute tolerance, uses the default."""
    if problem.is_large_group:
        values = tuple(to_mpf(v) for v in problem.reward_values)
        identity = tuple(tuple(mpx.mpf(i == j) for j in range(len(values))) for i in range(len(values)))
        return _large_group_formula(problem_rule(problem), to_mpf(problem.eps), identity, m, values, mpx.sqrt)
    return advantage_table(problem, dps).evaluate(m, relative)


def expected_advantages_float(problem: Problem, m: np.ndarray, dps: int) -> np.ndarray:
    """Q_v(m) in float64 for a numpy mixture ``m``: the fast path the solver scans with."""
    if problem.is_large_group:
        values = [float(v) for v in problem.reward_values]
        identity = np.eye(len(values))
        eps = float(cast(sp.Expr, problem.eps))
        return np.array(_large_group_formula(problem_rule(problem), eps, identity, list(m), values, math.sqrt))
    return advantage_table(problem, dps).evaluate_float(m)


def _large_group_formula(name, eps, laws, m, values, sqrt):
    if name.startswith("passk-"):
        return _large_group_passk(int(name[len("passk-"):]), laws, m, values)
    mean = sum(mj * v for mj, v in zip(m, values))
    variance = sum(mj * (v - mean) ** 2 for mj, v in zip(m, values))  # no cancellation near a vertex
    if name in ("shift", "rloo"):  # the leave-one-out mean -> the mean as G -> oo
        scale = 1
    elif variance == 0:
        scale = 0  # every reward equal: all advantages are 0/0 ≡ 0
    else:
        scale = 1 / (sqrt(variance) + eps)
    # r̄(o) − mean as Σ_j m_j (r̄(o) − v_j) (Σ m = 1): no cancellation next to a vertex
    return tuple(sum(mj * (sum(q * v for q, v in zip(row, values)) - vj) for mj, vj in zip(m, values)) * scale
                 for row in laws)


def _large_group_passk(k, laws, m, values):
    """pass@k: Prob[r(o) = 1]·k·(1 − m_1)^(k − 1), m_1 the mixture's probability of a success.

    Exact for every G ≥ k, not only in the limit: the successes among the other G − 1 members are
    Binomial(G − 1, m_1) and E[C(failures, k − 1)] = C(G − 1, k − 1)(1 − m_1)^(k − 1), so
    P_G = G·C(G − 1, k − 1)/C(G, k)·(1 − m_1)^(k − 1); it is ∂/∂π(o) of pass@k = 1 − (1 − m_1)^k.
    """
    ones = [j for j, v in enumerate(values) if v == 1]
    failure = sum(mj for j, mj in enumerate(m) if j not in ones)  # 1 − m_1 without cancellation
    slope = k * failure ** (k - 1)
    return tuple(sum(row[j] for j in ones) * slope for row in laws)


def large_group_preference(problem: Problem, policy: Sequence[Any]) -> tuple[sp.Expr, ...]:
    """The G → ∞ form (r̄(o) − E_π r) / (σ(π) + eps) (shift: r̄(o) − E_π r), as SymPy expressions.

    σ(π) is the std of the reward of an output drawn from π, within-output noise included.

    >>> from grpo_symbolic import Problem
    >>> from grpo_symbolic.model.symbols import p
    >>> prob = Problem(reference=["0.3", "0.7"], rewards=[1, 0], group_size="inf", beta=1)
    >>> [sp.simplify(e) for e in large_group_preference(prob, (p, 1 - p))]
    [sqrt(1 - p)/sqrt(p), -sqrt(p)/sqrt(1 - p)]
    """
    policy = exact_policy(policy, require_problem(problem).size)
    laws = problem.law_matrix
    return _large_group_formula(problem_rule(problem), problem.eps, laws, mixture(laws, policy), problem.reward_values, sp.sqrt)


def pairwise_preference(problem: Problem, policy: Sequence[Any]) -> tuple[sp.Expr, ...]:
    """The G = 2 form c·Σ_o' π(o') (P(o ≻ o') − P(o' ≻ o)), c = 1 (population), 1/√2 (sample).

    For shift-only advantages it is Σ_o' π(o') (r̄(o) − r̄(o'))/2, for rloo and rloo-std (at G = 2
    both are r_1 − r_2) twice that.  Holds for eps = 0 only; pass@k has its own closed form
    (:func:`large_group_preference`, exact for every G ≥ k).

    >>> from grpo_symbolic import Problem
    >>> from grpo_symbolic.model.symbols import p
    >>> prob = Problem(reference=["0.3", "0.7"], rewards=[1, 0], group_size=2, beta=1)
    >>> pairwise_preference(prob, (p, 1 - p))
    (1 - p, -p)
    """
    name = problem_rule(require_problem(problem))
    if name.startswith("passk"):
        raise ParameterError("advantage: the pairwise G = 2 form is for the GRPO and leave-one-out rules; "
                             "use preference_exact or large_group_preference for pass@k")
    if problem.eps != 0 and name not in ("shift", "rloo", "rloo-std"):
        raise ParameterError("eps: the pairwise G = 2 form holds only for eps = 0; use preference_exact instead")
    policy = exact_policy(policy, problem.size)
    laws = problem.rewards
    if name in ("shift", "rloo", "rloo-std"):
        half = sp.Rational(1, 2) if name == "shift" else 1
        return tuple(
            sum(policy[j] * (laws[o].mean - laws[j].mean) for j in range(problem.size)) * half
            for o in range(problem.size)
        )
    c = 1 if name == "population" else 1 / sp.sqrt(2)
    return tuple(
        c * sum(policy[j] * (beats(laws[o], laws[j]) - beats(laws[j], laws[o])) for j in range(problem.size))
        for o in range(problem.size)
    )


def beats(law: RewardLaw, other: RewardLaw) -> sp.Expr:
    """P(r > r') for independent draws r ~ ``law``, r' ~ ``other``.

    Raises ParameterError when SymPy cannot decide the order of two symbolic reward values.

    >>> from grpo_symbolic.model.problem import RewardLaw
    >>> beats(RewardLaw.of({"1": "0.5", "0": "0.5"}, "a"), RewardLaw.of(0, "b"))
    1/2
    """
    total = sp.Integer(0)
    for v, q in law.outcomes:
        for v2, q2 in other.outcomes:
            order = (v - v2).is_positive
            if order is None:
                raise ParameterError(
                    f"rewards: cannot tell whether {v} > {v2}; declare the reward symbols' order "
                    "(e.g. r_a = r_b + Delta with Delta positive) or use numbers"
                )
            if order:
                total += q * q2
    return total


def monte_carlo_preference(problem: Problem, policy: Sequence[Any], samples: int = 20000,
                           seed: int = 0, budget: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Seeded Monte Carlo estimate of P_G(o|policy): (estimates, standard errors), numpy arrays.

    For cross-checks only; finite G.  ``budget`` as in :func:`preference_numeric`.

    >>> from grpo_symbolic import Problem
    >>> prob = Problem(reference=["0.3", "0.7"], rewards=[1, 0], group_size=4, beta=1)
    >>> est, se = monte_carlo_preference(prob, ["0.5", "0.5"], samples=4000, seed=1)
    >>> exact = preference_numeric(prob, ["0.5", "0.5"], dps=20)
    >>> bool(abs(est[0] - float(exact[0])) < 4 * se[0])
    True
    """
    samples, seed = inputs.count(samples, "samples", 2), inputs.count(seed, "seed", 0)
    if require_problem(problem).is_large_group:
        raise ParameterError("group_size: Monte Carlo needs a finite group size")
    if not problem.is_numeric:
        raise ParameterError("problem: Monte Carlo needs numeric parameters; substitute the symbols first")
    cost.require(cost.sampling_work(samples * problem.group_size * problem.size, len(problem.reward_values)),
                 f"monte_carlo_preference with {samples} samples of G = {problem.group_size} for {problem.size} outputs",
                 "use fewer samples or a smaller group_size", budget)
    with working_precision(15):
        pol = policy_mpf(policy, problem.size)
    rng = np.random.default_rng(seed)
    values = list(inputs.float_values(problem.reward_values, "rewards"))
    laws = np.array([[float(q) for q in row] for row in problem.law_matrix])
    m = np.array([float(v) for v in pol]) @ laws
    m = m / m.sum()
    advantage = rule(problem_rule(problem))
    eps = float(cast(sp.Expr, problem.eps))
    V, G = len(values), cast(int, problem.group_size)  # finite: checked above
    estimates, errors = [], []
    for o in range(problem.size):
        focal = rng.choice(V, size=samples, p=laws[o] / laws[o].sum())
        others = rng.choice(V, size=(samples, G - 1), p=m)
        counts = np.stack([(others == j).sum(axis=1) for j in range(V)], axis=1)
        keys, inverse = np.unique(np.column_stack([focal, counts]), axis=0, return_inverse=True)
        adv = np.array([advantage(Group(tuple(values), int(k[0]), tuple(int(c) for c in k[1:])), eps, math.sqrt) for k in keys])
        a = adv[inverse.ravel()]
        estimates.append(a.mean())
        errors.append(a.std(ddof=1) / math.sqrt(samples))
    return np.array(estimates), np.array(errors)


def exact_policy(policy: Sequence[Any], size: int) -> tuple[sp.Expr, ...]:
    """A policy through the input gate (:func:`grpo_symbolic.model.inputs.policy`), as exact SymPy
    entries (an mpf entry is read exactly, as the binary fraction it is).

    >>> exact_policy(["0.25", "3/4"], 2)
    (1/4, 3/4)
    """
    return tuple(exact(v, "policy") if isinstance(v, mpmath.mpf) else v for v in inputs.policy(policy, size))
