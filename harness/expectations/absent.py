"""``expect: absent:``: an event (or any error event) that must not occur, for ``window``
seconds after the mark, or until the phase ends."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harness.event import Event, Mark
from harness.events import EventTimeout
from harness.expectations.base import (
    EVENT_FIELDS,
    FINAL,
    START,
    WINDOWS,
    ExpectationKind,
    Judgement,
    Observed,
    Reader,
    Starts,
    event_matches,
    from_text,
    items,
    judged,
)
from harness.verdict import ExpectationResult
from harness.yamlsource import PathKey
from igmpcatalog import Level

if TYPE_CHECKING:
    from harness.scenario import EventMatcher

__all__ = ["KIND", "AbsenceExpectation", "check_absence"]


@dataclass(frozen=True)
class AbsenceExpectation:
    """An event (or any error event) that must not occur, optionally on one interface.

    ``window`` is how long to watch after the mark; None means until the scenario ends.
    ``from_traffic`` (``from:``) names a traffic item whose completion starts the watch.
    """

    event: EventMatcher | None = None  # None with any_error
    any_error: bool = False
    interface: str | None = None
    window: float | None = None
    line: int | None = None
    from_traffic: str | None = None

    def matches(self, record: Mapping[str, Any]) -> bool:
        if self.interface is not None and record.get("interface") != self.interface:
            return False
        if self.any_error:
            return record.get("level") == Level.ERROR.value
        return self.event is not None and self.event.matches(record)

    def describe(self) -> str:
        if self.any_error or self.event is None:
            what = "error event" + (f" on {self.interface}" if self.interface else "")
        else:
            what = f"event {self.event.describe()}"
        window = f" for {self.window:g}s" if self.window is not None else ""
        return f"no {what}{window}{from_text(self.from_traffic)}"


def defs() -> dict[str, Any]:
    return {
        "absence": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                **EVENT_FIELDS,
                "any_error": {"type": "boolean"},
                "window": {"$ref": "#/$defs/duration"},
                "from": START,
                "comment": {"type": "string"},
            },
        }
    }


def read_one(b: Reader, path: PathKey, item: Mapping[str, Any]) -> AbsenceExpectation | None:
    any_error = bool(item.get("any_error", False))
    names_event = "id" in item or "symbol" in item or "event" in item
    if any_error and names_event:
        b.problem(
            path, f"{b.dotted(path)}: give any_error: true or an event (id:/symbol:), not both"
        )
    if not any_error and not names_event:
        b.problem(
            path,
            f"{b.dotted(path)}: name the event that must not occur (id: or symbol:), or any_error: true",
        )
        return None
    window = (
        b.deadline(path + ("window",), item["window"], what="window") if "window" in item else None
    )
    interface = item.get("interface")
    matcher = b.matcher(path, item) if names_event else None
    if any_error and interface is not None:
        b.interface(path + ("interface",), b.router.node, interface)
    start = b.start_ref(path, item)
    return AbsenceExpectation(matcher, any_error, interface, window, b.line(path), start)


def read_all(b: Reader, path: PathKey, value: Any) -> tuple[AbsenceExpectation, ...]:
    built = (read_one(b, path + (i,), item) for i, item in enumerate(value or ()))
    return tuple(item for item in built if item is not None)


def read(b: Reader, path: PathKey, value: Any) -> dict[str, Any]:
    return {"absent": read_all(b, path, value)}


def check_absence(exp: AbsenceExpectation, obs: Observed, mark: Mark) -> ExpectationResult:
    """The event must not occur: within the window (fails as soon as it does), or so far."""
    matcher = _absence_matcher(exp)
    if exp.window is not None:
        deadline = obs.window_end(mark, exp.window)
        try:
            found: Event | None = obs.stream.wait_for(matcher, deadline, mark, exp.describe())
        except EventTimeout:
            found = None
        if found is not None and found.seen > deadline:
            found = None  # judged after the window closed: what came later is not in it
        at = deadline
    else:
        found = next((e for e in obs.stream.snapshot(mark) if matcher(e)), None)
        at = obs.clock()
    expected = exp.describe() + ("" if exp.window else " until the end of the phase")
    if found is None:
        return ExpectationResult(exp.describe(), True, expected, "none", exp.line, "absent", at)
    observed = f"{found.brief()} at {obs.ms(found.seen, mark)}"
    return ExpectationResult(
        exp.describe(), False, expected, observed, exp.line, "absent", found.seen
    )


def _absence_matcher(exp: AbsenceExpectation) -> Callable[[Event], bool]:
    def forbidden(event: Event) -> bool:
        if exp.interface is not None and event.interface != exp.interface:
            return False
        if exp.any_error:
            return event.level == Level.ERROR.value
        return exp.event is not None and event_matches(exp.event, event)

    return forbidden


def judge(container: Any, obs: Observed, starts: Starts) -> list[Judgement]:
    """Windows while the phase runs; window-less absences at its end (over the whole phase)."""
    return [
        Judgement(
            WINDOWS if exp.window else FINAL,
            exp,
            lambda exp=exp: judged(check_absence, exp, obs, starts, "absent"),
        )
        for exp in container.absent
    ]


KIND = ExpectationKind(
    rank=30,
    key="absent",
    schema=lambda: items("absence"),
    defs=defs,
    read=read,
    judge=judge,
    in_recovery=True,
    absence=lambda spec: True,
)
