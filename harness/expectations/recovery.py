"""``expect: recovery:``: what must happen after every fault is cleared, measured from the last
clear; it holds the kinds registered with ``in_recovery`` (events, packets, absent). Its
judging is its own phase (harness.expect.evaluate_recovery), so it adds nothing to the fault
phase."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness.expectations.base import KINDS, ExpectationKind, Judgement, Observed, Reader, Starts
from harness.yamlsource import PathKey

if TYPE_CHECKING:
    from harness.expectations.absent import AbsenceExpectation
    from harness.expectations.events import EventExpectation
    from harness.expectations.packets import PacketExpectation

__all__ = ["KIND", "RecoveryExpectation"]


@dataclass(frozen=True)
class RecoveryExpectation:
    """What must happen after every fault is cleared (measured from the last clear)."""

    events: tuple[EventExpectation, ...] = ()
    packets: tuple[PacketExpectation, ...] = ()
    absent: tuple[AbsenceExpectation, ...] = ()
    line: int | None = None
    others: Mapping[str, Any] = field(default_factory=dict)  # kinds of no field, by key


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
