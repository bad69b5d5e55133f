"""The model: one context with finite outputs, π_ref, reward laws and GRPO's settings."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set
import dataclasses
from dataclasses import dataclass
from functools import cached_property
import math
from typing import Any, Union

import numpy as np
import sympy as sp
from sympy.core.numbers import Infinity

from grpo_symbolic.model import inputs
from grpo_symbolic.model.errors import ParameterError, shown
from grpo_symbolic.model.numbers import NumberLike, exact
from grpo_symbolic.model.settings import PENALTY_ESTIMATOR, Advantage, Estimator, GroupFilter, Normalisation, Penalty, Placement

GroupSize = Union[int, Infinity]
"""A validated group size: a whole number ≥ 2, or ``sympy.oo`` for the large-group limit."""

RewardSpec = Union[NumberLike, Mapping[Any, Any], "RewardLaw"]
"""One output's reward as a user gives it: a number, a mapping value → probability, or a law."""


MAX_OUTCOMES = 100_000
"""The most values one reward law may have (reading them is linear; evaluating P_G is refused by the
cost model far below this for any group size)."""


@dataclass(frozen=True)
class RewardLaw:
    """A finite reward law: ``outcomes`` is a tuple of (value, probability) pairs.

    >>> RewardLaw.of({"0": "0.2", "1": "0.8"}, "rewards[0]").mean
    4/5
    >>> RewardLaw.of(3, "rewards[1]").outcomes
    ((3, 1),)
    """

    outcomes: tuple[tuple[sp.Expr, sp.Expr], ...]
    correction: sp.Expr = dataclasses.field(default=sp.Integer(0), compare=False, repr=False)
    """Σ(probabilities as given) − 1: 0 unless float probabilities were renormalised (see :meth:`of`)."""

    @classmethod
    def of(cls, spec: RewardSpec, name: str) -> RewardLaw:
        """Build a law from a number (a deterministic reward) or a mapping value → probability.

        A :class:`RewardLaw` is validated again, so one built by hand cannot smuggle in strings.
        Probabilities must sum to exactly 1; float probabilities (Python or numpy) that miss 1 by
        rounding only are read exactly and renormalised exactly (:func:`~grpo_symbolic.model.inputs.normalised`).

        >>> law = RewardLaw.of({1: 0.1, 0: 0.9}, "r")
        >>> sum(q for _, q in law.outcomes), law.correction
        (1, 1/36028797018963968)
        """
        carried = spec.correction if isinstance(spec, RewardLaw) else sp.Integer(0)
        if isinstance(spec, RewardLaw):
            spec = dict(spec.outcomes)
        if not isinstance(spec, Mapping):
            if isinstance(spec, Set) or (hasattr(spec, "__iter__") and not isinstance(spec, (str, bytes, sp.Basic))):
                raise ParameterError(f"{name}: got {type(spec).__name__} {spec!r:.60}; give a number, or a mapping "
                                     "value -> probability such as {'1': '0.8', '0': '0.2'}")
            return cls(((exact(spec, name), sp.Integer(1)),))
        if not spec:
            raise ParameterError(f"{name}: the reward law is empty; give at least one value: probability")
        if len(spec) > MAX_OUTCOMES:
            raise ParameterError(f"{name}: the reward law has {len(spec)} values, more than {MAX_OUTCOMES}; "
                                 "bin the rewards onto a coarser grid")
        merged: dict[sp.Expr, sp.Expr] = {}
        for value, prob in spec.items():
            v = exact(value, f"{name} value")
            q = exact(prob, f"{name} probability of {value}")
            if q.is_negative:
                raise ParameterError(f"{name}: probability {q} of value {v} is negative; use probabilities in [0, 1]")
            merged[v] = merged.get(v, sp.Integer(0)) + q
        probabilities = inputs.normalised(tuple(merged.values()), list(spec.values()), name)
        merged = dict(zip(merged, probabilities))
        outcomes = tuple((v, q) for v, q in sorted(merged.items(), key=lambda vq: sp.default_sort_key(vq[0])) if q != 0)
        return cls(outcomes, probabilities.correction if probabilities.correction != 0 else carried)

    @cached_property
    def values(self) -> tuple[sp.Expr, ...]:
        """The reward values the law gives, sorted."""
        return tuple(v for v, _ in self.outcomes)

    @cached_property
    def mean(self) -> sp.Expr:
        """Expected reward."""
        return sp.expand(sum(v * q for v, q in self.outcomes))

    @cached_property
    def second_moment(self) -> sp.Expr:
        """Expected squared reward."""
        return sp.expand(sum(v**2 * q for v, q in self.outcomes))

    def probability(self, value: sp.Expr) -> sp.Expr:
        """Probability of ``value`` (0 when the law never gives it).

        >>> RewardLaw.of({"0": "0.2", "1": "0.8"}, "r").probability(sp.Integer(2))
        0
        """
        return self._probabilities.get(value, sp.Integer(0))

    @cached_property
    def _probabilities(self) -> dict[sp.Expr, sp.Expr]:
        return dict(self.outcomes)


