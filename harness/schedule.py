"""When things happen during a run: actions due at a time, after an event, or after another action.

    scheduler = Scheduler(stream, start, record)
    apply = scheduler.add(action_for("fault link-down applied", "fault", do, When("at", 0.3)))
    scheduler.start()                     # a thread woken by the clock and by new events
    scheduler.wait([apply], deadline)     # every one done before the deadline?
    scheduler.stop()

The scheduler knows nothing of faults or traffic: an ``Action`` is a label, a callable and its
trigger. It runs in one thread sleeping on the stream's ``threading.Condition`` (which the event
stream notifies on every new event), so an event trigger fires as soon as the event is read and a
timed one at its time: no polling. The thread's one step, ``run_due()``, is public so that tests
drive it with a fake clock and no thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from harness.errors import HarnessBug
from harness.event import Event, Mark
from harness.expect import event_matches
from harness.scenario import EventMatcher, When
from harness.verdict import TimelineKind

#: Records a line of the run's timeline: (monotonic time, kind, text).
Recorder = Callable[[float, TimelineKind, str], None]


class Stream(Protocol):
    """What the scheduler needs of the event stream (harness.events.EventStream)."""

    condition: threading.Condition
    events: list[Event]

    def clock(self) -> float: ...

    def mark(self, label: str = "") -> Mark: ...

    def wait_until(self, predicate: Callable[[], bool], deadline: float) -> bool: ...


@dataclass
class Action:
    """Something the scheduler does once: apply or clear a fault, or a traffic stimulus.

    Due at ``at`` seconds after the router started, or ``delay`` seconds after the first event
    matching ``event`` (since the start), or ``delay`` seconds after ``after`` was done.
    """

    label: str
    kind: TimelineKind
    do: Callable[[], str | None]
    at: float | None = None
    event: EventMatcher | None = None
    after: Action | None = None
    delay: float = 0.0
    mark: Mark | None = None  # the stream's mark just before the action ran
    error: BaseException | None = None

    @property
    def done(self) -> bool:
        return self.mark is not None

    def due_time(self, stream: Stream, start: float) -> float | None:
        """When the action becomes due (monotonic), or None while its trigger is unmet."""
        if self.at is not None:
            return start + self.at
        if self.after is not None:
            return None if self.after.mark is None else self.after.mark.time + self.delay
        if self.event is not None:
            matcher = self.event
            hit = next((e for e in stream.events if event_matches(matcher, e)), None)
            return None if hit is None else hit.seen + self.delay
        return start

    def may_come(self, stream: Stream, start: float, events_may_come: Callable[[], bool]) -> bool:
        """Whether the action can still run: done, timed, due, or waiting on something that can
        (an event trigger only while ``events_may_come()``, e.g. the router still runs)."""
        if self.done or self.at is not None:
            return True
        if self.due_time(stream, start) is not None:
            return True
        if self.after is not None:
            return self.after.may_come(stream, start, events_may_come)
        return events_may_come()


def action_for(
    label: str,
    kind: TimelineKind,
    do: Callable[[], str | None],
    when: When,
    *,
    applied: Action | None = None,
    earlier: Mapping[str, Action] | None = None,
) -> Action:
    """The action for a scenario's ``when``: ``at``, ``after-event``, ``after`` (a fault's clear:
    ``applied`` is its apply action, if scheduled) or ``after-traffic`` (the item in ``earlier``).
    """
    if when.kind == "at":
        return Action(label, kind, do, at=when.seconds)
    if when.kind == "after-event":
        return Action(label, kind, do, event=when.event, delay=when.seconds)
    if when.kind == "after":  # after the fault was applied; before-start faults: after the start
        if applied is not None:
            return Action(label, kind, do, after=applied, delay=when.seconds)
        return Action(label, kind, do, at=when.seconds)
    if when.kind == "after-traffic" and earlier and when.traffic in earlier:
        return Action(label, kind, do, after=earlier[when.traffic], delay=when.seconds)
    raise HarnessBug(f"cannot schedule {label!r} {when.describe()}")


class Scheduler:
    """Runs actions when due, in a thread that sleeps on the stream's Condition (clock or event)."""

    def __init__(self, stream: Stream, start: float, record: Recorder) -> None:
        self.stream = stream
        self.start_time = start
        self.record = record
        self.actions: list[Action] = []
        self._stopping = False
        self._thread: threading.Thread | None = None

    def add(self, action: Action) -> Action:
        self.actions.append(action)
        return action

    def start(self) -> None:
        if self.actions:
            self._thread = threading.Thread(
                target=self._loop, name="faultlab-schedule", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        if self._thread is None:
            return
        with self.stream.condition:
            self._stopping = True
            self.stream.condition.notify_all()
        self._thread.join(timeout=10)
        if self._thread.is_alive():
            raise HarnessBug("the scheduler thread did not stop within 10 s")

    def _loop(self) -> None:
        condition = self.stream.condition
        while True:
            with condition:
                due, wake = self.due()
                while not due and not self._stopping and self.pending():
                    timeout = None if wake is None else max(0.0, wake - self.stream.clock())
                    condition.wait(timeout)
                    due, wake = self.due()
                if self._stopping or not due:
                    return
            for action in due:
                self._run(action)

    def pending(self) -> bool:
        """Whether some action has not run yet."""
        return any(not action.done for action in self.actions)

    def due(self) -> tuple[list[Action], float | None]:
        """The actions due now, and the next time one becomes due (None: only events can tell)."""
        now = self.stream.clock()
        due: list[Action] = []
        wake: float | None = None
        for action in self.actions:
            if action.done:
                continue
            when = action.due_time(self.stream, self.start_time)
            if when is not None and when <= now:
                due.append(action)
            elif when is not None:
                wake = when if wake is None else min(wake, when)
        return due, wake

    def run_due(self) -> float | None:
        """Run every action due now (the thread's step); the next wake time, as ``due()``."""
        with self.stream.condition:
            due, _ = self.due()
        for action in due:
            self._run(action)
        with self.stream.condition:
            return self.due()[1]

    def _run(self, action: Action) -> None:
        mark = self.stream.mark(action.label)
        try:
            text = action.do()
        except Exception as exc:  # noqa: BLE001 - judged as a failed expectation
            action.error = exc
            text = f"{action.label} FAILED: {exc}"
        self.record(mark.time, action.kind, text or action.label)
        with self.stream.condition:
            action.mark = mark
            self.stream.condition.notify_all()

    def wait(self, actions: Sequence[Action], deadline: float) -> bool:
        """Whether every action in ``actions`` ran before ``deadline``."""
        return self.stream.wait_until(lambda: all(a.done for a in actions), deadline)
