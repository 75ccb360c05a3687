"""The scenario loader: good files become the typed model; bad ones give file:line:column."""

from __future__ import annotations

from pathlib import Path

import pytest
from scenario_samples import TWO_LINKS

from harness.errors import ScenarioError
from harness.scenario import DEFAULT_WITHIN
from harness.scenario_loader import load, load_many, parse_duration, scenario_files

GOOD = (
    """\
name: mrt held
description: >
  Another process holds MRT_INIT.
tags: [bind-conflicts]
"""
    + TWO_LINKS
    + """\
router:
  node: r1
  interfaces: [e0, {name: e1, mode: internal}]
  version: 2
  query_interval: 1s
  query_response_interval: 500ms
  robustness: 9
faults:
  - kind: mrt-held
    clear: {after: 1s}
  - kind: link-down
    interface: e1
    when: {after: {event: IGMPLOG_INTERFACE_RTR_ACTIVATED, interface: e1, delay: 100ms}}
traffic:
  - {node: h2, join: 239.1.1.1, ifname: e0, at: 0.2s, igmp_version: 3}
expect:
  events:
    - {id: 41028, errno: EADDRINUSE, interface: e0, within: 2s}
    - {symbol: IGMPLOG_ACTIVATION_FAILURE_RTR, interface: e0, count: 1}
    - {id: 41019, errno: 10051}
  order: [41028, IGMPLOG_ACTIVATION_FAILURE_RTR]
  absent:
    - {id: 41055, interface: e1}
    - {any_error: true, interface: e1, window: 2s}
  packets:
    - {on: "h2:e0", query: general, version: 2, ttl: 1, router_alert: true, at_least: 2}
    - {on: "h1:e0", none: true, window: 1.5s}
  state:
    interfaces: {e0: inactive, e1: active}
    groups: {e1: [239.1.1.1]}
  router: {running: true}
  recovery:
    events: [{id: 41052, interface: e0, within: 3s}]
"""
)


def line_of(text: str, fragment: str) -> int:
    """1-based line of the first line containing ``fragment``."""
    return next(n for n, line in enumerate(text.splitlines(), 1) if fragment in line)


def column_of(text: str, fragment: str) -> int:
    return text.splitlines()[line_of(text, fragment) - 1].index(fragment) + 1


