"""A router's log lines, read the way runs read them: the ONE place ``reproduce`` gets a router's
patterns, and the table that tells which router wrote a pasted log.

One table, read both ways: a run turns the router's log lines into events with the adapter's
patterns (harness.routers.ADAPTERS[kind], its ``mapper()``); ``faultlab reproduce`` turns a field
log into failures with the very same mapper, obtained only through :func:`line_mapper` (and
:func:`harmless` for the router's known noise). When router profiles (issue 20) carry the
patterns, only these two functions change.

``IDENTITIES`` is identification data, one row per router kind: the program names its syslog,
journal or docker lines carry (``igmpproxy[812]:``, FRR's ``PIMD:``), words only it writes, and
the banner that gives its version. It belongs in the router profiles too (issue 20); it lives
here until they exist.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from harness.events import parse_json_line

#: A line -> its section-3 record (id, errno, interface, call ...), or None when nothing maps it.
Mapper = Callable[[str], "dict[str, Any] | None"]


@dataclass(frozen=True)
class Identity:
    """How a router kind shows itself in a pasted log.

    ``tags``: program names in syslog/journal/docker prefixes (``igmpproxy[812]: ``) or FRR's
    daemon prefixes (``PIMD: ``); ``markers``: wording only this router uses; ``version``: a
    banner whose ``version`` group is the release.
    """

    kind: str
    tags: re.Pattern[str]
    markers: re.Pattern[str]
    version: re.Pattern[str] | None = None


IDENTITIES: tuple[Identity, ...] = (
    Identity(
        "igmpproxy",
        re.compile(r"^igmpproxy$", re.IGNORECASE),
        re.compile(r"\bigmpproxy\b|MC-Router API|; Errno\(\d+\)|buildIfVc|adding VIF, Ix"),
        re.compile(r"igmpproxy,?\s+(?:[Vv]ersion\s+)?v?(?P<version>\d+\.\d[\w.~+-]*)", re.I),
    ),
    Identity(
        "smcroute",
        re.compile(r"^smcrouted?$", re.IGNORECASE),
        re.compile(
            r"\bsmcrouted?\b|multicast routing API|\bmrdisc\b|Failed (?:adding|creating) VIF for|"
            r"Kernel does not (?:even )?support",
            re.IGNORECASE,
        ),
        re.compile(r"\bsmcrouted?\s+v?(?P<version>\d+\.\d[\w.~+-]*)", re.IGNORECASE),
    ),
    Identity(
        "pimd",
        re.compile(r"^pimd$"),
        re.compile(
            r"Another multicast routing application|Cannot enable multicast routing in kernel|"
            r"init_igmp\(\)|Installing \S+ \([\d.]+ on subnet|setsockopt MRT_\w+ on vif|"
            r"pimd version|Not allowed to send IGMP message"
        ),
        re.compile(r"\bpimd version (?P<version>\d+\.\d[\w.~+-]*)"),
    ),
    Identity(
        "frr",
        re.compile(r"^(?:pimd|zebra|watchfrr|frr|frrinit\.sh|PIMD?|ZEBRA)$"),
        re.compile(
            r"\[[A-Z0-9]{5}-[A-Z0-9]{5}\]|pim_mroute\.c|pim_sock\.c|pim_iface\.c|FRRouting|"
            r"failure: setsockopt\(fd=|\bPIMD?: |\bZEBRA: |watchfrr"
        ),
        re.compile(
            r"(?:FRRouting\s+v?|\b(?:pimd|zebra|watchfrr)\s+)(?P<version>\d+\.\d+[\w.~+-]*)"
        ),
    ),
    Identity(
        "igmpd",
        re.compile(r"^igmpd$"),
        re.compile(r'"id":\s*41\d{3}|\bigmpd\b'),
    ),
)
BY_KIND: dict[str, Identity] = {identity.kind: identity for identity in IDENTITIES}


def kinds() -> tuple[str, ...]:
    """The router kinds whose pasted logs ``reproduce`` reads, in table order."""
    return tuple(identity.kind for identity in IDENTITIES)


def line_mapper(kind: str) -> Mapper:
    """A fresh mapper for ``kind``'s log lines: the adapter's own (the same patterns, address
    lines and ignore list a run uses), or igmpd's JSON event lines."""
    if kind == "igmpd":
        return _igmpd_record
    adapter = _external(kind)
    return cast(Mapper, adapter.mapper())


def harmless(kind: str) -> re.Pattern[str] | None:
    """The lines ``kind`` writes on every healthy start or stop (the adapter's ignore list)."""
    if kind == "igmpd":
        return None
    return _external(kind).ignore


def ready_id(kind: str) -> int | None:
    """The event that says ``kind`` has started (41010 for most), None when it has none."""
    if kind == "igmpd":
        return None
    return _external(kind).ready_id


def _external(kind: str) -> Any:
    from harness.routers import ADAPTERS
    from harness.routers.external import ExternalAdapter

    adapter = ADAPTERS.get(kind)
    if adapter is None or not issubclass(adapter, ExternalAdapter):
        raise KeyError(f"router kind {kind!r} has no log patterns")
    return adapter(None)


def _igmpd_record(line: str) -> dict[str, Any] | None:
    """igmpd writes its events as JSON lines itself (its ``--event-log``)."""
    text = line.strip()
    if not text.startswith("{"):
        return None
    try:
        record = parse_json_line(text, Path("<field log>"))
    except Exception:  # not igmpd's JSON: the line is simply not one of its events
        return None
    if record is None or not isinstance(record.get("id"), int):
        return None
    return dict(record)
