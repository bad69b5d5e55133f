"""The paper's printed formulas, each typed exactly once, with its equation number.

Derivations elsewhere in the package produce these results from the model; checks compare the
derived expressions with the forms below.  Nothing in the package computes with these forms
except those comparisons (and the LaTeX export of the paper's own notation).
Forms from notes.md "beyond the paper" are marked as such.
"""

import sympy as sp

from grpo_symbolic.model.symbols import (G, P_mean, P_o, beta, delta, gamma, lose, p, p_old, pi_o, pi_old_o, pi_ref_o,
                      pref_mean, r_mean, r_o, r_old_mean, rho, sigma, win, x)

# --- Section 1 ------------------------------------------------------------------------------


def advantage_eq2(rewards, i):
    """(2): (r_i − mean) / std with the population std, 0/0 ≡ 0 (rewards: a list of numbers)."""
    n = len(rewards)
    mean = sp.Add(*rewards) / n
    std = sp.sqrt(sp.Add(*[(r - mean) ** 2 for r in rewards]) / n)
    return sp.Integer(0) if std == 0 else (rewards[i] - mean) / std


def advantage_pairwise(rewards, i):
    """(2), pairwise: (1/G) Σ_j (r_i − r_j) / sqrt((1/(2G²)) Σ_j Σ_k (r_j − r_k)²)."""
    n = len(rewards)
    spread = sp.sqrt(sp.Add(*[(a - b) ** 2 for a in rewards for b in rewards]) / (2 * n**2))
    return sp.Integer(0) if spread == 0 else sp.Add(*[rewards[i] - b for b in rewards]) / n / spread


RLHF_POLICY_EQ4 = pi_ref_o * sp.exp(r_o / beta)  # (4), up to the normaliser Z
NLHF_POLICY = pi_ref_o * sp.exp(pref_mean / beta)  # (5)'s equilibrium, up to Z


def log_opinion_pool(distributions, weights):
    """Sec. 1: logarithmic opinion pooling, π(o) ∝ Π_k d_k(o)^{w_k}, normalised.

    >>> log_opinion_pool([(sp.Rational(1, 2), sp.Rational(1, 2)), (sp.Rational(1, 5), sp.Rational(4, 5))], [1, 2])
    (1/17, 16/17)
    """
    K = len(distributions[0])
    pooled = [sp.Mul(*[d[o] ** w for d, w in zip(distributions, weights)]) for o in range(K)]
    total = sp.Add(*pooled)
    return tuple(v / total for v in pooled)


# --- Section 2.1 ----------------------------------------------------------------------------

G2_ADVANTAGE = lambda r1, r2: sp.sign(r1 - r2)  # noqa: E731  A_1 at G = 2, population std
LARGE_G_PREFERENCE = (r_o - r_mean) / sigma  # R_∞ integrand: (r(o) − E_π r)/σ(π)


def pairwise_reward_term_printed(pi, pi_old, prefers):
    """Sec. 2.1: R_2 = E_{o~π, o'~π_old}[P(o ≻ o') − P(o' ≻ o)] (``prefers[o][o']`` = P(o ≻ o')).

    >>> pairwise_reward_term_printed((1, 0), (0, 1), ((0, 1), (0, 0)))
    1
    """
    K = len(pi)
    return sp.Add(*[pi[a] * pi_old[b] * (prefers[a][b] - prefers[b][a]) for a in range(K) for b in range(K)])


def nlhf_reward_term_printed(pi, pi_old, prefers):
    """Sec. 2.1: R_2 = 2 E_{o~π, o'~π_old}[P(o ≻ o')] − 1, "the NLHF preference up to constants".

    >>> half = sp.Rational(1, 2)
    >>> nlhf_reward_term_printed((half, half), (half, half), ((half, 1), (0, half)))
    0
    """
    K = len(pi)
    return 2 * sp.Add(*[pi[a] * pi_old[b] * prefers[a][b] for a in range(K) for b in range(K)]) - 1


# --- Section 2.2 ----------------------------------------------------------------------------


def kl0_eq7(pi, pi_star, pi_prime):
    """(7): KL0(π‖π*; π') = E_{π'}[π*/π] − E_{π'}[log(π*/π)] − 1 (vectors over outputs)."""
    return (sp.Add(*[q * s / x for x, s, q in zip(pi, pi_star, pi_prime)])
            - sp.Add(*[q * sp.log(s / x) for x, s, q in zip(pi, pi_star, pi_prime)]) - 1)


GRADIENT_KL0_EQ8 = -pi_old_o * pi_ref_o / pi_o**2 + pi_old_o / pi_o  # (8)
GRADIENT_KL_EQ9 = -sp.log(pi_ref_o / pi_o) + 1  # (9)
GRADIENT_ON_POLICY_EQ10 = -pi_ref_o / pi_o + 1  # (10)
GRADIENT_REVERSE_KL = -pi_ref_o / pi_o  # ∂KL(π_ref‖π)/∂π(o)

# --- Section 2.3 ----------------------------------------------------------------------------

STATIONARITY_EQ11 = sp.Eq((1 - (P_o - P_mean) / beta) * pi_o, pi_ref_o)  # (11)
MULTIPLIER_APP_A = P_mean  # Appendix A: λ = E_π[P_G]


def g(arg):
    """g(x) = 1/(1 − x): (11) reads π(o) = g((P_G(o|π) − E_π P_G)/β) π_ref(o)."""
    return 1 / (1 - arg)


STATIONARITY_G_FORM = g((P_o - P_mean) / beta) * pi_ref_o
BOUND_AFTER_EQ11 = P_o < P_mean + beta  # remark after (11), on the support
STATIONARITY_EQ12 = sp.Eq((1 - (win - lose) / beta) * pi_o, pi_ref_o)  # (12), G = 2
STATIONARITY_EQ13 = sp.Eq((1 - (r_o - r_mean) / (beta * sigma)) * pi_o, pi_ref_o)  # (13), G → ∞

