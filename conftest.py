"""Shared test fixtures (for tests and doctests alike) and the slow/default split.

Plain ``pytest`` deselects tests marked ``slow`` (``addopts`` in pyproject.toml); ``pytest -m slow``
runs only them.  Tests marked ``notebooks`` or ``latex``, tests named ``test_mutation_*`` (a paper
check re-run against a broken form) and ``*_in_subprocess`` (a fresh interpreter per case) are
slow whether or not their module says so: the rule lives here once, not in every test module.
"""

import importlib.util

import mpmath
import pytest

SLOW_MARKERS = ("notebooks", "latex")
SLOW_NAMES = ("test_mutation_", "_in_subprocess")


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


def is_slow(item):
    """True for a test of the slow set (see the module docstring)."""
    name = getattr(item, "originalname", item.name)
    return (any(item.get_closest_marker(marker) for marker in SLOW_MARKERS)
            or name.startswith(SLOW_NAMES[0]) or SLOW_NAMES[1] in name)


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects: the marks added here count
def pytest_collection_modifyitems(config, items):
    """Mark the slow set; doctests of the optional python-flint module skip, visibly, without flint."""
    for item in items:
        if is_slow(item):
            item.add_marker(pytest.mark.slow)
    if importlib.util.find_spec("flint") is not None:
        return
    skip = pytest.mark.skip(reason="python-flint not installed (pip install -e '.[rigorous]')")
    for item in items:
        if "certify.py" in str(item.fspath) and item.fspath.ext == ".py" and "tests" not in str(item.fspath):
            item.add_marker(skip)
