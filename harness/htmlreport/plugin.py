"""The pytest side of ``report.html``: collect every scenario's row, write the report at the end.

Registered by ``harness.plugin`` on the controller only (xdist workers send their reports to
it), so ``pytest scenarios/`` and ``faultlab run`` (pytest underneath) write the same report
into the artifacts root. With ``--junit-xml``, each scenario's test case gets a ``system-out``
naming its panel in the report (``report.html#s-...``), so a CI UI's failure view leads to the
timeline.
"""

from __future__ import annotations

import json
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from harness.report import ROW_PROPERTY, Row, phase_status

_KEY = pytest.StashKey["ReportCollector"]()


def register(config: pytest.Config, artifacts: Path, run_id: str) -> None:
    """Collect rows on the controller of this run (never in an xdist worker)."""
    if getattr(config, "workerinput", None) is not None or _KEY in config.stash:
        return
    collector = ReportCollector(config, artifacts, run_id)
    config.stash[_KEY] = collector
    config.pluginmanager.register(collector, "faultlab-htmlreport")


def row_of(report: Any) -> Row | None:
    """The scenario's report row a ScenarioItem carries as a user property."""
    for name, value in getattr(report, "user_properties", ()):
        if name == ROW_PROPERTY:
            return Row(**json.loads(value))
    return None


status_of = phase_status  # the same rule as the run's summary (harness.report)


class ReportCollector:
    """Every scenario's row and outcome in this run; writes ``report.html`` at the end."""

    def __init__(self, config: pytest.Config, artifacts: Path, run_id: str) -> None:
        self.config = config
        self.artifacts = artifacts
        self.run_id = run_id
        self.rows: dict[str, Row] = {}
        self.begun = time.monotonic()
        self.written: Path | None = None
        self.cost: float | None = None

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        row = row_of(report)
        if row is None:
            return
        status = status_of(report)
        if status is not None:
            message = report.longreprtext if status in ("failed", "error") else ""
            if status == "skipped" and isinstance(report.longrepr, tuple):
                message = str(report.longrepr[2])
            self.rows[report.nodeid] = row.with_result(
                status, report.duration, row.artifacts, message
            )
        if report.when == "teardown":
            self._junit_system_out(report, row)

    def _junit_system_out(self, report: pytest.TestReport, row: Row) -> None:
        """Before junitxml closes the test case (tryfirst): a system-out naming the panel."""
        from _pytest.junitxml import xml_key

        xml = self.config.stash.get(xml_key, None)
        if xml is None:
            return
        from harness.htmlreport.model import anchor_for

        element = ET.Element("system-out")
        element.text = f"faultlab report: {self.link(row, anchor_for)}\n"
        xml.node_reporter(report).append(element)

    def link(self, row: Row, anchor_for: Any) -> str:
        return f"{self.artifacts / 'report.html'}#{anchor_for(row, self.artifacts)}"

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not self.rows:
            return
        from harness import htmlreport

        duration = time.monotonic() - self.begun
        begun = time.perf_counter()
        self.written = htmlreport.write(
            self.artifacts / htmlreport.REPORT_NAME,
            list(self.rows.values()),
            duration=duration,
            run_id=self.run_id,
            title=f"faultlab run {self.run_id}",
        )
        self.cost = time.perf_counter() - begun
        size = self.written.stat().st_size / 1024
        terminal = self.config.pluginmanager.get_plugin("terminalreporter")
        line = f"report: {self.written} ({size:.0f} KiB, written in {self.cost:.2f} s)"
        if terminal is not None:
            terminal.write_line(line)
        else:
            print(line, file=sys.stderr)