@dataclass(frozen=True, init=False)
class Problem:
    """One context of GRPO: outputs with reference probabilities and reward laws, and the settings.

    Parameters
    ----------
    reference : sequence of numbers, π_ref over the outputs (each > 0, summing to exactly 1; floats or a
        numpy array within rounding of 1 are renormalised exactly, see :attr:`reference_correction`).
    rewards : sequence, per output a number (deterministic reward) or a mapping value → probability.
    group_size : int ≥ 2, or ``math.inf`` / ``sympy.oo`` / ``"inf"`` for the large-group limit.
    beta : the penalty weight, ≥ 0 (β = 0: no KL term at all, TRL's default; the KL settings are
        then irrelevant, and without an entropy bonus there is no interior stationary policy).
    normalisation : a :class:`Normalisation` or its value: "population" (the paper's (2)), "sample"
        (Bessel std: TRL, verl, OpenRLHF) or "shift" (mean only, the unscaled variant).
    penalty : a :class:`Penalty` or its value: "grpo" (the paper's k3 term D_i) or "direct"
        (importance-weighted, = KL(π‖π_ref)); the default is "grpo" unless ``kl_estimator`` is
        given.  An alias: "grpo" is ``kl_estimator="k3"``, "direct" is ``kl_estimator="k3-is"``,
        both with ``kl_placement="loss"``.
    eps : ≥ 0, added to the std as trainers do.
    kl_estimator : an :class:`Estimator` or its value (k1, k2, k3, k3-is, k3-flipped, k3-plus).
    kl_placement : a :class:`Placement` or its value (loss, reward-pre, reward-post); default loss.
    kl_clamp : ``None`` or a bound > 0 at which the per-sample KL term is clamped (verl, OpenRLHF).
    entropy : the entropy bonus c ≥ 0 (c·H(π) added to the objective; TRL ``entropy_coef``).
    advantage : an :class:`Advantage` or its value (grpo, rloo, rloo-std, passk).
    pass_k : the k of ``advantage="passk"`` (a whole number, 1 ≤ k ≤ G); ``None`` otherwise.
    group_filter : a :class:`GroupFilter` or its value (keep, drop-equal, mask-penalty).
    names : ``None`` or one distinct non-empty name per output (used by repr, CLI and tables).

    Numbers are kept exact; entries may be SymPy symbols for symbolic work.  The fields hold the
    validated values (exact SymPy numbers, :class:`RewardLaw` s, the setting enums).

    Examples
    --------
    >>> prob = Problem(reference=["0.3", "0.7"], rewards=[1, 0], group_size=8, beta="0.5")
    >>> prob.reference, prob.beta, prob.group_size, prob.normalisation
    ((3/10, 7/10), 1/2, 8, <Normalisation.POPULATION: 'population'>)
    >>> prob.replace(group_size="inf").is_large_group
    True
    >>> Problem(reference=["0.3", "0.7"], rewards=[1, 0], group_size=8, beta=-1)
    Traceback (most recent call last):
    ...
    grpo_symbolic.model.errors.ParameterError: beta: got -1; the penalty weight must be >= 0 (e.g. beta=0.04; 0 for no KL term)
    """

    reference: tuple[sp.Expr, ...]
    rewards: tuple[RewardLaw, ...]
    group_size: GroupSize
    beta: sp.Expr
    normalisation: Normalisation
    penalty: Penalty | None
    eps: sp.Expr
    kl_estimator: Estimator
    kl_placement: Placement
    kl_clamp: sp.Expr | None
    entropy: sp.Expr
    advantage: Advantage
    pass_k: int | None
    group_filter: GroupFilter
    names: tuple[str, ...] | None

    def __init__(
        self,
        reference: Iterable[NumberLike],
        rewards: Iterable[RewardSpec],
        group_size: int | float | str | sp.Expr,
        beta: NumberLike,
        normalisation: Normalisation | str = Normalisation.POPULATION,
        penalty: Penalty | str | None = None,
        eps: NumberLike = 0,
        *,
        kl_estimator: Estimator | str | None = None,
        kl_placement: Placement | str = Placement.LOSS,
        kl_clamp: NumberLike | None = None,
        entropy: NumberLike = 0,
        advantage: Advantage | str = Advantage.GRPO,
        pass_k: int | None = None,
        group_filter: GroupFilter | str = GroupFilter.KEEP,
        names: Iterable[str] | None = None,
    ) -> None:
        set_ = object.__setattr__
        set_(self, "reference", _reference(reference))
        set_(self, "rewards", _rewards(rewards, len(self.reference)))
        set_(self, "group_size", _group_size(group_size))
        set_(self, "beta", _nonnegative(beta, "beta", "the penalty weight must be >= 0 (e.g. beta=0.04; 0 for no KL term)"))
        set_(self, "normalisation", Normalisation.parse(normalisation, "normalisation"))
        placement = Placement.parse(kl_placement, "kl_placement")
        estimator, penalty_ = _kl(penalty, kl_estimator, placement)
        set_(self, "penalty", penalty_)
        set_(self, "eps", _nonnegative_eps(eps))
        set_(self, "kl_estimator", estimator)
        set_(self, "kl_placement", placement)
        set_(self, "kl_clamp", None if kl_clamp is None else _positive(kl_clamp, "kl_clamp", "a clamp must be > 0 (e.g. kl_clamp=10)"))
        set_(self, "entropy", _nonnegative(entropy, "entropy", "the entropy bonus must be >= 0"))
        set_(self, "advantage", Advantage.parse(advantage, "advantage"))
        set_(self, "pass_k", _pass_k(pass_k, self.advantage, self.group_size))
        set_(self, "group_filter", GroupFilter.parse(group_filter, "group_filter"))
        _check_rule_fits(self)
        set_(self, "names", None if names is None else _names(names, len(self.reference)))
        self._refuse_filter_combinations()

    @property
    def size(self) -> int:
        """Number of outputs K."""
        return len(self.reference)

    @property
    def is_large_group(self) -> bool:
        """True for the G → ∞ limit."""
        return self.group_size is sp.oo

    @property
    def reference_correction(self) -> sp.Expr:
        """Σ(π_ref as given) − 1: 0 unless float entries (e.g. a softmax) were renormalised exactly.

        >>> import numpy as np
        >>> prob = Problem(reference=np.array([0.3, 0.7]), rewards=[1.0, 0.0], group_size=8, beta=0.5)
        >>> prob.reference_correction, sum(prob.reference)
        (-1/18014398509481984, 1)
        """
        return getattr(self.reference, "correction", sp.Integer(0))

    @cached_property
    def reward_values(self) -> tuple[sp.Expr, ...]:
        """The distinct reward values over all outputs, sorted."""
        values = {v for law in self.rewards for v in law.values}
        return tuple(sorted(values, key=sp.default_sort_key))

    @cached_property
    def law_matrix(self) -> tuple[tuple[sp.Expr, ...], ...]:
        """Per output, the probabilities of each of :attr:`reward_values`.

        >>> Problem(["0.5", "0.5"], [{"0": "0.25", "2": "0.75"}, 1], 2, 1).law_matrix
        ((1/4, 0, 3/4), (0, 1, 0))
        """
        column = {v: j for j, v in enumerate(self.reward_values)}
        rows = []
        for law in self.rewards:
            row = [sp.Integer(0)] * len(column)
            for value, prob in law.outcomes:
                row[column[value]] = prob
            rows.append(tuple(row))
        return tuple(rows)

    @cached_property
    def is_numeric(self) -> bool:
        """True when every entry is a number (no SymPy symbols), as the numeric solver needs."""
        entries = [*self.reference, self.beta, self.eps]
        entries += [x for law in self.rewards for vq in law.outcomes for x in vq]
        return not any(e.free_symbols for e in entries)

    def _refuse_filter_combinations(self) -> None:
        """A group filter is derived for an unclamped KL term in the loss without entropy bonus (its
        effective β·W masks that term); any other combination with a filter is a ParameterError."""
        if self.group_filter is not GroupFilter.KEEP and (
                self.kl_placement is not Placement.LOSS or self.kl_clamp is not None or self.entropy != 0):
            raise ParameterError(
                f"group_filter: {self.group_filter} is derived for the KL in the loss, unclamped and without "
                f"entropy bonus; got kl_placement={self.kl_placement}, kl_clamp={self.kl_clamp}, entropy={self.entropy}: "
                "use group_filter='keep' or those KL settings")

    def require_paper_penalty(self, caller: str) -> None:
        """Raise :class:`ParameterError` unless the regulariser is one of the paper's two penalties.

        That is: ``penalty`` "grpo" or "direct" (k3 or IS-weighted k3 in the loss), no clamp, no
        entropy bonus, and β > 0 (the paper's forms divide by β).  For code built on the paper's
        closed forms only; the solver (:mod:`grpo_symbolic.solve.api`) handles the other settings.

        >>> Problem(["0.3", "0.7"], [1, 0], 8, 0).require_paper_penalty("matching_weight")
        Traceback (most recent call last):
        ...
        grpo_symbolic.model.errors.ParameterError: beta: got 0; matching_weight uses the paper's forms, which divide by beta: give beta > 0
        """
        if self.beta.is_zero:
            raise ParameterError(f"beta: got 0; {caller} uses the paper's forms, which divide by beta: give beta > 0")
        extra = []
        if self.penalty is None:
            extra.append(f"kl_estimator={self.kl_estimator}, kl_placement={self.kl_placement}")
        if self.kl_clamp is not None:
            extra.append(f"kl_clamp={self.kl_clamp}")
        if self.entropy != 0:
            extra.append(f"entropy={self.entropy}")
        if extra:
            raise ParameterError(f"{extra[0].split('=')[0]}: {caller} knows only the paper's penalties (grpo, direct) "
                                 f"without clamp or entropy; got {'; '.join(extra)}: use stationary_policies for these")

    def require_unfiltered(self, caller: str) -> None:
        """Raise :class:`ParameterError` under a group filter: for a ``caller`` that derives the objective
        with every group kept (the solver and ``expected_flow`` apply the filter's weights instead).

        >>> Problem(["0.5", "0.5"], [1, 0], 2, 1, group_filter="drop-equal").require_unfiltered("vertex_kkt")
        Traceback (most recent call last):
        ...
        grpo_symbolic.model.errors.ParameterError: group_filter: vertex_kkt derives the objective with every group kept (got drop-equal); use group_filter='keep' or the solver
        """
        if self.group_filter is not GroupFilter.KEEP:
            raise ParameterError(f"group_filter: {caller} derives the objective with every group kept "
                                 f"(got {self.group_filter}); use group_filter='keep' or the solver")

    def replace(self, **changes: Any) -> Problem:
        """A copy with some parameters changed (validated again), via :func:`dataclasses.replace`.

        ``penalty`` and ``kl_estimator`` name the same thing: changing one drops the other.

        >>> Problem(["0.3", "0.7"], [1, 0], 8, 1, penalty="direct").replace(penalty="grpo").kl_estimator
        <Estimator.K3: 'k3'>
        """
        unknown = sorted(set(changes) - {field.name for field in dataclasses.fields(self)})
        if unknown:
            raise ParameterError(f"{unknown[0]}: not a parameter of Problem; change one of "
                                 f"{', '.join(field.name for field in dataclasses.fields(self))}")
        if "penalty" in changes:
            changes.setdefault("kl_estimator", None)
        elif "kl_estimator" in changes or "kl_placement" in changes:
            changes["penalty"] = None
        return dataclasses.replace(self, **changes)


