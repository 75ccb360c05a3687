"""Judges a scenario's expectations against what the router did: events, packets, state, exit.

Every check waits on the run's shared Condition (events, packets and process exits all notify
it) with a deadline measured from a ``Mark``, the moment the fault was applied (or the router
started, or the faults were cleared, for recovery). An expectation with ``from: ID`` is measured
from the moment that traffic item was done instead: ``Starts`` asks the runner for that mark
(``TrafficStart``), so the same checks judge it. Deadlines (``within``) are stretched by
``slow``; "must not happen" windows are not (they measure the router's timers). Only
what was seen by its deadline counts, so a check judged after its window closed (the checks run
one after another) still judges that window. A check that can be decided early is (an expected
event arrives, a forbidden one appears); only absence windows and "none" packet windows run to
their end.

Exact counts and absences without a window are judged over the whole phase: the first part of
an exact count is awaited like ``at_least``, and ``finish()`` checks at the phase's end that no
more arrived, so no check needs a settle sleep of its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from harness.capture import Capture, IgmpPacket
from harness.event import Event, LogLine, Mark
from harness.events import EventStream, EventTimeout
from harness.routers.base import RouterState
from harness.scenario import (
    AbsenceExpectation,
    EventExpectation,
    EventMatcher,
    Expectations,
    LogExpectation,
    PacketExpectation,
    RecoveryExpectation,
    RouterExpectation,
    StateExpectation,
    from_text,
)
from harness.verdict import ExpectationResult
from igmpcatalog import Level

Clock = Callable[[], float]
StateReader = Callable[[float], RouterState | None]  # deadline -> the router's state now
# A traffic item's id -> the mark when it was done (waiting for it as long as it can still come),
# or why it never ran ("traffic 'leave' never ran (its trigger (...) never came)").
TrafficStart = Callable[[str], Mark | str]
Startable = EventExpectation | AbsenceExpectation | PacketExpectation
_SHOWN = 4  # observations listed in an "observed" line


@dataclass
class Observed:
    """What expectations read: the event stream, the captures, the router's process and state."""

    stream: EventStream
    captures: Mapping[str, Capture] = field(default_factory=dict)
    slow: float = 1.0
    process: Any = None  # the router's Popen
    read_state: StateReader | None = None
    stderr_path: Any = None  # the router's stderr file, quoted when it exited early

    def router_gone(self) -> bool:
        """True once the router exited and its last lines were read: no more events can come."""
        if self.process is None:
            return False
        exit_seen = self.stream.exits.get(self.process.pid)
        return exit_seen is not None and exit_seen.seen is not None

    def router_note(self) -> str:
        """ "; the router exited with status 2: <last stderr line>" once it is gone, else ""."""
        if not self.router_gone():
            return ""
        code = self.process.poll()
        tail = _last_line(self.stderr_path)
        return f"; the router exited with status {code}" + (f": {tail}" if tail else "")

    @property
    def clock(self) -> Clock:
        return self.stream.clock

    def deadline(self, mark: Mark, seconds: float) -> float:
        """The end of a "within" wait: stretched by ``slow`` for slow runners."""
        return mark.time + seconds * self.slow

    def window_end(self, mark: Mark, seconds: float) -> float:
        """The end of a "must not happen" window: never stretched.

        A window measures the router's own timers (its next query, a timer that must not fire),
        which ``--slow`` does not change; stretching it would make a check stricter on a slow
        runner, not looser.
        """
        return mark.time + seconds

    def ms(self, at: float, mark: Mark) -> str:
        return f"+{(at - mark.time) * 1000:.0f} ms"


@dataclass
class Starts:
    """Where each expectation of a phase is measured from: the phase's mark, or, for one with
    ``from: ID``, the moment that traffic item was done (resolved once per id, on first use)."""

    mark: Mark
    traffic_start: TrafficStart | None = None
    _resolved: dict[str, Mark | str] = field(default_factory=dict)

    def of(self, exp: Any) -> Mark | str:
        """The expectation's mark, or why it has none (its traffic item never ran)."""
        name = getattr(exp, "from_traffic", None)
        if name is None:
            return self.mark
        if name not in self._resolved:
            found = self.traffic_start(name) if self.traffic_start else None
            self._resolved[name] = found or f"traffic {name!r} never ran"
        return self._resolved[name]


_KINDS = {EventExpectation: "event", AbsenceExpectation: "absent", PacketExpectation: "packet"}


