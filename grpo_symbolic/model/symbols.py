"""The canonical SymPy symbols, each declared once with its assumptions.

Names follow the paper: ``p`` is π(a), ``p_old`` is π_old(a), ``rho`` is π_ref(a) for the
binary question; ``beta`` the penalty weight; ``gamma`` the confidence margin γ_{a,b};
``G`` the group size; ``lam`` the Lagrange multiplier λ.  The per-output symbols
(``pi``, ``pi_old``, ``pi_ref``, ``P``) are indexed by the output for the generic
K-output derivation in :mod:`grpo_symbolic.theory.objective`.
"""

import sympy as sp

beta = sp.Symbol("beta", positive=True)
gamma = sp.Symbol("gamma", positive=True)
G = sp.Symbol("G", integer=True, positive=True)
lam = sp.Symbol("lambda", real=True)

p = sp.Symbol("p", positive=True)
p_old = sp.Symbol("p_o", positive=True)
rho = sp.Symbol("rho", positive=True)
x = sp.Symbol("x", positive=True)
delta = sp.Symbol("Delta", positive=True)  # reward gap r(a) − r(b)


def indexed(stem, count, **assumptions):
    """Return ``count`` symbols ``stem_1 … stem_count`` with the given assumptions.

    >>> indexed("pi", 3, positive=True)
    (pi_1, pi_2, pi_3)
    """
    return tuple(sp.Symbol(f"{stem}_{i}", **assumptions) for i in range(1, count + 1))

# Per-output quantities of one generic output o (used by the paper's printed forms).
pi_o = sp.Symbol("pi_o", positive=True)  # π(o)
pi_old_o = sp.Symbol("pi_old_o", positive=True)  # π_old(o)
pi_ref_o = sp.Symbol("pi_ref_o", positive=True)  # π_ref(o)
P_o = sp.Symbol("P_o", real=True)  # P_G(o | π)
P_mean = sp.Symbol("Pbar", real=True)  # E_{o'~π}[P_G(o' | π)]
r_o = sp.Symbol("r_o", real=True)  # expected reward r(o)
r_mean = sp.Symbol("rbar", real=True)  # E_{o'~π}[r(o')]
r_old_mean = sp.Symbol("rbar_old", real=True)  # E_{o'~π_old}[r(o')]
sigma = sp.Symbol("sigma", positive=True)  # σ(π), std of the reward of an output drawn from π
win = sp.Symbol("w_o", nonnegative=True)  # Prob_{o'~π}[r > r' | o]
lose = sp.Symbol("l_o", nonnegative=True)  # Prob_{o'~π}[r < r' | o]
pref_mean = sp.Symbol("Qbar_o", real=True)  # E_{o'~π}[P(o ≻ o')] (NLHF)

# The trainers' regularisers (grpo_symbolic.theory.regularisers).
entropy_coef = sp.Symbol("c", positive=True)  # c of the entropy bonus c·H(π) (TRL entropy_coef, verl entropy_coeff)
kl_bound = sp.Symbol("C", positive=True)  # the clamp of the per-sample KL value, torch.clamp(k, -C, C)
link_arg = sp.Symbol("x_o", real=True)  # the link's argument (P_o − λ)/β at output o
