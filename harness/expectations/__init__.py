"""The expectation kinds: ``expect:`` key -> ``ExpectationKind`` (harness.expectations.base).

One module per kind holds its model (harness.scenario's dataclass, re-exported), its schema
piece, its reader, its judge and how the report draws it. The loader dispatches ``expect:``'s
keys here, the schema (harness.schema) builds ``expect:`` from it, the judge (harness.expect)
asks each kind for its judgements and the report (harness.htmlreport.model) finds each judged
expectation through it. ``register()`` adds a kind (a test's made-up one too), ``unregister()``
removes it; the order of registration is the order of the schema's keys and of judging within
a stage.
"""

from __future__ import annotations

from harness.expectations import absent, events, log, order, packets, recovery, router, state
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
    for module in (events, order, absent, packets, state, router, log, recovery):
        KINDS[module.KIND.key] = module.KIND


_register_bundled()

__all__ = ["KINDS", "ExpectationKind", "register", "unregister"]
