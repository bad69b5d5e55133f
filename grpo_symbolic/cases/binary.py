"""Binary questions (Sec. 2.3.1, App. B.1): (14)–(19) derived from the model.

Two answers a, b; ``p`` = π(a), ``p_old`` = π_old(a), ``rho`` = π_ref(a).  Nothing here types a
result in: a binary :class:`~grpo_symbolic.model.problem.Problem` with symbolic ρ and β gives P_G(o|π_old)
through the engine (:func:`~grpo_symbolic.preference.engine.preference_exact`; at G = ∞ its large-group
form), :func:`~grpo_symbolic.theory.objective.objective` builds J(p; p_o) with GRPO's penalty, SymPy
differentiates along the simplex π = (p, 1 − p) and sets p_o = p (the stationarity condition),
clears the positive denominator p(1 − p), squares away the square root (G = ∞), solves the
polynomial and keeps the root admitted by the sign condition p > ρ that the stationarity itself
implies.  Every step that needs a sign is decided by SymPy's assumptions, with ρ and p ranging over
(0, 1) through the substitution x = s/(1 + s), s > 0; when SymPy cannot decide, the derivation
raises instead of guessing.

Reward models (the ``rewards`` argument):

* ``"margin"``: Bernoulli rewards with symbolic success probabilities q_a, q_b.  The engine's
  P(a ≻ b) − P(b ≻ a) = q_a − q_b is the confidence margin γ; q_a is eliminated in favour of γ and
  the derivation checks that q_b drops out (G = 2).
* ``"tie"``: both answers have the same Bernoulli law (γ = 0).
* ``"ranked"`` / ``"reversed"``: deterministic r(a) = r_b + Δ, r(b) = r_b (Δ > 0), or swapped.
* ``"equal"``: deterministic r(a) = r(b) = r_b.
* ``"noisy"``: Bernoulli laws kept in q_a, q_b (App. B.1 with reward noise, notes slip 7).
* ``"spread"``: r(a) = r_b + Δ ± sqrt(v_a), r(b) = r_b ± sqrt(v_b), each sign with probability ½:
  mean gap Δ and within-answer variances v_a, v_b as free symbols (notes slip 7 in general).

``group_size`` is an int, ``"inf"``/``sp.oo``, or, for ``normalisation="shift"`` only, a symbolic
group size such as :data:`~grpo_symbolic.cases.shift_only.SYMBOLIC_GROUP_SIZE` (G = n + 2, so
G ≥ 2 is known to SymPy): P_G is then :func:`~grpo_symbolic.cases.shift_only.expected_advantage`.

:func:`paper_checks.fixtures.solver_policy` gives the second, independent derivation: the numeric
solver on the corresponding numeric Problem.
"""

from grpo_symbolic.model.errors import ParameterError
from grpo_symbolic.model.numbers import exact
from grpo_symbolic.model.caches import cached
import itertools

import sympy as sp

from grpo_symbolic.theory.objective import objective
from grpo_symbolic.preference.engine import beats, large_group_preference, preference_exact
from grpo_symbolic.model.problem import Problem
from grpo_symbolic.model.symbols import G, beta, delta, gamma, p, p_old, r_o, r_old_mean, rho, sigma
from grpo_symbolic.cases import shift_only

q_a = sp.Symbol("q_a", positive=True)  # success probability of a's Bernoulli reward
q_b = sp.Symbol("q_b", positive=True)  # success probability of b's Bernoulli reward
r_b = sp.Symbol("r_b", real=True)  # deterministic reward of b
v_a = sp.Symbol("v_a", positive=True)  # within-answer reward variance of a ("spread")
v_b = sp.Symbol("v_b", positive=True)  # within-answer reward variance of b ("spread")


_t = sp.Dummy("t", positive=True)  # p = ρ + (1 − ρ)·t/(1 + t): p in (ρ, 1), where the root lies
_one_minus_p = sp.Dummy("q", positive=True)  # 1 − p, positive in the interior


def bernoulli(success):
    """The reward law {1: success, 0: 1 − success}.

    >>> bernoulli(q_a)
    {1: q_a, 0: 1 - q_a}
    """
    success = exact(success, "success")
    return {1: success, 0: 1 - success}


