"""Expectation checks against a fake event log and hand-made captures (no namespaces)."""

from __future__ import annotations

import time

from scapy.layers.igmp import IGMP, IGMPv3, IGMPv3_MQ
from scapy.layers.inet import IP, IPOption_Router_Alert
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from harness.capture import Capture, Frame
from harness.events import EventStream
from harness.expect import (
    Observed,
    check_absence,
    check_event,
    check_order,
    check_packets,
    recount_event,
    state_mismatches,
)
from harness.expectations.absent import AbsenceExpectation
from harness.expectations.events import EventExpectation
from harness.expectations.packets import PacketExpectation
from harness.expectations.state import StateExpectation
from harness.routers.base import InterfaceState, RouterState
from harness.scenario import EventMatcher


def matcher(event_id: int, **fields) -> EventMatcher:
    from harness.catalog import event

    return EventMatcher(id=event_id, symbol=event(event_id).symbol, **fields)


def test_expected_event_passes_as_soon_as_it_arrives(stream: EventStream, event_log) -> None:
    mark = stream.mark("fault applied")
    event_log.write(id=41028, interface="e0", errno=98)
    exp = EventExpectation(matcher(41028, interface="e0", errno=98), within=5)
    begun = time.monotonic()
    result = check_event(exp, Observed(stream), mark)
    assert result.passed, result.observed
    assert time.monotonic() - begun < 1  # decided early, not at the 5 s deadline


def test_wrong_errno_fails_showing_the_errno_observed(stream: EventStream, event_log) -> None:
    mark = stream.mark("fault applied")
    event_log.write(id=41028, interface="e0", errno=105)
    exp = EventExpectation(matcher(41028, interface="e0", errno=98), within=0.2, line=7)
    result = check_event(exp, Observed(stream), mark)
    assert not result.passed
    assert "EADDRINUSE" in result.expected
    assert "ENOBUFS" in result.observed
    assert result.line == 7


def test_slow_factor_stretches_the_deadline(stream: EventStream, event_log) -> None:
    mark = stream.mark()
    exp = EventExpectation(matcher(41052), within=0.05)
    begun = time.monotonic()
    result = check_event(exp, Observed(stream, slow=4), mark)
    assert not result.passed
    assert time.monotonic() - begun >= 0.19
    assert "within 0.2s" in result.expected


def test_events_before_the_mark_do_not_count(stream: EventStream, event_log) -> None:
    event_log.write(id=41052, interface="e0")
    stream.wait_for(lambda e: e.id == 41052, time.monotonic() + 2)
    mark = stream.mark()
    result = check_event(EventExpectation(matcher(41052), within=0.05), Observed(stream), mark)
    assert not result.passed


def test_exact_count_exceeded_by_the_end_of_the_phase_fails(stream: EventStream, event_log) -> None:
    mark = stream.mark()
    exp = EventExpectation(matcher(41055, interface="e0"), count=1, within=2)
    event_log.write(id=41055, interface="e0")
    result = check_event(exp, Observed(stream), mark)
    assert result.passed
    event_log.write(id=41055, interface="e0")
    stream.wait_until(lambda: len(stream.events) == 2, time.monotonic() + 2)
    final = recount_event(exp, Observed(stream), mark, result)
    assert not final.passed
    assert "2x" in final.observed


def test_absence_window_fails_early_when_the_event_appears(stream: EventStream, event_log) -> None:
    mark = stream.mark()
    event_log.write(id=41055, interface="e1", level="Error")
    exp = AbsenceExpectation(any_error=True, interface="e1", window=5)
    begun = time.monotonic()
    result = check_absence(exp, Observed(stream), mark)
    assert not result.passed
    assert "41055" in result.observed
    assert time.monotonic() - begun < 1


