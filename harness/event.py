"""The event model: what a router reported, as the harness reads it (docs/architecture.md 3, 6).

``Event`` is one section-3 record plus when the harness saw it; ``EventSource`` is what a router
adapter hands the follower (its files and how a line becomes a record; ``parse_json_line`` for
igmpd's JSON lines); ``LogLine`` one raw line read; ``Mark`` a point in the stream;
``EventPattern`` what an awaited event looks like. No I/O here: the file follower that fills
these is harness/events.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.catalog import Event as CatalogEvent
from harness.catalog import errno_name
from harness.catalog import event as catalog_event
from harness.errors import HarnessBug

Clock = Callable[[], float]
LineParser = Callable[[str, Path], Mapping[str, Any] | None]


@dataclass(frozen=True)
class Event:
    """One event the router reported: the fields of igmpd's event log, plus when the harness saw it.

    ``seen`` is the harness's monotonic clock at the moment the line was read (so latencies and
    windows are measured on one clock), ``raw`` the line as written, ``index`` the position in
    the stream (what a ``Mark`` compares against). ``name`` is the event of a router profile's
    own vocabulary (``cannot-join``), with ``id`` the catalog event it stands for, or 0.
    """

    id: int
    symbol: str
    level: str
    interface: str | None = None
    strings: tuple[str, ...] = ()
    message: str = ""
    step: str | None = None
    errno: int | None = None
    errno_name: str | None = None
    winsock: int | None = None
    call: str | None = None
    provider: str = ""
    time: str | None = None
    seen: float = 0.0
    raw: str = ""
    index: int = -1
    name: str | None = None

    @classmethod
    def from_record(
        cls, record: Mapping[str, Any], *, seen: float = 0.0, raw: str = "", index: int = -1
    ) -> Event:
        """Build an Event from a section-3 record; symbol and level default from the catalog."""
        if "id" not in record and "symbol" not in record and "event" not in record:
            raise ValueError(f"event record has neither 'id' nor 'symbol': {raw or record!r}")
        key = record.get("id") or record.get("symbol")
        known = _catalog_entry(key) if key else None
        number = record.get("errno")
        return cls(
            id=int(record.get("id", known.id if known else 0)),
            symbol=str(record.get("symbol", known.symbol if known else "UNKNOWN")),
            level=str(record.get("level", known.level if known else "Information")),
            interface=record.get("interface"),
            strings=tuple(str(item) for item in record.get("strings", ())),
            message=str(record.get("message", "")),
            step=record.get("step", known.step if known else None),
            errno=None if number is None else int(number),
            errno_name=record.get("errno_name") or (None if number is None else errno_name(number)),
            winsock=record.get("winsock"),
            call=record.get("call"),
            provider=str(record.get("provider", "")),
            time=record.get("time"),
            seen=seen,
            raw=raw,
            index=index,
            name=record.get("event"),
        )

    def brief(self) -> str:
        """One line for timelines: ``41028 IGMPLOG_SET_MCAST_IF_FAILED e0 EADDRINUSE``; a
        profile's own event by its name: ``cannot-join (41028) e0 ENOBUFS``."""
        if self.name:
            parts = [f"{self.name} ({self.id})" if self.id else self.name]
        else:
            parts = [str(self.id), self.symbol]
        if self.interface:
            parts.append(self.interface)
        if self.errno is not None:
            parts.append(self.errno_name or str(self.errno))
        if self.call:
            parts.append(f"({self.call})")
        return " ".join(parts)

    def record(self) -> dict[str, Any]:
        """The section-3 record (what the scenario model's matchers read)."""
        return {
            "id": self.id,
            "symbol": self.symbol,
            "level": self.level,
            "interface": self.interface,
            "strings": list(self.strings),
            "step": self.step,
            "errno": self.errno,
            "errno_name": self.errno_name,
            "winsock": self.winsock,
            "call": self.call,
            "event": self.name,
        }

    def to_json(self) -> dict[str, Any]:
        """The record as JSON-ready data (for verdicts)."""
        data = {
            "id": self.id,
            "symbol": self.symbol,
            "level": self.level,
            "interface": self.interface,
            "strings": list(self.strings),
            "errno": self.errno,
            "errno_name": self.errno_name,
            "winsock": self.winsock,
            "call": self.call,
            "event": self.name,
        }
        return {key: value for key, value in data.items() if value not in (None, [])}


def parse_json_line(line: str, path: Path) -> Mapping[str, Any] | None:
    """Line parser for routers that write section-3 JSON lines (igmpd): one record per line."""
    text = line.strip()
    if not text:
        return None
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise HarnessBug(f"{path}: not a JSON event record: {text[:120]!r} ({exc})") from exc
    return record if isinstance(record, dict) else None


@dataclass(frozen=True)
class EventSource:
    """Where a router's events come from: the files to follow and how each line becomes a record.

    A router adapter returns one; ``parse`` maps a line to a section-3 record (a mapping) or to
    ``None`` for lines that are not events.
    """

    paths: tuple[Path, ...]
    parse: LineParser = parse_json_line


@dataclass(frozen=True)
class LogLine:
    """One raw line of the router's log as the stream read it: when, from which file, and
    whether it became an event (``expect: log:`` and the unmapped-lines listing read these)."""

    seen: float
    text: str
    mapped: bool
    path: Path | None = None


@dataclass(frozen=True)
class Mark:
    """A point in the stream: only events with ``index >= mark.index`` count after it."""

    index: int
    time: float
    label: str = ""


@dataclass(frozen=True)
class EventPattern:
    """What an awaited event looks like; every field left ``None`` matches anything."""

    id: int | None = None
    interface: str | None = None
    errno: int | None = None
    level: str | None = None
    strings: tuple[str, ...] | None = None
    step: str | None = None
    errors_only: bool = False

    def matches(self, event: Event) -> bool:
        """Whether ``event`` has every field this pattern names."""
        checks = (
            self.id is None or event.id == self.id,
            self.interface is None or event.interface == self.interface,
            self.errno is None or event.errno == self.errno,
            self.level is None or event.level.lower() == self.level.lower(),
            self.strings is None or _strings_match(self.strings, event.strings),
            self.step is None or event.step == self.step,
            not self.errors_only or event.level.lower() == "error",
        )
        return all(checks)

    __call__ = matches

    def __str__(self) -> str:
        parts = ["any error event" if self.errors_only else "event"]
        if self.id is not None:
            parts.append(f"{self.id} {_symbol(self.id)}")
        if self.interface is not None:
            parts.append(f"on {self.interface}")
        if self.errno is not None:
            parts.append(f"errno {errno_name(self.errno)}")
        if self.level is not None:
            parts.append(f"level {self.level}")
        if self.strings is not None:
            parts.append(f"strings {list(self.strings)}")
        if self.step is not None:
            parts.append(f"step {self.step}")
        return " ".join(parts)


def _strings_match(wanted: tuple[str, ...], actual: tuple[str, ...]) -> bool:
    """Insertion strings match position by position; ``*`` matches anything at its position."""
    if len(wanted) > len(actual):
        return False
    return all(want in ("*", got) for want, got in zip(wanted, actual, strict=False))


def _catalog_entry(key: int | str) -> CatalogEvent | None:
    try:
        return catalog_event(key)
    except KeyError:
        return None


def _symbol(event_id: int) -> str:
    known = _catalog_entry(event_id)
    return known.symbol if known else "(not in the catalog)"
