"""Windows event exports: read them (Event XML, Event Viewer CSV) and write Event XML.

Field failures of the Windows router reach developers as exported event logs. This module knows
those file formats and nothing about scenarios: it turns an export into ``WinEvent`` records (and
records back into Event XML), so that ``harness.reproduce`` can map them to the Linux lab.

Formats read:

* Event XML as ``wevtutil qe System /f:xml`` writes it: one or many ``<Event>`` elements, with a
  root element (``/e:Events``) or without one (concatenated elements, wrapped here before parsing),
  and as PowerShell's ``Get-WinEvent ... | ForEach-Object { $_.ToXml() }`` writes it. UTF-8 or
  UTF-16 (PowerShell's ``Out-File``), with or without a byte order mark. ``RenderingInfo`` is read
  for its message only. Parsing goes through defusedxml: a DTD or an entity is refused.
* The CSV of Event Viewer's "Save All Events As... CSV": header
  ``Level,Date and Time,Source,Event ID,Task Category`` and the rendered message as an extra,
  unnamed last column. CSV carries no insertion strings and no binary data: the strings are
  recovered by matching the catalog's message template, and the error code only when the message
  text happens to contain one (``error code: 10048``, ``WSAEADDRINUSE``).

Every problem that makes a file unreadable raises ``ExportError`` (an ``InputError``: exit 2) with
``file:line`` where the line is known.
"""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from harness import catalog
from harness.errors import InputError, Location

EVENT_NS = "http://schemas.microsoft.com/win/2004/08/events/event"
CSV_HEADER: tuple[str, ...] = ("Level", "Date and Time", "Source", "Event ID", "Task Category")

# Names under which an export shows the RRAS IGMPv2 component: the manifest provider, the legacy
# event source, and Event Viewer's short form (it drops "Microsoft-Windows-" in its Source column).
IGMP_SOURCES: frozenset[str] = frozenset(
    {catalog.PROVIDER, catalog.LEGACY_SOURCE, catalog.PROVIDER.removeprefix("Microsoft-Windows-")}
)

# <Level> numbers of the Windows event schema, and the qualifiers (the severity half of a legacy
# message ID: 0xC000 error, 0x8000 warning, 0x4000 informational) that wevtutil shows on EventID.
LEVEL_BY_NUMBER: dict[int, str] = {
    0: "Information",  # LogAlways: classic event sources with no level
    1: "Critical",
    2: "Error",
    3: "Warning",
    4: "Information",
    5: "Verbose",
}
NUMBER_BY_LEVEL: dict[str, int] = {"Critical": 1, "Error": 2, "Warning": 3, "Information": 4}
QUALIFIERS_BY_LEVEL: dict[str, int] = {"Error": 0xC000, "Warning": 0x8000, "Information": 0x4000}

_XML_DECLARATION = re.compile(r"<\?xml[^>]*\?>")
_WRAPPER = "faultlab-export"


class ExportError(InputError):
    """An export file cannot be read: not XML/CSV, malformed, or missing a required field."""

    def __init__(self, where: Location | str, message: str) -> None:
        self.where = where
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class WinEvent:
    """One Windows event as an export carries it.

    ``strings`` are the insertion strings (%1, %2 ...), ``binary`` the event's binary data, and
    ``error_code`` the DWORD the RRAS router puts there ("The data is the error code"), or None with
    ``error_note`` saying why it is not known. ``source`` is where the event sits in its file.
    """

    provider: str
    id: int
    level: str = ""
    strings: tuple[str, ...] = ()
    binary: bytes | None = None
    error_code: int | None = None
    error_note: str = ""
    time_created: str = ""
    computer: str = ""
    message: str = ""
    source: Location | None = None
    format: str = "xml"

    @property
    def is_igmp(self) -> bool:
        """True for the RRAS IGMPv2 component (DVMRP reuses the IDs: the provider decides)."""
        return self.provider in IGMP_SOURCES

    @property
    def where(self) -> str:
        return str(self.source) if self.source is not None else "?"


