"""The registry of paper checks, and the helpers a check uses to state its result.

A check is a function of the run's precision ``dps`` that returns an :class:`Outcome`, registered
under a claim ID of :mod:`paper_checks.claims` with the :func:`check` decorator, in a module
``paper_checks/checks_*.py`` (found and imported by :meth:`Registry.discover`)::

    from paper_checks.registry import agreement, check, symbolic

    @check("eq14-sqrt")
    def check_eq14_sqrt(dps):
        derived = ...   # derived from the model with SymPy / mpmath
        paper = ...     # the paper's printed form, evaluated at the same point
        return agreement(derived, paper, dps)

The runner calls it at ``dps`` digits (``working_precision(dps, guard=0)``).  A check may also
return a list of outcomes (combined with :func:`combine`: it passes only if all of them pass).
The claim's location and statement are taken from :mod:`paper_checks.claims`; registering an
unknown ID is an error.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
import importlib
import pkgutil
import time
import traceback
from typing import Any, Callable, Sequence

import mpmath  # noqa: F401  (doctests)

from paper_checks.claims import CLAIMS, Claim
from grpo_symbolic.numerics.precision import mpx, working_precision

#: A check passes when its digits of agreement reach ``dps - MARGIN``.
MARGIN = 5
#: Two values count as different (:func:`disagreement`) when they agree to fewer digits than this.
DIFFERENT_BELOW = 3


@dataclass(frozen=True)
class Outcome:
    """What a check function returns: pass/fail with digits of agreement or a symbolic verdict."""

    passed: bool
    digits: float | None = None
    verdict: str | None = None
    details: str = ""


#: A check: the run's precision ``dps`` to an outcome (or a list of outcomes, combined).
CheckFunction = Callable[[int], "Outcome | Sequence[Outcome]"]


@dataclass
class CheckResult:
    """One row of the report."""

    id: str
    location: str
    statement: str
    passed: bool
    digits: float | None = None
    verdict: str | None = None
    details: str = ""
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready dict (digits rounded to 0.1)."""
        data = asdict(self)
        if self.digits is not None:
            data["digits"] = round(float(self.digits), 1)
        data["seconds"] = round(float(self.seconds), 3)
        return data


# ---------------------------------------------------------------------------------------------
# Helpers for check functions


def _mpf(value: Any) -> Any:
    """``value`` (int, str, Fraction, float, mpf/mpc, or a SymPy number) as an mpmath number."""
    try:
        return mpx.mpmathify(value)
    except (TypeError, ValueError):
        pass
    evalf = getattr(value, "evalf", None)  # a SymPy expression without free symbols
    if evalf is not None:
        return mpx.mpmathify(evalf(mpx.dps + 10))
    raise TypeError(f"cannot compare {value!r} numerically")


def digits_of_agreement(derived: Any, paper: Any, dps: int, scale: Any = None) -> float:
    """Decimal digits to which ``derived`` agrees with ``paper``: −log10(|a − b| / max(|b|, scale)).

    Capped at ``dps`` and floored at 0; computed at ``dps + 10`` digits, so decimal strings are read
    exactly enough.  ``scale`` (default: tiny, so the error is relative) sets
    the size below which the error counts as absolute; give it when ``paper`` may be 0.

    >>> with mpmath.workdps(30):
    ...     round(digits_of_agreement(mpmath.mpf(1) / 3, "0.3333333333", 30), 3)
    10.0
    >>> digits_of_agreement(0, 0, 30)
    30.0
    """
    with working_precision(max(dps, mpx.dps)):  # strings are read beyond the run's digits
        a, b = _mpf(derived), _mpf(paper)
        error = abs(a - b)
        if error == 0:
            return float(dps)
        tiny = mpx.mpf(2) ** (-4 * mpx.prec)
        denominator = max(abs(b), _mpf(scale) if scale is not None else tiny)
        digits = -mpx.log10(error / denominator)
        return float(min(max(digits, 0), dps))


