"""Shared test fixtures (for tests and doctests alike)."""

import mpmath
import pytest


@pytest.fixture(autouse=True)
def restore_mpmath_globals():
    """Save mpmath's global precision and printing mode, and restore them after every test."""
    prec, dps, pretty = mpmath.mp.prec, mpmath.mp.dps, mpmath.mp.pretty
    try:
        yield
    finally:
        mpmath.mp.dps = dps
        mpmath.mp.prec = prec  # last: prec is the exact setting, dps follows from it
        mpmath.mp.pretty = pretty
