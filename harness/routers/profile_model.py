"""A router profile's model: the checked, typed form of a profile file (docs/your-router.md).

``Profile`` and its parts (``OwnEvent``, ``ProfilePattern``, ``Ready``, ``QueryPeriod``,
``Example``, ``Identify``), the placeholders and duration units a profile may use, and how an
example's declared event is compared with what its line mapped to. No I/O: reading and checking a
file is harness/routers/profile_load.py; the adapter it becomes is harness/routers/profile.py.
"""

from __future__ import annotations

import math
import re
import signal
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import catalog
from harness.errors import Location
from harness.event import Event
from harness.routers.external import AddressLine, LineMapper, RouterPattern

DEFAULT_FEATURES = ("raw-socket",)
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0}
_DURATION = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m)\s*$")
#: Config templates: a block tag's own line leaves no blank line (as Ansible's templates).
TEMPLATE_WHITESPACE = {"trim_blocks": True, "lstrip_blocks": True}
PLACEHOLDER = re.compile(r"\{([A-Za-z_][\w.]*)\}")
#: Placeholders every argument may use (besides timers and options.NAME).
PLACEHOLDERS = ("program", "interfaces", "workdir", "config", "profile_dir", "version", "node")


# -- the model --------------------------------------------------------------------------------


@dataclass(frozen=True)
class OwnEvent:
    """An event of the router's own vocabulary: its name, level, and the catalog id it stands
    for, if any (then catalog expectations ``id: N`` match it too)."""

    name: str
    level: str
    id: int | None = None
    description: str = ""

    @property
    def is_error(self) -> bool:
        return self.level == catalog.Level.ERROR.value


@dataclass(frozen=True)
class ProfilePattern(RouterPattern):
    """A profile's pattern: a ``RouterPattern`` whose records also name the own event."""

    own: OwnEvent | None = None
    source: str = ""  # the regex as written, for ``faultlab profile check``
    index: int = 0

    def record(self, line: str, book: Any) -> dict[str, Any] | None:
        record = super().record(line, book)
        if record is not None and self.own is not None:
            record["event"] = self.own.name
            record["level"] = self.own.level
            if self.own.id is None:
                record["symbol"] = self.own.name
        return record


@dataclass(frozen=True)
class Ready:
    """When start-up is over: an event (``per_interface``: one on each interface)."""

    id: int | None = None
    event: str | None = None
    interface: str | None = None
    per_interface: bool = False

    def matches(self, event: Event) -> bool:
        if self.event is not None and event.name != self.event:
            return False
        if self.event is None and event.id != self.id:
            return False
        return self.interface is None or event.interface == self.interface


@dataclass(frozen=True)
class QueryPeriod:
    """Seconds between two general queries: fixed, or a timer of the scenario (else a default),
    clamped and rounded as the router does; ``None`` seconds and timer: not known."""

    seconds: float | None = None
    timer: str | None = None
    default: float | None = None
    minimum: float | None = None
    maximum: float | None = None
    rounding: str | None = None  # "nearest" or "up": to whole seconds, before min and max

    def of(self, timers: Mapping[str, float]) -> float | None:
        value = self.seconds
        if self.timer is not None:
            given = timers.get(self.timer, self.default)
            value = None if given is None else float(given)
        if value is None:
            return None
        if self.rounding == "nearest":
            value = float(round(value))
        elif self.rounding == "up":
            value = float(math.ceil(value))
        if self.minimum is not None:
            value = max(self.minimum, value)
        if self.maximum is not None:
            value = min(self.maximum, value)
        return value


@dataclass(frozen=True)
class Example:
    """A log line and what it must map to (nothing, when it names no event)."""

    line: str
    id: int | None = None
    event: str | None = None
    interface: str | None = None
    errno: int | None = None
    call: str | None = None
    strings: tuple[str, ...] | None = None
    where: Location | None = None


@dataclass(frozen=True)
class Identify:
    """How a pasted log shows it was written by this router (``faultlab reproduce``).

    ``tags``: program names in syslog, journal or docker prefixes (``igmpproxy[812]: ``);
    ``markers``: wording only this router writes; ``version``: a banner whose ``version``
    group is the release.
    """

    tags: re.Pattern[str]
    markers: re.Pattern[str] | None = None
    version: re.Pattern[str] | None = None


