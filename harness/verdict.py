"""The outcome of one scenario: each expectation next to what was observed, and a timeline.

A ``Verdict`` is what the runner returns and what ``verdict.json`` holds. ``explain()`` is the
few lines a person reads when a scenario fails: every failed expectation, expected vs observed,
the faults that were applied, and the events and packets around the failure, in milliseconds
from the router's start.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

TimelineKind = Literal["event", "packet", "fault", "traffic", "router", "expectation", "unmapped"]
_AROUND = 6  # timeline entries shown before and after a failure


@dataclass(frozen=True)
class ExpectationResult:
    """One expectation judged: what it asked for, whether it held, and what was seen instead.

    ``at`` is the monotonic time of the decisive observation (or of the deadline), used to
    centre the timeline of a failure; ``line`` is the expectation's line in the scenario file.
    """

    description: str
    passed: bool
    expected: str
    observed: str
    line: int | None = None
    kind: str = "event"
    at: float | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("at")
        return data


@dataclass(frozen=True)
class TimelineEntry:
    """Something that happened during the run, at monotonic time ``at``."""

    at: float
    kind: TimelineKind
    text: str


@dataclass
class Verdict:
    """The judged run of one scenario (``skipped_reason`` set when it could not run here)."""

    scenario: str
    path: str
    passed: bool
    skipped_reason: str | None = None
    skipped_features: tuple[str, ...] = ()  # the doctor's features missing, when those are why
    error: str | None = None
    results: list[ExpectationResult] = field(default_factory=list)
    entries: list[TimelineEntry] = field(default_factory=list)
    artifacts: dict[str, str] = field(default_factory=dict)
    duration: float = 0.0
    started_at: float | None = None  # monotonic time the router was started (timeline zero)
    fault_applied_at: float | None = None
    fault_latency: float | None = None  # fault applied -> first expected event seen, seconds
    faults: list[str] = field(default_factory=list)
    router_exit: int | None = None
    run_id: str | None = None  # the lab's run id (its namespaces are fl<run_id>-*)
    # error-looking log lines no pattern mapped (harness.routers.unmapped): what the router
    # said that no event stands for, so "silent" never hides a line it did write
    unmapped: list[str] = field(default_factory=list)

    @property
    def skipped(self) -> bool:
        return self.skipped_reason is not None

    @property
    def status(self) -> str:
        if self.skipped:
            return "skipped"
        return "passed" if self.passed else "failed"

    @property
    def failures(self) -> list[ExpectationResult]:
        return [result for result in self.results if not result.passed]

    def timeline(self) -> list[TimelineEntry]:
        """Every recorded happening, in time order."""
        return sorted(self.entries, key=lambda entry: entry.at)

    def relative_ms(self, at: float) -> float:
        return (at - (self.started_at if self.started_at is not None else at)) * 1000

    def format_entry(self, entry: TimelineEntry) -> str:
        return f"{self.relative_ms(entry.at):+9.1f} ms  {entry.kind:<8} {entry.text}"

    def explain(self) -> str:
        """A few lines: failed expectations (expected vs observed), faults, timeline around them."""
        if self.skipped:
            return f"{self.scenario}: skipped: {self.skipped_reason}"
        if self.passed:
            unmapped = (
                f"; {len(self.unmapped)} error line(s) no pattern maps" if self.unmapped else ""
            )
            return f"{self.scenario}: passed ({len(self.results)} expectations{unmapped})"
        lines = [f"{self.scenario} ({self.path}): FAILED"]
        if self.error:
            lines.append(f"  error: {self.error}")
        for result in self.failures:
            where = f"{self.path}:{result.line}" if result.line else self.path
            lines.append(f"  x {result.description}  [{where}]")
            lines.append(f"      expected: {result.expected}")
            lines.append(f"      observed: {result.observed}")
        if self.faults:
            lines.append("  faults: " + "; ".join(self.faults))
        if self.unmapped:
            lines.append("  error lines no pattern maps (faultlab profile check):")
            lines.extend(f"    {line[:200]}" for line in self.unmapped[:_AROUND])
            if len(self.unmapped) > _AROUND:
                lines.append(f"    (+{len(self.unmapped) - _AROUND} more)")
        lines.append("  timeline (ms from router start):")
        lines.extend("    " + self.format_entry(entry) for entry in self._around_failures())
        return "\n".join(lines)

    def _around_failures(self) -> list[TimelineEntry]:
        """The timeline entries near each failure (all of them when the timeline is short)."""
        timeline = self.timeline()
        if len(timeline) <= 2 * _AROUND + 4:
            return timeline
        keep: set[int] = set()
        for result in self.failures:
            if result.at is None:
                continue
            centre = next((i for i, e in enumerate(timeline) if e.at >= result.at), len(timeline))
            keep.update(range(max(0, centre - _AROUND), min(len(timeline), centre + _AROUND)))
        if not keep:
            keep = set(range(max(0, len(timeline) - 2 * _AROUND), len(timeline)))
        return [timeline[i] for i in sorted(keep)]

    def to_json(self) -> dict[str, Any]:
        """The verdict as plain data (``verdict.json``); times relative to the router's start."""
        return {
            "scenario": self.scenario,
            "path": self.path,
            "status": self.status,
            "passed": self.passed,
            "skipped_reason": self.skipped_reason,
            "skipped_features": list(self.skipped_features),
            "error": self.error,
            "duration_ms": round(self.duration * 1000, 3),
            "fault_latency_ms": _ms(self.fault_latency),
            "fault_applied_ms": _ms_rel(self, self.fault_applied_at),
            "router_exit": self.router_exit,
            "run_id": self.run_id,
            "kernel": os.uname().release,  # the same suite gives other verdicts on other kernels
            # the router's start on the wall clock: puts the pcaps on the timeline's axis
            "started_unix": _unix(self.started_at),
            "faults": self.faults,
            "unmapped": self.unmapped,
            "results": [result.to_json() for result in self.results],
            "timeline": [
                {"ms": round(self.relative_ms(e.at), 3), "kind": e.kind, "text": e.text}
                for e in self.timeline()
            ],
            "artifacts": self.artifacts,
        }

    def write(self, path: Path) -> Path:
        """Write ``verdict.json`` (or any path) and return it."""
        path.write_text(json.dumps(self.to_json(), indent=1) + "\n")
        return path


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


def _unix(monotonic: float | None) -> float | None:
    return None if monotonic is None else round(time.time() - (time.monotonic() - monotonic), 6)


def _ms_rel(verdict: Verdict, at: float | None) -> float | None:
    return None if at is None else round(verdict.relative_ms(at), 3)


def summarise(verdicts: Sequence[Verdict]) -> str:
    """``3 passed, 1 failed, 1 skipped``."""
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    for verdict in verdicts:
        counts[verdict.status] += 1
    return ", ".join(f"{count} {status}" for status, count in counts.items() if count)
