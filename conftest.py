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


def pytest_collection_modifyitems(config, items):
    """Doctests of the optional python-flint module skip, visibly, where flint is not installed."""
    import importlib.util

    if importlib.util.find_spec("flint") is not None:
        return
    skip = pytest.mark.skip(reason="python-flint not installed (pip install -e '.[rigorous]')")
    for item in items:
        if "certify.py" in str(item.fspath) and item.fspath.ext == ".py" and "tests" not in str(item.fspath):
            item.add_marker(skip)
