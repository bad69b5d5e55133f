"""Binary questions at every group size G (beyond the paper's G = 2 and G → ∞).

Deterministic rewards r(a) > r(b), population std.  Everything is derived from the general
engine: the binomial-sum P_G (the composition sum with two reward values), the floor p_G(β)
(the stationary π(a) as π_ref(a) → 0, where P_G(a|p) = β), and the 1/G correction
π_G(a) = π_∞(a) + c/G + O(1/G²), with c obtained by expanding the binomial expectation
around its mean and perturbing the derived stationarity equation.
"""

from grpo_symbolic.model import inputs
from grpo_symbolic.model.caches import cached

import mpmath  # noqa: F401  (doctests)
import sympy as sp

from grpo_symbolic.model.numbers import exact
from grpo_symbolic.numerics.precision import mp_lambdify, mpx, rounded, to_mpf, working_precision
from grpo_symbolic.numerics.roots import bracketed_newton, newton
from grpo_symbolic.theory.objective import derive_stationarity
from grpo_symbolic.preference.engine import preference_exact, preference_numeric
from grpo_symbolic.model.problem import Problem
from grpo_symbolic.model.symbols import beta, lam, p, rho

_n = sp.Symbol("n", positive=True)  # G − 1, the number of other outputs in the group
_eps = sp.Symbol("epsilon", positive=True)  # 1/n, the expansion parameter


def binary_problem(group_size, weight=1, reference=(sp.Rational(1, 2), sp.Rational(1, 2)), normalisation="population"):
    """The binary question with rewards (1, 0): output a is the better answer."""
    return Problem(reference=tuple(reference), rewards=(1, 0), group_size=group_size, beta=weight,
                   normalisation=normalisation)


def binomial_preference(group_size):
    """(P_G(a|p), P_G(b|p)) from the engine's composition sum, as polynomials in p with surds.

    >>> a, b = binomial_preference(3)
    >>> sp.factor(a), sp.factor(b)
    (-sqrt(2)*(p - 1), -sqrt(2)*p)
    """
    return preference_exact(binary_problem(group_size), (p, 1 - p))


def floor(weight, group_size, dps=50):
    """p_G(β): the root in (0, 1) of P_G(a|p) = β, i.e. inf over π_ref(a) of the stationary π(a).

    >>> mpmath.nstr(floor("0.5", 4, dps=20), 6)
    '0.693904'
    """
    prob = binary_problem(group_size)
    with working_precision(inputs.dps(dps)):
        b = to_mpf(exact(weight, "weight"))
        f = lambda t: preference_numeric(prob, (t, 1 - t), dps)[0] - b  # noqa: E731
        lo, hi = mpx.mpf(10) ** (-dps), 1 - mpx.mpf(10) ** (-dps)
        if f(lo) <= 0:
            return mpx.mpf(0)  # P_G(a|0) = sqrt(G − 1) ≤ β: no floor above 0
        root = bracketed_newton(f, lo, hi, what="the floor p_G(beta)")
    return rounded(root, dps)


@cached
def large_group_expansion():
    """(A0, A1) with P_G(a|p) = A0(p) + A1(p)/(G − 1) + O(1/G²), derived by SymPy.

    The binomial expectation E f(K), K ~ Bin(n, p), f(k) = sqrt((n − k)/(k + 1)), is expanded to
    fourth order around the mean with the binomial central moments, then in 1/n.

    >>> large_group_expansion()
    (sqrt(1 - p)/sqrt(p), -1/(8*p**(3/2)*sqrt(1 - p)))
    """
    q = 1 - p
    d, k = sp.symbols("d k")
    f = sp.sqrt((_n - k) / (k + 1))
    taylor = sp.series(f.subs(k, _n * p + d), d, 0, 5).removeO()
    moments = [1, 0, _n * p * q, _n * p * q * (q - p), 3 * (_n * p * q) ** 2 + _n * p * q * (1 - 6 * p * q)]
    expectation = sum(taylor.coeff(d, j) * moments[j] for j in range(5)).subs(_n, 1 / _eps)
    series = sp.series(expectation, _eps, 0, 2).removeO()
    return sp.simplify(series.coeff(_eps, 0)), sp.simplify(series.coeff(_eps, 1))


@cached
def rate_coefficient():
    """c(p, β, ρ) in π_G(a) = π_∞(a) + c/G + O(1/G²), evaluated at p = π_∞(a).

    From the derived stationarity equation E(p) = P_a − β + βρ/p − λ = 0 with λ = 0 and
    P_a = A0 + A1/n: dp/d(1/n) = −A1 / ∂E/∂p, and 1/n = 1/G + O(1/G²).

    >>> rate_coefficient()
    -p**(5/2)/(4*(2*beta*p**2*rho*sqrt(1 - p) + p**(5/2)))
    """
    st = derive_stationarity("grpo")
    a0, a1 = large_group_expansion()
    equation = st.equations[0].subs({st.preference[0]: a0 + _eps * a1, st.pi[0]: p, st.pi_ref[0]: rho, lam: 0})
    slope = -sp.diff(equation, _eps) / sp.diff(equation, p)
    return sp.factor(sp.simplify(slope.subs(_eps, 0)))


def stationary_near(group_size, weight, reference_a, guess, dps=50):
    """The stationary π(a) at a large finite G, by Newton on the derived equation from ``guess``.

    Uses the derived condition P_G(a|p) − β + βρ/p − λ = 0 with λ = 0 (the zero-mean identity);
    start from π_∞(a) + c/G.
    """
    st = derive_stationarity("grpo")
    equation = mp_lambdify((st.preference[0], st.pi[0], st.pi_ref[0], lam, beta), st.equations[0])
    prob = binary_problem(group_size)
    with working_precision(inputs.dps(dps)) as working:
        b, r = to_mpf(exact(weight, "weight")), to_mpf(exact(reference_a, "reference_a"))
        f = lambda t: equation(preference_numeric(prob, (t, 1 - t), working)[0], t, r, 0, b)  # noqa: E731
        (root,) = newton(lambda v: [f(v[0])], [to_mpf(exact(guess, "guess"))], what="the stationary pi(a) near the guess")
    return rounded(root, dps)
