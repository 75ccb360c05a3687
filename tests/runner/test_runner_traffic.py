"""Traffic triggered by events and by other traffic items, on real namespaces with igmpd.

The join waits for igmpd's 41052 on e1 and the leave for the join (plus a delay), so a slow
router start cannot run them back to back; a trigger that never comes, or a stimulus that fails,
is a failed result of its own instead of a silent gap.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from scenario_samples import TWO_LINKS

from harness.runner import RunOptions, run
from harness.scenario_loader import load
from harness.verdict import TimelineEntry

TOPOLOGY = (
    TWO_LINKS
    + """\
router:
  node: r1
  interfaces: [e0, e1]
  version: 3
  query_interval: 0.5
  query_response_interval: 0.1
  startup_query_interval: 0.05
  startup_query_count: 1
  last_member_query_interval: 0.05
  last_member_query_count: 2
"""
)

EVENT_DRIVEN = f"""\
name: join 0.2 s after e1 is activated, leave 0.15 s after the join
{TOPOLOGY}
traffic:
  - {{id: join, node: h2, join: 239.4.4.4, ifname: e0, after: {{event: 41052, interface: e1, delay: 0.2s}}}}
  - {{node: h2, leave: 239.4.4.4, ifname: e0, after: {{traffic: join, delay: 150ms}}}}
expect:
  packets:
    - {{on: "h2:e0", query: group, group: 239.4.4.4, version: 3, at_least: 2, within: 2s}}
  absent:
    - {{any_error: true}}
"""

NOT_DONE = f"""\
name: a trigger that never comes and a leave without a join
{TOPOLOGY}
traffic:
  - {{node: h2, join: 239.5.5.5, ifname: e0, after: {{event: 41055, interface: e1}}}}
  - {{node: h1, leave: 239.6.6.6, ifname: e0, after: {{event: 41052, interface: e0}}}}
expect:
  events:
    - {{id: 41052, interface: e1, within: 2s}}
"""

pytestmark = [
    pytest.mark.netns,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root for network namespaces"),
]


def _run(name: str, text: str, tmp_path: Path):
    path = tmp_path / name
    path.write_text(text)
    return run(load(path), RunOptions(artifacts_dir=tmp_path / "artifacts", keep=False))


def _first(timeline: list[TimelineEntry], kind: str, fragment: str) -> TimelineEntry:
    return next(entry for entry in timeline if entry.kind == kind and fragment in entry.text)


def test_join_waits_for_its_event_and_leave_for_the_join(tmp_path: Path) -> None:
    verdict = _run("event-driven.yaml", EVENT_DRIVEN, tmp_path)
    assert verdict.passed, verdict.explain()
    timeline = verdict.timeline()
    activated = _first(timeline, "event", "41052 IGMPLOG_INTERFACE_RTR_ACTIVATED e1")
    join = _first(timeline, "traffic", "join 239.4.4.4")
    leave = _first(timeline, "traffic", "leave 239.4.4.4")
    assert join.at - activated.at >= 0.2  # measured from the event, not from the ready router
    assert leave.at - join.at >= 0.15


def test_a_trigger_that_never_comes_and_a_failed_stimulus_fail_the_verdict(
    tmp_path: Path,
) -> None:
    verdict = _run("not-done.yaml", NOT_DONE, tmp_path)
    assert not verdict.passed
    traffic = {r.description: r for r in verdict.results if r.kind == "traffic"}
    never = traffic["traffic h2:e0 join 239.5.5.5 after 41055 IGMPLOG_ACTIVATION_FAILURE_RTR on e1"]
    assert never.observed.startswith("never done: its trigger")
    assert never.line == 1 + next(i for i, t in enumerate(NOT_DONE.splitlines()) if "41055" in t)
    failed = traffic[
        "traffic h1:e0 leave 239.6.6.6 after 41052 IGMPLOG_INTERFACE_RTR_ACTIVATED on e0"
    ]
    assert "without having joined it" in failed.observed
    assert [r.passed for r in verdict.results if r.kind == "event"] == [True]