def require_problem(value: object, name: str = "problem") -> Problem:
    """``value`` if it is a :class:`Problem` (the entry line of every function that takes one).

    >>> require_problem({"beta": 1})
    Traceback (most recent call last):
    ...
    grpo_symbolic.model.errors.ParameterError: problem: got {'beta': 1}; give a grpo_symbolic.Problem, e.g. Problem(reference=['0.3', '0.7'], rewards=[1, 0], group_size=8, beta='0.5')
    """
    if not isinstance(value, Problem):
        raise ParameterError(f"{name}: got {shown(value)}; give a grpo_symbolic.Problem, e.g. "
                             "Problem(reference=['0.3', '0.7'], rewards=[1, 0], group_size=8, beta='0.5')")
    return value


def _reference(reference: Iterable[NumberLike]) -> inputs.Probabilities:
    given = inputs.sequence(reference, "reference")
    ref = tuple(exact(v, f"reference[{i}]") for i, v in enumerate(given))
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
    return inputs.normalised(ref, reference if isinstance(reference, inputs.Probabilities) else given, "reference")


def _rewards(rewards: Iterable[RewardSpec], size: int) -> tuple[RewardLaw, ...]:
    laws = tuple(RewardLaw.of(spec, f"rewards[{i}]") for i, spec in enumerate(inputs.sequence(rewards, "rewards")))
    if len(laws) != size:
        raise ParameterError(
            f"rewards: got {len(laws)} reward laws for {size} outputs; give one per output of reference"
        )
    return laws