def judged(
    check: Callable[[Any, Observed, Mark], ExpectationResult],
    exp: Startable,
    obs: Observed,
    starts: Starts,
) -> ExpectationResult:
    """``check(exp, obs, mark)`` from the expectation's own mark; failed when it has none."""
    start = starts.of(exp)
    if isinstance(start, Mark):
        return check(exp, obs, start)
    kind = _KINDS[type(exp)]
    return ExpectationResult(exp.describe(), False, exp.describe(), start, exp.line, kind)


# -- events -------------------------------------------------------------------------------


def event_matches(matcher: EventMatcher, event: Event) -> bool:
    """Whether ``event`` is what ``matcher`` describes, read from the Event itself: its id, and
    the interface, errno, level and insertion strings the matcher names (each string anywhere)."""
    return (
        (event.name == matcher.name if matcher.name is not None else event.id == matcher.id)
        and (matcher.interface is None or event.interface == matcher.interface)
        and (matcher.errno is None or event.errno == matcher.errno)
        and (matcher.level is None or event.level == matcher.level)
        and all(text in event.strings for text in matcher.strings)
    )


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
    times = ", ".join(obs.ms(e.seen, mark) for e in matches[: _SHOWN * 2])
    return replace(
        result, passed=False, observed=f"{len(matches)}x by the end ({times})", at=matches[-1].seen
    )


def _event_evidence(
    exp: EventExpectation, obs: Observed, mark: Mark, matches: Sequence[Event]
) -> str:
    """What came instead: the same event with other details, else whatever arrived."""
    if matches:
        return f"only {len(matches)}x: " + _listing(matches, obs, mark)
    after = obs.stream.snapshot(mark)
    same = [e for e in after if e.id == exp.event.id]
    if same:
        return "the event with other details: " + _listing(same, obs, mark)
    if after:
        return f"no {exp.event.id}; instead: " + _listing(after, obs, mark) + obs.router_note()
    lines = obs.stream.last_lines()
    tail = f"; last line: {lines[-1][:160]}" if lines else ""
    return f"no event at all after {mark.label or 'the mark'}{tail}{obs.router_note()}"


def _last_line(path: Any) -> str:
    """The last non-empty line of a text file (a router's stderr), shortened; "" if none."""
    try:
        with open(path, "rb") as stream:
            stream.seek(0, 2)
            stream.seek(max(0, stream.tell() - 4096))
            lines = [line for line in stream.read().decode("utf-8", "replace").splitlines() if line]
    except (OSError, TypeError):
        return ""
    return lines[-1][:200] if lines else ""


def _listing(events: Sequence[Event], obs: Observed, mark: Mark) -> str:
    shown = [f"{e.brief()} at {obs.ms(e.seen, mark)}" for e in events[:_SHOWN]]
    more = f" (+{len(events) - _SHOWN} more)" if len(events) > _SHOWN else ""
    return "; ".join(shown) + more


# -- absence ------------------------------------------------------------------------------


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


# -- raw log lines --------------------------------------------------------------------------


def check_log(exp: LogExpectation, obs: Observed, mark: Mark) -> ExpectationResult:
    """A raw log line matching ``exp.regex``: at least / exactly N by the deadline (decided as
    soon as enough arrived), or, with ``absent``, none in the window (failed at the first)."""
    regex = re.compile(exp.regex)
    if exp.absent:
        end = obs.window_end(mark, exp.window) if exp.window is not None else obs.clock()
    else:
        end = obs.deadline(mark, exp.within)
    wanted = 1 if exp.absent else (exp.count if exp.count is not None else exp.at_least)
    found: list[LogLine] = []

    def enough() -> bool:
        found[:] = [
            line
            for line in obs.stream.log_lines(mark.time)
            if line.seen <= end and regex.search(line.text)
        ]
        return len(found) >= wanted

    if exp.absent and exp.window is None:
        enough()  # until the phase ends: what was seen so far (judged last, in finish())
    else:
        obs.stream.wait_until(lambda: enough() or obs.router_gone(), end)
        enough()
    if exp.absent:
        passed = not found
        observed = (
            "none"
            if passed
            else f"{found[0].text.strip()[:160]!r} at {obs.ms(found[0].seen, mark)}"
        )
        at = found[0].seen if found else end
    else:
        passed = len(found) >= wanted and (exp.count is None or len(found) == exp.count)
        if found:
            shown = "; ".join(
                f"{line.text.strip()[:120]!r} at {obs.ms(line.seen, mark)}"
                for line in found[:_SHOWN]
            )
            observed = f"{len(found)}x: {shown}"
        else:
            lines = obs.stream.log_lines(mark.time)
            tail = f"; last line: {lines[-1].text.strip()[:160]!r}" if lines else ""
            observed = f"no such line ({len(lines)} lines read){tail}{obs.router_note()}"
        at = found[wanted - 1].seen if passed else end
    return ExpectationResult(exp.describe(), passed, exp.describe(), observed, exp.line, "log", at)


