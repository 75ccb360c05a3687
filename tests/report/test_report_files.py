"""report.html, the JUnit links and capture.pcapng of a real run (no browser needed)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from scapy.utils import PcapNgReader

pytestmark = pytest.mark.netns


def test_the_run_writes_one_self_contained_report(sample_run):
    assert sample_run.exit_code == 1, sample_run.output  # one sample fails on purpose
    text = sample_run.report.read_text()
    assert "<style>" in text and "<script>" in text
    assert not re.search(r"""(src|href)=['"]https?:""", text), "the report must not load anything"
    assert "report:" in sample_run.output


def test_overview_counts_are_the_runs(sample_run):
    text = sample_run.report.read_text()
    statuses = [row["status"] for row in sample_run.results()]
    for status in ("passed", "failed"):
        assert f"id='count-{status}'>{statuses.count(status)}<" in text


def test_every_junit_case_names_its_panel(sample_run):
    cases = ET.parse(sample_run.junit).getroot().iter("testcase")
    text = sample_run.report.read_text()
    for case in cases:
        out = case.find("system-out")
        assert out is not None and "report.html#s-" in out.text, ET.tostring(case)[:300]
        anchor = out.text.strip().rsplit("#", 1)[1]
        assert f"id='{anchor}'" in text


def _story(sample_run, name):
    with PcapNgReader(str(sample_run.folder / name / "capture.pcapng")) as reader:
        return list(reader)


def test_pcapng_has_a_block_per_link_and_comments_the_judged_queries(sample_run):
    both = _story(sample_run, "report-fail")  # h2 joins a group: both links carry frames
    assert {p.sniffed_on for p in both} == {"h1:e0", "h2:e0"}
    packets = _story(sample_run, "report-pass")
    commented = [p for p in packets if p.comments]
    assert commented, "the packet expectation's queries carry a comment"
    note = commented[0].comments[0].decode()
    assert "general quer" in note and "report-pass.yaml:" in note and note.endswith("held")
    assert all(p.sniffed_on == "h1:e0" for p in commented)
