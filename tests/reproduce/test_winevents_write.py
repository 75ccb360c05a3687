"""A Linux run's events as Windows Event XML, and back: `faultlab events` and the round trip."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from harness import catalog
from harness.errors import ExitCode, InputError
from harness.reproduce.classify import classify
from harness.reproduce.cli import register
from harness.reproduce.export import find_event_log, read_event_records, render_events, win_event
from harness.reproduce.write import reproduce_export
from harness.winevents import (
    EVENT_NS,
    dword,
    event_element,
    parse_export,
    parse_system_time,
    system_time,
)

RECORDS: list[dict[str, object]] = [
    {"time": "2026-11-25T14:30:00.000100+00:00", "id": 41010, "symbol": "IGMPLOG_IGMP_STARTED",
     "level": "Information", "provider": "igmpd", "strings": []},
    {"time": "2026-11-25T14:30:01.123456+00:00", "id": 41028,
     "symbol": "IGMPLOG_SET_MCAST_IF_FAILED", "level": "Error", "provider": "igmpd",
     "interface": "e0", "strings": ["10.0.1.1"], "step": "request_multicast", "errno": 98,
     "errno_name": "EADDRINUSE", "winsock": 10048, "call": "MRT_INIT"},
    {"time": "2026-11-25T14:30:01.123999+00:00", "id": 41055,
     "symbol": "IGMPLOG_ACTIVATION_FAILURE_RTR", "level": "Error", "provider": "igmpd",
     "interface": "e0", "strings": ["3", "e0"]},
    {"time": "2026-11-25T14:30:02.5+00:00", "id": 41019, "symbol": "IGMPLOG_SENDTO_FAILED",
     "level": "Warning", "provider": "igmpd", "interface": "e1",
     "strings": ["10.0.2.1", "224.0.0.1"], "errno": 101, "errno_name": "ENETUNREACH",
     "winsock": 10051, "call": "sendto"},
]  # fmt: skip


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """An artifacts folder as the runner leaves it: the router's events.jsonl in a subfolder."""
    folder = tmp_path / "artifacts" / "field-41028"
    folder.mkdir(parents=True)
    text = "".join(json.dumps(record) + "\n" for record in RECORDS)
    (folder / "events.jsonl").write_text(text + "\n", encoding="utf-8")
    return tmp_path / "artifacts"


def test_dword_is_little_endian() -> None:
    assert dword(10048).hex() == "40270000"
    assert dword(8).hex() == "08000000"


def test_system_time_is_utc_with_100ns_digits() -> None:
    when = datetime.fromisoformat("2026-11-25T15:30:01.123456+01:00")
    assert system_time(when) == "2026-11-25T14:30:01.1234560Z"
    assert parse_system_time("2026-11-25T14:30:01.1234560Z") == when
    assert parse_system_time("2012-05-10T09:00:03.000000000Z") == datetime(
        2012, 5, 10, 9, 0, 3, tzinfo=UTC
    )
    assert parse_system_time("yesterday") is None


def test_event_element_has_the_windows_layout() -> None:
    element = event_element(win_event(RECORDS[1]), record_id=7)
    assert element.get("xmlns") == EVENT_NS
    system = element.find("System")
    assert system is not None
    provider = system.find("Provider")
    assert provider is not None and provider.get("Name") == catalog.PROVIDER
    event_id = system.find("EventID")
    assert event_id is not None and (event_id.text, event_id.get("Qualifiers")) == (
        "41028",
        "49152",
    )
    assert system.findtext("Level") == "2"
    assert system.findtext("EventRecordID") == "7"
    assert [d.text for d in element.iter("Data")] == ["10.0.1.1"]
    assert element.findtext("EventData/Binary") == "40270000"


def test_levels_follow_the_windows_numbers() -> None:
    levels = [event_element(win_event(r)).findtext("System/Level") for r in RECORDS]
    assert levels == ["4", "2", "2", "3"]