def agreement(derived: Any, paper: Any, dps: int, *, scale: Any = None, margin: float = MARGIN,
              what: str = "") -> Outcome:
    """Outcome of comparing a derived value with the paper's (numbers, or equal-length sequences).

    Passes iff the digits of agreement (the minimum over a sequence) are at least ``dps − margin``.
    ``what`` says what was compared (it goes into the details).

    >>> with mpmath.workdps(30):
    ...     agreement(mpmath.sqrt(2), "1.414213562373095048801688724209698", 30).passed
    True
    >>> outcome = agreement([1, 2], [1, 3], 30, what="two points")
    >>> outcome.passed, round(outcome.digits, 2), outcome.details
    (False, 0.48, 'two points: 2 values; worst at index 1: 2.0 vs 3.0')
    """
    digits, details = _compare(derived, paper, dps, scale, what)
    return Outcome(passed=digits >= dps - margin, digits=digits, details=details)


def disagreement(derived: Any, paper: Any, dps: int, *, what: str = "") -> Outcome:
    """Outcome stating that ``derived`` and ``paper`` are NOT equal: they agree to fewer than 3 digits.

    >>> with mpmath.workdps(30):
    ...     disagreement(mpmath.mpf(1) / 3, "0.34", 30).passed
    True
    >>> disagreement(1, 1, 30, what="equal").details
    'equal: 1.0 vs 1.0 differ (30.0 digits)'
    """
    digits, details = _compare(derived, paper, dps, None, what)
    return symbolic(digits < DIFFERENT_BELOW, f"{details} differ ({digits:.1f} digits)")


def _compare(derived: Any, paper: Any, dps: int, scale: Any, what: str) -> tuple[float, str]:
    """Digits of agreement (the worst over sequences) and the details that say what was compared."""
    if isinstance(derived, (list, tuple)) or isinstance(paper, (list, tuple)):
        digits, where = _worst_of_sequences(derived, paper, dps, scale)
    else:
        digits = digits_of_agreement(derived, paper, dps, scale)
        where = f"{_show(derived)} vs {_show(paper)}"
    return digits, (f"{what}: " if what else "") + where


def _worst_of_sequences(derived: Any, paper: Any, dps: int, scale: Any) -> tuple[float, str]:
    """The fewest digits of agreement over two equal-length sequences, and where that is."""
    if not (isinstance(derived, (list, tuple)) and isinstance(paper, (list, tuple))) or len(derived) != len(paper):
        raise ValueError("agreement: compare two numbers, or two sequences of the same length")
    if not derived:
        raise ValueError("agreement: nothing to compare (empty sequences)")
    all_digits = [digits_of_agreement(a, b, dps, scale) for a, b in zip(derived, paper)]
    worst = min(range(len(all_digits)), key=all_digits.__getitem__)
    where = f"{len(all_digits)} values; worst at index {worst}: {_show(derived[worst])} vs {_show(paper[worst])}"
    return all_digits[worst], where


def _show(value: Any) -> str:
    try:
        return mpx.nstr(_mpf(value), 12)
    except TypeError:
        return repr(value)


def symbolic(verdict: Any, text: str) -> Outcome:
    """Outcome of an exact (symbolic) decision: ``verdict`` true means the claim holds.

    >>> symbolic(True, "simplify((14) - root) == 0")
    Outcome(passed=True, digits=None, verdict='holds', details='simplify((14) - root) == 0')
    """
    holds = bool(verdict)
    return Outcome(passed=holds, verdict="holds" if holds else "does not hold", details=text)


def combine(*outcomes: Outcome | Sequence[Outcome]) -> Outcome:
    """One outcome from several: passes iff all pass; the worst digits; verdicts and details joined.

    >>> combine(symbolic(True, "exact"), agreement(1, 1, 30, what="at beta=1/2"))
    Outcome(passed=True, digits=30.0, verdict='holds', details='exact; at beta=1/2: 1.0 vs 1.0')
    """
    parts = _outcomes(outcomes)
    digits = [o.digits for o in parts if o.digits is not None]
    return Outcome(
        passed=all(o.passed for o in parts),
        digits=min(digits) if digits else None,
        verdict=_joint_verdict([o.verdict for o in parts if o.verdict is not None]),
        details="; ".join(o.details for o in parts if o.details),
    )


def _outcomes(given: tuple[Any, ...]) -> tuple[Outcome, ...]:
    """The outcomes of ``combine(a, b, ...)`` or ``combine([a, b, ...])``; TypeError for anything else."""
    if len(given) == 1 and isinstance(given[0], (list, tuple)):
        given = tuple(given[0])
    if not given or not all(isinstance(o, Outcome) for o in given):
        raise TypeError("combine: give one or more Outcome values (from agreement() or symbolic())")
    return given


