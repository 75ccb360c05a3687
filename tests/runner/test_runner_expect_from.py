"""Expectations measured from a traffic item (``from: ID``), without namespaces.

``TrafficStarts`` (the runner's side) turns an id into the mark of the moment that item was
done, waiting while it can still come; ``evaluate`` (expect's side) measures each expectation
from its own mark. A fake event log stands in for the router, hand-made actions for traffic.
"""

from __future__ import annotations

import time

from harness.catalog import event
from harness.event import Mark
from harness.events import EventStream
from harness.expect import Observed, evaluate
from harness.expectations.absent import AbsenceExpectation
from harness.expectations.events import EventExpectation
from harness.judging import TrafficStarts
from harness.scenario import EventMatcher, Expectations, TrafficSpec, When
from harness.schedule import Action, Scheduler

ACTIVATED_E1 = EventMatcher(41052, event(41052).symbol, interface="e1")
JOIN = TrafficSpec(
    "h2", "join", "e0", group="239.1.1.1", id="join", after=When("after-event", event=ACTIVATED_E1)
)
LEAVE = TrafficSpec(
    "h2",
    "leave",
    "e0",
    group="239.1.1.1",
    id="leave",
    after=When("after-traffic", 0.05, traffic="join"),
)


def traffic_actions() -> tuple[Action, Action]:
    """The join (after 41052 on e1) and the leave (50 ms after the join), as _plan_traffic makes them."""
    join = Action("traffic join", "traffic", lambda: None, event=ACTIVATED_E1)
    leave = Action("traffic leave", "traffic", lambda: None, after=join, delay=0.05)
    return join, leave


def starts(
    stream: EventStream, join: Action, leave: Action, *, seconds: float, gone: bool = False
) -> TrafficStarts:
    now = stream.clock()
    return TrafficStarts(stream, [(JOIN, join), (LEAVE, leave)], now, now + seconds, lambda: gone)


def test_the_mark_is_when_the_item_was_done(stream: EventStream, event_log) -> None:
    join, leave = traffic_actions()
    scheduler = Scheduler(stream, stream.clock(), lambda *_: None)
    scheduler.add(join)
    scheduler.add(leave)
    resolve = starts(stream, join, leave, seconds=5)
    scheduler.start()
    try:
        event_log.write(id=41052, interface="e1")
        mark = resolve("leave")  # waits for the event, the join, then the leave's delay
    finally:
        scheduler.stop()
    assert isinstance(mark, Mark) and join.mark is not None
    assert mark.label == "traffic 'leave'"
    assert mark.time - join.mark.time >= 0.05  # the leave ran after its delay, not with the join
    assert mark.index == 1  # the stream's end when the leave ran: after the 41052


def test_an_item_whose_trigger_cannot_come_any_more_never_ran(stream: EventStream) -> None:
    join, leave = traffic_actions()
    begun = time.monotonic()
    reason = starts(stream, join, leave, seconds=5, gone=True)("leave")
    assert reason == (
        "traffic 'leave' never ran (its trigger (after traffic join + 0.05s) never came)"
    )
    assert time.monotonic() - begun < 1  # the router is gone: no wait for the 5 s deadline


def test_an_item_still_possible_is_awaited_until_the_deadline(stream: EventStream) -> None:
    join, leave = traffic_actions()
    begun = time.monotonic()
    reason = starts(stream, join, leave, seconds=0.2)("join")
    assert time.monotonic() - begun >= 0.19
    assert reason == (
        "traffic 'join' never ran (its trigger "
        "(after 41052 IGMPLOG_INTERFACE_RTR_ACTIVATED on e1) never came)"
    )


def test_each_expectation_is_measured_from_its_own_mark(stream: EventStream, event_log) -> None:
    phase = stream.mark("the router's start")
    event_log.write(id=41019, interface="e0")  # before the leave: not in the leave's window
    stream.wait_for(lambda e: e.id == 41019, time.monotonic() + 2)
    leave_done = stream.mark("traffic 'leave'")
    expect = Expectations(
        events=(
            EventExpectation(EventMatcher(41019, event(41019).symbol), within=0.3),
            EventExpectation(
                EventMatcher(41019, event(41019).symbol), within=0.3, from_traffic="leave"
            ),
            EventExpectation(
                EventMatcher(41052, event(41052).symbol), within=5, from_traffic="join"
            ),
        ),
    )
    marks: dict[str, Mark | str] = {"leave": leave_done, "join": "traffic 'join' never ran (...)"}
    begun = time.monotonic()
    from_start, from_leave, from_join = evaluate(expect, Observed(stream), phase, marks.__getitem__)
    assert from_start.passed  # the 41019 came after the router's start
    assert not from_leave.passed and "no event at all after traffic 'leave'" in from_leave.observed
    assert not from_join.passed and from_join.observed == "traffic 'join' never ran (...)"
    assert time.monotonic() - begun < 2  # an expectation without a start does not wait 5 s


def test_a_window_judged_after_it_closed_ignores_what_came_later(
    stream: EventStream, event_log
) -> None:
    phase = stream.mark("the router's start")
    # The query was done a second ago: its 0.1 s window closed long before the error below.
    query_done = Mark(phase.index, phase.time - 1.0, "traffic 'query'")
    expect = Expectations(
        events=(EventExpectation(EventMatcher(41052, event(41052).symbol), within=2),),
        absent=(
            AbsenceExpectation(any_error=True, window=0.1, from_traffic="query"),
            AbsenceExpectation(any_error=True, window=0.5),
        ),
    )
    event_log.write(id=41055, interface="e0", level="Error")
    event_log.write(id=41052, interface="e0")
    # The event check passes first; the absences are judged with the error already read.
    activated, after_query, after_start = evaluate(
        expect, Observed(stream), phase, {"query": query_done}.get
    )
    assert activated.passed, activated.observed
    assert after_query.passed, after_query.observed  # the error is not in the query's window
    assert not after_start.passed and "41055" in after_start.observed  # but in the phase's
