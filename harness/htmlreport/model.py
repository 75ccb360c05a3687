"""What the report shows, read back from a run's artifacts: runs, scenarios, timelines.

The report is written after the run from files the runner already keeps (``verdict.json``,
``scenario.json``, the pcaps, ``events.jsonl``), so any artifacts folder can be reported on again
(``python -m harness.htmlreport ARTIFACTS``) and a report never depends on live objects.
Everything lands on one axis: milliseconds from the router's start, the verdict's own axis.
"""

from __future__ import annotations

import json
import os
import platform
import re
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import catalog
from harness.artifacts import EVENT_LOG_NAME, RESULTS_NAME, SCENARIO_NAME, VERDICT_NAME
from harness.expectations import KINDS
from harness.faults import FAULT_KINDS
from harness.htmlreport.packets import Packet, load_packets
from harness.report import Row

#: Fault kinds that make an exact syscall error (the registry's ``mechanism``), shown by errno.
EXACT_ERROR_KINDS = frozenset(kind for kind, cls in FAULT_KINDS.items() if cls.mechanism == "exact")
STATE_EVENTS = frozenset({41010, 41042, 41052, 41055})  # started, stopped, activated, failed
_EVENT_ID = re.compile(r"^(\d{5}) ")


@dataclass(frozen=True)
class Item:
    """One mark on the timeline: when (ms from the router's start), which lane, what."""

    ms: float
    lane: str  # "fault", "traffic", "router", "state", "events", or a link endpoint "h2:e0"
    text: str
    tone: str = ""  # "bad" (an error event, a failed action), "good", or ""


@dataclass(frozen=True)
class Window:
    """An expectation judged over a stretch of the axis: where it began and its deadline."""

    line: int | None
    description: str
    expected: str
    observed: str
    passed: bool
    kind: str
    start: float | None  # ms
    end: float | None  # ms: the deadline, or the end of an absence window
    packets_on: str | None = None  # a packet expectation's endpoint
    query: str | None = None
    group: str | None = None


@dataclass
class ScenarioView:
    """One scenario as the report shows it: its row, and (when it ran) what its folder holds."""

    row: Row
    anchor: str
    tags: list[str] = field(default_factory=list)
    folder: Path | None = None
    verdict: dict[str, Any] = field(default_factory=dict)
    spec: dict[str, Any] = field(default_factory=dict)
    items: list[Item] = field(default_factory=list)
    windows: list[Window] = field(default_factory=list)
    packets: list[Packet] = field(default_factory=list)
    started_unix: float | None = None

    @property
    def family(self) -> str:
        """The cause family: the fault kinds without their errno (a matrix column)."""
        return " + ".join(part.split()[0] for part in self.row.cause.split(" + ") if part)

    @property
    def errnos(self) -> list[str]:
        return [p.split()[1] for p in self.row.cause.split(" + ") if len(p.split()) > 1]

    @property
    def status(self) -> str:
        return self.row.status or "not run"

    def packet_ms(self, packet: Packet) -> float | None:
        if self.started_unix is None:
            return None
        return (packet.wall - self.started_unix) * 1000


@dataclass
class RunView:
    """A whole run: its scenarios, where and when it ran, and how long it took."""

    scenarios: list[ScenarioView]
    folder: Path
    kernel: str = field(default_factory=platform.release)
    host: str = field(default_factory=socket.gethostname)
    duration: float | None = None
    run_id: str | None = None
    title: str = "faultlab run"

    def count(self, status: str) -> int:
        return sum(1 for view in self.scenarios if view.status == status)


# -- loading ---------------------------------------------------------------------------------


def anchor_for(row: Row, base: Path) -> str:
    """A stable HTML id for a scenario: its artifacts folder below the report, else its name."""
    key = row.name
    if row.artifacts:
        try:
            key = Path(row.artifacts).resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            key = Path(row.artifacts).name
    return "s-" + re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-")


def load_view(row: Row, base: Path) -> ScenarioView:
    """A scenario's view: its row plus whatever its artifacts folder still holds."""
    view = ScenarioView(row, anchor_for(row, base))
    folder = Path(row.artifacts) if row.artifacts else None
    if folder is not None and folder.is_dir():
        view.folder = folder
        view.verdict = _json(folder / VERDICT_NAME)
        view.spec = _json(folder / SCENARIO_NAME)
    view.tags = list(view.spec.get("tags") or _tags_from_file(row.path))
    if view.verdict and view.status in ("passed", "failed", "error"):
        _fill_timeline(view)
    return view


def load_run(folder: Path, rows: Sequence[Row] | None = None, **info: Any) -> RunView:
    """The run in ``folder``: the given rows, else those of its ``results.json``."""
    if rows is None:
        rows = [Row(**data) for data in _json_list(folder / RESULTS_NAME)]
    views = [load_view(row, folder) for row in rows]
    return RunView(views, folder, **info)


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _json_list(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    return data if isinstance(data, list) else []


def _tags_from_file(path: str) -> list[str]:
    """A scenario's tags straight from its YAML (its folder is gone when it passed)."""
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError):
        return []
    tags = data.get("tags") if isinstance(data, dict) else None
    return [str(tag) for tag in tags] if isinstance(tags, list) else []


# -- the timeline ----------------------------------------------------------------------------


