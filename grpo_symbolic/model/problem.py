"""The model: one context with finite outputs, π_ref, reward laws and GRPO's settings."""

from dataclasses import dataclass
import math
from collections.abc import Mapping

import mpmath
import sympy as sp

from grpo_symbolic.model.errors import ParameterError
from grpo_symbolic.model.numbers import exact

NORMALISATIONS = ("population", "sample", "shift")
PENALTIES = ("grpo", "direct")


@dataclass(frozen=True)
class RewardLaw:
    """A finite reward law: ``outcomes`` is a tuple of (value, probability) pairs.

    >>> RewardLaw.of({"0": "0.2", "1": "0.8"}, "rewards[0]").mean
    4/5
    >>> RewardLaw.of(3, "rewards[1]").outcomes
    ((3, 1),)
    """

    outcomes: tuple

    @classmethod
    def of(cls, spec, name):
        """Build a law from a number (a deterministic reward) or a mapping value → probability."""
        if isinstance(spec, RewardLaw):
            return spec
        if not isinstance(spec, Mapping):
            return cls(((exact(spec, name), sp.Integer(1)),))
        if not spec:
            raise ParameterError(f"{name}: the reward law is empty; give at least one value: probability")
        merged = {}
        for value, prob in spec.items():
            v = exact(value, f"{name} value")
            q = exact(prob, f"{name} probability of {value}")
            if q.is_negative:
                raise ParameterError(f"{name}: probability {q} of value {v} is negative; use probabilities in [0, 1]")
            merged[v] = merged.get(v, sp.Integer(0)) + q
        total = sp.expand(sum(merged.values()))
        if total != 1:
            raise ParameterError(
                f"{name}: the probabilities sum to {total}, not 1; make them sum to exactly 1 "
                "(write decimals as strings, e.g. '0.2', not floats)"
            )
        outcomes = tuple((v, q) for v, q in sorted(merged.items(), key=lambda vq: sp.default_sort_key(vq[0])) if q != 0)
        return cls(outcomes)

    @property
    def values(self):
        return tuple(v for v, _ in self.outcomes)

    @property
    def mean(self):
        """Expected reward."""
        return sp.expand(sum(v * q for v, q in self.outcomes))

    @property
    def second_moment(self):
        return sp.expand(sum(v**2 * q for v, q in self.outcomes))

    def probability(self, value):
        """Probability of ``value`` (0 when the law never gives it)."""
        return dict(self.outcomes).get(value, sp.Integer(0))


