"""The event stream when inotify says nothing (a 9p share into a VM, an NFS workspace): the
timer alone still delivers every event promptly, and sees a state file being rewritten."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from harness import events
from harness.event import EventPattern, EventSource
from harness.events import EventStream


@pytest.fixture
def deaf_inotify(monkeypatch: pytest.MonkeyPatch) -> None:
    """inotify watches that never report anything, as on a 9p share."""
    monkeypatch.setattr(events._Inotify, "watch", lambda self, directory: None)


def _append(path: Path, record: dict[str, object]) -> None:
    with path.open("a") as out:
        out.write(json.dumps(record) + "\n")


def test_events_arrive_through_the_timer_when_inotify_is_deaf(
    tmp_path: Path, deaf_inotify: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(events.POLL_ENV, "0.005")
    log = tmp_path / "events.jsonl"
    with EventStream(EventSource((log,))) as followed:
        assert followed.poll_every == 0.005
        for n in range(20):
            written = time.monotonic()
            _append(log, {"id": 41052, "interface": f"e{n}"})
            event = followed.wait_for(
                EventPattern(id=41052, interface=f"e{n}"), time.monotonic() + 2
            )
            assert event.seen - written < 0.2, f"seen {event.seen - written:.3f} s after writing"


def test_without_the_override_a_local_folder_still_has_a_safety_net(
    tmp_path: Path, deaf_inotify: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(events.POLL_ENV, raising=False)
    log = tmp_path / "events.jsonl"
    with EventStream(EventSource((log,))) as followed:
        _append(log, {"id": 41010})
        followed.wait_for(EventPattern(id=41010), time.monotonic() + 2)


def test_a_rewritten_state_file_is_counted_by_the_timer(
    tmp_path: Path, deaf_inotify: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(events.POLL_ENV, "0.005")
    state = tmp_path / "state.json"
    state.write_text("{}")
    with EventStream(EventSource((tmp_path / "events.jsonl",))) as followed:
        before = followed.changes(state)
        replacement = tmp_path / "state.json.tmp"
        replacement.write_text('{"pid": 1}')
        os.replace(replacement, state)  # how igmpd writes it: a new inode
        assert followed.wait_until(
            lambda: followed.changes(state) > before, time.monotonic() + 2
        ), "the rewrite was never seen"


def test_remote_file_systems_are_polled_often(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(events.POLL_ENV, raising=False)
    monkeypatch.setattr(events, "fs_type", lambda path: 0x01021997)  # V9FS_MAGIC
    assert events.poll_interval([Path("/anywhere")]) == events.REMOTE_POLL
    monkeypatch.setattr(events, "fs_type", lambda path: 0xEF53)  # ext4
    assert events.poll_interval([Path("/anywhere")]) == events.LOCAL_POLL


def test_fs_type_reads_the_kernel_s_magic() -> None:
    assert events.fs_type(Path("/proc")) == 0x9FA0  # PROC_SUPER_MAGIC
    assert events.fs_type(Path("/no/such/folder")) is None