def two_point(mean, variance):
    """The reward law mean ± sqrt(variance), each with probability ½.

    >>> two_point(r_b, v_b)
    {r_b + sqrt(v_b): 1/2, r_b - sqrt(v_b): 1/2}
    """
    mean, variance = exact(mean, "mean"), exact(variance, "variance")
    if variance.is_negative:
        raise ParameterError(f"variance: got {variance}; a variance must be >= 0")
    return {mean + sp.sqrt(variance): sp.S.Half, mean - sp.sqrt(variance): sp.S.Half}


_REWARDS = {
    "margin": (bernoulli(q_a), bernoulli(q_b)),
    "noisy": (bernoulli(q_a), bernoulli(q_b)),
    "spread": (two_point(r_b + delta, v_a), two_point(r_b, v_b)),
    "tie": (bernoulli(q_b), bernoulli(q_b)),
    "ranked": (r_b + delta, r_b),
    "reversed": (r_b, r_b + delta),
    "equal": (r_b, r_b),
}


def binary_problem(group_size, rewards="ranked", normalisation="population"):
    """The symbolic binary Problem: π_ref = (ρ, 1 − ρ), weight β, one of the reward models above.

    >>> binary_problem(2, "margin").reference
    (rho, 1 - rho)
    >>> binary_problem("inf").is_large_group
    True
    """
    if rewards not in _REWARDS:
        raise ValueError(f"rewards: got {rewards!r}; use one of {', '.join(_REWARDS)}")
    return Problem(reference=(rho, 1 - rho), rewards=_REWARDS[rewards], group_size=group_size,
                   beta=beta, normalisation=normalisation)


def margin(problem):
    """The confidence margin P(a ≻ b) − P(b ≻ a) of a binary problem, from the engine's ``beats``.

    >>> margin(binary_problem(2, "margin"))
    q_a - q_b
    >>> margin(binary_problem(2, "ranked"))
    1
    """
    a, b = problem.rewards
    return sp.expand(beats(a, b) - beats(b, a))


# --- tidy forms and decided signs ------------------------------------------------------------


def tidy(expr):
    """Factor ``expr``, radicands included (sqrt(x²) becomes |x| or x as the assumptions allow).

    >>> tidy(sp.sqrt(delta**2 * p - delta**2 * p**2))
    Delta*sqrt(p)*sqrt(1 - p)
    """
    expr = expr.replace(lambda e: e.is_Pow and e.exp == sp.S.Half, lambda e: sp.sqrt(sp.factor(e.base)))
    return sp.factor(expr)


def on_unit_interval(expr, *variables):
    """``expr`` with each variable written s/(1 + s), s > 0: the variable over (0, 1), signs visible.

    >>> on_unit_interval(rho * (1 - rho), rho).is_positive
    True
    """
    for v in variables:
        s = sp.Dummy("s", positive=True)
        expr = tidy(sp.together(expr.subs(v, s / (1 + s))))
    return expr


def _decided(verdict, claim):
    if verdict is not True:
        raise RuntimeError(f"SymPy could not establish that {claim}; the derivation stops here")


def _radicals_positive(expr):
    """``expr`` with every square root replaced by a positive symbol (used once radicands are known > 0)."""
    return expr.replace(lambda e: e.is_Pow and e.exp == sp.S.Half, lambda e: sp.Dummy("r", positive=True))


# --- the derivation ------------------------------------------------------------------------------


def _margin_elimination(problem):
    """{q_a: q_b + γ}: the margin q_a − q_b computed by the engine, set to γ and solved for q_a."""
    (solved,) = sp.solve(sp.Eq(margin(problem), gamma), q_a)
    return {q_a: solved}


def _variance_normalised(group_size, rewards):
    """The counterfactual of notes slip 6: G → ∞ advantages divided by σ² instead of σ.

    Read off the engine: (r̄(o) − E r) is its shift-only form, σ = (r̄(a) − E r)/P_∞(a|π_old).
    """
    if group_size is not sp.oo:
        raise ValueError("normalisation 'variance' is the G -> oo counterfactual of slip 6; use group_size=sp.oo")
    centred, sigma = _centred_and_sigma(rewards)
    return tuple(tidy(sp.expand(c / sigma**2)) for c in centred)


