"""Exceptions raised by grpo_symbolic.

Every error is a :class:`ValueError`, so callers (and the CLI) can catch bad
input with one ``except ValueError``.
"""


class ParameterError(ValueError):
    """A parameter is invalid; the message names the parameter and the fix."""


class SolverError(ValueError):
    """The numeric solver found no stationary policy, or more than one, or did not converge."""