def recount_log(
    exp: LogExpectation, obs: Observed, mark: Mark, result: ExpectationResult
) -> ExpectationResult:
    """At the phase's end: an exact count of lines must not have been exceeded."""
    if exp.absent or exp.count is None or not result.passed:
        return result
    regex = re.compile(exp.regex)
    found = [line for line in obs.stream.log_lines(mark.time) if regex.search(line.text)]
    if len(found) == exp.count:
        return result
    return replace(result, passed=False, observed=f"{len(found)}x by the end of the phase")


# -- order --------------------------------------------------------------------------------


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


# -- packets ------------------------------------------------------------------------------


def selects(exp: PacketExpectation, packet: IgmpPacket) -> bool:
    """Whether ``packet`` is one of the queries the expectation is about (from the router)."""
    if packet.outgoing or not packet.is_query:
        return False
    if exp.query == "general":
        return packet.is_general_query
    if exp.query == "group":
        return not packet.is_general_query and exp.group in (None, packet.group)
    return True


def violations(exp: PacketExpectation, packet: IgmpPacket) -> list[str]:
    """How ``packet`` differs from the properties every selected packet must have."""
    wrong: list[str] = []
    if exp.version is not None and packet.version != exp.version:
        wrong.append(f"version {packet.version} (want {exp.version})")
    if exp.ttl is not None and packet.ttl != exp.ttl:
        wrong.append(f"ttl {packet.ttl} (want {exp.ttl})")
    if exp.router_alert is not None and packet.router_alert != exp.router_alert:
        wrong.append("router alert " + ("missing" if exp.router_alert else "present"))
    return wrong


def check_packets(exp: PacketExpectation, obs: Observed, mark: Mark) -> ExpectationResult:
    """Queries on a link endpoint: at least / exactly N conforming ones, or none in a window."""
    capture = obs.captures.get(exp.on)
    if capture is None:
        return ExpectationResult(
            exp.describe(), False, exp.describe(), f"no capture on {exp.on}", exp.line, "packet"
        )
    if exp.none:
        return _check_no_packets(exp, capture, obs, mark)
    wanted = exp.count if exp.count is not None else exp.at_least
    deadline = obs.deadline(mark, exp.within)

    def decided(packets: list[IgmpPacket]) -> bool:
        chosen = [p for p in packets if selects(exp, p)]
        return len(chosen) >= wanted or any(violations(exp, p) for p in chosen)

    packets = capture.wait_for_packets(decided, mark.time, deadline)
    chosen = [p for p in packets if p.seen <= deadline and selects(exp, p)]
    bad = [(p, violations(exp, p)) for p in chosen if violations(exp, p)]
    if bad:
        packet, wrong = bad[0]
        observed = f"{packet.brief()} at {obs.ms(packet.seen, mark)}: " + ", ".join(wrong)
        return ExpectationResult(
            exp.describe(), False, exp.describe(), observed, exp.line, "packet", packet.seen
        )
    passed = len(chosen) >= wanted
    if passed:
        observed = f"{len(chosen)} by {obs.ms(chosen[wanted - 1].seen, mark)}"
        at = chosen[wanted - 1].seen
    else:
        observed = _packet_evidence(exp, capture, obs, mark, chosen)
        at = deadline
    return ExpectationResult(
        exp.describe(), passed, exp.describe(), observed, exp.line, "packet", at
    )


def recount_packets(
    exp: PacketExpectation, obs: Observed, mark: Mark, result: ExpectationResult
) -> ExpectationResult:
    """At the phase's end: an exact packet count must not have been exceeded."""
    capture = obs.captures.get(exp.on)
    if exp.count is None or exp.none or not result.passed or capture is None:
        return result
    chosen = [p for p in capture.packets(mark.time) if selects(exp, p)]
    if len(chosen) == exp.count:
        return result
    return replace(result, passed=False, observed=f"{len(chosen)} by the end of the phase")