def _fill_timeline(view: ScenarioView) -> None:
    """Verdict entries, decoded pcap packets and expectation windows on one axis."""
    assert view.folder is not None
    view.packets = load_packets(view.folder)
    view.started_unix = view.verdict.get("started_unix") or _estimate_start(view)
    have_pcaps = bool(view.packets) and view.started_unix is not None
    for entry in view.verdict.get("timeline", []):
        if entry["kind"] == "packet" and have_pcaps:
            continue  # the pcaps hold the same packets, with every field
        view.items.append(_item(entry))
    if have_pcaps:
        for packet in view.packets:
            ms = view.packet_ms(packet)
            if ms is not None and packet.is_igmp:
                view.items.append(Item(ms, packet.on, packet.line))
    view.items.sort(key=lambda item: item.ms)
    view.windows = windows(view)


def _item(entry: dict[str, Any]) -> Item:
    kind, text, ms = entry["kind"], entry["text"], float(entry["ms"])
    if kind == "event":
        match = _EVENT_ID.match(text)
        event = catalog.BY_ID.get(int(match.group(1))) if match else None
        level = getattr(getattr(event, "level", None), "value", "")
        lane = "state" if event is not None and event.id in STATE_EVENTS else "events"
        return Item(ms, lane, text, "bad" if level == "Error" else "")
    if kind == "packet":
        on, _, rest = text.partition(" ")
        return Item(ms, on, rest)
    if kind == "unmapped":  # an error-looking line no pattern maps: its own lane
        return Item(ms, "unmapped", text, "bad")
    tone = "bad" if "FAILED" in text or "SIGKILL" in text else ""
    return Item(ms, kind if kind in ("fault", "traffic", "router") else "router", text, tone)


def _estimate_start(view: ScenarioView) -> float | None:
    """The router's start on the wall clock, for verdicts older than ``started_unix``: the
    first event's wall time in the event log less its time on the verdict's axis."""
    events = [e for e in view.verdict.get("timeline", []) if e["kind"] == "event"]
    log = view.folder / EVENT_LOG_NAME if view.folder else None
    if not events or log is None or not log.is_file():
        return None
    from datetime import datetime

    try:
        first = json.loads(log.read_text().splitlines()[0])
        wall = datetime.fromisoformat(first["time"]).timestamp()
    except (IndexError, KeyError, ValueError):
        return None
    return wall - float(events[0]["ms"]) / 1000


def _expectations(spec: dict[str, Any]) -> dict[int, tuple[str, dict[str, Any]]]:
    """line -> (phase, expectation) over the resolved scenario's main and recovery phases
    (each kind of harness.expectations drawn as its ``report`` says; ``_key`` its kind)."""
    found: dict[int, tuple[str, dict[str, Any]]] = {}
    expect = spec.get("expect") or {}
    for phase, block in (("main", expect), ("recovery", expect.get("recovery") or {})):
        for kind in KINDS.values():
            value = block.get(kind.key, (block.get("others") or {}).get(kind.key))
            listed = value or [] if kind.report == "list" else [value] if kind.report else []
            for item in listed:
                if isinstance(item, dict) and item.get("line"):
                    found[item["line"]] = (phase, {**item, "_key": kind.key})
    return found


def windows(view: ScenarioView) -> list[Window]:
    """Each judged expectation with the stretch of the axis it was judged over."""
    verdict, items = view.verdict, view.items
    by_line = _expectations(view.spec)
    fault_ms = verdict.get("fault_applied_ms")
    cleared = [i.ms for i in items if i.lane == "fault" and i.text.startswith("cleared")]
    end_ms = max((i.ms for i in items), default=0.0)
    phase_start = {"main": fault_ms, "recovery": max(cleared) if cleared else None}
    phase_end = {"main": min(cleared) if cleared else end_ms, "recovery": end_ms}
    out = []
    for result in verdict.get("results", []):
        phase, spec = by_line.get(result.get("line") or -1, ("main", {}))
        start = _traffic_ms(view, spec.get("from_traffic")) or phase_start[phase]
        within = spec.get("within")
        kind = KINDS.get(spec.get("_key", ""))
        absence = kind is not None and kind.absence(spec)
        if absence:
            window = spec.get("window")
            end = start + window * 1000 if start is not None and window else phase_end[phase]
        else:
            end = start + within * 1000 if start is not None and within else None
        out.append(
            Window(
                result.get("line"),
                result["description"],
                result["expected"],
                result["observed"],
                bool(result["passed"]),
                result.get("kind", ""),
                start,
                end,
                kind.lane(spec) if kind is not None else None,
                spec.get("query"),
                spec.get("group"),
            )
        )
    return out


def _traffic_ms(view: ScenarioView, name: str | None) -> float | None:
    """When the traffic item ``name`` was done: its timeline line names its node, action and
    group (``h2:e0 leave 239.2.2.2``)."""
    if not name:
        return None
    spec = next((t for t in view.spec.get("traffic") or [] if t.get("id") == name), None)
    if spec is None:
        return None
    words = f"{spec['node']}:{spec['ifname']} {spec['action']}"
    hit = next((i for i in view.items if i.lane == "traffic" and words in i.text), None)
    return hit.ms if hit else None


def rerun_command(row: Row) -> str:
    """The command that runs this one scenario again, keeping its artifacts."""
    path = row.path
    try:
        path = os.path.relpath(row.path)
    except ValueError:
        pass
    return f"faultlab run {path} --keep-artifacts"
