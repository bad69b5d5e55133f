"""KL estimators used as a loss: which divergence each one regularises towards at stationarity.

Trainers add β·k(o) to the loss for outputs o sampled from π_old, with k one of Schulman's
estimators of KL(π‖π_ref) (see :mod:`grpo_symbolic.theory.penalty`):
k1 = log(π/π_ref), k2 = ½ log²(π/π_ref), k3 = π_ref/π − log(π_ref/π) − 1 (DeepSeekMath, TRL,
verl ``low_var_kl``), and the importance-weighted k3·π/π_old (TRL ``use_bias_correction_kl``,
the paper's direct penalty).  Derived by SymPy for K outputs:

* the expected gradient E_{o~π_old}[∂k(o)/∂π(o)] at π_old = π, and which divergence's gradient it
  is up to a constant that is the same for every output (a Lagrange multiplier absorbs it):
  k3 → ∇KL(π_ref‖π) (the paper's (10)); k2 and IS-k3 → ∇KL(π‖π_ref) ((9)); k1 → a constant, no
  divergence at all;
* the stationarity conditions on the simplex: k3 gives the paper's g(x) = 1/(1−x) form, k2 and
  IS-k3 give log pooling, and k1 gives conditions without π_ref — those of the unregularised
  objective with the multiplier shifted by β.

(verl and OpenRLHF clamp k3 at 10; that only matters where π_ref/π exceeds about 1.2e4.)

>>> identify("k3"), identify("k2"), identify("is_k3"), identify("k1")
('reverse', 'forward', 'forward', 'none')
"""

from dataclasses import dataclass
from grpo_symbolic.model.caches import cached

import sympy as sp

from grpo_symbolic.theory.objective import derive_stationarity
from grpo_symbolic.theory.penalty import gradient, kl, per_sample
from grpo_symbolic.theory.regularisers import Regulariser, derive_conditions, derive_regularised
from grpo_symbolic.model.settings import Estimator, Placement
from grpo_symbolic.model.symbols import beta, lam

ESTIMATORS = (Estimator.K1, Estimator.K2, Estimator.K3, Estimator.IS_K3)
TARGETS = ("reverse", "forward", "none")


def sampled_loss(name, pi, pi_ref, pi_old):
    """E_{o~π_old}[loss(o)] for estimator ``name`` as a function of π (per-output vectors).

    Only the estimators of :data:`ESTIMATORS` (no detach); :mod:`grpo_symbolic.theory.regularisers`
    handles every estimator, placement, clamp and the entropy bonus.

    >>> from grpo_symbolic.model.symbols import p, p_old, rho
    >>> sampled_loss("is_k3", (p,), (rho,), (p_old,))
    p*(-log(rho/p) - 1 + rho/p)
    """
    if name not in ESTIMATORS:
        raise ValueError(f"estimator: got {name!r}; use one of {', '.join(ESTIMATORS)}")
    return sp.Add(*[q * per_sample(name, x, r, q) for x, r, q in zip(pi, pi_ref, pi_old)])


@dataclass(frozen=True)
class Symbols:
    """The generic K-output symbols: π, π_old, π_ref (the names of :mod:`grpo_symbolic.theory.objective`)."""

    pi: tuple
    pi_old: tuple
    pi_ref: tuple


@cached
def generic(size):
    """The K-output symbols shared with :func:`grpo_symbolic.theory.objective.derive_stationarity`."""
    st = derive_stationarity("grpo", size)
    return Symbols(st.pi, st.pi_old, st.pi_ref)


@cached
def expected_gradient(name, size=3):
    """E_{o~π_old}[∇_π loss] at π_old = π, one entry per output.

    >>> expected_gradient("k3", 2)
    (1 - rho_1/pi_1, 1 - rho_2/pi_2)
    >>> expected_gradient("k1", 2)
    (1, 1)
    """
    s = generic(size)
    full = gradient(sampled_loss(name, s.pi, s.pi_ref, s.pi_old), s.pi)
    on_policy = dict(zip(s.pi_old, s.pi))
    return tuple(sp.expand(sp.expand_log(g.subs(on_policy), force=True)) for g in full)