def _check_no_packets(
    exp: PacketExpectation, capture: Capture, obs: Observed, mark: Mark
) -> ExpectationResult:
    if exp.window is not None:
        deadline = obs.window_end(mark, exp.window)
    else:
        deadline = obs.deadline(mark, exp.within)

    def forbidden(packet: IgmpPacket) -> bool:
        return packet.seen <= deadline and selects(exp, packet) and not violations(exp, packet)

    packets = capture.wait_for_packets(lambda ps: any(map(forbidden, ps)), mark.time, deadline)
    found = next((p for p in packets if forbidden(p)), None)
    if found is None:
        return ExpectationResult(
            exp.describe(), True, exp.describe(), "none", exp.line, "packet", deadline
        )
    observed = f"{found.brief()} at {obs.ms(found.seen, mark)}"
    return ExpectationResult(
        exp.describe(), False, exp.describe(), observed, exp.line, "packet", found.seen
    )


def _packet_evidence(
    exp: PacketExpectation,
    capture: Capture,
    obs: Observed,
    mark: Mark,
    chosen: Sequence[IgmpPacket],
) -> str:
    if chosen:
        return f"only {len(chosen)}"
    others = [p for p in capture.packets(mark.time) if not p.outgoing]
    if not others:
        return f"no IGMP from the router on {exp.on} after {mark.label or 'the mark'}"
    shown = "; ".join(f"{p.brief()} at {obs.ms(p.seen, mark)}" for p in others[:_SHOWN])
    return f"none of that kind; saw: {shown}"


# -- router state and process -------------------------------------------------------------


def state_mismatches(exp: StateExpectation, state: RouterState) -> list[str]:
    """How the router's reported state differs from the expected one."""
    wrong: list[str] = []
    for name, wanted in exp.interfaces.items():
        item = state.interfaces.get(name)
        actual = "absent" if item is None else ("active" if item.active else "inactive")
        if actual != wanted:
            wrong.append(f"{name} {actual} (want {wanted})")
    for name, groups in exp.groups.items():
        item = state.interfaces.get(name)
        have = set(item.groups) if item is not None else set()
        missing = sorted(set(groups) - have)
        if missing:
            wrong.append(f"{name} lacks {', '.join(missing)} (has {sorted(have) or 'none'})")
    return wrong


def check_state(exp: StateExpectation, obs: Observed, since: Mark) -> ExpectationResult:
    """The router's state report matches, re-read on every event/packet until the deadline."""
    description = "router state " + _state_text(exp)
    if obs.read_state is None:
        return ExpectationResult(
            description, False, _state_text(exp), "this router reports no state", exp.line, "state"
        )
    deadline = obs.clock() + exp.within * obs.slow
    observed = "no state report"
    while True:
        state = obs.read_state(deadline)
        if state is not None:
            wrong = state_mismatches(exp, state)
            if not wrong:
                return ExpectationResult(
                    description,
                    True,
                    _state_text(exp),
                    "as expected",
                    exp.line,
                    "state",
                    obs.clock(),
                )
            observed = "; ".join(wrong)
        if obs.clock() >= deadline or not _router_alive(obs):
            return ExpectationResult(
                description, False, _state_text(exp), observed, exp.line, "state", obs.clock()
            )
        _wait_for_activity(obs, deadline)


def _state_text(exp: StateExpectation) -> str:
    parts = [f"{name} {value}" for name, value in exp.interfaces.items()]
    parts += [f"{name} has {', '.join(groups)}" for name, groups in exp.groups.items()]
    return ", ".join(parts) or "(nothing)"


def _router_alive(obs: Observed) -> bool:
    return obs.process is None or obs.process.poll() is None


def _wait_for_activity(obs: Observed, deadline: float) -> None:
    """Block until any event, packet, file change or exit wakes the run (or a short while)."""
    condition = obs.stream.condition
    with condition:
        condition.wait(max(0.0, min(deadline - obs.clock(), 0.1 * obs.slow)))


