"""Report rows, the fault matrix and the Markdown summary."""

from __future__ import annotations

from pathlib import Path

from harness.report import Row, describe, fault_matrix_html, markdown_summary, write_reports
from harness.scenario_loader import load

SCENARIO = """\
name: exact enobufs
topology:
  nodes: [r1, h1]
  links:
    - {a: "r1:e0 10.0.1.1/24", b: "h1:e0 10.0.1.2/24"}
router:
  node: r1
  interfaces: [e0]
faults:
  - {kind: step-error, step: request_multicast, errno: ENOBUFS}
expect:
  events:
    - {id: 41055, interface: e0}
    - {id: 41028, interface: e0, errno: ENOBUFS}
"""


def test_a_row_names_the_step_of_the_socket_event_and_the_cause(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO)
    row = describe(load(path))
    assert row.step == "request_multicast"  # from 41028, not the first (41055, no step)
    assert row.cause == "step-error ENOBUFS"
    assert row.event == "41055 IGMPLOG_ACTIVATION_FAILURE_RTR"
    assert "seccomp" in row.cause_text


def rows() -> list[Row]:
    return [
        Row(
            "a",
            "a.yaml",
            "bind",
            "address-gone",
            "41025 X",
            status="passed",
            duration=0.5,
            artifacts="/tmp/run/a",
        ),
        Row(
            "b",
            "b.yaml",
            "send",
            "link-down",
            "41019 Y",
            status="failed",
            duration=1.0,
            message="x expected",
        ),
        Row("c", "c.yaml", "bind", "address-gone", "41025 X", status="failed", duration=0.7),
        Row("d", "d.yaml", "create_socket", "no-cap-net-raw <b>", "41024 Z", status="skipped"),
    ]


def test_matrix_is_a_step_by_cause_grid_in_catalog_order() -> None:
    html = fault_matrix_html(rows(), base=Path("/tmp/run"))
    assert (
        html.index("<th>create_socket</th>")
        < html.index("<th>bind</th>")
        < html.index("<th>send</th>")
    )
    assert "class='mixed'" in html  # a passed and a failed scenario share bind x address-gone
    assert "href='a/'" in html
    assert "no-cap-net-raw &lt;b&gt;" in html and "<b>" not in html


def test_markdown_summary_counts_and_details() -> None:
    text = markdown_summary(rows())
    assert text.startswith("### faultlab: 4 selected: 3 ran, 1 passed, 2 failed, 1 skipped")
    assert "| b | send | link-down | 41019 Y | **FAIL** | 1.00s |" in text
    assert "<details><summary>b</summary>" in text and "x expected" in text


def test_write_reports(tmp_path: Path) -> None:
    written = write_reports(rows(), tmp_path / "out")
    assert sorted(path.name for path in written.values()) == [
        "fault-matrix.html",
        "results.json",
        "summary.md",
    ]
    assert all(path.is_file() for path in written.values())
