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


def test_a_page_of_sections_alone_has_no_empty_run_counts(tmp_path: Path) -> None:
    """faultlab explore's report.html: its matrices, not '0 ran 0 passed 0 failed' above
    empty scenario sections (issue 20)."""
    section = htmlreport.Section("Explore: call site x errno", "<table></table>", "explore")
    page = htmlreport.write(tmp_path / "report.html", [], [section], title="explore x.yaml")
    text = page.read_text()
    assert "id='explore'" in text and "explore x.yaml" in text
    assert "count-ran" not in text and "id='matrix'" not in text and "id='scenarios'" not in text
    plain = htmlreport.write(tmp_path / "run.html", [_row("a", "passed")]).read_text()
    assert "count-ran" in plain and "id='matrix'" in plain


def test_the_run_counts_are_said_once_and_xdist_s_worker_header_not_at_all() -> None:
    from harness.report import XDIST_HEADER, summary_table

    assert summary_table([_row("a", "passed")]).title is None
    text = "[gw0] linux -- Python 3.11.2 /usr/bin/python3\nscenario x: FAILED\n"
    assert XDIST_HEADER.sub("", text) == "scenario x: FAILED\n"


def test_a_syscall_error_is_shown_under_the_step_of_its_call() -> None:
    """An ioctl SIOCGIFADDR is no catalog step (it was shown under header_include)."""
    from harness.report import _steps_of
    from harness.scenario import FaultSpec

    def steps(**params: object) -> list[str]:
        return _steps_of(FaultSpec("syscall-error", "r1", params=params))

    assert steps(syscall="ioctl", args={"arg1": 0x8915}) == []
    assert steps(syscall="setsockopt", args={"level": 0, "optname": 3}) == ["header_include"]
    assert steps(syscall="setsockopt", args={"level": "IPPROTO_IP", "optname": 32}) == [
        "request_multicast"
    ]
    assert steps(syscall="sendto") == ["send"]
    assert _steps_of(FaultSpec("step-error", "r1", params={"step": "bind"})) == ["bind"]