def _group_size(g: Any) -> GroupSize:
    if g is sp.oo or (isinstance(g, (float, np.floating)) and g == math.inf) or (
            isinstance(g, str) and g.strip().lower() in ("inf", "oo", "infinity")):
        return sp.oo
    value = exact(g, "group_size")
    if not value.is_Integer:
        raise ParameterError(f"group_size: got {shown(g)}; use a whole number >= 2, or math.inf for the large-group limit")
    if not 2 <= value <= MAX_GROUP_SIZE:
        raise ParameterError(f"group_size: got {shown(int(value))}; GRPO needs groups of at least 2 outputs, and at most "
                             f"2**53 (beyond, no float64 stage can count the group; use group_size=inf, the limit)")
    return int(value)


MAX_GROUP_SIZE = 2**53
"""The largest finite group size (9.007e15, the last integer float64 counts exactly); P_G differs
from the large-group limit (``group_size=inf``) by O(1/G) there."""


def _positive(value: NumberLike, name: str, fix: str) -> sp.Expr:
    v = exact(value, name)
    if v.is_positive is False:
        raise ParameterError(f"{name}: got {v}; {fix}")
    return v


def _nonnegative_eps(value: NumberLike) -> sp.Expr:
    return _nonnegative(value, "eps", "eps is added to the std and must be >= 0")