def test_absence_holds_when_only_other_interfaces_fail(stream: EventStream, event_log) -> None:
    mark = stream.mark()
    event_log.write(id=41055, interface="e0", level="Error")
    result = check_absence(
        AbsenceExpectation(any_error=True, interface="e1", window=0.1), Observed(stream), mark
    )
    assert result.passed


def test_slow_does_not_stretch_a_must_not_happen_window(stream: EventStream, event_log) -> None:
    mark = stream.mark()
    exp = AbsenceExpectation(any_error=True, interface="e1", window=0.1)
    begun = time.monotonic()
    result = check_absence(exp, Observed(stream, slow=20), mark)
    assert result.passed
    assert time.monotonic() - begun < 1.0, "the 0.1 s window was stretched by slow"


def test_order_reports_the_order_seen(stream: EventStream, event_log) -> None:
    mark = stream.mark()
    event_log.write(id=41055, interface="e0")
    event_log.write(id=41028, interface="e0", errno=98)
    stream.wait_until(lambda: len(stream.events) == 2, time.monotonic() + 2)
    result = check_order([41028, 41055], Observed(stream), mark)
    assert not result.passed
    assert result.observed.startswith("41055")
    assert check_order([41055, 41028], Observed(stream), mark).passed


def _query_frame(seen: float, *, version: int = 3, ttl: int = 1, alert: bool = True) -> Frame:
    options = [IPOption_Router_Alert()] if alert else []
    igmp = (
        IGMPv3() / IGMPv3_MQ()
        if version == 3
        else IGMP(type=0x11, mrcode=100 if version == 2 else 0)
    )
    header = IP(src="10.0.2.1", dst="224.0.0.1", ttl=ttl, proto=2, options=options)
    packet = Ether() / header / Raw(bytes(igmp))  # Raw: scapy's IGMP would add Router Alert
    return Frame(seen, time.time_ns(), bytes(packet), outgoing=False)


def _capture_with(stream: EventStream, *frames: Frame) -> Capture:
    capture = Capture(None, "e0", on="h2:e0", condition=stream.condition)
    capture.frames.extend(frames)
    return capture


def test_general_queries_with_the_right_properties_pass(stream: EventStream) -> None:
    mark = stream.mark()
    now = time.monotonic()
    capture = _capture_with(stream, _query_frame(now), _query_frame(now + 0.01))
    exp = PacketExpectation("h2", "e0", version=3, ttl=1, router_alert=True, at_least=2, within=1)
    result = check_packets(exp, Observed(stream, captures={"h2:e0": capture}), mark)
    assert result.passed, result.observed


def test_query_without_router_alert_fails_naming_the_difference(stream: EventStream) -> None:
    mark = stream.mark()
    capture = _capture_with(stream, _query_frame(time.monotonic(), alert=False, version=2))
    exp = PacketExpectation("h2", "e0", version=3, router_alert=True, within=1)
    result = check_packets(exp, Observed(stream, captures={"h2:e0": capture}), mark)
    assert not result.passed
    assert "version 2 (want 3)" in result.observed
    assert "router alert missing" in result.observed


def test_no_queries_expectation_fails_on_a_query(stream: EventStream) -> None:
    mark = stream.mark()
    capture = _capture_with(stream, _query_frame(time.monotonic()))
    exp = PacketExpectation("h2", "e0", none=True, window=1)
    result = check_packets(exp, Observed(stream, captures={"h2:e0": capture}), mark)
    assert not result.passed
    assert "general query" in result.observed


def test_state_mismatches_name_interface_and_groups() -> None:
    state = RouterState(
        {"e0": InterfaceState("e0", False), "e1": InterfaceState("e1", True, ("239.1.1.1",))}
    )
    exp = StateExpectation(
        interfaces={"e0": "active", "e1": "active"}, groups={"e1": ("239.1.1.1", "239.2.2.2")}
    )
    assert state_mismatches(exp, state) == [
        "e0 inactive (want active)",
        "e1 lacks 239.2.2.2 (has ['239.1.1.1'])",
    ]
