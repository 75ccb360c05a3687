"""``expect: order:``: catalog events whose first occurrences after the mark come in the listed
order (judged at the phase's end; an order alone does not say what must be observed)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness import catalog
from harness.event import Event, Mark
from harness.expectations.base import (
    FINAL_ORDER,
    ExpectationKind,
    Judgement,
    Observed,
    Reader,
    Starts,
)
from harness.verdict import ExpectationResult
from harness.yamlsource import PathKey

__all__ = ["KIND", "check_order"]


def schema() -> dict[str, Any]:
    return {"type": "array", "minItems": 2, "items": {"$ref": "#/$defs/eventRef"}}


def read(b: Reader, path: PathKey, value: Any) -> dict[str, Any]:
    order = tuple(catalog.event(key).id for key in value or ())
    return {"order": order, "order_line": b.line(path) if order else None}


def check_order(
    ids: Sequence[int], obs: Observed, mark: Mark, line: int | None = None
) -> ExpectationResult:
    """The first occurrence of each listed event after the mark comes in the listed order."""
    events = obs.stream.snapshot(mark)
    firsts: list[tuple[int, Event | None]] = [
        (wanted, next((e for e in events if e.id == wanted), None)) for wanted in ids
    ]
    expected = " then ".join(str(wanted) for wanted in ids)
    missing = [str(wanted) for wanted, event in firsts if event is None]
    seen = [event for _, event in firsts if event is not None]
    in_order = not missing and all(a.index < b.index for a, b in zip(seen, seen[1:], strict=False))
    actual = sorted(seen, key=lambda e: e.index)
    observed = " then ".join(f"{e.id} ({obs.ms(e.seen, mark)})" for e in actual) or "none of them"
    if missing:
        observed += f"; never seen: {', '.join(missing)}"
    at = actual[-1].seen if actual else obs.clock()
    return ExpectationResult(f"order {expected}", in_order, expected, observed, line, "order", at)


def judge(container: Any, obs: Observed, starts: Starts) -> list[Judgement]:
    if not container.order:
        return []
    return [
        Judgement(
            FINAL_ORDER,
            container.order,
            lambda: check_order(container.order, obs, starts.mark, container.order_line),
        )
    ]


KIND = ExpectationKind(rank=20, key="order", schema=schema, read=read, judge=judge, observes=False)
