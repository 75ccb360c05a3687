"""``from: ID`` on expectations: a deadline or window that starts when a traffic item was done.

Good ones become ``from_traffic`` on the event, absence and packet expectations (and say so in
their descriptions); an unknown id, or ``from:`` in recovery, is reported at its
``file:line:column`` with a did-you-mean.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from scenario_samples import TWO_LINKS

from harness.errors import ScenarioError
from harness.scenario_loader import load

HEAD = (
    """\
name: expectations from traffic
"""
    + TWO_LINKS
    + """\
router:
  node: r1
  interfaces: [e0, e1]
  query_interval: 1s
  query_response_interval: 0.5s
"""
)

TRAFFIC = """\
traffic:
  - {id: join, node: h2, join: 239.1.1.1, ifname: e0, after: {event: 41052, interface: e1}}
  - {id: leave, node: h2, leave: 239.1.1.1, ifname: e0, after: {traffic: join, delay: 0.2s}}
  - {id: query, node: h1, query: general, ifname: e0, at: 1s}
"""

GOOD = (
    HEAD
    + TRAFFIC
    + """\
expect:
  events:
    - {id: 41052, interface: e1, within: 2s}
    - {id: 41019, at_least: 1, within: 1s, from: leave}
  absent:
    - {any_error: true, window: 0.5s, from: join}
    - {id: 41017, from: query}
  packets:
    - {on: "h2:e0", query: group, group: 239.1.1.1, at_least: 2, within: 1s, from: leave}
    - {on: "h1:e0", query: general, none: true, window: 0.6s, from: query}
"""
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    return path


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load(write(tmp_path, text))
    return [f"{where}: {message}" for where, message in caught.value.problems]


def at(text: str, fragment: str) -> str:
    """'line:column' of the first occurrence of ``fragment``."""
    lines = text.splitlines()
    number = next(n for n, line in enumerate(lines, 1) if fragment in line)
    return f"{number}:{lines[number - 1].index(fragment) + 1}"


def test_from_names_the_traffic_item_each_expectation_starts_at(tmp_path: Path) -> None:
    expect = load(write(tmp_path, GOOD)).expect
    assert [e.from_traffic for e in expect.events] == [None, "leave"]
    assert [a.from_traffic for a in expect.absent] == ["join", "query"]
    assert [p.from_traffic for p in expect.packets] == ["leave", "query"]
    assert expect.events[1].describe().endswith("within 1s after traffic 'leave'")
    assert expect.absent[0].describe() == "no error event for 0.5s after traffic 'join'"
    assert expect.packets[0].describe().endswith("on h2:e0 within 1s after traffic 'leave'")
    assert expect.packets[1].describe() == (
        "no general query on h1:e0 for 0.6s after traffic 'query'"
    )
    assert "after traffic" not in expect.events[0].describe()


def test_an_unknown_traffic_id_is_reported_at_its_place_with_a_did_you_mean(
    tmp_path: Path,
) -> None:
    text = (
        HEAD
        + TRAFFIC
        + "expect:\n  packets:\n"
        + '    - {on: "h2:e0", query: group, at_least: 1, within: 1s, from: laeve}\n'
    )
    assert problems(tmp_path, text) == [
        f"{tmp_path / 'scenario.yaml'}:{at(text, 'laeve')}: expect.packets[0].from: 'laeve' is "
        "no traffic item's id; did you mean 'leave'? (traffic ids: join, leave, query)"
    ]


def test_each_kind_of_expectation_checks_its_from(tmp_path: Path) -> None:
    text = (
        HEAD
        + TRAFFIC
        + "expect:\n"
        + "  events: [{id: 41052, from: jion}]\n"
        + "  absent: [{any_error: true, from: qurey}]\n"
    )
    found = problems(tmp_path, text)
    assert len(found) == 2
    assert found[0].endswith(
        "expect.events[0].from: 'jion' is no traffic item's id; "
        "did you mean 'join'? (traffic ids: join, leave, query)"
    )
    assert f":{at(text, 'qurey')}: expect.absent[0].from: 'qurey'" in found[1]


def test_from_without_any_traffic_says_there_is_none(tmp_path: Path) -> None:
    text = HEAD + "expect:\n  events: [{id: 41052, from: leave}]\n"
    (found,) = problems(tmp_path, text)
    assert found.endswith(
        "expect.events[0].from: 'leave' is no traffic item's id (traffic ids: none)"
    )


def test_from_in_recovery_is_refused(tmp_path: Path) -> None:
    text = (
        HEAD
        + "faults:\n  - {kind: mrt-held, clear: {after: 1s}}\n"
        + TRAFFIC
        + "expect:\n  recovery:\n    events: [{id: 41052, interface: e0, from: leave}]\n"
    )
    (found,) = problems(tmp_path, text)
    assert found.startswith(f"{tmp_path / 'scenario.yaml'}:{at(text, 'from: leave')}: ")
    assert (
        "expect.recovery.events[0].from: recovery expectations are measured from the last" in found
    )


def test_from_must_be_a_name(tmp_path: Path) -> None:
    text = HEAD + TRAFFIC + "expect:\n  events: [{id: 41052, from: [leave]}]\n"
    (found,) = problems(tmp_path, text)
    assert "expect.events[0].from: expected a string, got a list" in found