@dataclass
class _LocatingTarget:
    """A TreeBuilder target that notes the line of every ``<Event>`` start tag.

    ElementTree elements carry no line numbers; expat knows the current line while it calls the
    target, so the line of each event is recorded as its start tag is seen.
    """

    parser: Any = None
    lines: list[int] = field(default_factory=list)
    builder: ET.TreeBuilder = field(default_factory=ET.TreeBuilder)

    def start(self, tag: str, attrs: dict[str, str]) -> ET.Element:
        if _local(tag) == "Event":
            self.lines.append(self.parser.parser.CurrentLineNumber)
        return self.builder.start(tag, attrs)

    def end(self, tag: str) -> ET.Element:
        return self.builder.end(tag)

    def data(self, text: str) -> None:
        self.builder.data(text)

    def close(self) -> ET.Element:
        return self.builder.close()


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def read_export(path: str | Path) -> list[WinEvent]:
    """Every event in an export file (Event XML or Event Viewer CSV), in file order."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ExportError(str(path), f"cannot read the export: {exc.strerror}") from exc
    return parse_export(decode_export(raw, path), path)


def decode_export(raw: bytes, path: str | Path) -> str:
    """The text of an export: UTF-16 with a BOM (PowerShell Out-File), else UTF-8 (BOM or not)."""
    try:
        if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            return raw.decode("utf-16")
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ExportError(
            str(path), f"not UTF-8 or UTF-16 text (byte {exc.start}): save the export as UTF-8"
        ) from exc


def parse_export(text: str, path: str | Path = "<export>") -> list[WinEvent]:
    """Events from an export's text; the format is told by its first character or header."""
    body = text.lstrip("\ufeff")
    if not body.strip():
        raise ExportError(str(path), "the export is empty: expected Event XML or Event Viewer CSV")
    if body.lstrip().startswith("<"):
        return parse_event_xml(body, path)
    if "," in body.lstrip().splitlines()[0]:
        return parse_event_csv(body, path)
    first = body.lstrip().splitlines()[0][:60]
    raise ExportError(
        Location(path, _first_content_line(body)),
        f"neither Event XML (<Event ...>) nor Event Viewer CSV (header "
        f"{','.join(CSV_HEADER)!r}); the file begins with {first!r}",
    )


def parse_event_xml(text: str, path: str | Path = "<export>") -> list[WinEvent]:
    """Events from Event XML: a root element of events, or bare concatenated ``<Event>``s."""
    root, lines = _parse_wrapped(text, path)
    events = [element for element in root.iter() if _local(element.tag) == "Event"]
    if not events:
        raise ExportError(str(path), "no <Event> element in the XML export")
    return [
        _event_from_element(element, Location(path, line))
        for element, line in zip(events, lines, strict=True)
    ]


def _parse_wrapped(text: str, path: str | Path) -> tuple[ET.Element, list[int]]:
    """Parse the text inside a wrapper root, keeping line numbers as they are in the file."""
    doctype = text.find("<!DOCTYPE")
    if doctype >= 0:
        line = text.count("\n", 0, doctype) + 1
        raise ExportError(
            Location(path, line), "refused XML: a DTD (<!DOCTYPE) has no place in an export"
        )
    body = _XML_DECLARATION.sub(lambda match: " " * len(match.group()), text)
    target = _LocatingTarget()
    parser = SafeET.DefusedXMLParser(target=target, forbid_dtd=True)
    target.parser = parser
    try:
        parser.feed(f"<{_WRAPPER}>{body}</{_WRAPPER}>")
        root = parser.close()
    except ET.ParseError as exc:
        line, column = exc.position
        if line == 1:
            column -= len(_WRAPPER) + 2
        reason = str(exc).split(":")[0]
        raise ExportError(Location(path, line, column + 1), f"malformed XML: {reason}") from exc
    except DefusedXmlException as exc:
        raise ExportError(
            str(path), f"refused XML: {exc} (exports have no DTD or entities)"
        ) from exc
    return root, target.lines


def _event_from_element(element: ET.Element, where: Location) -> WinEvent:
    system = _child(element, "System")
    if system is None:
        raise ExportError(where, "<Event> has no <System> element")
    data = _child(element, "EventData")
    binary = _binary(data, where)
    error_code, note = error_code_from_binary(binary)
    return WinEvent(
        provider=_provider(system),
        id=_event_id(system, where),
        level=_level(system, where),
        strings=_strings(data),
        binary=binary,
        error_code=error_code,
        error_note=note,
        time_created=_attr(system, "TimeCreated", "SystemTime"),
        computer=_text(_child(system, "Computer")),
        message=_text(_child(_child(element, "RenderingInfo"), "Message")),
        source=where,
        format="xml",
    )


def _provider(system: ET.Element) -> str:
    provider = _child(system, "Provider")
    if provider is None:
        return ""
    return provider.get("Name") or provider.get("EventSourceName") or ""


