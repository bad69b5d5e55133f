"""Exceptions raised by grpo_symbolic: one base class, and two kinds under it.

:class:`GrpoSymbolicError` is the package's base error; the CLI turns exactly these into its
one-line message with exit code 2 (anything else is an internal error).  Both kinds are also
:class:`ValueError`, so ``except ValueError`` keeps working for callers that used it.

>>> err = SolverError("no interior stationary policy", reason=SolverError.NO_INTERIOR_POINT)
>>> isinstance(err, GrpoSymbolicError), isinstance(err, ValueError), err.reason
(True, True, 'no-interior-point')
"""

import math


class GrpoSymbolicError(Exception):
    """Base class of every error the package raises on purpose."""


class ParameterError(GrpoSymbolicError, ValueError):
    """A parameter is invalid; the message names the parameter and the fix."""


class SolverError(GrpoSymbolicError, ValueError):
    """A well-posed problem the solver could not finish; ``reason`` says why, for programs.

    Reasons (class constants): ``NO_INTERIOR_POINT`` (the search found no interior stationary
    policy), ``NOT_UNIQUE`` (more than one where one was asked for), ``NOT_CONVERGED`` (an
    iteration hit its step cap or missed its tolerance), ``UNVERIFIED`` (a candidate failed its
    residual check at the requested digits).
    """

    NO_INTERIOR_POINT = "no-interior-point"
    NOT_UNIQUE = "not-unique"
    NOT_CONVERGED = "not-converged"
    UNVERIFIED = "unverified"
    REASONS = (NO_INTERIOR_POINT, NOT_UNIQUE, NOT_CONVERGED, UNVERIFIED)

    def __init__(self, message: str, reason: str = NOT_CONVERGED) -> None:
        if reason not in self.REASONS:
            raise ValueError(f"SolverError reason {reason!r} is not one of {self.REASONS}")
        super().__init__(message)
        self.reason = reason


def shown(value: object) -> str:
    """``repr(value)`` cut to a readable length for an error message (a huge integer is described).

    >>> shown(10**400)
    'an integer of about 401 digits'
    >>> shown("x" * 100)
    "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx... (str of 102 characters)"
    """
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        return f"an integer of about {int(value.bit_length() * math.log10(2)) + 1} digits"
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:60]}... ({type(value).__name__} of {len(text)} characters)"
