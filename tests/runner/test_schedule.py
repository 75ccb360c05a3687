"""The scheduler alone (harness.schedule), on a fake clock: no thread, no router, no sleeping."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from harness.catalog import event
from harness.errors import HarnessBug
from harness.event import Event, Mark
from harness.scenario import EventMatcher, When
from harness.schedule import Action, Scheduler, action_for

ACTIVATED_E1 = EventMatcher(41052, event(41052).symbol, interface="e1")


class FakeStream:
    """The stream the scheduler reads: events the test appends, a clock the test moves."""

    def __init__(self) -> None:
        self.condition = threading.Condition()
        self.events: list[Event] = []
        self.now = 100.0

    def clock(self) -> float:
        return self.now

    def mark(self, label: str = "") -> Mark:
        return Mark(len(self.events), self.now, label)

    def wait_until(self, predicate: Callable[[], bool], deadline: float) -> bool:
        return predicate()

    def log(self, id: int, **fields: object) -> None:
        self.events.append(Event.from_record({"id": id, **fields}, seen=self.now))


@pytest.fixture
def stream() -> FakeStream:
    return FakeStream()


def scheduler_of(stream: FakeStream, *actions: Action) -> tuple[Scheduler, list[tuple]]:
    lines: list[tuple] = []
    scheduler = Scheduler(stream, stream.now, lambda *line: lines.append(line))
    for action in actions:
        scheduler.add(action)
    return scheduler, lines


def test_a_timed_action_runs_at_its_time_and_tells_when_to_wake(stream) -> None:
    ran: list[str] = []
    action = action_for(
        "fault x applied", "fault", lambda: ran.append("x") or "applied x", When("at", 0.3)
    )
    scheduler, lines = scheduler_of(stream, action)
    assert scheduler.run_due() == pytest.approx(100.3)  # not yet: wake at the start + 0.3
    assert ran == [] and scheduler.pending()
    stream.now = 100.3
    assert scheduler.run_due() is None
    assert ran == ["x"] and action.mark == Mark(0, 100.3, "fault x applied")
    assert lines == [(100.3, "fault", "applied x")] and not scheduler.pending()


def test_an_event_trigger_waits_for_the_event_plus_its_delay(stream) -> None:
    action = action_for(
        "traffic join", "traffic", lambda: None, When("after-event", 0.5, event=ACTIVATED_E1)
    )
    scheduler, lines = scheduler_of(stream, action)
    stream.log(41052, interface="e0")  # another interface: not the trigger
    assert scheduler.run_due() is None  # nothing timed: only an event can wake it
    stream.now = 101.0
    stream.log(41052, interface="e1")
    assert scheduler.run_due() == pytest.approx(101.5)
    stream.now = 101.5
    scheduler.run_due()
    assert action.done and lines == [(101.5, "traffic", "traffic join")]


def test_an_action_after_an_earlier_one_runs_its_delay_after_it(stream) -> None:
    join = Action("traffic join", "traffic", lambda: None, at=0.1)
    leave = action_for(
        "traffic leave",
        "traffic",
        lambda: None,
        When("after-traffic", 0.05, traffic="join"),
        earlier={"join": join},
    )
    scheduler, _ = scheduler_of(stream, join, leave)
    stream.now = 100.1
    assert scheduler.run_due() == pytest.approx(100.15)
    assert join.done and not leave.done
    stream.now = 100.15
    scheduler.run_due()
    assert leave.mark is not None and leave.mark.time == pytest.approx(100.15)


def test_a_failing_action_is_recorded_and_the_others_still_run(stream) -> None:
    def boom() -> str:
        raise OSError("EPERM")

    bad = Action("fault y applied", "fault", boom, at=0.0)
    good = Action("traffic query", "traffic", lambda: "query sent", at=0.0)
    scheduler, lines = scheduler_of(stream, bad, good)
    scheduler.run_due()
    assert isinstance(bad.error, OSError) and bad.done and good.done
    assert lines == [
        (100.0, "fault", "fault y applied FAILED: EPERM"),
        (100.0, "traffic", "query sent"),
    ]


def test_may_come_follows_the_chain_to_an_event_that_can_no_longer_come(stream) -> None:
    join = action_for("join", "traffic", lambda: None, When("after-event", event=ACTIVATED_E1))
    leave = action_for(
        "leave",
        "traffic",
        lambda: None,
        When("after-traffic", 0.1, traffic="join"),
        earlier={"join": join},
    )
    assert leave.may_come(stream, stream.now, lambda: True)
    assert not leave.may_come(stream, stream.now, lambda: False)  # the router is gone
    timed = Action("timed", "traffic", lambda: None, at=9.0)
    assert timed.may_come(stream, stream.now, lambda: False)


def test_a_clear_after_counts_from_the_apply_not_from_the_start(stream) -> None:
    """docs/scenario-format.md: ``clear: {after: 1s}`` is 1 s after the fault was applied (it
    once counted from the router's start, so a late apply could come after its clear)."""
    apply = action_for("fault applied", "fault", lambda: None, When("at", 0.2))
    clear = action_for("fault cleared", "fault", lambda: None, When("after", 1.0), applied=apply)
    assert (clear.at, clear.after, clear.delay) == (None, apply, 1.0)
    assert clear.due_time(stream, 100.0) is None  # not before the fault is in
    apply.mark = Mark(0, 100.7, "fault applied")  # applied late, 0.5 s after it was due
    assert clear.due_time(stream, 100.0) == 101.7


def test_a_clear_after_of_a_before_start_fault_counts_from_the_start(stream) -> None:
    clear = action_for("fault cleared", "fault", lambda: None, When("after", 1.0))
    assert clear.due_time(stream, 100.0) == 101.0


def test_a_trigger_it_cannot_schedule_is_a_harness_bug() -> None:
    with pytest.raises(HarnessBug, match="cannot schedule"):
        action_for("traffic leave", "traffic", lambda: None, When("after-traffic", traffic="nope"))
    with pytest.raises(HarnessBug, match="cannot schedule"):
        action_for("fault applied", "fault", lambda: None, When("never"))


def test_the_thread_stops_when_asked_even_with_actions_pending(stream) -> None:
    scheduler, _ = scheduler_of(stream, Action("later", "fault", lambda: None, at=3600.0))
    scheduler.start()
    scheduler.stop()
    assert scheduler.pending()