def _centred_and_sigma(rewards):
    """(r̄(o) − E_{π_old} r for each o, σ(π_old)) at G → ∞, read off the engine's large-group forms."""
    problem = binary_problem(sp.oo, rewards)
    policy = (p_old, 1 - p_old)
    centred = large_group_preference(problem.replace(normalisation="shift"), policy)
    return centred, centred[0] / large_group_preference(problem, policy)[0]


def _shift_symbolic_group(group_size, rewards):
    """Shift-only P_G(o|π_old) for a symbolic group size: the pattern of :mod:`.shift_only`."""
    laws = binary_problem(2, rewards).rewards  # the reward laws do not depend on the group size
    old_mean = p_old * laws[0].mean + (1 - p_old) * laws[1].mean
    pattern = shift_only.expected_advantage().subs({G: group_size, r_old_mean: old_mean})
    return tuple(pattern.subs(r_o, law.mean) for law in laws)


@cached
def preference_values(group_size, rewards="margin", normalisation="population"):
    """(P_G(a|π_old), P_G(b|π_old)) from the engine, in p_o (and γ for ``"margin"``).

    ``normalisation`` is the Problem's ("population", "sample", "shift"), or "variance": the G → ∞
    counterfactual dividing by σ² instead of σ (notes slip 6).

    >>> preference_values(2, "margin")
    (-gamma*(p_o - 1), -gamma*p_o)
    >>> preference_values(shift_only.SYMBOLIC_GROUP_SIZE, "ranked", "shift")
    (-Delta*(n + 1)*(p_o - 1)/(n + 2), -Delta*p_o*(n + 1)/(n + 2))
    """
    if normalisation == "variance":
        values = _variance_normalised(group_size, rewards)
    elif normalisation == "shift" and isinstance(group_size, sp.Expr) and group_size.free_symbols:
        values = tuple(tidy(sp.expand(v)) for v in _shift_symbolic_group(group_size, rewards))
    else:
        problem = binary_problem(group_size, rewards, normalisation)
        elimination = _margin_elimination(problem) if rewards == "margin" else {}
        values = tuple(tidy(sp.expand(v.subs(elimination))) for v in preference_exact(problem, (p_old, 1 - p_old)))
    leftover = set().union(*(v.free_symbols for v in values)) & {q_a, q_b, r_b} if rewards != "noisy" else set()
    if leftover:
        raise RuntimeError(f"P_G depends on {sorted(map(str, leftover))}, not only on the margin")
    return values


@cached
def reward_term(group_size, rewards="margin", normalisation="population"):
    """E_{o~π}[P_G(o|π_old)] for π = (p, 1 − p): the reward term of J.

    >>> reward_term(2, "ranked")
    p - p_o
    """
    pa, pb = preference_values(group_size, rewards, normalisation)
    return tidy(p * pa + (1 - p) * pb)


@cached
def objective_binary(group_size, rewards="margin", normalisation="population"):
    """J(p; p_o) = reward term − β KL0(π‖π_ref; π_old), built by :func:`objective` (GRPO penalty).

    >>> objective_binary(2).has(sp.log)
    True
    """
    pi, pi_ref, pi_old = (p, 1 - p), (rho, 1 - rho), (p_old, 1 - p_old)
    return objective(preference_values(group_size, rewards, normalisation), pi, pi_ref, pi_old, beta, "grpo")


@cached
def stationarity(group_size, rewards="margin", normalisation="population"):
    """dJ/dp at p_o = p: zero exactly at the interior stationary policies.

    The reward part (free of β) and the penalty part are tidied separately.

    >>> stationarity(2)
    beta*(p - rho)/(p*(p - 1)) + gamma
    """
    derivative = sp.diff(objective_binary(group_size, rewards, normalisation), p).subs(p_old, p)
    reward_part, penalty_part = sp.expand(derivative).as_independent(beta)
    return tidy(reward_part) + tidy(penalty_part)


@cached
def cleared_stationarity(group_size, rewards="margin", normalisation="population"):
    """p(1 − p)·dJ/dp at p_o = p (p(1 − p) > 0 in the interior, so the zeros are the same).

    >>> cleared_stationarity(2)
    -beta*p + beta*rho - gamma*p**2 + gamma*p
    """
    e = stationarity(group_size, rewards, normalisation).subs(1 - p, _one_minus_p)
    return sp.expand(sp.expand(e * p * _one_minus_p).subs(_one_minus_p, 1 - p))