def _event_id(system: ET.Element, where: Location) -> int:
    text = _text(_child(system, "EventID"))
    if not text.isdigit():
        raise ExportError(where, f"<EventID> must be a number, got {text!r}")
    return int(text)


def _level(system: ET.Element, where: Location) -> str:
    text = _text(_child(system, "Level"))
    if not text:
        return ""
    if not text.isdigit():
        raise ExportError(where, f"<Level> must be a number (2 Error, 3 Warning ...), got {text!r}")
    return LEVEL_BY_NUMBER.get(int(text), f"Level {text}")


def _strings(data: ET.Element | None) -> tuple[str, ...]:
    if data is None:
        return ()
    return tuple(_text(item) for item in data if _local(item.tag) == "Data")


def _binary(data: ET.Element | None, where: Location) -> bytes | None:
    text = _text(_child(data, "Binary"))
    if not text:
        return None
    try:
        return bytes.fromhex(text)
    except ValueError as exc:
        raise ExportError(where, f"<Binary> must be hexadecimal bytes, got {text[:40]!r}") from exc


def error_code_from_binary(binary: bytes | None) -> tuple[int | None, str]:
    """The error code in an event's binary data (a little-endian DWORD), or None and why."""
    if binary is None:
        return None, "the event has no binary data"
    if len(binary) < 4:
        return None, f"binary data {binary.hex().upper()!r} is shorter than a DWORD"
    return int.from_bytes(binary[:4], "little"), ""


def parse_event_csv(text: str, path: str | Path = "<export>") -> list[WinEvent]:
    """Events from Event Viewer's CSV (rendered messages only; see the module docstring)."""
    rows = _csv_rows(text, path)
    line, header = next(rows, (1, []))
    if not _is_header(header):
        raise ExportError(Location(path, line), f"expected the header {','.join(CSV_HEADER)!r}")
    events = [_event_from_row(row, Location(path, line)) for line, row in rows]
    if not events:
        raise ExportError(str(path), "the CSV export has a header but no event rows")
    return events


def _csv_rows(text: str, path: str | Path) -> Iterator[tuple[int, list[str]]]:
    """Non-blank CSV rows with the line each begins on (a quoted message may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    start = 1
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                yield start, row
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ExportError(Location(path, reader.line_num), f"malformed CSV: {exc}") from exc


def _event_from_row(row: list[str], where: Location) -> WinEvent:
    if len(row) < len(CSV_HEADER):
        raise ExportError(
            where,
            f"expected {len(CSV_HEADER)} columns ({','.join(CSV_HEADER)}) and the message, "
            f"got {len(row)}",
        )
    level, time_created, source, event_id = (cell.strip() for cell in row[:4])
    if not event_id.isdigit():
        raise ExportError(where, f"column 'Event ID' must be a number, got {event_id!r}")
    message = ",".join(row[len(CSV_HEADER) :]).strip()
    number = int(event_id)
    strings, remainder = (
        strings_from_message(number, message) if source in IGMP_SOURCES else ((), "")
    )
    code = error_code_from_message(remainder if strings else message)
    note = "" if code is not None else "CSV carries no binary data and the message names no error"
    return WinEvent(
        provider=source,
        id=number,
        level=level,
        strings=strings,
        error_code=code,
        error_note=note,
        time_created=time_created,
        message=message,
        source=where,
        format="csv",
    )


def strings_from_message(event_id: int, message: str) -> tuple[tuple[str, ...], str]:
    """Recover insertion strings by matching a catalog template; also the unmatched tail.

    Returns ``((), "")`` when the ID is not in the catalog or the message does not fit its template.
    """
    event = catalog.BY_ID.get(event_id)
    if event is None or not message:
        return (), ""
    match = _template_pattern(event.template).match(_normalise(message))
    if match is None:
        return (), ""
    count = len(match.groups())
    return tuple(match.group(index).strip() for index in range(1, count + 1)), _normalise(message)[
        match.end() :
    ]


def _template_pattern(template: str) -> re.Pattern[str]:
    """A regex for a template: %N becomes a lazy group, whitespace is loose."""
    parts = re.split(r"(%\d)", _normalise(template))
    pattern = "".join(
        "(.+?)" if re.fullmatch(r"%\d", part) else r"\s+".join(map(re.escape, part.split(" ")))
        for part in parts
    )
    return re.compile(pattern + r"(?=\s|$)", re.IGNORECASE | re.DOTALL)


def _normalise(text: str) -> str:
    """Collapse whitespace, and write 'X.The data' (41025's template) as 'X. The data'."""
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"\.(?=The data )", ". ", text)


