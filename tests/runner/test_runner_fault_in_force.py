"""A fault is in force when the timeline says so (issue 20): ``armed`` follows ``when:``.

The example querier (examples/myquerier) sets IP_MULTICAST_IF once per interface at start-up
and exits 1 when it fails. A step-error on that call ``when: {at: 1.5s}`` comes after the
call: with ``armed`` left at its default the router never sees it; with ``armed: launch`` it
fails from the router's first instruction, and the timeline says so at +0 ms, not at 1.5 s.
The same run shows the exit once, and its event log is the file the router wrote, not an
empty stdout.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness import runner
from harness.faults import resolve
from harness.scenario_loader import load
from tests.explore.helpers import myquerier_scenario

FAULT = {
    "kind": "step-error",
    "step": "request_multicast",
    "call": "IP_MULTICAST_IF",
    "errno": "EADDRNOTAVAIL",
    "interface": "e0",
    "when": {"at": "1.5s"},
}


def test_armed_follows_when_unless_given() -> None:
    assert resolve(FAULT).params["armed"] == "apply"
    assert "armed" not in resolve({**FAULT, "when": "before-start"}).params
    assert "armed" not in resolve({k: v for k, v in FAULT.items() if k != "when"}).params
    assert resolve({**FAULT, "armed": "launch"}).params["armed"] == "launch"
    assert not resolve(FAULT).instantiate().in_force_at_launch()
    assert resolve({**FAULT, "armed": "launch"}).instantiate().in_force_at_launch()


def scenario_with(tmp_path: Path, **fault: object) -> Path:
    path = myquerier_scenario(tmp_path)
    data = yaml.safe_load(path.read_text())
    data["faults"] = [{**FAULT, **fault}]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.mark.netns
def test_a_fault_applied_later_is_not_in_force_from_the_start(tmp_path: Path) -> None:
    verdict = runner.run(load(scenario_with(tmp_path)), runner.RunOptions(tmp_path / "a"))
    assert verdict.passed, [(r.description, r.observed) for r in verdict.results]
    faults = [e.text for e in verdict.entries if e.kind == "fault"]
    assert faults and "in force" not in " ".join(faults)
    assert verdict.artifacts["events"] == "router.stderr"


@pytest.mark.netns
def test_armed_at_launch_is_said_at_the_start_and_the_exit_once(tmp_path: Path) -> None:
    path = scenario_with(tmp_path, armed="launch")
    verdict = runner.run(load(path), runner.RunOptions(tmp_path / "a", keep=True))
    assert not verdict.passed and verdict.router_exit == 1
    start = verdict.started_at
    said = [(e.at - start, e.text) for e in verdict.entries if e.kind == "fault"]
    assert said[0][0] == 0.0 and "in force from the router's start" in said[0][1], said
    exits = [e for e in verdict.entries if "exited with status" in e.text]
    assert len(exits) == 1, exits
    first_error = next(e for e in verdict.entries if e.kind == "event")
    assert exits[0].at - first_error.at < 1.0, "the exit is placed when it happened"
    assert verdict.artifacts["events"] == "router.stderr"