def write(tmp_path: Path, text: str, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load(path)
    return [f"{where}: {message}" for where, message in caught.value.problems]


def test_a_good_file_becomes_the_typed_model(tmp_path: Path) -> None:
    scenario = load(write(tmp_path, GOOD))
    assert scenario.name == "mrt held"
    assert scenario.description == "Another process holds MRT_INIT."
    assert scenario.tags == ("bind-conflicts",)
    assert scenario.topology.interfaces == {"r1": ("e0", "e1"), "h1": ("e0",), "h2": ("e0",)}
    assert scenario.router.interface_names == ("e0", "e1")
    assert scenario.router.interfaces[1].mode == "internal"
    assert scenario.router.version == 2
    assert scenario.router.timers == {
        "query_interval": 1.0,
        "query_response_interval": 0.5,
        "robustness": 9,
    }


def test_faults_resolve_node_when_and_clear(tmp_path: Path) -> None:
    first, second = load(write(tmp_path, GOOD)).faults
    assert (first.kind, first.node, first.when.kind) == ("mrt-held", "r1", "before-start")
    assert (first.clear.kind, first.clear.seconds) == ("after", 1.0)
    assert second.params == {"interface": "e1"}
    assert second.when.kind == "after-event"
    assert second.when.seconds == pytest.approx(0.1)
    assert second.when.event is not None and second.when.event.id == 41052
    assert second.clear.kind == "never"
    assert second.mapping() == {"kind": "link-down", "interface": "e1"}


def test_event_expectations_resolve_ids_errno_and_defaults(tmp_path: Path) -> None:
    expect = load(write(tmp_path, GOOD)).expect
    mcast, failure, send = expect.events
    assert (mcast.event.id, mcast.event.errno, mcast.event.errno_text, mcast.within) == (
        41028,
        98,
        "EADDRINUSE",
        2.0,
    )
    assert (failure.event.id, failure.count, failure.within) == (41055, 1, DEFAULT_WITHIN)
    assert send.event.errno == 101  # Winsock 10051 is ENETUNREACH
    assert expect.order == (41028, 41055)
    assert mcast.line == line_of(GOOD, "{id: 41028") and failure.line == mcast.line + 1


def test_absence_packets_state_and_recovery(tmp_path: Path) -> None:
    expect = load(write(tmp_path, GOOD)).expect
    assert expect.absent[0].event is not None and expect.absent[0].event.interface == "e1"
    assert expect.absent[1].any_error and expect.absent[1].window == 2.0
    healthy, broken = expect.packets
    assert (healthy.node, healthy.ifname, healthy.version, healthy.at_least) == ("h2", "e0", 2, 2)
    assert broken.none and broken.window == 1.5
    assert expect.state is not None and expect.state.groups == {"e1": ("239.1.1.1",)}
    assert expect.router is not None and expect.router.running is True
    assert expect.recovery is not None and expect.recovery.events[0].within == 3.0


def test_matchers_judge_event_records(tmp_path: Path) -> None:
    expect = load(write(tmp_path, GOOD)).expect
    matcher = expect.events[0].event
    record = {
        "id": 41028,
        "interface": "e0",
        "errno": 98,
        "level": "Error",
        "strings": ["10.0.1.1"],
    }
    assert matcher.matches(record)
    assert not matcher.matches({**record, "errno": 105})
    assert not matcher.matches({**record, "interface": "e1"})
    assert expect.absent[1].matches({"id": 41012, "level": "Error", "interface": "e1"})
    assert not expect.absent[1].matches({"id": 41052, "level": "Information", "interface": "e1"})


def test_the_resolved_scenario_is_plain_data(tmp_path: Path) -> None:
    resolved = load(write(tmp_path, GOOD)).resolved()
    assert resolved["faults"][0]["clear"]["kind"] == "after"
    assert resolved["path"].endswith("scenario.yaml")
    assert resolved["topology"]["parsed"] is None


@pytest.mark.parametrize(
    ("text", "seconds"),
    [(0.5, 0.5), (2, 2.0), ("500ms", 0.5), ("2s", 2.0), ("1.5 s", 1.5), ("1m", 60.0)],
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["soon", "-1s", True, "2 h"])
def test_bad_durations(text: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_on_and_no_stay_words_not_booleans(tmp_path: Path) -> None:
    text = GOOD.replace("name: mrt held", "name: no")
    scenario = load(write(tmp_path, text))
    assert scenario.name == "no"
    assert scenario.expect.packets[0].on == "h2:e0"


def test_every_schema_error_is_reported_with_line_and_column(tmp_path: Path) -> None:
    text = GOOD.replace("  version: 2", "  version: 4").replace("within: 2s}", "witin: 2s}")
    path = write(tmp_path, text)
    found = problems(path)
    version = f"{line_of(text, 'version: 4')}:{column_of(text, 'version: 4') + len('version: ')}"
    witin = f"{line_of(text, 'witin')}:{column_of(text, 'witin')}"
    assert f"{path}:{version}: router.version: 4 is not an IGMP version (valid: 1, 2, 3)" in found
    assert any(
        line.startswith(f"{path}:{witin}: unknown key 'witin'") and "did you mean 'within'?" in line
        for line in found
    )
    assert len(found) == 2


def test_semantic_errors_point_at_the_item(tmp_path: Path) -> None:
    text = GOOD.replace("interface: e0, within: 2s", "interface: e9, within: 2s").replace(
        '{on: "h1:e0", none', '{on: "h3:e0", none'
    )
    path = write(tmp_path, text)
    found = problems(path)
    e9 = f"{line_of(text, 'e9')}:{column_of(text, 'e9')}"
    quoted = '"h3:e0"'
    h3 = f"{line_of(text, quoted)}:{column_of(text, quoted)}"
    assert any(line.startswith(f"{path}:{e9}: ") and "no interface 'e9'" in line for line in found)
    assert any(line.startswith(f"{path}:{h3}: ") and "unknown node 'h3'" in line for line in found)


def test_a_missing_key_misspelt_is_reported_once(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("  node: r1\n  interfaces:", "  node: r1\n  intefaces:"))
    found = problems(path)
    assert len(found) == 1 and "did you mean 'interfaces'?" in found[0]


def test_yaml_syntax_errors_have_a_location(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\ntopology: {nodes: [r1\n")
    (found,) = problems(path)
    assert found.startswith(f"{path}:3:1: YAML syntax:")


def test_load_many_recurses_sorted_and_rejects_duplicate_names(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    write(tmp_path / "b", GOOD, "one.yaml")
    write(tmp_path, GOOD.replace("name: mrt held", "name: other"), "a.yml")
    (tmp_path / "notes.txt").write_text("not a scenario")
    assert [p.name for p in scenario_files([tmp_path])] == ["a.yml", "one.yaml"]
    assert [s.name for s in load_many([tmp_path])] == ["other", "mrt held"]
    write(tmp_path, GOOD, "z.yaml")
    with pytest.raises(ScenarioError, match="name 'mrt held' is also used by"):
        load_many([tmp_path])


def test_the_documented_sample_is_a_valid_scenario(tmp_path: Path) -> None:
    doc = Path(__file__).parents[2] / "docs" / "scenario-format.md"
    sample = doc.read_text().split("```yaml\n", 1)[1].split("```", 1)[0]
    scenario = load(write(tmp_path, sample))
    assert scenario.faults and scenario.expect.events


ISSUE_SAMPLE = """\
name: a second multicast router holds the MRT socket
topology:
  nodes: [r1, h1, h2]
  links:
    - {a: "r1:e0 10.0.1.1/24", b: "h1:e0 10.0.1.2/24"}
    - {a: "r1:e1 10.0.2.1/24", b: "h2:e0 10.0.2.2/24"}
router: {node: r1, interfaces: [e0, e1], version: 3, query_interval: 0.5}
faults:
  - {kind: mrt-held, node: r1}
expect:
  events:
    - {id: 41028, errno: EADDRINUSE, within: 2s}
    - {id: 41055}
"""


def test_the_sample_from_the_scenario_issue_is_valid_as_written(tmp_path: Path) -> None:
    path = tmp_path / "sample.yaml"
    path.write_text(ISSUE_SAMPLE)
    scenario = load(path)
    assert scenario.router.timers["query_interval"] == 0.5
    assert "query_response_interval" not in scenario.router.timers
    assert [e.event.id for e in scenario.expect.events] == [41028, 41055]


def test_a_response_interval_given_must_stay_below_the_query_interval(tmp_path: Path) -> None:
    path = tmp_path / "timers.yaml"
    path.write_text(
        ISSUE_SAMPLE.replace(
            "query_interval: 0.5}", "query_interval: 0.5, query_response_interval: 1}"
        )
    )
    with pytest.raises(ScenarioError, match="query_response_interval 1s must be less than"):
        load(path)
