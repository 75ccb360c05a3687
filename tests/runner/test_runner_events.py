"""EventStream: follows a growing file through inotify, waits with deadlines and marks."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from harness.event import Event, EventPattern
from harness.events import EventStream, EventTimeout


def test_event_written_after_start_is_seen_quickly(stream: EventStream, event_log) -> None:
    written = time.monotonic()
    event_log.write(id=41028, interface="e0", errno=98)
    event = stream.wait_for(EventPattern(id=41028), written + 2)
    assert event.interface == "e0"
    assert event.errno_name == "EADDRINUSE"
    assert event.symbol == "IGMPLOG_SET_MCAST_IF_FAILED"  # filled in from the catalog
    assert event.seen - written < 0.5


def test_waiter_wakes_when_event_arrives_from_another_thread(
    stream: EventStream, event_log
) -> None:
    timer = threading.Timer(0.05, lambda: event_log.write(id=41052, interface="e1"))
    timer.start()
    begun = time.monotonic()
    event = stream.wait_for(EventPattern(id=41052, interface="e1"), begun + 3)
    timer.join()
    assert event.id == 41052
    assert time.monotonic() - begun < 1.0  # woken by inotify, not by the deadline


def test_partial_line_is_not_an_event_until_its_newline(stream: EventStream, event_log) -> None:
    event_log.write_raw('{"id": 41055, "interface": ')
    with pytest.raises(EventTimeout):
        stream.wait_for(EventPattern(id=41055), time.monotonic() + 0.1)
    event_log.write_raw('"e0"}\n')
    assert stream.wait_for(EventPattern(id=41055), time.monotonic() + 2).interface == "e0"


def test_mark_hides_earlier_events_and_timeout_names_what_was_awaited(
    stream: EventStream, event_log
) -> None:
    event_log.write(id=41028, interface="e0", errno=98)
    stream.wait_for(EventPattern(id=41028), time.monotonic() + 2)
    mark = stream.mark("fault applied")
    with pytest.raises(EventTimeout) as caught:
        stream.wait_for(EventPattern(id=41028), time.monotonic() + 0.1, mark, "41028 on e0")
    assert caught.value.awaited == "41028 on e0"
    assert any('"id": 41028' in line for line in caught.value.last_lines)
    assert "41028 on e0" in str(caught.value)


def test_process_exit_wakes_wait_exit(stream: EventStream) -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    stream.watch_process(process.pid)
    assert not stream.wait_exit(process.pid, time.monotonic() + 0.05)
    process.stdin.close()
    assert stream.wait_exit(process.pid, time.monotonic() + 5)
    assert process.wait(timeout=5) == 0


def test_pattern_matches_fields_and_any_error() -> None:
    event = Event.from_record({"id": 41055, "interface": "e0", "strings": ["3", "e0"]})
    assert EventPattern(id=41055, interface="e0", strings=("3", "e0")).matches(event)
    assert not EventPattern(id=41055, interface="e1").matches(event)
    assert EventPattern(errors_only=True).matches(event)  # 41055 is an Error in the catalog
    info = Event.from_record({"id": 41052, "interface": "e0"})
    assert not EventPattern(errors_only=True).matches(info)


def test_stream_reports_a_bad_line_to_waiters(tmp_path) -> None:
    from harness.errors import HarnessBug
    from harness.event import EventSource

    path = tmp_path / "log"
    with EventStream(EventSource((path,))) as followed:
        path.write_text("not json\n")
        with pytest.raises(HarnessBug, match="not a JSON event record"):
            followed.wait_for(EventPattern(id=1), time.monotonic() + 2)
