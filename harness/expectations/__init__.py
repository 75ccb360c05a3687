"""The expectation kinds: ``expect:`` key -> ``ExpectationKind`` (harness.expectations.base).

One module per kind holds its model (a frozen dataclass; harness.scenario's ``Expectations``
holds the bundled kinds by name, every other in ``others``), its schema
piece, its reader, its judge and how the report draws it. The loader dispatches ``expect:``'s
keys here, the schema (harness.schema) builds ``expect:`` from it, the judge (harness.expect)
asks each kind for its judgements and the report (harness.htmlreport.model) finds each judged
expectation through it. ``register()`` adds a kind (a test's made-up one too), ``unregister()``
removes it. The bundled kinds are every module here with a ``KIND``, in the order of their
``rank``: the order of the schema's keys and of judging within a stage.
"""

from __future__ import annotations

import importlib
import pkgutil

from harness.expectations.base import KINDS, ExpectationKind


def register(kind: ExpectationKind) -> ExpectationKind:
    """Add ``kind`` (its ``key`` must be new); the schema is rebuilt on its next use (it is
    cached by the kinds registered)."""
    if kind.key in KINDS:
        raise ValueError(f"expectation kind {kind.key!r} is already registered")
    KINDS[kind.key] = kind
    return kind


def unregister(key: str) -> None:
    """Remove the kind ``key`` (what a test registered)."""
    del KINDS[key]


def _register_bundled() -> None:
    """Every module of this package that defines ``KIND``, by the kinds' ``rank``: a new kind
    is its module alone (no list to edit)."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        kind = getattr(module, "KIND", None)
        if isinstance(kind, ExpectationKind):
            found.append(kind)
    for kind in sorted(found, key=lambda kind: (kind.rank, kind.key)):
        register(kind)


_register_bundled()

__all__ = ["KINDS", "ExpectationKind", "register", "unregister"]