@dataclass(frozen=True)
class Profile:
    """A router profile, loaded and checked."""

    name: str
    path: Path
    argv: tuple[str | tuple[str, ...], ...]
    description: str = ""
    version: tuple[str, ...] = ()
    binary: str = ""
    programs: tuple[str, ...] = ()
    program_dirs: tuple[str, ...] = ()
    package: str = ""
    package_note: str = ""
    unpacked: bool = False
    config_name: str | None = None
    config_template: str | None = None
    log: tuple[str, ...] = ("stdout", "stderr")  # stdout, stderr, or file names in the workdir
    events: Mapping[str, OwnEvent] = field(default_factory=dict)
    patterns: tuple[ProfilePattern, ...] = ()
    address_lines: tuple[AddressLine, ...] = ()
    ignore: re.Pattern[str] | None = None
    ready: Ready | None = None
    query_period: QueryPeriod | None = None
    timers: Mapping[str, float] = field(default_factory=dict)
    features: tuple[str, ...] = DEFAULT_FEATURES
    exit_codes: Mapping[int, str] = field(default_factory=dict)
    stop_signal: int = signal.SIGTERM
    start_timeout: float = 5.0
    compare_window: float = 4.0
    querier: bool = True
    comparable: bool = False
    hooks: str | None = None
    examples: tuple[Example, ...] = ()
    identify: Identify | None = None

    @property
    def folder(self) -> Path:
        return self.path.parent

    def mapper(self) -> LineMapper:
        """A fresh LineMapper over this profile's patterns (its own address book)."""
        return LineMapper(self.name, self.patterns, self.address_lines, self.ignore)

    def error_events(self) -> tuple[str, ...]:
        """The names of its own events at level Error (explore classes them as errors)."""
        return tuple(name for name, own in self.events.items() if own.is_error)

    def exit_meaning(self, code: int | None) -> str:
        return self.exit_codes.get(code, "") if code is not None else ""


def example_mismatch(example: Example, record: Mapping[str, Any] | None) -> str | None:
    """How ``record`` (what the line mapped to) differs from what the example declares."""
    declared = example.event is not None or example.id is not None
    if record is None:
        return (
            f"{example.line!r} maps to no event, declared {describe_example(example)}"
            if declared
            else None
        )
    got = describe_record(record)
    if not declared:
        return f"{example.line!r} maps to {got}, declared to map to nothing"
    checks = [
        example.event is None or record.get("event") == example.event,
        example.event is not None or record.get("id") == example.id,
        example.interface is None or record.get("interface") == example.interface,
        example.errno is None or record.get("errno") == example.errno,
        example.call is None or record.get("call") == example.call,
        example.strings is None or tuple(record.get("strings") or ()) == example.strings,
    ]
    if all(checks):
        return None
    return f"{example.line!r} maps to {got}, declared {describe_example(example)}"


def describe_example(example: Example) -> str:
    parts = [example.event or str(example.id)]
    if example.interface:
        parts.append(f"on {example.interface}")
    if example.errno is not None:
        parts.append(f"errno {catalog.errno_name(example.errno)}")
    if example.call:
        parts.append(f"call {example.call}")
    if example.strings is not None:
        parts.append(f"strings {list(example.strings)}")
    return " ".join(parts)


def describe_record(record: Mapping[str, Any]) -> str:
    """``cannot-join (41028) on e0 errno ENOBUFS call IP_ADD_MEMBERSHIP``: what a line produced."""
    name = record.get("event")
    number = record.get("id")
    head = f"{name} ({number})" if name and number else (name or f"{number} {_symbol(number)}")
    parts = [head]
    if record.get("interface"):
        parts.append(f"on {record['interface']}")
    if record.get("errno") is not None:
        parts.append(f"errno {catalog.errno_name(record['errno'])}")
    if record.get("call"):
        parts.append(f"call {record['call']}")
    if record.get("strings"):
        parts.append(f"strings {list(record['strings'])}")
    return " ".join(parts)


def _symbol(number: Any) -> str:
    found = catalog.BY_ID.get(number)
    return found.symbol if found else ""


def seconds(value: Any) -> float:
    """Seconds from 0.5, 2, "500ms", "2s", "1m" (the schema checked the form)."""
    if isinstance(value, int | float):
        return float(value)
    found = _DURATION.match(str(value))
    if not found:
        raise ValueError(f"{value!r} is not a duration")
    return float(found.group(1)) * _UNITS[found.group(2)]