def _nonnegative(value: NumberLike, name: str, fix: str) -> sp.Expr:
    v = exact(value, name)
    if v.is_negative:
        raise ParameterError(f"{name}: got {v}; {fix}")
    return v


def _kl(penalty: Any, estimator: Any, placement: Placement) -> tuple[Estimator, Penalty | None]:
    """The KL estimator, and the paper's penalty it equals (``None`` when it is neither of the two)."""
    if penalty is not None:
        alias = Penalty.parse(penalty, "penalty")
        if estimator is not None and (Estimator.parse(estimator, "kl_estimator") is not PENALTY_ESTIMATOR[alias]
                                      or placement is not Placement.LOSS):
            raise ParameterError(
                f"penalty: {alias} means kl_estimator={PENALTY_ESTIMATOR[alias]} in the loss; "
                "give either penalty or kl_estimator/kl_placement, not both"
            )
        return PENALTY_ESTIMATOR[alias], alias
    chosen = Estimator.K3 if estimator is None else Estimator.parse(estimator, "kl_estimator")
    if placement is Placement.LOSS:
        for alias, paper in PENALTY_ESTIMATOR.items():
            if paper is chosen:
                return chosen, alias
    return chosen, None


def _pass_k(value: Any, advantage: Advantage, group_size: GroupSize) -> int | None:
    """pass_k: required (a whole number, 1 <= k <= G) for advantage="passk", else None."""
    if advantage is not Advantage.PASSK:
        if value is not None:
            raise ParameterError(f"pass_k: got {value!r} with advantage={advantage}; pass_k belongs to advantage='passk' only")
        return None
    if value is None:
        raise ParameterError("pass_k: advantage='passk' needs the k of pass@k, e.g. pass_k=4 (1 <= k <= group_size)")
    k = inputs.count(value, "pass_k", 1)
    if group_size is not sp.oo and k > group_size:
        raise ParameterError(f"pass_k: got {k} > group_size = {group_size}; pass@k needs 1 <= k <= G")
    return k


def _check_rule_fits(problem: Problem) -> None:
    """Refuse the combinations the rules are not defined for (ParameterError naming the parameter)."""
    if problem.advantage is Advantage.PASSK:
        odd = [v for v in problem.reward_values if v not in (0, 1)]
        if odd:
            raise ParameterError(f"rewards: pass@k (advantage='passk') needs binary rewards in {{0, 1}}; got the value(s) "
                                 f"{', '.join(map(str, odd))}; map them to 0/1 or use another advantage")
        if problem.pass_k == 1 and problem.group_filter is not GroupFilter.KEEP:
            raise ParameterError(f"group_filter: pass@1 gives all-success groups advantage 1, so {problem.group_filter} "
                                 "would change the reward term too; not supported: use group_filter='keep' or pass_k >= 2")


def _names(names: Iterable[str], size: int) -> tuple[str, ...]:
    if isinstance(names, (str, bytes)) or not hasattr(names, "__iter__"):
        raise ParameterError("names: give a sequence of strings, one per output, e.g. ['a', 'b']")
    out = tuple(names)
    if len(out) != size or not all(isinstance(n, str) and n.strip() for n in out) or len(set(out)) != size:
        raise ParameterError(f"names: got {out!r}; give {size} distinct non-empty strings, one per output")
    return out
