"""An expectation kind is one module: registered in harness.expectations, the schema, the loader,
the judge (harness.expect) and the report (harness.htmlreport.model) pick it up with no edit.

The made-up kind ``chatter`` (the router logs at least N events within a deadline) lives in this
file alone: its model, schema piece, reader, judge and report drawing. It is registered for one
test and unregistered afterwards. No kernel, no root.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness import expectations, schema
from harness.errors import ScenarioError
from harness.event import Mark
from harness.expect import Observed, Starts, evaluate, evaluate_recovery
from harness.expectations.base import FINAL, ExpectationKind, Judgement, Reader
from harness.expectations.recovery import RecoveryExpectation
from harness.htmlreport import model
from harness.report import Row
from harness.scenario_loader import load
from harness.verdict import ExpectationResult
from harness.yamlsource import PathKey

# -- the made-up kind, in one place -----------------------------------------------------------


@dataclass(frozen=True)
class ChatterExpectation:
    """At least ``at_least`` events of any kind within ``within`` seconds of the mark."""

    at_least: int
    within: float = 5.0
    line: int | None = None


def chatter_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["at_least"],
        "properties": {
            "at_least": {"type": "integer", "minimum": 1},
            "within": {"$ref": "#/$defs/duration"},
        },
    }


def read_chatter(b: Reader, path: PathKey, data: Mapping[str, Any]) -> dict[str, Any]:
    if data["at_least"] > 50:
        b.problem(path + ("at_least",), f"{b.dotted(path)}.at_least: at most 50 events")
    within, _ = b.within_and_window(path, data)
    return {"chatter": ChatterExpectation(data["at_least"], within, b.line(path))}


def check_chatter(exp: ChatterExpectation, obs: Observed, mark: Mark) -> ExpectationResult:
    seen = len(obs.stream.snapshot(mark))
    return ExpectationResult(
        f"chatter: at least {exp.at_least} events",
        seen >= exp.at_least,
        f"at least {exp.at_least}",
        f"{seen} events",
        exp.line,
        "chatter",
        obs.clock(),
    )


def judge_chatter(container: Any, obs: Observed, starts: Starts) -> list[Judgement]:
    exp = (container.others or {}).get("chatter")
    if exp is None:
        return []
    return [Judgement(FINAL, exp, lambda: check_chatter(exp, obs, starts.mark))]


CHATTER = ExpectationKind(
    key="chatter", schema=chatter_schema, read=read_chatter, judge=judge_chatter, report="one"
)

# -- the test -----------------------------------------------------------------------------------

SCENARIO = """\
name: a made-up expectation kind
topology:
  nodes: [r1, h1]
  links:
    - {a: "r1:e0 10.0.1.1/24", b: "h1:e0 10.0.1.2/24"}
router: {kind: igmpd, node: r1, interfaces: [e0]}
expect:
  chatter: {at_least: AT_LEAST, within: 2s}
"""


@pytest.fixture
def chatter() -> Iterator[ExpectationKind]:
    expectations.register(CHATTER)
    try:
        yield CHATTER
    finally:
        expectations.unregister(CHATTER.key)


@dataclass
class FakeStream:
    """What the made-up judge reads of an EventStream: the events after a mark, a clock."""

    events: list[str]

    def snapshot(self, after: Mark | None = None) -> list[str]:
        return self.events

    def clock(self) -> float:
        return 100.0


def scenario_file(tmp_path: Path, at_least: int) -> Path:
    path = tmp_path / "chatter.yaml"
    path.write_text(SCENARIO.replace("AT_LEAST", str(at_least)))
    return path


def test_a_made_up_kind_is_in_the_schema_the_loader_the_judge_and_the_report(
    chatter: ExpectationKind, tmp_path: Path
) -> None:
    assert "chatter" in schema.build_schema()["properties"]["expect"]["properties"]

    scenario = load(scenario_file(tmp_path, 2))  # the kind alone says what must be observed
    exp = scenario.expect.others["chatter"]
    assert exp == ChatterExpectation(2, 2.0, line=8)

    mark = Mark(0, 99.0, "fault applied")
    passed = evaluate(scenario.expect, Observed(FakeStream(["a", "b"])), mark)  # type: ignore[arg-type]
    failed = evaluate(scenario.expect, Observed(FakeStream(["a"])), mark)  # type: ignore[arg-type]
    assert [(r.kind, r.passed, r.line) for r in passed] == [("chatter", True, 8)]
    assert [(r.passed, r.observed) for r in failed] == [(False, "1 events")]

    spec = scenario.resolved()
    assert model._expectations(spec)[8] == (
        "main",
        {**spec["expect"]["others"]["chatter"], "_key": "chatter"},
    )
    view = model.ScenarioView(
        Row("a made-up expectation kind", str(scenario.path), "-", "-", "-"),
        "chatter",
        verdict={"fault_applied_ms": 10.0, "results": [r.to_json() for r in failed]},
        spec=spec,
    )
    (window,) = model.windows(view)
    assert (window.kind, window.passed, window.start, window.end) == (
        "chatter",
        False,
        10.0,
        2010.0,
    )


def test_a_made_up_kind_reports_its_problems_at_their_line(
    chatter: ExpectationKind, tmp_path: Path
) -> None:
    path = scenario_file(tmp_path, 99)
    with pytest.raises(ScenarioError) as caught:
        load(path)
    assert str(caught.value).splitlines() == [
        f"{path}:8:23: expect.chatter.at_least: at most 50 events"
    ]
    path.write_text(SCENARIO.replace("AT_LEAST", "3, at_lest: 2"))
    with pytest.raises(ScenarioError, match=r"chatter.yaml:8:\d+: .*at_lest"):
        load(path)


def test_without_its_registration_the_kind_is_an_unknown_key(tmp_path: Path) -> None:
    assert "chatter" not in expectations.KINDS
    assert "chatter" not in schema.build_schema()["properties"]["expect"]["properties"]
    with pytest.raises(ScenarioError, match=r"chatter.yaml:8:\d+: .*chatter"):
        load(scenario_file(tmp_path, 2))


def test_recovery_is_judged_by_the_kinds_it_may_hold_only(chatter: ExpectationKind) -> None:
    """After the clear only ``in_recovery`` kinds judge (order, state, router, log, a made-up
    kind: none of them is asked about a RecoveryExpectation)."""
    empty = RecoveryExpectation(line=3)
    results = evaluate_recovery(empty, Observed(FakeStream([])), Mark(0, 1.0))  # type: ignore[arg-type]
    assert results == []


def test_every_bundled_kind_is_a_registered_module_with_its_doc_row() -> None:
    """What docs/architecture.md's "Where does X go" says of a kind holds: each module of
    harness/expectations (but base) is a registered kind, each kind has its row in
    docs/scenario-format.md's ``expect:`` table."""
    package = Path(expectations.__file__).parent
    modules = {p.stem for p in package.glob("*.py")} - {"__init__", "base"}
    assert modules == set(expectations.KINDS)
    doc = (Path(__file__).resolve().parents[2] / "docs" / "scenario-format.md").read_text()
    assert [key for key in expectations.KINDS if f"| `{key}` |" not in doc] == []