@dataclass(frozen=True)
class Problem:
    """One context of GRPO: outputs with reference probabilities and reward laws, and the settings.

    Parameters
    ----------
    reference : sequence of numbers, π_ref over the outputs (each > 0, summing to exactly 1).
    rewards : sequence, per output a number (deterministic reward) or a mapping value → probability.
    group_size : int ≥ 2, or ``math.inf`` / ``sympy.oo`` / ``"inf"`` for the large-group limit.
    beta : the penalty weight, > 0.
    normalisation : "population" (the paper's (2)), "sample" (Bessel std: TRL, verl, OpenRLHF)
        or "shift" (mean only, the unscaled variant).
    penalty : "grpo" (the paper's k3 term D_i) or "direct" (importance-weighted, = KL(π‖π_ref)).
    eps : ≥ 0, added to the std as trainers do.

    Numbers are kept exact; entries may be SymPy symbols for symbolic work.

    Examples
    --------
    >>> prob = Problem(reference=["0.3", "0.7"], rewards=[1, 0], group_size=8, beta="0.5")
    >>> prob.reference, prob.beta, prob.group_size
    ((3/10, 7/10), 1/2, 8)
    >>> Problem(reference=["0.3", "0.7"], rewards=[1, 0], group_size=8, beta=0)
    Traceback (most recent call last):
    ...
    grpo_symbolic.model.errors.ParameterError: beta: got 0; the penalty weight must be > 0 (e.g. beta=0.04)
    """

    reference: tuple
    rewards: tuple
    group_size: object
    beta: object
    normalisation: str = "population"
    penalty: str = "grpo"
    eps: object = 0

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "reference", _reference(self.reference))
        set_(self, "rewards", _rewards(self.rewards, len(self.reference)))
        set_(self, "group_size", _group_size(self.group_size))
        set_(self, "beta", _positive(self.beta, "beta", "the penalty weight must be > 0 (e.g. beta=0.04)"))
        if self.normalisation not in NORMALISATIONS:
            raise ParameterError(f"normalisation: got {self.normalisation!r}; use one of {', '.join(NORMALISATIONS)}")
        if self.penalty not in PENALTIES:
            raise ParameterError(f"penalty: got {self.penalty!r}; use one of {', '.join(PENALTIES)}")
        eps = exact(self.eps, "eps")
        if eps.is_negative:
            raise ParameterError(f"eps: got {eps}; eps is added to the std and must be >= 0")
        set_(self, "eps", eps)

    @property
    def size(self):
        """Number of outputs K."""
        return len(self.reference)

    @property
    def is_large_group(self):
        """True for the G → ∞ limit."""
        return self.group_size is sp.oo

    @property
    def reward_values(self):
        """The distinct reward values over all outputs, sorted."""
        values = {v for law in self.rewards for v in law.values}
        return tuple(sorted(values, key=sp.default_sort_key))

    @property
    def law_matrix(self):
        """Per output, the probabilities of each of :attr:`reward_values`."""
        return tuple(tuple(law.probability(v) for v in self.reward_values) for law in self.rewards)

    @property
    def is_numeric(self):
        """True when every entry is a number (no SymPy symbols), as the numeric solver needs."""
        entries = [*self.reference, self.beta, self.eps]
        entries += [x for law in self.rewards for vq in law.outcomes for x in vq]
        return not any(sp.sympify(e).free_symbols for e in entries)

    def replace(self, **changes):
        """A copy with some parameters changed (validated again)."""
        fields = dict(reference=self.reference, rewards=self.rewards, group_size=self.group_size,
                      beta=self.beta, normalisation=self.normalisation, penalty=self.penalty, eps=self.eps)
        fields.update(changes)
        return Problem(**fields)

    def preference(self, policy, dps=50):
        """P_G(o | policy) for every output, as mpmath numbers at ``dps`` digits.

        >>> prob = Problem(reference=["0.5", "0.5"], rewards=[1, 0], group_size=2, beta=1)
        >>> [mpmath.nstr(v, 15) for v in prob.preference(["0.25", "0.75"], dps=15)]
        ['0.75', '-0.25']
        """
        from grpo_symbolic.preference.engine import preference_numeric

        return preference_numeric(self, policy, dps)


def _reference(reference):
    if isinstance(reference, (str, bytes)) or not hasattr(reference, "__iter__"):
        raise ParameterError("reference: give a sequence of probabilities, one per output, e.g. ['0.3', '0.7']")
    ref = tuple(exact(v, f"reference[{i}]") for i, v in enumerate(reference))
    if len(ref) < 2:
        raise ParameterError(
            f"reference: got {len(ref)} output(s); a GRPO problem needs at least two outputs "
            "(with one output the policy is fixed at 1)"
        )
    for i, v in enumerate(ref):
        if v.is_positive is False:
            raise ParameterError(
                f"reference[{i}]: got {v}; reference probabilities must be > 0 "
                "(drop outputs the reference never produces)"
            )
    total = sp.expand(sum(ref))
    if total != 1:
        raise ParameterError(
            f"reference: the probabilities sum to {total}, not 1; make them sum to exactly 1 "
            "(write decimals as strings, e.g. '0.3', not floats)"
        )
    return ref


def _rewards(rewards, size):
    if isinstance(rewards, (str, bytes, Mapping)) or not hasattr(rewards, "__iter__"):
        raise ParameterError("rewards: give a sequence with one reward (or reward law) per output")
    laws = tuple(RewardLaw.of(spec, f"rewards[{i}]") for i, spec in enumerate(rewards))
    if len(laws) != size:
        raise ParameterError(
            f"rewards: got {len(laws)} reward laws for {size} outputs; give one per output of reference"
        )
    return laws


def _group_size(g):
    if g is sp.oo or (isinstance(g, float) and g == math.inf) or (isinstance(g, str) and g.strip().lower() in ("inf", "oo", "infinity")):
        return sp.oo
    if isinstance(g, str):
        g = g.strip()
        if g.isdigit():
            g = int(g)
    if isinstance(g, bool) or not isinstance(g, (int, sp.Integer)):
        if isinstance(g, (float, sp.Rational)) and float(g).is_integer():
            g = int(g)
        else:
            raise ParameterError(f"group_size: got {g!r}; use a whole number >= 2, or math.inf for the large-group limit")
    g = int(g)
    if g < 2:
        raise ParameterError(f"group_size: got {g}; GRPO needs groups of at least 2 outputs (G >= 2)")
    return g


def _positive(value, name, fix):
    v = exact(value, name)
    if v.is_positive is False:
        raise ParameterError(f"{name}: got {v}; {fix}")
    return v