def check_router(exp: RouterExpectation, obs: Observed, mark: Mark) -> ExpectationResult:
    """The router keeps running, or exits (with the given status) before the deadline."""
    process = obs.process
    if exp.exit is None and exp.running is not False:
        code = process.poll()
        passed = code is None
        observed = "running" if passed else f"exited with status {code}"
        return ExpectationResult(
            "router keeps running", passed, "running", observed, exp.line, "router", obs.clock()
        )
    deadline = obs.deadline(mark, exp.within)
    obs.stream.wait_exit(process.pid, deadline)
    code = process.poll()
    expected = f"exit with status {exp.exit}" if exp.exit is not None else "exit"
    if code is None:
        observed = f"still running after {exp.within * obs.slow:g}s"
        passed = False
    else:
        observed = f"exited with status {code}"
        passed = exp.exit is None or code == exp.exit
    return ExpectationResult(
        f"router {expected}", passed, expected, observed, exp.line, "router", obs.clock()
    )


# -- phases -------------------------------------------------------------------------------


def evaluate(
    expect: Expectations, obs: Observed, mark: Mark, traffic_start: TrafficStart | None = None
) -> list[ExpectationResult]:
    """The fault phase: every expectation except recovery, decided as early as each allows.

    Each is measured from ``mark``, or, with ``from: ID``, from ``traffic_start(ID)``.
    """
    starts = Starts(mark, traffic_start)
    results: list[tuple[Any, ExpectationResult]] = []
    results += [(exp, judged(check_event, exp, obs, starts)) for exp in expect.events]
    # The state is judged before waiting on packets: a group learned from a join must be seen
    # before the packets that follow (a leave's group queries) let it expire.
    if expect.state is not None:
        results.append((expect.state, check_state(expect.state, obs, mark)))
    results += [
        (exp, judged(check_packets, exp, obs, starts)) for exp in expect.packets if not exp.none
    ]
    if expect.router is not None:
        results.append((expect.router, check_router(expect.router, obs, mark)))
    results += [(exp, check_log(exp, obs, mark)) for exp in expect.log if not exp.absent]
    results += [
        (exp, judged(check_absence, exp, obs, starts)) for exp in expect.absent if exp.window
    ]
    results += [(exp, check_log(exp, obs, mark)) for exp in expect.log if exp.absent and exp.window]
    results += [
        (exp, judged(check_packets, exp, obs, starts)) for exp in expect.packets if exp.none
    ]
    return finish(expect, obs, starts, results)


def finish(
    expect: Expectations | RecoveryExpectation,
    obs: Observed,
    starts: Starts,
    results: list[tuple[Any, ExpectationResult]],
) -> list[ExpectationResult]:
    """End of a phase: exact counts re-checked, window-less absences and order judged."""
    final: list[ExpectationResult] = []
    for exp, result in results:
        start = starts.of(exp)
        if isinstance(exp, EventExpectation) and isinstance(start, Mark):
            result = recount_event(exp, obs, start, result)
        elif isinstance(exp, PacketExpectation) and isinstance(start, Mark):
            result = recount_packets(exp, obs, start, result)
        elif isinstance(exp, LogExpectation):
            result = recount_log(exp, obs, starts.mark, result)
        final.append(result)
    final += [judged(check_absence, exp, obs, starts) for exp in expect.absent if not exp.window]
    if isinstance(expect, Expectations):
        final += [
            check_log(exp, obs, starts.mark) for exp in expect.log if exp.absent and not exp.window
        ]
    if isinstance(expect, Expectations) and expect.order:
        final.append(check_order(expect.order, obs, starts.mark, expect.order_line))
    return final


def evaluate_recovery(
    recovery: RecoveryExpectation, obs: Observed, mark: Mark
) -> list[ExpectationResult]:
    """After every fault was cleared: the recovery expectations, measured from the last clear."""
    starts = Starts(mark)  # recovery has no from: (the loader refuses it)
    results: list[tuple[Any, ExpectationResult]] = []
    results += [(exp, check_event(exp, obs, mark)) for exp in recovery.events]
    results += [(exp, check_packets(exp, obs, mark)) for exp in recovery.packets if not exp.none]
    results += [(exp, check_absence(exp, obs, mark)) for exp in recovery.absent if exp.window]
    results += [(exp, check_packets(exp, obs, mark)) for exp in recovery.packets if exp.none]
    return [
        replace(result, description="recovery: " + result.description, kind="recovery")
        for result in finish(recovery, obs, starts, results)
    ]


def latency(expect: Expectations, obs: Observed, mark: Mark) -> float | None:
    """Fault applied -> the first expected event seen by the harness, in seconds."""
    if not expect.events:
        return None
    first = expect.events[0].event
    found = next((e for e in obs.stream.snapshot(mark) if event_matches(first, e)), None)
    return None if found is None else found.seen - mark.time
