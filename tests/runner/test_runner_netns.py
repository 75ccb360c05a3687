"""End to end on real namespaces: igmpd under a real fault, artifacts, and nothing left behind."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from scenario_samples import CREATE_SOCKET_REFUSED, MRT_HELD, TWO_LINKS

from harness.runner import RunOptions, run
from harness.scenario_loader import load

# Written to tmp_path by each test: YAML files under tests/ would be collected as scenarios.
HEALTHY_QUERIES = (
    """\
name: a healthy router queries both links and learns a join
"""
    + TWO_LINKS
    + """\
router:
  node: r1
  interfaces: [e0, e1]
  version: 3
  query_interval: 0.5
  query_response_interval: 0.2
traffic:
  - {node: h2, join: 239.1.1.1, ifname: e0, at: 0.05s}
expect:
  events:
    - {id: 41052, interface: e0, within: 2s}
    - {id: 41052, interface: e1, within: 2s}
  packets:
    - {on: "h2:e0", query: general, version: 3, ttl: 1, router_alert: true, at_least: 1, within: 2s}
    - {on: "h1:e0", query: general, version: 3, at_least: 1, within: 2s}
  state:
    interfaces: {e0: active, e1: active}
    groups: {e1: [239.1.1.1]}
  absent:
    - {any_error: true}
  router: {running: true}
"""
)

WRONG_ERRNO = (
    """\
name: deliberately wrong errno (must fail)
description: socket() refused with ENOBUFS, but the expectation names EACCES; the verdict must fail.
"""
    + TWO_LINKS
    + """\
router:
  node: r1
  interfaces: [e0, e1]
  query_interval: 0.5
  query_response_interval: 0.2
faults:
  - {kind: step-error, step: create_socket, errno: ENOBUFS, nth: 1}
expect:
  events:
    - {id: 41024, errno: EACCES, interface: e0, within: 1s}
"""
)


pytestmark = [
    pytest.mark.netns,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root for network namespaces"),
]


def _run(name: str, text: str, tmp_path: Path):
    path = tmp_path / name
    path.write_text(text)
    return run(load(path), RunOptions(artifacts_dir=tmp_path / "artifacts"))


def test_a_fault_passes_and_leaves_every_artifact(tmp_path: Path) -> None:
    verdict = _run("refused.yaml", CREATE_SOCKET_REFUSED, tmp_path)
    assert verdict.passed, verdict.explain()
    folder = tmp_path / "artifacts" / "refused"
    for name in ("events.jsonl", "router.stdout", "router.stderr", "scenario.json", "verdict.json"):
        assert (folder / name).exists(), name
    assert {p.name for p in folder.glob("*.pcap")} == {"h1-e0.pcap", "h2-e0.pcap"}
    saved = json.loads((folder / "verdict.json").read_text())
    assert saved["status"] == "passed"
    assert any("41024" in entry["text"] for entry in saved["timeline"])
    assert verdict.run_id
    assert not [n for n in os.listdir("/run/netns") if n.startswith(f"fl{verdict.run_id}")]
    assert verdict.router_exit is not None  # the router was stopped and reaped
    router_pid = int(
        next(e for e in saved["timeline"] if "started igmpd" in e["text"])["text"].split()[-1]
    )
    assert not Path(f"/proc/{router_pid}").exists()


@pytest.mark.mrt
def test_mrt_held_passes_with_a_real_bind_conflict(tmp_path: Path) -> None:
    verdict = _run("mrt-held.yaml", MRT_HELD, tmp_path)
    assert verdict.passed, verdict.explain()
    saved = json.loads((tmp_path / "artifacts" / "mrt-held" / "verdict.json").read_text())
    assert any("41028" in entry["text"] for entry in saved["timeline"])


def test_wrong_errno_fails_with_expected_next_to_observed(tmp_path: Path) -> None:
    verdict = _run("wrong-errno.yaml", WRONG_ERRNO, tmp_path)
    assert not verdict.passed
    text = verdict.explain()
    assert "expected: 41024 IGMPLOG_CREATE_SOCKET_FAILED_2 on e0 errno EACCES" in text
    assert "ENOBUFS" in text.split("observed:")[1]
    assert "step-error" in text  # the fault applied
    assert (tmp_path / "artifacts" / "wrong-errno" / "verdict.json").exists()


def test_healthy_router_queries_and_learns_a_join(tmp_path: Path) -> None:
    verdict = _run("healthy-queries.yaml", HEALTHY_QUERIES, tmp_path)
    assert verdict.passed, verdict.explain()
    kinds = {result.kind for result in verdict.results}
    assert {"event", "packet", "state", "router", "absent"} <= kinds
    pcap = (tmp_path / "artifacts" / "healthy-queries" / "h2-e0.pcap").read_bytes()
    assert pcap[:4] == bytes.fromhex("d4c3b2a1") and len(pcap) > 24 + 16


def test_a_feature_the_doctor_finds_missing_skips_the_scenario_with_its_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness import features

    seen = {check.name: check for check in features.run_checks()}
    seen["mrt"] = features.Check("mrt", features.Status.MISSING, "MRT_INIT refused: ENOPROTOOPT")
    monkeypatch.setattr(features, "checks", lambda: tuple(seen.values()))
    verdict = _run("mrt", MRT_HELD, tmp_path)
    assert verdict.skipped, verdict.explain()
    assert "mrt missing: MRT_INIT refused: ENOPROTOOPT" in (verdict.skipped_reason or "")
    assert not list((tmp_path / "artifacts").rglob("events.jsonl")), "the router must not start"
