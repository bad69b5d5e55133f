"""Public names imported on first use (PEP 562), for the facades ``grpo_symbolic`` and ``paper_checks``:
``import grpo_symbolic`` then loads neither SymPy nor numpy, so the command line starts at once.

>>> import types, sys
>>> facade = types.ModuleType("facade_example")
>>> sys.modules["facade_example"] = facade
>>> facade.__getattr__ = lazy_attributes("facade_example", {"Fraction": "fractions"})
>>> facade.Fraction(1, 3), "Fraction" in vars(facade)  # imported, then kept
(Fraction(1, 3), True)
>>> facade.Decimal
Traceback (most recent call last):
...
AttributeError: module 'facade_example' has no attribute 'Decimal'
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_attributes(module: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """The module ``__getattr__`` of ``module``: ``exports`` maps each public name to the module
    defining it, imported on first access; the value is then kept in ``module``'s namespace."""
    namespace = vars(sys.modules[module])

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(exports[name]), name)
        namespace[name] = value
        return value

    return __getattr__
