"""``expect: recovery:``: what must happen after every fault is cleared, measured from the last
clear; it holds the kinds registered with ``in_recovery`` (events, packets, absent). Its
judging is its own phase (harness.expect.evaluate_recovery), so it adds nothing to the fault
phase."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.expectations.base import KINDS, ExpectationKind, Judgement, Observed, Reader, Starts
from harness.scenario import RecoveryExpectation
from harness.yamlsource import PathKey

__all__ = ["KIND", "RecoveryExpectation"]


def _inner() -> list[ExpectationKind]:
    return [kind for kind in KINDS.values() if kind.in_recovery]


def schema() -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {kind.key: kind.schema() for kind in _inner()},
    }


def read(b: Reader, path: PathKey, data: Mapping[str, Any]) -> dict[str, Any]:
    if not any(fault.clear.kind != "never" for fault in b.faults):
        b.problem(
            path,
            "expect.recovery: no fault is ever cleared (every clear: is never), so there is "
            "nothing to recover from; give a fault clear: {after: 1s}",
            key=True,
        )
    fields: dict[str, Any] = {}
    others: dict[str, Any] = {}
    names = RecoveryExpectation.__dataclass_fields__
    for kind in _inner():
        if kind.key in data:
            for key, value in kind.read(b, path + (kind.key,), data[kind.key]).items():
                (fields if key in names else others)[key] = value
    return {"recovery": RecoveryExpectation(**fields, others=others, line=b.line(path))}


def judge(container: Any, obs: Observed, starts: Starts) -> list[Judgement]:
    return []


KIND = ExpectationKind(rank=90, key="recovery", schema=schema, read=read, judge=judge, report="")
