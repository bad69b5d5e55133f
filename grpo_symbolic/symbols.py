"""The canonical SymPy symbols, each declared once with its assumptions.

Names follow the paper: ``p`` is π(a), ``p_old`` is π_old(a), ``rho`` is π_ref(a) for the
binary question; ``beta`` the penalty weight; ``gamma`` the confidence margin γ_{a,b};
``G`` the group size; ``lam`` the Lagrange multiplier λ.  The per-output symbols
(``pi``, ``pi_old``, ``pi_ref``, ``P``) are indexed by the output for the generic
K-output derivation in :mod:`grpo_symbolic.objective`.
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