def _joint_verdict(verdicts: list[str]) -> str | None:
    """"holds" if every verdict holds, None if there are none."""
    if not verdicts:
        return None
    return "holds" if all(v == "holds" for v in verdicts) else "does not hold"


# ---------------------------------------------------------------------------------------------
# The registry


@dataclass
class Registry:
    """Check functions by claim ID.

    ``claims``: the known claims (default: all of :mod:`paper_checks.claims`); ``package``: the
    package whose ``checks_*`` modules :meth:`discover` imports (``None``: nothing to discover).
    """

    claims: tuple[Claim, ...] = CLAIMS
    package: str | None = "paper_checks"
    functions: dict[str, CheckFunction] = field(default_factory=dict)
    import_errors: list[tuple[str, str]] = field(default_factory=list)
    _discovered: bool = False

    def claim(self, claim_id: str) -> Claim:
        """The :class:`~paper_checks.claims.Claim` with this ID (ValueError if there is none)."""
        for claim in self.claims:
            if claim.id == claim_id:
                return claim
        raise ValueError(f"unknown claim ID {claim_id!r}: add it to paper_checks/claims.py first")

    def check(self, claim_id: str) -> Callable[[CheckFunction], CheckFunction]:
        """Decorator: register ``f(dps) -> Outcome`` as the check of ``claim_id``."""
        self.claim(claim_id)

        def register(function: CheckFunction) -> CheckFunction:
            known = self.functions.get(claim_id)
            if known is not None and _name(known) != _name(function):
                raise ValueError(f"claim {claim_id!r} already has a check ({_name(known)}); one check per claim")
            self.functions[claim_id] = function
            return function

        return register

    def discover(self) -> None:
        """Import every ``<package>.checks_*`` module once; import failures go to ``import_errors``."""
        if self._discovered or self.package is None:
            return
        self._discovered = True
        package = importlib.import_module(self.package)
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
            if not info.name.startswith("checks_"):
                continue
            name = f"{self.package}.{info.name}"
            try:
                importlib.import_module(name)
            except Exception as exc:  # noqa: BLE001 - reported as a failed row by the runner
                self.import_errors.append((name, _describe(exc)))

    def run(self, claim_id: str, dps: int) -> CheckResult:
        """Run the check of ``claim_id`` at ``dps`` digits; never raises for a failing check."""
        claim = self.claim(claim_id)
        result = CheckResult(claim.id, claim.location, claim.statement, passed=False)
        function = self.functions.get(claim_id)
        if function is None:
            result.verdict = "no check registered"
            result.details = "no check registered for this claim"
            return result
        start = time.perf_counter()
        try:
            with working_precision(dps, guard=0):
                outcome = function(dps)
                if isinstance(outcome, (list, tuple)):
                    outcome = combine(*outcome)
        except Exception as exc:  # noqa: BLE001 - a raising check is a failed check
            result.verdict = f"error: {type(exc).__name__}"
            result.details = _describe(exc)
        else:
            if isinstance(outcome, Outcome):
                result.passed = bool(outcome.passed)
                result.digits, result.verdict, result.details = outcome.digits, outcome.verdict, outcome.details
            else:
                result.verdict = "error: bad result"
                result.details = f"the check returned {outcome!r}; return agreement(...), symbolic(...) or combine(...)"
        result.seconds = time.perf_counter() - start
        return result


def _name(function: Callable[..., Any]) -> str:
    return f"{getattr(function, '__module__', '?')}.{getattr(function, '__qualname__', repr(function))}"


def _describe(exc: BaseException) -> str:
    """``Type: message (at file:line)`` for the innermost frame of ``exc``."""
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        last = frames[-1]
        text += f" (at {last.filename}:{last.lineno} in {last.name})"
    return " ".join(text.split())


#: The registry of the real paper checks.
REGISTRY = Registry()


def check(claim_id: str) -> Callable[[CheckFunction], CheckFunction]:
    """Decorator registering ``f(dps) -> Outcome`` as the check of ``claim_id`` in :data:`REGISTRY`."""
    return REGISTRY.check(claim_id)


__all__ = ["MARGIN", "Outcome", "CheckResult", "Registry", "REGISTRY", "check", "agreement",
           "symbolic", "combine", "digits_of_agreement", "disagreement", "DIFFERENT_BELOW"]