@cached
def sign_condition(group_size, rewards="margin", normalisation="population"):
    """p − ρ at an interior stationary p, solved from the stationarity (which is linear in ρ).

    >>> sign_condition(2)
    gamma*p*(1 - p)/beta
    """
    (rho_at_p,) = sp.solve(stationarity(group_size, rewards, normalisation), rho)
    return sp.simplify(p - rho_at_p)


def _split_radical(expr):
    """(terms with a square root of an expression in p, the other terms) of an Add."""
    def has_root(term):
        return any(e.is_Pow and e.exp.q == 2 and e.base.has(p) for e in sp.preorder_traversal(term))
    radical = [t for t in sp.Add.make_args(expr) if has_root(t)]
    return sp.Add(*radical), sp.Add(*[t for t in sp.Add.make_args(expr) if t not in radical])


@cached
def polynomial_condition(group_size, rewards="margin", normalisation="population"):
    """A polynomial in p, leading coefficient > 0, vanishing at every interior stationary p.

    The cleared stationarity itself when it has no square root; otherwise R + S = 0 (R the terms
    with the root) is squared to S² − R² = 0, which also admits the roots of S − R = 0: the sign
    condition removes those.  The sign is flipped when SymPy finds the leading coefficient < 0.

    >>> polynomial_condition(2)
    -beta*rho + gamma*p**2 + p*(beta - gamma)
    """
    cleared = cleared_stationarity(group_size, rewards, normalisation)
    radical, rest = _split_radical(cleared)
    if radical != 0:
        cleared = sp.expand(rest**2 - radical**2)
    poly = sp.Poly(cleared, p)
    if poly.LC().is_negative:
        poly = -poly
    _decided(poly.LC().is_positive, "the leading coefficient is > 0")
    return sp.collect(poly.as_expr(), p)


@cached
def admissible_root(group_size, rewards="margin", normalisation="population"):
    """The interior stationary p: the root of :func:`polynomial_condition` that the sign condition admits.

    Selection, each step decided by SymPy (ρ and p over (0, 1)):

    1. the sign condition p − ρ > 0 holds at every interior stationary p;
    2. linear polynomial: its one root, which must satisfy 1.;
    3. quadratic Q (leading coefficient > 0): Q(ρ) < 0, so ρ lies strictly between two distinct
       real roots and exactly one root, the larger, satisfies p > ρ; Q(1) > 0 puts it below 1.

    >>> admissible_root(2, "tie")
    rho
    >>> admissible_root(2)
    (-beta + gamma + sqrt(beta**2 + 4*beta*gamma*rho - 2*beta*gamma + gamma**2))/(2*gamma)
    """
    poly = sp.Poly(polynomial_condition(group_size, rewards, normalisation), p)
    gap = sign_condition(group_size, rewards, normalisation)
    roots = sp.solve(poly.as_expr(), p)
    if poly.degree() == 1:
        (root,) = roots
        _decided(sp.expand(gap.subs(p, root) - (root - rho)) == 0, "the linear root satisfies the sign condition")
        return root
    if poly.degree() != 2 or len(roots) != 2:
        raise RuntimeError(f"expected a quadratic with two roots, got degree {poly.degree()} and roots {roots}")
    _decided(on_unit_interval(gap, p).is_positive, "p - rho > 0 at every interior stationary p")
    _decided(on_unit_interval(poly.as_expr().subs(p, rho), rho).is_negative, "Q(rho) < 0")
    _decided(on_unit_interval(poly.as_expr().subs(p, 1), rho).is_positive, "Q(1) > 0")
    # Q(ρ) < 0 with a positive leading coefficient: two distinct real roots, so the radicand is > 0.
    larger = [r for r, other in itertools.permutations(roots) if _radicals_positive(sp.expand(r - other)).is_positive]
    _decided(len(larger) == 1, "one root is the larger")
    return larger[0]