def test_no_binary_without_an_error() -> None:
    assert event_element(win_event(RECORDS[0])).find("EventData/Binary") is None


def test_winsock_is_derived_from_errno_when_the_record_lacks_it() -> None:
    record = {key: value for key, value in RECORDS[1].items() if key != "winsock"}
    assert win_event(record).error_code == 10048


def test_round_trip_records_to_xml_and_back_are_identical() -> None:
    xml = render_events(RECORDS, "windows-xml", computer="r1")
    events = parse_export(xml, "run.xml")
    assert [(e.provider, e.id, e.level, e.strings, e.error_code, e.computer) for e in events] == [
        (catalog.PROVIDER, 41010, "Information", (), None, "r1"),
        (catalog.PROVIDER, 41028, "Error", ("10.0.1.1",), 10048, "r1"),
        (catalog.PROVIDER, 41055, "Error", ("3", "e0"), None, "r1"),
        (catalog.PROVIDER, 41019, "Warning", ("10.0.2.1", "224.0.0.1"), 10051, "r1"),
    ]
    times = [parse_system_time(e.time_created) for e in events]
    assert times == [datetime.fromisoformat(str(r["time"])) for r in RECORDS]


def test_round_trip_reproduce_reads_the_linux_run_back(tmp_path: Path) -> None:
    export = tmp_path / "linux-run.xml"
    export.write_text(render_events(RECORDS, "windows-xml"), encoding="utf-8")
    failures, unmapped = classify(parse_export(export.read_text(), export))
    assert [(f.event.id, str(f.address), f.errno_name) for f in failures] == [
        (41028, "10.0.1.1", "EADDRINUSE"),
        (41019, "10.0.2.1", "ENETUNREACH"),
    ]
    assert [u.event.id for u in unmapped] == [41010, 41055]
    written = reproduce_export(export, tmp_path / "out").written
    assert [w.path.name for w in written] == [
        "41028-e0-EADDRINUSE.yaml",
        "41019-e1-ENETUNREACH.yaml",
    ]


def test_find_event_log_searches_the_artifacts(run_dir: Path) -> None:
    assert find_event_log(run_dir) == run_dir / "field-41028" / "events.jsonl"
    assert find_event_log(run_dir / "field-41028" / "events.jsonl").name == "events.jsonl"
    with pytest.raises(InputError, match="no such artifacts directory"):
        find_event_log(run_dir / "missing")
    empty = run_dir / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match=r"no event log \(events.jsonl\)"):
        find_event_log(empty)


def test_read_event_records_names_the_bad_line(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    log.write_text(json.dumps(RECORDS[0]) + "\n{not json\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"events.jsonl:2: not a JSON event record"):
        read_event_records(log)
    log.write_text('{"time": "x"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"events.jsonl:1: an event record needs an integer 'id'"):
        read_event_records(log)


def test_text_and_json_formats() -> None:
    text = render_events(RECORDS, "text").splitlines()
    assert len(text) == 4
    assert "41028 IGMPLOG_SET_MCAST_IF_FAILED e0:" in text[1]
    assert "EADDRINUSE (Address already in use), Winsock 10048" in text[1]
    lines = render_events(RECORDS, "json").splitlines()
    assert [json.loads(line)["id"] for line in lines] == [41010, 41028, 41055, 41019]
    with pytest.raises(InputError, match="unknown format 'html'"):
        render_events(RECORDS, "html")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="faultlab")
    register(parser.add_subparsers(dest="command"))
    return parser


def test_events_subcommand_writes_windows_xml(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "linux.xml"
    args = _parser().parse_args(["events", "--format", "windows-xml", str(run_dir), "-o", str(out)])
    assert args.handler(args) == ExitCode.OK
    assert [e.id for e in parse_export(out.read_text(), out)] == [41010, 41028, 41055, 41019]
    args = _parser().parse_args(["events", str(run_dir)])
    assert args.handler(args) == ExitCode.OK
    assert "IGMPLOG_SENDTO_FAILED e1" in capsys.readouterr().out
