"""One registry of the project's memoised derivations, so that they can all be forgotten at once.

A derivation cached with :func:`cached` behaves like :func:`functools.lru_cache` (same arguments,
same result object, ``cache_clear``), and is recorded here; :func:`clear_caches` empties every
recorded cache.  The paper-check runner clears them before each check, so a check re-derives what
it reads instead of reading what an earlier check left behind.

>>> calls = []
>>> @cached
... def square(n):
...     calls.append(n)
...     return n * n
>>> square(3), square(3), calls
(9, 9, [3])
>>> cleared = clear_caches()
>>> square(3), calls
(9, [3, 3])
"""

from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar, overload

F = TypeVar("F", bound=Callable[..., Any])

_CACHES: list[Any] = []


@overload
def cached(function: F) -> F: ...


@overload
def cached(function: None = None, *, maxsize: int | None = None) -> Callable[[F], F]: ...


def cached(function: Any = None, *, maxsize: int | None = None) -> Any:
    """``functools.lru_cache(maxsize)`` of ``function``, recorded for :func:`clear_caches`.

    Use as ``@cached`` (unbounded) or ``@cached(maxsize=64)``.
    """
    def decorate(f: Any) -> Any:
        wrapper = functools.lru_cache(maxsize=maxsize)(f)
        _CACHES.append(wrapper)
        return wrapper

    return decorate if function is None else decorate(function)


def clear_caches() -> int:
    """Empty every cache made by :func:`cached`; the number of caches cleared."""
    for wrapper in _CACHES:
        wrapper.cache_clear()
    return len(_CACHES)
