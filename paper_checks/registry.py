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

The runner calls it inside ``mpmath.workdps(dps)``.  A check may also return a list of outcomes
(combined with :func:`combine`: it passes only if all of them pass).  The claim's location and
statement are taken from :mod:`paper_checks.claims`; registering an unknown ID is an error.
"""

from dataclasses import asdict, dataclass, field
import importlib
import pkgutil
import time
import traceback

import mpmath

from .claims import CLAIMS

#: A check passes when its digits of agreement reach ``dps - MARGIN``.
MARGIN = 5


@dataclass(frozen=True)
class Outcome:
    """What a check function returns: pass/fail with digits of agreement or a symbolic verdict."""

    passed: bool
    digits: float | None = None
    verdict: str | None = None
    details: str = ""


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

    def as_json(self):
        """A JSON-ready dict (digits rounded to 0.1)."""
        data = asdict(self)
        if self.digits is not None:
            data["digits"] = round(float(self.digits), 1)
        data["seconds"] = round(float(self.seconds), 3)
        return data


# ---------------------------------------------------------------------------------------------
# Helpers for check functions


def _mpf(value):
    """``value`` (int, str, Fraction, float, mpf/mpc, or a SymPy number) as an mpmath number."""
    try:
        return mpmath.mpmathify(value)
    except (TypeError, ValueError):
        pass
    evalf = getattr(value, "evalf", None)  # a SymPy expression without free symbols
    if evalf is not None:
        return mpmath.mpmathify(evalf(mpmath.mp.dps + 10))
    raise TypeError(f"cannot compare {value!r} numerically")


def digits_of_agreement(derived, paper, dps, scale=None):
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
    with mpmath.workdps(max(dps, mpmath.mp.dps) + 10):  # strings are read beyond the run's digits
        a, b = _mpf(derived), _mpf(paper)
        error = abs(a - b)
        if error == 0:
            return float(dps)
        tiny = mpmath.mpf(2) ** (-4 * mpmath.mp.prec)
        denominator = max(abs(b), _mpf(scale) if scale is not None else tiny)
        digits = -mpmath.log10(error / denominator)
        return float(min(max(digits, 0), dps))


def agreement(derived, paper, dps, *, scale=None, margin=MARGIN, what=""):
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
    if isinstance(derived, (list, tuple)) or isinstance(paper, (list, tuple)):
        if not (isinstance(derived, (list, tuple)) and isinstance(paper, (list, tuple))) or len(derived) != len(paper):
            raise ValueError("agreement: compare two numbers, or two sequences of the same length")
        if not derived:
            raise ValueError("agreement: nothing to compare (empty sequences)")
        all_digits = [digits_of_agreement(a, b, dps, scale) for a, b in zip(derived, paper)]
        worst = min(range(len(all_digits)), key=all_digits.__getitem__)
        digits = all_digits[worst]
        where = f"{len(all_digits)} values; worst at index {worst}: "
        shown = f"{_show(derived[worst])} vs {_show(paper[worst])}"
    else:
        digits = digits_of_agreement(derived, paper, dps, scale)
        where, shown = "", f"{_show(derived)} vs {_show(paper)}"
    details = f"{what}: " if what else ""
    return Outcome(passed=digits >= dps - margin, digits=digits, details=details + where + shown)


def _show(value):
    try:
        return mpmath.nstr(_mpf(value), 12)
    except TypeError:
        return repr(value)


def symbolic(verdict, text):
    """Outcome of an exact (symbolic) decision: ``verdict`` true means the claim holds.

    >>> symbolic(True, "simplify((14) - root) == 0")
    Outcome(passed=True, digits=None, verdict='holds', details='simplify((14) - root) == 0')
    """
    holds = bool(verdict)
    return Outcome(passed=holds, verdict="holds" if holds else "does not hold", details=text)


def combine(*outcomes):
    """One outcome from several: passes iff all pass; the worst digits; verdicts and details joined.

    >>> combine(symbolic(True, "exact"), agreement(1, 1, 30, what="at beta=1/2"))
    Outcome(passed=True, digits=30.0, verdict='holds', details='exact; at beta=1/2: 1.0 vs 1.0')
    """
    if len(outcomes) == 1 and isinstance(outcomes[0], (list, tuple)):
        outcomes = tuple(outcomes[0])
    if not outcomes or not all(isinstance(o, Outcome) for o in outcomes):
        raise TypeError("combine: give one or more Outcome values (from agreement() or symbolic())")
    digits = [o.digits for o in outcomes if o.digits is not None]
    verdicts = [o.verdict for o in outcomes if o.verdict is not None]
    verdict = None
    if verdicts:
        verdict = "holds" if all(v == "holds" for v in verdicts) else "does not hold"
    return Outcome(
        passed=all(o.passed for o in outcomes),
        digits=min(digits) if digits else None,
        verdict=verdict,
        details="; ".join(o.details for o in outcomes if o.details),
    )


# ---------------------------------------------------------------------------------------------
# The registry


@dataclass
class Registry:
    """Check functions by claim ID.

    ``claims``: the known claims (default: all of :mod:`paper_checks.claims`); ``package``: the
    package whose ``checks_*`` modules :meth:`discover` imports (``None``: nothing to discover).
    """

    claims: tuple = CLAIMS
    package: str | None = "paper_checks"
    functions: dict = field(default_factory=dict)
    import_errors: list = field(default_factory=list)
    _discovered: bool = False

    def claim(self, claim_id):
        """The :class:`~paper_checks.claims.Claim` with this ID (ValueError if there is none)."""
        for claim in self.claims:
            if claim.id == claim_id:
                return claim
        raise ValueError(f"unknown claim ID {claim_id!r}: add it to paper_checks/claims.py (and claims.md) first")

    def check(self, claim_id):
        """Decorator: register ``f(dps) -> Outcome`` as the check of ``claim_id``."""
        self.claim(claim_id)

        def register(function):
            known = self.functions.get(claim_id)
            if known is not None and _name(known) != _name(function):
                raise ValueError(f"claim {claim_id!r} already has a check ({_name(known)}); one check per claim")
            self.functions[claim_id] = function
            return function

        return register

    def discover(self):
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

    def run(self, claim_id, dps):
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
            with mpmath.workdps(dps):
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


def _name(function):
    return f"{getattr(function, '__module__', '?')}.{getattr(function, '__qualname__', repr(function))}"


def _describe(exc):
    """``Type: message (at file:line)`` for the innermost frame of ``exc``."""
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        last = frames[-1]
        text += f" (at {last.filename}:{last.lineno} in {last.name})"
    return " ".join(text.split())


#: The registry of the real paper checks.
REGISTRY = Registry()


def check(claim_id):
    """Decorator registering ``f(dps) -> Outcome`` as the check of ``claim_id`` in :data:`REGISTRY`."""
    return REGISTRY.check(claim_id)


__all__ = ["MARGIN", "Outcome", "CheckResult", "Registry", "REGISTRY", "check", "agreement",
           "symbolic", "combine", "digits_of_agreement"]
