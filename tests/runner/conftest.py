"""Fixtures for the runner's unit tests: an event log the test writes, and a stream following it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.event import EventSource
from harness.events import EventStream


class EventLog:
    """A fake router event log: the test appends section-3 records as JSON lines."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def write(self, **record: Any) -> None:
        with self.path.open("a") as out:
            out.write(json.dumps(record) + "\n")

    def write_raw(self, text: str) -> None:
        with self.path.open("a") as out:
            out.write(text)


@pytest.fixture
def event_log(tmp_path: Path) -> EventLog:
    return EventLog(tmp_path / "events.jsonl")


@pytest.fixture
def stream(event_log: EventLog) -> Iterator[EventStream]:
    followed = EventStream(EventSource((event_log.path,))).start()
    yield followed
    followed.stop()
