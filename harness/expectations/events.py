"""``expect: events:``: catalog (or the router profile's own) events that must occur, ``count``
exactly or ``at_least`` times, ``within`` seconds of the mark (or of ``from:``'s traffic item)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from harness.event import Event, Mark
from harness.expectations.base import (
    EARLY,
    EVENT_FIELDS,
    SHOWN,
    START,
    ExpectationKind,
    Judgement,
    Observed,
    Reader,
    Starts,
    event_matches,
    from_text,
    items,
    judged,
    listing,
    recounted,
)
from harness.scenario import DEFAULT_WITHIN
from harness.verdict import ExpectationResult
from harness.yamlsource import PathKey

if TYPE_CHECKING:
    from harness.scenario import EventMatcher

__all__ = ["KIND", "EventExpectation", "check_event", "recount_event"]


@dataclass(frozen=True)
class EventExpectation:
    """An event that must occur within ``within`` seconds of the mark (fault applied, or start).

    Counting: ``count`` exact, or ``at_least`` (1 when neither is given). ``from_traffic`` (the
    file's ``from:``) names a traffic item: the deadline then runs from when it was done.
    """

    event: EventMatcher
    count: int | None = None
    at_least: int = 1
    within: float = DEFAULT_WITHIN
    line: int | None = None
    from_traffic: str | None = None

    @property
    def id(self) -> int:
        return self.event.id

    def describe(self) -> str:
        times = f"exactly {self.count}x" if self.count is not None else f"at least {self.at_least}x"
        within = f"within {self.within:g}s{from_text(self.from_traffic)}"
        return f"event {self.event.describe()} {times} {within}"


def defs() -> dict[str, Any]:
    return {
        "eventExpectation": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                **EVENT_FIELDS,
                "count": {"type": "integer", "minimum": 1, "description": "exactly this many"},
                "at_least": {"type": "integer", "minimum": 1},
                "within": {"$ref": "#/$defs/duration"},
                "from": START,
                "comment": {"type": "string"},
            },
        }
    }


def read_one(b: Reader, path: PathKey, item: Mapping[str, Any]) -> EventExpectation | None:
    """One ``events:`` item; None when its event could not be resolved (a problem was said)."""
    matcher = b.matcher(path, item)
    if "count" in item and "at_least" in item:
        b.problem(
            path + ("at_least",),
            f"{b.dotted(path)}: give count: (exact) or at_least:, not both",
            key=True,
        )
    within = b.deadline(path + ("within",), item["within"]) if "within" in item else DEFAULT_WITHIN
    if matcher is None:
        return None
    return EventExpectation(
        event=matcher,
        count=item.get("count"),
        at_least=item.get("at_least", 1),
        within=within,
        line=b.line(path),
        from_traffic=b.start_ref(path, item),
    )


def read_all(b: Reader, path: PathKey, value: Any) -> tuple[EventExpectation, ...]:
    built = (read_one(b, path + (i,), item) for i, item in enumerate(value or ()))
    return tuple(item for item in built if item is not None)


def read(b: Reader, path: PathKey, value: Any) -> dict[str, Any]:
    return {"events": read_all(b, path, value)}


def _count_text(exp: EventExpectation) -> str:
    if exp.count is not None:
        return f"exactly {exp.count}x"
    return "" if exp.at_least == 1 else f"at least {exp.at_least}x"


def check_event(exp: EventExpectation, obs: Observed, mark: Mark) -> ExpectationResult:
    """The event occurs (``at_least`` times, or the first ``count``) before the deadline."""
    wanted = exp.count if exp.count is not None else exp.at_least
    deadline = obs.deadline(mark, exp.within)
    matches: list[Event] = []

    def enough() -> bool:
        matches[:] = [
            e
            for e in obs.stream.snapshot(mark)
            if e.seen <= deadline and event_matches(exp.event, e)
        ]
        return len(matches) >= wanted

    done = obs.stream.wait_until(lambda: enough() or obs.router_gone(), deadline) and enough()
    within = f"within {exp.within * obs.slow:g}s{from_text(exp.from_traffic)}"
    expected = " ".join(part for part in (exp.event.describe(), _count_text(exp), within) if part)
    if exp.count is not None and len(matches) > exp.count:
        done = False
    at = matches[wanted - 1].seen if done else max(deadline, mark.time)
    observed = (
        f"{len(matches)}x, first at {obs.ms(matches[0].seen, mark)}"
        if done
        else _event_evidence(exp, obs, mark, matches)
    )
    return ExpectationResult(
        exp.describe(), done, expected, observed, exp.line, "event", at if done else deadline
    )


def recount_event(
    exp: EventExpectation, obs: Observed, mark: Mark, result: ExpectationResult
) -> ExpectationResult:
    """At the phase's end: an exact count must not have been exceeded since it was met."""
    if exp.count is None or not result.passed:
        return result
    matches = [e for e in obs.stream.snapshot(mark) if event_matches(exp.event, e)]
    if len(matches) == exp.count:
        return result
    times = ", ".join(obs.ms(e.seen, mark) for e in matches[: SHOWN * 2])
    return replace(
        result, passed=False, observed=f"{len(matches)}x by the end ({times})", at=matches[-1].seen
    )


def _event_evidence(
    exp: EventExpectation, obs: Observed, mark: Mark, matches: Sequence[Event]
) -> str:
    """What came instead: the same event with other details, else whatever arrived."""
    if matches:
        return f"only {len(matches)}x: " + listing(matches, obs, mark)
    after = obs.stream.snapshot(mark)
    same = [e for e in after if e.id == exp.event.id]
    if same:
        return "the event with other details: " + listing(same, obs, mark)
    if after:
        return f"no {exp.event.id}; instead: " + listing(after, obs, mark) + obs.router_note()
    lines = obs.stream.last_lines()
    tail = f"; last line: {lines[-1][:160]}" if lines else ""
    return f"no event at all after {mark.label or 'the mark'}{tail}{obs.router_note()}"


def judge(container: Any, obs: Observed, starts: Starts) -> list[Judgement]:
    return [
        Judgement(
            EARLY,
            exp,
            lambda exp=exp: judged(check_event, exp, obs, starts, "event"),
            recounted(recount_event, exp, obs, starts),
        )
        for exp in container.events
    ]


KIND = ExpectationKind(
    rank=10,
    key="events",
    schema=lambda: items("eventExpectation"),
    defs=defs,
    read=read,
    judge=judge,
    in_recovery=True,
)
