"""The report's pieces without a lab: decoding, grouping of skips, sections, anchors."""

from __future__ import annotations

from pathlib import Path

from harness import htmlreport
from harness.capture import Frame, decode
from harness.htmlreport.packets import describe, endpoint_of
from harness.report import Row


def _row(name: str, status: str, message: str = "", cause: str = "mrt-held") -> Row:
    path = f"/s/{name}.yaml"
    return Row(
        name,
        path,
        "request_multicast",
        cause,
        "41028 X",
        status=status,
        message=f"Skipped: {path}: {message}" if message else "",
    )


def test_a_v3_report_is_one_line_with_its_records():
    from scapy.layers.inet import IP
    from scapy.layers.l2 import Ether
    from scapy.utils import checksum

    record = bytes.fromhex("03000002ef0101010a0000050a000006")  # TO_IN, 2 sources
    body = bytes.fromhex("2200") + b"\0\0" + bytes.fromhex("00000001") + record
    body = body[:2] + checksum(body).to_bytes(2, "big") + body[4:]
    ip = IP(src="10.0.2.2", dst="224.0.0.22", ttl=1, proto=2, options=[b"\x94\x04\x00\x00"])
    data = bytes(Ether() / ip / body)
    igmp = decode(Frame(0.0, 0, data, False), "h2:e0")
    line = describe(igmp, data)
    assert line.startswith("v3 report 10.0.2.2 > 224.0.0.22 ttl 1 RA")
    assert line.endswith("TO_IN 239.1.1.1 {10.0.0.5, 10.0.0.6}")


def test_pcap_names_are_endpoints():
    assert endpoint_of(Path("h2-e0.pcap")) == "h2:e0"
    assert endpoint_of(Path("r1-veth-a.pcap")) == "r1:veth-a"


def test_skips_are_grouped_by_reason_without_their_paths(tmp_path):
    rows = [
        _row("a", "skipped", "mrt missing"),
        _row("b", "skipped", "mrt missing"),
        _row("c", "skipped", "router:pimd missing"),
        _row("d", "passed"),
    ]
    text = htmlreport.write(tmp_path / "report.html", rows).read_text()
    assert "2 x mrt missing" in text and "1 x router:pimd missing" in text
    assert "id='count-skipped'>3<" in text and "id='count-ran'>1<" in text


def test_other_commands_add_sections(tmp_path):
    section = htmlreport.Section("Kernel lab", "<table><tr><td>6.1</td></tr></table>")
    text = htmlreport.write(tmp_path / "r.html", [_row("a", "passed")], [section]).read_text()
    assert "<section id='kernel-lab'><h2>Kernel lab</h2><table>" in text


def test_exact_errors_are_errno_chips_in_one_column(tmp_path):
    rows = [
        _row("e1", "passed", cause="step-error EINVAL"),
        _row("e2", "failed", cause="step-error ENOMEM"),
    ]
    text = htmlreport.write(tmp_path / "r.html", rows).read_text()
    assert "exact errors (seccomp)" in text
    assert "data-errno='EINVAL'" in text and "chip failed'>ENOMEM<" in text


def test_anchors_follow_the_artifacts_folder(tmp_path):
    row = Row("x", "/s/x.yaml", "-", "none", "-", artifacts=str(tmp_path / "bind" / "x-y"))
    assert htmlreport.anchor_for(row, tmp_path) == "s-bind-x-y"
