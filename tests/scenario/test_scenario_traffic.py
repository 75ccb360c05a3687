"""Traffic triggers in scenario files: ``after: {event: ...}`` and ``after: {traffic: ID}``.

Good items become ``TrafficSpec.after`` (the same When/EventMatcher model as faults' triggers);
bad ones are reported as ``file:line:column: message`` with a did-you-mean.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ScenarioError
from harness.scenario_loader import load

HEAD = """\
name: traffic triggers
topology:
  nodes: [r1, h1, h2]
  links:
    - {a: "r1:e0 10.0.1.1/24", b: "h1:e0 10.0.1.2/24"}
    - {a: "r1:e1 10.0.2.1/24", b: "h2:e0 10.0.2.2/24"}
router:
  node: r1
  interfaces: [e0, e1]
  query_interval: 1s
  query_response_interval: 0.5s
expect:
  router: {running: true}
traffic:
"""

GOOD = HEAD + (
    "  - {id: join, node: h2, join: 239.1.1.1, ifname: e0,"
    " after: {event: IGMPLOG_INTERFACE_RTR_ACTIVATED, interface: e1, delay: 50ms}}\n"
    "  - {node: h2, leave: 239.1.1.1, ifname: e0, after: {traffic: join, delay: 0.2s}}\n"
    "  - {node: h1, query: general, ifname: e0, at: 1s}\n"
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    return path


def problems(tmp_path: Path, items: str) -> tuple[str, list[str]]:
    text = HEAD + items
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as caught:
        load(path)
    return text, [f"{where}: {message}" for where, message in caught.value.problems]


def at(text: str, fragment: str) -> str:
    """'line:column' of the first occurrence of ``fragment``."""
    lines = text.splitlines()
    number = next(n for n, line in enumerate(lines, 1) if fragment in line)
    return f"{number}:{lines[number - 1].index(fragment) + 1}"


def test_event_and_traffic_triggers_become_when_objects(tmp_path: Path) -> None:
    join, leave, query = load(write(tmp_path, GOOD)).traffic
    assert join.id == "join" and join.after is not None
    assert join.after.kind == "after-event" and join.after.seconds == pytest.approx(0.05)
    assert join.after.event is not None
    assert (join.after.event.id, join.after.event.interface) == (41052, "e1")
    assert leave.after is not None and leave.id is None
    assert (leave.after.kind, leave.after.traffic, leave.after.seconds) == (
        "after-traffic",
        "join",
        pytest.approx(0.2),
    )
    assert (query.after, query.at) == (None, 1.0)
    assert leave.describe() == "h2:e0 leave 239.1.1.1 after traffic join + 0.2s"
    assert join.describe().endswith("after 41052 IGMPLOG_INTERFACE_RTR_ACTIVATED on e1 + 0.05s")


def test_an_unknown_event_id_is_reported_at_its_place(tmp_path: Path) -> None:
    text, found = problems(
        tmp_path, "  - {node: h2, join: 239.1.1.1, ifname: e0, after: {event: 41999}}\n"
    )
    assert len(found) == 1
    assert found[0].startswith(f"{tmp_path / 'scenario.yaml'}:{at(text, '41999')}: ")
    assert "traffic[0].after.event" in found[0] and "41999" in found[0]


def test_a_misspelt_event_symbol_gets_a_did_you_mean(tmp_path: Path) -> None:
    text, found = problems(
        tmp_path,
        "  - {node: h2, join: 239.1.1.1, ifname: e0,"
        " after: {event: IGMPLOG_INTERFACE_RTR_ACTIVATE}}\n",
    )
    assert len(found) == 1
    assert "did you mean 'IGMPLOG_INTERFACE_RTR_ACTIVATED'?" in found[0]


def test_an_unknown_interface_names_the_routers_interfaces(tmp_path: Path) -> None:
    text, found = problems(
        tmp_path,
        "  - {node: h2, join: 239.1.1.1, ifname: e0, after: {event: 41052, interface: e1x}}\n",
    )
    assert found == [
        f"{tmp_path / 'scenario.yaml'}:{at(text, 'e1x}')}: traffic[0].after.interface: node 'r1' "
        "has no interface 'e1x'; did you mean 'e1'? (its interfaces: e0, e1)"
    ]


def test_a_misspelt_trigger_key_gets_a_did_you_mean(tmp_path: Path) -> None:
    text, found = problems(
        tmp_path, "  - {node: h2, join: 239.1.1.1, ifname: e0, after: {evnt: 41052}}\n"
    )
    assert len(found) == 1
    assert found[0].startswith(f"{tmp_path / 'scenario.yaml'}:{at(text, 'evnt')}: ")
    assert "unknown key 'evnt' in traffic[0].after; did you mean 'event'?" in found[0]


def test_an_unknown_traffic_id_gets_a_did_you_mean(tmp_path: Path) -> None:
    text, found = problems(
        tmp_path,
        "  - {id: join, node: h2, join: 239.1.1.1, ifname: e0}\n"
        "  - {node: h2, leave: 239.1.1.1, ifname: e0, after: {traffic: jion}}\n",
    )
    assert found == [
        f"{tmp_path / 'scenario.yaml'}:{at(text, 'jion')}: traffic[1].after.traffic: 'jion' is "
        "no traffic item's id; did you mean 'join'? (earlier ids: join)"
    ]


def test_a_trigger_on_a_later_item_is_refused(tmp_path: Path) -> None:
    _, found = problems(
        tmp_path,
        "  - {node: h2, leave: 239.1.1.1, ifname: e0, after: {traffic: join}}\n"
        "  - {id: join, node: h2, join: 239.1.1.1, ifname: e0}\n",
    )
    assert len(found) == 1
    assert "'join' is not an earlier item's id" in found[0]


def test_at_and_after_together_and_a_duplicate_id_are_refused(tmp_path: Path) -> None:
    text, found = problems(
        tmp_path,
        "  - {id: a, node: h2, join: 239.1.1.1, ifname: e0}\n"
        "  - {id: a, node: h2, join: 239.2.2.2, ifname: e0, at: 1s, after: {traffic: a}}\n",
    )
    assert any("traffic[1]: give at: (from the router's start) or after:" in p for p in found)
    assert any(p.endswith("traffic[1].id: 'a' is already the id of traffic[0]") for p in found)


def test_a_delay_past_the_timeout_is_refused(tmp_path: Path) -> None:
    _, found = problems(
        tmp_path,
        "  - {node: h2, join: 239.1.1.1, ifname: e0, after: {event: 41052, delay: 31s}}\n",
    )
    assert len(found) == 1
    assert "traffic[0].after.delay: 31s is longer than the scenario's timeout 30s" in found[0]