def implicit_derivative(group_size, variable, rewards="margin", normalisation="population"):
    """dp/d(variable) along the admissible root, −Q_v/Q_p, as an expression in p (implicit function).

    >>> implicit_derivative(2, rho)
    beta/(beta + 2*gamma*p - gamma)
    """
    q = polynomial_condition(group_size, rewards, normalisation)
    return -sp.diff(q, variable) / sp.diff(q, p)


def slope_sign(group_size, variable, rewards="margin", normalisation="population"):
    """The sign (+1, −1, or 0) of dp/d(variable) at the admissible root, decided by SymPy.

    Q_p > 0 at the larger root (it is the leading coefficient times the root difference), so the
    sign is that of −Q_v, decided for every p in (ρ, 1), where :func:`admissible_root` puts the root.

    >>> slope_sign(2, beta), slope_sign(2, gamma), slope_sign(2, rho), slope_sign(2, delta)
    (-1, 1, 1, 0)
    """
    q = polynomial_condition(group_size, rewards, normalisation)
    root = admissible_root(group_size, rewards, normalisation)
    _decided(_radicals_positive(sp.expand(sp.diff(q, p).subs(p, root))).is_positive, "Q_p > 0 at the root")
    between = rho + (1 - rho) * _t / (1 + _t)
    numerator = on_unit_interval(sp.expand(-sp.diff(q, variable)).subs(p, between), rho)
    if numerator == 0:
        return 0
    if numerator.is_positive:
        return 1
    if numerator.is_negative:
        return -1
    raise RuntimeError(f"SymPy could not decide the sign of dp/d{variable}")


@cached
def floor(group_size, rewards="margin", normalisation="population"):
    """lim_{ρ→0+} of the stationary π(a): the infimum over ρ, since π(a) increases in ρ.

    >>> floor("inf", "ranked")
    1/(beta**2 + 1)
    """
    return tidy(sp.limit(admissible_root(group_size, rewards, normalisation), rho, 0, "+"))


# --- the functions named after the paper's equations ------------------------------------------


def reward_term_g2(normalisation="population"):
    """(16) derived: E_{o~π}[P_2(o|π_old)] for the binary question with margin γ.

    >>> reward_term_g2()
    gamma*(p - p_o)
    """
    return reward_term(2, "margin", normalisation)


def stationarity_g2(normalisation="population"):
    """(17) derived: dJ/dp at p_o = p for G = 2 (zero at the stationary policy).

    >>> stationarity_g2()
    beta*(p - rho)/(p*(p - 1)) + gamma
    """
    return stationarity(2, "margin", normalisation)


def quadratic_g2(normalisation="population"):
    """The quadratic of B.1 derived from (17), monic as printed.

    >>> quadratic_g2()
    -beta*rho/gamma + p**2 + p*(beta/gamma - 1)
    """
    monic = sp.Poly(polynomial_condition(2, "margin", normalisation), p).monic()
    return sp.collect(sp.expand(monic.as_expr()), p)


def policy_g2(normalisation="population"):
    """(14) derived: the stationary π(a) for G = 2 with margin γ.

    >>> policy_g2().subs({beta: gamma})
    sqrt(rho)
    """
    return admissible_root(2, "margin", normalisation)


def floor_g2(normalisation="population"):
    """The ρ → 0+ limit of (14) derived: (γ − β + |β − γ|)/(2γ) = max(1 − β/γ, 0).

    >>> floor_g2()
    (-beta + gamma + Abs(beta - gamma))/(2*gamma)
    """
    return floor(2, "margin", normalisation)


def reward_term_large_g(rewards="ranked"):
    """(18) derived: E_{o~π}[P_∞(o|π_old)] with deterministic rewards (``"reversed"``: r(a) < r(b)).

    >>> reward_term_large_g()
    (p - p_o)/(sqrt(p_o)*sqrt(1 - p_o))
    """
    return reward_term(sp.oo, rewards)


def stationarity_large_g(rewards="ranked"):
    """dJ/dp at p_o = p for G → ∞; p(1 − p) times it is (19) (see :func:`cleared_stationarity`).

    >>> stationarity_large_g()
    beta*(p - rho)/(p*(p - 1)) + 1/(sqrt(p)*sqrt(1 - p))
    """
    return stationarity(sp.oo, rewards)