@cached
def target_gradient(target, size=3):
    """∇_π of KL(π_ref‖π) ("reverse"), KL(π‖π_ref) ("forward"), or 0 ("none").

    >>> target_gradient("reverse", 2)
    (-rho_1/pi_1, -rho_2/pi_2)
    """
    s = generic(size)
    divergence = {"reverse": kl(s.pi_ref, s.pi), "forward": kl(s.pi, s.pi_ref), "none": sp.Integer(0)}[target]
    return tuple(sp.expand(sp.expand_log(g, force=True)) for g in gradient(divergence, s.pi))


@cached
def offset(name, target, size=3):
    """The constant c with E[∇ loss] = ∇(target) + c for every output, or None when there is none.

    "Constant" means: free of π and π_ref, and the same for every output, so that a Lagrange
    multiplier on Σπ = 1 absorbs it.

    >>> offset("k3", "reverse"), offset("k2", "forward"), offset("k3", "forward")
    (1, -1, None)
    """
    s = generic(size)
    differences = [sp.expand(sp.expand_log(a - b, force=True))
                   for a, b in zip(expected_gradient(name, size), target_gradient(target, size))]
    variables = set(s.pi) | set(s.pi_ref)
    if any(d.free_symbols & variables for d in differences):
        return None
    if any(sp.expand(d - differences[0]) != 0 for d in differences):
        return None
    return differences[0]


def identify(name, size=3):
    """The divergence whose gradient estimator ``name`` gives at stationarity (see :data:`TARGETS`).

    >>> identify("is_k3")
    'forward'
    """
    matches = [t for t in TARGETS if offset(name, t, size) is not None]
    if len(matches) != 1:
        raise RuntimeError(f"{name}: expected exactly one matching divergence, got {matches}")
    return matches[0]


@dataclass(frozen=True)
class EstimatorStationarity:
    """KKT at π_old = π for the loss ``name``: ``equations[o]`` = ∂L/∂π(o); ``policy[o]`` solves it
    for π(o) (None when π(o) does not appear, as for k1)."""

    name: str
    equations: tuple
    policy: tuple


@cached
def stationarity(name, size=2):
    """Stationarity conditions of Σ_o π(o)P_o − β·E_{π_old}[loss] − λ(Σπ − 1) at π_old = π
    (:func:`grpo_symbolic.theory.regularisers.derive_regularised` with the estimator in the loss).

    >>> stationarity("k1").equations
    (P_1 - beta - lambda, P_2 - beta - lambda)
    >>> stationarity("k2").policy[0]
    rho_1*exp((P_1 - lambda)/beta)
    """
    st = derive_regularised(Regulariser(Estimator.parse(name, "estimator"), Placement.LOSS), size)
    policy = tuple(None for _ in st.pi) if st.link == "none" else st.policy
    return EstimatorStationarity(name, st.equations, policy)


@cached
def unregularised_equations(size=2):
    """∂/∂π(o) of Σ_o π(o)P_o − λ(Σπ − 1): the stationarity conditions without any penalty."""
    return derive_conditions(Regulariser(Estimator.K1, Placement.LOSS), size, sp.Integer(0))[2]


def k1_is_unregularised(size=2):
    """True when k1's conditions have no π_ref and equal the unregularised ones with λ → λ + β.

    >>> k1_is_unregularised()
    True
    """
    s = generic(size)
    equations = stationarity("k1", size).equations
    free_of_reference = not any(e.free_symbols & set(s.pi_ref) for e in equations)
    shifted = [e.subs(lam, lam + beta) for e in unregularised_equations(size)]
    return free_of_reference and all(sp.expand(a - b) == 0 for a, b in zip(equations, shifted))