_CODE_IN_TEXT = re.compile(
    r"\b(?:error(?:\s+code)?|status|code)\s*(?:is\s+|[:=]\s*)?(0x[0-9a-f]{1,8}|\d{1,10})\b",
    re.IGNORECASE,
)
_WSA_NAME = re.compile(r"\bWSA(E[A-Z]+)\b")


def error_code_from_message(text: str) -> int | None:
    """A Winsock code written in a message ("error code: 10048", "0x2740", "WSAEADDRINUSE")."""
    match = _CODE_IN_TEXT.search(text)
    if match is not None:
        return int(match.group(1), 0)
    named = _WSA_NAME.search(text)
    if named is not None:
        return catalog.WINSOCK.get(named.group(1))
    return None


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def event_element(event: WinEvent, record_id: int | None = None) -> ET.Element:
    """The ``<Event>`` element wevtutil would write for this event (classic event layout)."""
    root = ET.Element("Event", {"xmlns": EVENT_NS})
    system = ET.SubElement(root, "System")
    ET.SubElement(
        system, "Provider", {"Name": event.provider, "EventSourceName": catalog.LEGACY_SOURCE}
    )
    qualifiers = QUALIFIERS_BY_LEVEL.get(event.level)
    attrs = {"Qualifiers": str(qualifiers)} if qualifiers is not None else {}
    ET.SubElement(system, "EventID", attrs).text = str(event.id)
    ET.SubElement(system, "Level").text = str(NUMBER_BY_LEVEL.get(event.level, 0))
    ET.SubElement(system, "Task").text = "0"
    ET.SubElement(system, "Keywords").text = "0x80000000000000"
    ET.SubElement(system, "TimeCreated", {"SystemTime": event.time_created})
    if record_id is not None:
        ET.SubElement(system, "EventRecordID").text = str(record_id)
    ET.SubElement(system, "Channel").text = "System"
    ET.SubElement(system, "Computer").text = event.computer
    ET.SubElement(system, "Security")
    data = ET.SubElement(root, "EventData")
    for text in event.strings:
        ET.SubElement(data, "Data").text = text
    if event.binary is not None:
        ET.SubElement(data, "Binary").text = event.binary.hex().upper()
    return root


def events_xml(events: Iterable[WinEvent]) -> str:
    """An ``<Events>`` document, one ``<Event>`` per line, as ``wevtutil qe /f:xml /e:Events``."""
    lines = ['<?xml version="1.0" encoding="utf-8"?>', "<Events>"]
    for record_id, event in enumerate(events, start=1):
        lines.append(ET.tostring(event_element(event, record_id), encoding="unicode"))
    lines.append("</Events>")
    return "\n".join(lines) + "\n"


def dword(code: int) -> bytes:
    """An error code as the four little-endian bytes of a DWORD (10048 -> 40 27 00 00)."""
    return int(code).to_bytes(4, "little")


def system_time(when: datetime) -> str:
    """A TimeCreated SystemTime: UTC, 100-ns digits, 'Z' (2026-11-25T14:30:01.1234560Z)."""
    utc = when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond:06d}0Z"


def parse_system_time(text: str) -> datetime | None:
    """A SystemTime back to an aware datetime (fractions beyond microseconds dropped)."""
    match = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z?", text.strip())
    if match is None:
        return None
    fraction = (match.group(2) or "0")[:6].ljust(6, "0")
    return datetime.fromisoformat(f"{match.group(1)}.{fraction}+00:00")


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def _local(tag: str) -> str:
    """A tag without its namespace ("{ns}Event" -> "Event")."""
    return tag.rsplit("}", 1)[-1]


def _child(element: ET.Element | None, name: str) -> ET.Element | None:
    if element is None:
        return None
    return next((child for child in element if _local(child.tag) == name), None)


def _text(element: ET.Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def _attr(element: ET.Element, child: str, name: str) -> str:
    found = _child(element, child)
    return found.get(name, "") if found is not None else ""


def _is_header(row: list[str]) -> bool:
    cells = [cell.strip().lower() for cell in row[: len(CSV_HEADER)]]
    return cells == [name.lower() for name in CSV_HEADER]


def _first_content_line(text: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            return number
    return 1