def quadratic_large_g():
    """(19) squared: β²(p − ρ)² − p(1 − p), collected in p.

    >>> quadratic_large_g()
    beta**2*rho**2 + p**2*(beta**2 + 1) + p*(-2*beta**2*rho - 1)
    """
    return polynomial_condition(sp.oo, "ranked")


def policy_large_g():
    """(15) derived: the stationary π(a) for G → ∞ and r(a) > r(b).

    >>> policy_large_g().subs(rho, 0)
    1/(beta**2 + 1)
    """
    return admissible_root(sp.oo, "ranked")


def floor_large_g():
    """The ρ → 0+ limit of (15) derived.

    >>> floor_large_g()
    1/(beta**2 + 1)
    """
    return floor(sp.oo, "ranked")


# --- reward noise at G → ∞ (notes slip 7) -----------------------------------------------------


@cached
def variance_large_g(rewards="noisy"):
    """σ²(π_old) at G → ∞ for a reward model, read off the engine.

    σ = (r̄(a) − E r)/P_∞(a|π_old), the numerator being the engine's shift-only form.

    >>> variance_large_g("spread")
    -Delta**2*p_o**2 + Delta**2*p_o + p_o*v_a - p_o*v_b + v_b
    """
    _, sigma_old = _centred_and_sigma(rewards)
    return sp.factor(sp.expand(sigma_old**2))


def variance_large_g_noisy():
    """σ²(π_old) of Bernoulli(q_a), Bernoulli(q_b) rewards at G → ∞, read off the engine.

    >>> sp.factor(variance_large_g_noisy().subs({q_a: 1, q_b: 0}))
    -p_o*(p_o - 1)
    """
    return variance_large_g("noisy")


def total_variance_noisy(rewards="noisy"):
    """Δ² p_o(1 − p_o) + p_o v_a + (1 − p_o) v_b from the laws' moments (law of total variance).

    >>> sp.expand(total_variance_noisy() - variance_large_g_noisy())
    0
    """
    a, b = binary_problem(sp.oo, rewards).rewards
    gap = a.mean - b.mean
    var_a, var_b = a.second_moment - a.mean**2, b.second_moment - b.mean**2
    return sp.expand(gap**2 * p_old * (1 - p_old) + p_old * var_a + (1 - p_old) * var_b)


@cached
def large_g_equation(rewards="spread"):
    """The G → ∞ stationarity with σ(p) kept whole: Eq(β(p − ρ)σ, reward part), σ = ``symbols.sigma``.

    p(1 − p)·dJ/dp at p_o = p (:func:`cleared_stationarity`) is R/σ(p) − β(p − ρ); its β-free part
    times σ(p) = sqrt(:func:`variance_large_g` at p_o = p) must be free of square roots in p (else
    this raises), and gives R.  σ(p) > 0 in the interior, so the zeros are those of R − β(p − ρ)σ(p).
    Returns the equation and σ(p)².

    >>> equation, variance = large_g_equation("spread")
    >>> equation
    Eq(beta*sigma*(p - rho), -Delta*p*(p - 1))
    """
    cleared = cleared_stationarity(sp.oo, rewards)
    reward_part, penalty_part = cleared.as_independent(beta)
    variance = variance_large_g(rewards).subs(p_old, p)
    numerator = tidy(reward_part * sp.sqrt(variance))
    _decided(_split_radical(numerator)[0] == 0, "the reward part is (a term free of square roots)/sigma(p)")
    return sp.Eq(sp.factor(-penalty_part * sigma), numerator), variance


# --- numeric reward laws with a given margin -------------------------------------------------------


def margin_rewards(margin_value):
    """Reward laws with P(a ≻ b) − P(b ≻ a) = γ: Bernoulli((1 + γ)/2) and Bernoulli((1 − γ)/2).

    >>> margin_rewards(sp.Rational(1, 2))
    (((1, 3/4), (0, 1/4)), ((1, 1/4), (0, 3/4)))
    """
    g = exact(margin_value, "margin_value")
    if not (g.is_Rational and -1 <= g <= 1):
        raise ParameterError(f"margin_value: got {g}; give a number in [-1, 1] (a difference of probabilities)")
    return (((1, (1 + g) / 2), (0, (1 - g) / 2)), ((1, (1 - g) / 2), (0, (1 + g) / 2)))
