"""The harness's module-level caches, each named and typed, and the one way to reset them.

A process-wide memo is either a :class:`Cache` (a typed mapping made with :func:`cache`) or a
function cache (``functools.cache``) registered with :func:`register`. Each has a ``scope``:

* ``"test"``: what it holds can change under a test's feet (profiles a test wrote, adapters a
  test registered, a scenario re-targeted): the tests' fixture (tests/conftest.py) calls
  ``reset("test")`` after every test so nothing leaks from one test into the next;
* ``"run"``: facts of this host or of shipped files, the same for the whole run (the host's
  checks, qemu's version, the profile schema): ``reset("run")`` clears them too, for a test that
  changes what they read.

``registered()`` lists every cache by name (tests/project/test_caches.py holds that each
module-level cache of the harness is one of them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

K = TypeVar("K")
V = TypeVar("V")
Scope = Literal["test", "run"]


@dataclass
class Cache(MutableMapping[K, V], Generic[K, V]):
    """A named module-level memo: a dict with a name, a scope and a reason to exist."""

    name: str
    scope: Scope
    why: str = ""
    data: dict[K, V] = field(default_factory=dict)

    def __getitem__(self, key: K) -> V:
        return self.data[key]

    def __setitem__(self, key: K, value: V) -> None:
        self.data[key] = value

    def __delitem__(self, key: K) -> None:
        del self.data[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def clear(self) -> None:
        self.data.clear()


@dataclass(frozen=True)
class _Entry:
    scope: Scope
    clear: Callable[[], None]
    why: str


#: Every cache, by name (this registry is the one module-level dict that is not a memo).
_REGISTERED: dict[str, _Entry] = {}


def cache(name: str, scope: Scope, why: str = "") -> Cache[K, V]:
    """A new named cache, registered for :func:`reset` (one per name)."""
    made: Cache[K, V] = Cache(name, scope, why)
    register(name, made.clear, scope, why)
    return made


def register(name: str, clear: Callable[[], None], scope: Scope, why: str = "") -> None:
    """Register a function cache (``fn.cache_clear``) or any memo's clear under ``name``."""
    known = _REGISTERED.get(name)
    if known is not None and known.clear != clear:
        raise ValueError(f"cache {name!r} is registered twice")
    _REGISTERED[name] = _Entry(scope, clear, why)


def reset(scope: Scope = "test") -> list[str]:
    """Clear the caches of ``scope`` (``"run"`` clears every cache); their names."""
    names = [n for n, e in _REGISTERED.items() if scope == "run" or e.scope == scope]
    for name in names:
        _REGISTERED[name].clear()
    return names


def registered() -> dict[str, Scope]:
    """Every registered cache's name and scope."""
    return {name: entry.scope for name, entry in _REGISTERED.items()}