# --- Section 2.3.1 and Appendix B: binary questions (p = π(a), ρ = π_ref(a)) -----------------

REWARD_TERM_EQ16 = gamma * (p - p_old)  # (16)
STATIONARITY_EQ17 = sp.Eq(beta * (p - rho) / (p * (1 - p)), gamma)  # (17)
QUADRATIC_EQ17 = p**2 - (1 - beta / gamma) * p - (beta / gamma) * rho  # B.1
POLICY_EQ14 = (1 - beta / gamma + sp.sqrt((1 - beta / gamma) ** 2 + 4 * (beta / gamma) * rho)) / 2  # (14)
FLOOR_G2 = 1 - beta / gamma  # bound after (14): π(a) ≥ max{1 − β/γ, π_ref(a)}
REWARD_TERM_EQ18 = (p - p_old) / sp.sqrt(p_old * (1 - p_old))  # (18), r(a) > r(b)
STATIONARITY_EQ19 = sp.Eq(beta * (p - rho), sp.sqrt(p * (1 - p)))  # (19), r(a) > r(b)
QUADRATIC_EQ19 = (1 + beta**2) * p**2 - (2 * beta**2 * rho + 1) * p + beta**2 * rho**2  # B.1
POLICY_EQ15 = (2 * beta**2 * rho + 1 + sp.sqrt(1 + 4 * beta**2 * rho * (1 - rho))) / (2 * (1 + beta**2))  # (15)
FLOOR_LARGE_G = 1 / (1 + beta**2)  # bound after (15)
SIGMA_SQUARED_APP_B1 = delta**2 * p_old * (1 - p_old)  # B.1: σ²(π_old) = (r(a) − r(b))² p_o(1 − p_o)
TRL_BETA = sp.Rational(4, 100)  # β = 0.04, TRL's default when the paper was written
TRL_FLOOR_G2 = sp.Rational(96, 100)  # printed: 0.96
TRL_FLOOR_LARGE_G = 1 / sp.Rational(10016, 10000)  # printed: 1/(1 + 0.0016)

# --- Section 3: extensions ----------------------------------------------------------------------

DIRECT_KL_POLICY = pi_ref_o * sp.exp(P_o / beta)  # log pooling, up to Z
_half = sp.exp(gamma / (2 * beta))
DIRECT_KL_POLICY_G2 = _half * rho / (_half * rho + (1 - rho) / _half)  # binary, G = 2
DIRECT_KL_H = 1 / (beta * sp.sqrt(x * (1 - x))) - sp.log(x / (1 - x)) + sp.log(rho / (1 - rho))  # h(x)
DIRECT_KL_X_STAR = (1 + sp.sqrt(1 - 1 / (1 + beta**2))) / 2  # x*
SHIFT_ONLY_REWARD_TERM = (1 - 1 / G) * (r_mean - r_old_mean)  # E_{o~π}[P_G(o|π_old)], shift-only
SHIFT_ONLY_DIRECT_BETA = beta * G / (G - 1)  # RLHF form with β' = βG/(G − 1)


def printed_b2_sign(reward_a, reward_b):
    """B.2's factor "sign(r(a|b) > r(b|q))": the sign of a truth value, i.e. the indicator [r(a) > r(b)]."""
    return sp.Piecewise((1, sp.StrictGreaterThan(reward_a, reward_b)), (0, True))

# --- Beyond the paper (notes.md) ----------------------------------------------------------------------

_k = sp.Symbol("k", integer=True, nonnegative=True)
BINOMIAL_P_A = sp.Sum(sp.binomial(G - 1, _k) * p**_k * (1 - p) ** (G - 1 - _k) * sp.sqrt((G - 1 - _k) / (_k + 1)), (_k, 0, G - 2))
BINOMIAL_P_B = -sp.Sum(sp.binomial(G - 1, _k) * p**_k * (1 - p) ** (G - 1 - _k) * sp.sqrt(_k / (G - _k)), (_k, 1, G - 1))
BESSEL_BETA_EFF = beta * sp.sqrt(G / (G - 1))
SHIFT_ONLY_GRPO_POLICY = pi_ref_o / (1 - (1 - 1 / G) * (r_o - r_mean) / beta)  # shift-only + GRPO penalty
SHIFT_ONLY_GRPO_BINARY = POLICY_EQ14.subs(gamma, (1 - 1 / G) * delta)  # its binary case: γ → (1 − 1/G)Δ
G2_DIRECT_NLHF_TAU = {"population": beta / 2, "sample": beta / (2 / sp.sqrt(2))}  # τ = β/(2c), c = 1 or 1/√2
H_AT_X_STAR = 2 * sp.sqrt(1 + beta**2) / beta - 2 * sp.asinh(beta) + sp.log(rho / (1 - rho))
MROUEH_FIXED_POINT = sp.Eq(sp.log(p / (1 - p)), sp.log(rho / (1 - rho)) + 1 / (beta * sp.sqrt(p * (1 - p))))
ARCSIN_UTILITY = 2 * sp.asin(sp.sqrt(p))
FLOOR_TABLE = {  # p_G(β), notes.md, 4 digits
    sp.Rational(4, 100): {2: "0.9600", 4: "0.9768", 8: "0.9846", 16: "0.9893", 64: "0.9945", 1024: "0.9980", sp.oo: "0.9984"},
    sp.Rational(1, 2): {2: "0.5000", 4: "0.6939", 8: "0.7539", 16: "0.7811", 64: "0.7960", 1024: "0.7998", sp.oo: "0.8000"},
}
