"""Verdict: explain() shows expected vs observed and the timeline around a failure."""

from __future__ import annotations

import json

from harness.verdict import ExpectationResult, TimelineEntry, Verdict


def _failed_verdict() -> Verdict:
    verdict = Verdict("mrt held", "scenarios/mrt.yaml", passed=False, started_at=100.0)
    verdict.results = [
        ExpectationResult("event 41028 on e0", True, "41028 on e0", "1x", 10),
        ExpectationResult(
            "event 41028 errno",
            False,
            "41028 errno EADDRINUSE",
            "41028 errno ENOBUFS at +3 ms",
            12,
            at=100.05,
        ),
    ]
    verdict.faults = ["mrt-held on r1, before-start"]
    verdict.entries = [
        TimelineEntry(100.0, "router", "started igmpd"),
        TimelineEntry(100.05, "event", "41028 IGMPLOG_SET_MCAST_IF_FAILED e0 ENOBUFS"),
    ]
    return verdict


def test_explain_lists_only_failures_with_expected_and_observed() -> None:
    text = _failed_verdict().explain()
    assert "expected: 41028 errno EADDRINUSE" in text
    assert "observed: 41028 errno ENOBUFS at +3 ms" in text
    assert "scenarios/mrt.yaml:12" in text
    assert "41028 on e0  [" not in text  # the passing expectation is not repeated
    assert "mrt-held on r1" in text
    assert "+50.0 ms" in text


def test_to_json_is_serialisable_with_relative_times() -> None:
    data = json.loads(json.dumps(_failed_verdict().to_json()))
    assert data["status"] == "failed"
    assert data["timeline"][1]["ms"] == 50.0
    assert data["results"][1]["observed"].startswith("41028 errno ENOBUFS")


def test_skipped_verdict_explains_its_reason() -> None:
    verdict = Verdict("x", "x.yaml", passed=False, skipped_reason="nftables missing")
    assert verdict.status == "skipped"
    assert "nftables missing" in verdict.explain()
