"""A Linux run's events, the other way round (``faultlab events``): igmpd's event log as Windows
Event XML (to put beside a field export, and read back by ``reproduce``), JSON lines or text."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from json import JSONDecodeError
from pathlib import Path
from typing import Any

from harness import catalog
from harness.artifacts import EVENT_LOG_NAME
from harness.errors import HarnessBug, InputError
from harness.event import parse_json_line
from harness.reproduce.plan import ROUTER_NODE
from harness.winevents import WinEvent, dword, events_xml, system_time

EVENT_LOG_NAMES: tuple[str, ...] = (EVENT_LOG_NAME,)
FORMATS: tuple[str, ...] = ("windows-xml", "json", "text")


def find_event_log(artifacts: str | Path) -> Path:
    """The run's event log in an artifacts directory (events.jsonl, searched below it too)."""
    root = Path(artifacts)
    if root.is_file():
        return root
    if not root.is_dir():
        raise InputError(
            f"{root}: no such artifacts directory (a run's folder, or an events.jsonl)"
        )
    for name in EVENT_LOG_NAMES:
        found = sorted(root.rglob(name))
        if found:
            return found[0]
    raise InputError(f"{root}: no event log ({', '.join(EVENT_LOG_NAMES)}) in this directory")


def read_event_records(path: Path) -> list[dict[str, Any]]:
    """The event records (docs/architecture.md section 3) of a JSON-lines event log, read with
    the parser the event stream uses for igmpd's log (harness.event.parse_json_line)."""
    records: list[dict[str, Any]] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the event log: {exc.strerror}") from exc
    for number, line in enumerate(lines, start=1):
        try:
            record = parse_json_line(line, path)
        except HarnessBug as exc:
            reason = exc.__cause__.msg if isinstance(exc.__cause__, JSONDecodeError) else str(exc)
            raise InputError(f"{path}:{number}: not a JSON event record: {reason}") from exc
        if record is None and not line.strip():
            continue
        if record is None or not isinstance(record.get("id"), int):
            raise InputError(f"{path}:{number}: an event record needs an integer 'id'")
        records.append(dict(record))
    return records


def win_event(record: Mapping[str, Any], computer: str = ROUTER_NODE) -> WinEvent:
    """An event record as the Windows router would have logged it (Winsock code as binary data)."""
    known = catalog.BY_ID.get(int(record["id"]))
    winsock = record.get("winsock")
    if winsock is None and isinstance(record.get("errno"), int):
        winsock = catalog.winsock_code(record["errno"])
    return WinEvent(
        provider=catalog.PROVIDER,
        id=int(record["id"]),
        level=str(record.get("level") or (known.level.value if known else "Information")),
        strings=tuple(str(text) for text in record.get("strings") or ()),
        binary=dword(int(winsock)) if winsock is not None else None,
        error_code=int(winsock) if winsock is not None else None,
        time_created=_system_time(record.get("time")),
        computer=computer,
    )


def _system_time(text: Any) -> str:
    try:
        return system_time(datetime.fromisoformat(str(text)))
    except ValueError:
        return ""


def render_events(
    records: Sequence[Mapping[str, Any]], fmt: str, computer: str = ROUTER_NODE
) -> str:
    """A run's events as Windows Event XML, JSON lines, or one line of text each."""
    if fmt == "windows-xml":
        return events_xml(win_event(record, computer) for record in records)
    if fmt == "json":
        return "".join(json.dumps(dict(record)) + "\n" for record in records)
    if fmt == "text":
        return "".join(_text_line(record) + "\n" for record in records)
    raise InputError(f"unknown format {fmt!r}; valid: {', '.join(FORMATS)}")


def _text_line(record: Mapping[str, Any]) -> str:
    known = catalog.BY_ID.get(int(record["id"]))
    message = record.get("message") or (known.render(record.get("strings") or []) if known else "")
    error = ""
    if isinstance(record.get("errno"), int):
        winsock = record.get("winsock") or catalog.winsock_code(record["errno"])
        error = f" [{catalog.describe_errno(record['errno'])}, Winsock {winsock}]"
    where = f" {record['interface']}" if record.get("interface") else ""
    return (
        f"{record.get('time', '')} {record.get('level', '')} {record['id']} "
        f"{record.get('symbol', '')}{where}: {message}{error}"
    )
