"""Expectations match Event objects (harness.expect.event_matches), by the same rules the
scenario model states for records (EventMatcher.matches): checked over a grid of cases."""

from __future__ import annotations

import itertools

import pytest

from harness.catalog import event
from harness.event import Event
from harness.expect import event_matches
from harness.scenario import EventMatcher

RECORDS = [
    {"id": 41028, "interface": "e0", "errno": 98, "level": "Error", "strings": ["10.0.1.1"]},
    {"id": 41028, "interface": "e1", "errno": 1},
    {"id": 41052, "interface": "e0", "strings": ["3", "e0"]},
    {"id": 41055, "level": "error"},
    {"id": 41010},
]
MATCHERS = [
    EventMatcher(ident, event(ident).symbol, interface, errno, None, level, strings)
    for ident, interface, errno, level, strings in itertools.product(
        (41028, 41052, 41055),
        (None, "e0"),
        (None, 98),
        (None, "Error"),
        ((), ("e0",), ("3", "e0"), ("10.0.1.1",)),
    )
]


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: str(r))
def test_an_event_matches_exactly_when_its_record_does(record) -> None:
    seen = Event.from_record(record)
    for matcher in MATCHERS:
        assert event_matches(matcher, seen) == matcher.matches(seen.record()), matcher
