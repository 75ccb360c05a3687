"""Reading Windows event exports: every sample format, and every malformed file with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import catalog
from harness.errors import InputError
from harness.winevents import (
    ExportError,
    error_code_from_binary,
    error_code_from_message,
    parse_event_csv,
    parse_event_xml,
    parse_export,
    read_export,
    strings_from_message,
)

DATA = Path(__file__).parents[1] / "data" / "winevents"
MALFORMED = DATA / "malformed"

# id -> (insertion strings, error code) of the single-event XML samples.
SAMPLES: dict[int, tuple[tuple[str, ...], int]] = {
    41012: (("10.0.1.1",), 10050),
    41019: (("192.168.10.1", "224.0.0.1"), 10065),
    41023: (("10.0.3.1",), 0),
    41024: (("172.16.4.1",), 10024),
    41025: (("198.51.100.7",), 10049),
    41028: (("10.0.1.1",), 10048),
    41029: (("131.107.0.1",), 10022),
    41030: (("10.0.9.1",), 10042),
}

ONE_EVENT = (
    "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
    "<Provider Name='IGMPv2'/><EventID Qualifiers='49152'>41028</EventID><Level>2</Level>"
    "<TimeCreated SystemTime='2026-03-02T08:19:02.000000000Z'/><Computer>RRAS01</Computer>"
    "</System><EventData><Data>10.0.1.1</Data><Binary>40270000</Binary></EventData></Event>"
)


@pytest.mark.parametrize("event_id", sorted(SAMPLES))
def test_xml_sample_of_each_socket_event(event_id: int) -> None:
    (event,) = read_export(DATA / f"{event_id}.xml")
    strings, code = SAMPLES[event_id]
    assert (event.id, event.strings, event.error_code) == (event_id, strings, code)
    assert event.is_igmp
    assert event.level == catalog.BY_ID[event_id].level.value
    assert event.source is not None and event.source.line is not None


@pytest.mark.parametrize("event_id", sorted(SAMPLES))
def test_csv_sample_of_each_socket_event_recovers_strings_but_no_code(event_id: int) -> None:
    (event,) = read_export(DATA / f"{event_id}.csv")
    strings, _ = SAMPLES[event_id]
    assert (event.id, event.strings, event.format) == (event_id, strings, "csv")
    assert event.error_code is None
    assert "CSV carries no binary data" in event.error_note
    assert event.source is not None and event.source.line == 2


def test_binary_data_is_a_little_endian_dword() -> None:
    assert error_code_from_binary(bytes.fromhex("40270000")) == (10048, "")
    assert error_code_from_binary(bytes.fromhex("4027000099")) == (10048, "")
    code, note = error_code_from_binary(bytes.fromhex("4027"))
    assert code is None and "shorter than a DWORD" in note
    assert error_code_from_binary(None)[0] is None


def test_concatenated_events_without_root_keep_their_lines() -> None:
    events = read_export(DATA / "several.xml")
    assert [event.source.line for event in events if event.source] == list(range(1, 12))
    assert [event.id for event in events][:4] == [41010, 41052, 41028, 41055]


def test_root_element_and_declaration_are_accepted() -> None:
    text = f"<?xml version='1.0' encoding='UTF-8'?>\n<Events>\n{ONE_EVENT}\n{ONE_EVENT}\n</Events>"
    events = parse_event_xml(text, "x.xml")
    assert [(e.id, e.error_code, str(e.source)) for e in events] == [
        (41028, 10048, "x.xml:3"),
        (41028, 10048, "x.xml:4"),
    ]


def test_powershell_utf16_export_with_bom() -> None:
    (event,) = read_export(DATA / "41028-utf16.xml")
    assert (event.id, event.strings, event.error_code) == (41028, ("10.0.1.1",), 10048)


def test_manifest_provider_and_rendering_info() -> None:
    (manifest,) = read_export(DATA / "41024.xml")
    assert manifest.provider == catalog.PROVIDER
    (rendered,) = read_export(DATA / "41025.xml")
    assert rendered.message.startswith("IGMP could not bind to port 520")
    assert rendered.strings == ("198.51.100.7",)


def test_events_without_namespace_are_read() -> None:
    text = ONE_EVENT.replace(" xmlns='http://schemas.microsoft.com/win/2004/08/events/event'", "")
    (event,) = parse_event_xml(text)
    assert (event.id, event.error_code) == (41028, 10048)


def test_mixed_export_keeps_the_foreign_events() -> None:
    events = read_export(DATA / "mixed.xml")
    assert [(e.provider, e.id, e.is_igmp) for e in events] == [
        ("Service Control Manager", 7036, False),
        ("IGMPv2", 41029, True),
        ("DVMRP", 41028, False),
    ]


def test_csv_multiline_message_bom_crlf_and_foreign_rows() -> None:
    events = read_export(DATA / "mixed.csv")
    assert [(e.id, e.source.line if e.source else 0) for e in events] == [
        (7036, 2),
        (41028, 3),
        (41028, 4),
        (41055, 5),
        (41019, 6),
    ]
    assert events[0].strings == ()  # not IGMP: no template matching
    assert events[3].strings == ("2", "10.0.1.1")
    assert events[4].strings == ("10.0.2.1", "224.0.0.1")


def test_csv_message_that_carries_the_error_code() -> None:
    message = catalog.BY_ID[41028].render(["10.0.1.1"]) + " Error code: 10048."
    text = (
        f"Level,Date and Time,Source,Event ID,Task Category\nError,x,IGMPv2,41028,None,{message!r}"
    )
    (event,) = parse_event_csv(text.replace("'", '"'))
    assert (event.strings, event.error_code, event.error_note) == (("10.0.1.1",), 10048, "")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("error code: 10048", 10048),
        ("The error code is 0x2740.", 10048),
        ("failed with WSAENOBUFS", 10055),
        ("The data is the error code.", None),
        ("on interface 10.0.1.1", None),
    ],
)
def test_error_code_from_message(text: str, code: int | None) -> None:
    assert error_code_from_message(text) == code


def test_template_matching_tolerates_41025_missing_space_and_rejects_other_text() -> None:
    message = "IGMP could not bind to port 520 on the socket for the local interface with IP address: 10.0.1.1. The data is the error code."
    assert strings_from_message(41025, message)[0] == ("10.0.1.1",)
    assert strings_from_message(41028, message) == ((), "")
    assert strings_from_message(49999, message) == ((), "")


@pytest.mark.parametrize(
    ("name", "where", "words"),
    [
        ("truncated.xml", ":3:", "malformed XML"),
        ("bad-eventid.xml", ":2", "<EventID> must be a number, got '4102B'"),
        ("bad-binary.xml", ":1", "<Binary> must be hexadecimal"),
        ("no-system.xml", ":1", "no <System>"),
        ("entities.xml", ":2", "refused XML"),
        ("bad-header.csv", ":1", "expected the header"),
        ("bad-eventid.csv", ":3", "'Event ID' must be a number, got 'forty'"),
        ("short-row.csv", ":2", "got 3"),
        ("not-an-export.txt", ":1", "neither Event XML"),
        ("empty.xml", "", "empty"),
        ("binary.evtx", "", "not UTF-8"),
    ],
)
def test_malformed_exports_raise_a_located_input_error(name: str, where: str, words: str) -> None:
    with pytest.raises(ExportError) as caught:
        read_export(MALFORMED / name)
    message = str(caught.value)
    assert isinstance(caught.value, InputError)
    assert message.startswith(str(MALFORMED / name) + where), message
    assert words in message


def test_missing_file_is_an_input_error() -> None:
    with pytest.raises(ExportError, match="cannot read the export"):
        read_export(DATA / "no-such-export.xml")


def test_first_line_column_is_reported_in_file_coordinates() -> None:
    with pytest.raises(ExportError) as caught:
        parse_export("<Event><System></Event>", "f.xml")
    assert str(caught.value).startswith("f.xml:1:18: malformed XML: mismatched tag")
