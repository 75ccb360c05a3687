"""Reports of a scenario run: the summary table, the fault-matrix HTML page, a Markdown summary.

A ``Row`` is one scenario as a report shows it: the socket step it breaks, the cause used, the
event it expects, and (after a run) its verdict. The fault matrix is a step x cause grid with the
verdict of every scenario in its cell, linking to each scenario's artifacts; the Markdown summary
is what CI shows as the job summary. JUnit XML comes from pytest itself (``--junit-xml``).
"""

from __future__ import annotations

import html
import json
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from harness import catalog
from harness.artifacts import MATRIX_NAME, RESULTS_NAME, SUMMARY_NAME
from harness.scenario import Scenario

if TYPE_CHECKING:
    from harness.faults import Fault
    from harness.faults.table import FaultRow
_STEP_ORDER = [step.value for step in catalog.Step]


@dataclass(frozen=True)
class Row:
    """One scenario in a report. ``status`` is passed/failed/skipped/error, or "" before a run."""

    name: str
    path: str
    step: str
    cause: str  # short: the fault kinds (and errno of an exact error), a matrix column
    event: str
    cause_text: str = ""  # the fault table's words for the cause
    status: str = ""
    duration: float | None = None
    artifacts: str | None = None
    message: str = ""

    def with_result(
        self, status: str, duration: float | None, artifacts: str | None, message: str = ""
    ) -> Row:
        return replace(self, status=status, duration=duration, artifacts=artifacts, message=message)


def describe(scenario: Scenario) -> Row:
    """The report row of a scenario, before it runs: step, cause and expected event."""
    expected = scenario.expected_event
    event = expected.event.describe() if expected and expected.event.name else "-"
    if expected and not expected.event.name:
        event = f"{expected.event.id} {expected.event.symbol}"
    step = _step(scenario)
    return Row(
        name=scenario.name,
        path=str(scenario.path),
        step=step,
        cause=_cause(scenario),
        event=event,
        cause_text=_cause_text(scenario, step),
    )


def _cause_text(scenario: Scenario, step: str) -> str:
    """The fault table's description of the first fault's cause at this step."""
    if not scenario.faults:
        return "no fault"
    fault = scenario.faults[0]
    rows = [
        row
        for row in fault_table()
        if row.kind == fault.kind and _params_match(row.params, fault.params)
    ]
    at_step = [row for row in rows if str(row.step.value) == step]
    chosen = (at_step or rows)[:1]
    return chosen[0].cause if chosen else fault.kind


def _params_match(row: dict[str, Any], params: Any) -> bool:
    return all(
        key in ("errno", "step") or str(params.get(key)) == str(value) for key, value in row.items()
    )


def fault_table() -> tuple[FaultRow, ...]:
    """The fault table's rows (harness.faults.table, imported on first use)."""
    from harness.faults.table import rows

    return rows()


def _step(scenario: Scenario) -> str:
    """The step a scenario breaks: its expected event's step, else its first fault's steps."""
    for expectation in scenario.expect.events:
        known = catalog.BY_ID.get(expectation.event.id)  # 0: a profile's own event
        step = known.step if known is not None else None
        if step is not None:
            return step.value
    for fault in scenario.faults:
        steps = _steps_of(fault)
        if steps:
            return steps[0]
    return "-"


def _steps_of(fault: Any) -> list[str]:
    """A fault's steps: a step-error's own, the step whose call a syscall-error fails (none for
    a call no step makes, e.g. ioctl SIOCGIFADDR), else its kind's rows in the fault table."""
    if fault.kind == "step-error" and fault.params.get("step"):
        return [str(fault.params["step"])]
    if fault.kind == "syscall-error":
        from harness.faults.stepcalls import step_of_call

        step = step_of_call(str(fault.params.get("syscall")), fault.params.get("args") or {})
        return [step.value] if step is not None else []
    return fault_steps(fault.kind)


def _cause(scenario: Scenario) -> str:
    """The cause used: the fault kinds, with the errno of an exact syscall error."""
    if not scenario.faults:
        return "none"
    parts = []
    for fault in scenario.faults:
        errno_value = fault.params.get("errno")
        parts.append(f"{fault.kind} {errno_value}" if errno_value is not None else fault.kind)
    return " + ".join(parts)


def fault_steps(kind: str) -> list[str]:
    """The steps a fault kind breaks, from the fault table (empty when it has no row)."""
    steps = [str(row.step.value) for row in fault_table() if row.kind == kind]
    return list(dict.fromkeys(steps))


def fault_classes() -> dict[str, type[Fault]]:
    """kind -> Fault class, from ``harness.faults.FAULT_KINDS`` (imported on first use)."""
    from harness.faults import FAULT_KINDS

    return dict(FAULT_KINDS)


# --------------------------------------------------------------------------------------------
# Summary table (terminal) and Markdown
# --------------------------------------------------------------------------------------------


def summary_table(rows: Sequence[Row]) -> Any:
    """A rich Table: scenario, step, cause, expected event, verdict, duration."""
    from rich.table import Table

    table = Table()  # the counts are the run's last line (summary_line), said once
    for column in ("scenario", "step", "cause", "expected event", "verdict", "duration"):
        table.add_column(column, justify="right" if column == "duration" else "left")
    styles = {"passed": "green", "failed": "bold red", "error": "bold red", "skipped": "yellow"}
    for row in rows:
        verdict = f"[{styles.get(row.status, 'white')}]{row.status or '-'}[/]"
        table.add_row(row.name, row.step, row.cause, row.event, verdict, _seconds(row.duration))
    return table


def markdown_summary(rows: Sequence[Row]) -> str:
    """The run as a Markdown table (the CI job summary)."""
    lines = [
        f"### faultlab: {_counts(rows)}",
        "",
        "| scenario | step | cause | expected event | verdict | duration |",
        "|---|---|---|---|---|---|",
    ]
    marks = {"passed": "pass", "failed": "**FAIL**", "error": "**ERROR**", "skipped": "skip"}
    for row in rows:
        cells = [
            row.name,
            row.step,
            row.cause,
            row.event,
            marks.get(row.status, row.status),
            _seconds(row.duration),
        ]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    failed = [row for row in rows if row.status in {"failed", "error"} and row.message]
    for row in failed:
        lines += [
            "",
            f"<details><summary>{html.escape(row.name)}</summary>",
            "",
            "```",
            row.message,
            "```",
            "</details>",
        ]
    return "\n".join(lines) + "\n"


def _counts(rows: Sequence[Row]) -> str:
    """``57 selected: 50 ran, 49 passed, 1 failed, 7 skipped`` (errors count as failed)."""
    counts = {status: 0 for status in ("passed", "failed", "skipped")}
    for row in rows:
        status = "failed" if row.status == "error" else row.status
        if status in counts:
            counts[status] += 1
    ran = counts["passed"] + counts["failed"]
    return (
        f"{len(rows)} selected: {ran} ran, {counts['passed']} passed, "
        f"{counts['failed']} failed, {counts['skipped']} skipped"
    )


def summary_line(rows: Sequence[Row]) -> str:
    """The one line every run ends with: how many scenarios ran, passed, failed, skipped."""
    return f"faultlab: {_counts(rows)}"


def skip_reasons(rows: Sequence[Row]) -> list[tuple[str, int]]:
    """The skip reasons of a run, grouped and counted, most frequent first.

    A skip message is ``<scenario path>: <reason>``; the path is dropped so that scenarios
    skipped for the same missing feature fall into one group.
    """
    counts: dict[str, int] = {}
    for row in rows:
        if row.status != "skipped":
            continue
        reason = row.message
        prefix = f"{row.path}: "
        if prefix in reason:
            reason = reason.split(prefix, 1)[1]
        counts[reason] = counts.get(reason, 0) + 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def _seconds(value: float | None) -> str:
    return f"{value:.2f}s" if value is not None else "-"


# --------------------------------------------------------------------------------------------
# Fault matrix (HTML)
# --------------------------------------------------------------------------------------------

_CSS = """
body { font: 14px system-ui, sans-serif; margin: 2em; }
table { border-collapse: collapse; }
th, td { border: 1px solid #bbb; padding: 4px 8px; vertical-align: top; }
th { background: #f0f0f0; text-align: left; }
td.passed { background: #d9f2d9; } td.failed, td.error { background: #f8d0d0; }
td.skipped { background: #fff3c4; } td.mixed { background: #f8e0b0; }
a { color: inherit; } .legend span { padding: 2px 8px; margin-right: 6px; }
"""


def fault_matrix_html(
    rows: Sequence[Row], *, base: Path | None = None, title: str = "faultlab fault matrix"
) -> str:
    """A step x cause grid: each cell lists its scenarios with pass/fail, linking to artifacts."""
    steps = sorted({row.step for row in rows}, key=_step_rank)
    causes = sorted({row.cause for row in rows})
    cells: dict[tuple[str, str], list[Row]] = {}
    for row in rows:
        cells.setdefault((row.step, row.cause), []).append(row)
    head = "".join(f"<th>{html.escape(cause)}</th>" for cause in causes)
    body = []
    for step in steps:
        tds = "".join(_cell(cells.get((step, cause), []), base) for cause in causes)
        body.append(f"<tr><th>{html.escape(step)}</th>{tds}</tr>")
    return (
        f"<!doctype html>\n<html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_CSS}</style></head><body>\n<h1>{html.escape(title)}</h1>\n"
        f"<p>{html.escape(_counts(rows))}. Rows: the socket step broken; columns: the cause used.</p>\n"
        "<p class='legend'><span class='passed' style='background:#d9f2d9'>pass</span>"
        "<span style='background:#f8d0d0'>fail</span><span style='background:#fff3c4'>skipped</span></p>\n"
        f"<table><tr><th>step \\ cause</th>{head}</tr>\n"
        + "\n".join(body)
        + "\n</table>\n</body></html>\n"
    )


def _step_rank(step: str) -> tuple[int, str]:
    return (_STEP_ORDER.index(step) if step in _STEP_ORDER else len(_STEP_ORDER), step)


def _cell(rows: list[Row], base: Path | None) -> str:
    if not rows:
        return "<td></td>"
    statuses = {row.status for row in rows}
    css = statuses.pop() if len(statuses) == 1 else "mixed"
    items = []
    for row in rows:
        label = f"{html.escape(row.status or '-')}: {html.escape(row.name)}"
        link = _link(row.artifacts, base)
        items.append(f"<a href='{html.escape(link)}'>{label}</a>" if link else label)
    return f"<td class='{html.escape(css)}'>" + "<br>".join(items) + "</td>"


def _link(artifacts: str | None, base: Path | None) -> str | None:
    if not artifacts:
        return None
    path = Path(artifacts)
    if base is not None:
        try:
            return path.resolve().relative_to(base.resolve()).as_posix() + "/"
        except ValueError:
            pass
    return path.resolve().as_uri()


def write_reports(rows: Iterable[Row], folder: Path) -> dict[str, Path]:
    """Write the fault matrix, the Markdown summary and results.json into ``folder``."""
    rows = list(rows)
    folder.mkdir(parents=True, exist_ok=True)
    written = {
        "matrix": folder / MATRIX_NAME,
        "summary": folder / SUMMARY_NAME,
        "results": folder / RESULTS_NAME,
    }
    written["matrix"].write_text(fault_matrix_html(rows, base=folder), encoding="utf-8")
    written["summary"].write_text(markdown_summary(rows), encoding="utf-8")
    results = [row.__dict__ for row in rows]
    written["results"].write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return written


# --------------------------------------------------------------------------------------------
# `faultlab run`: a pytest plugin that shows progress and writes the reports
# --------------------------------------------------------------------------------------------

ROW_PROPERTY = "faultlab"  # the user property a ScenarioItem carries its report row in


def row_property(row: Row) -> tuple[str, str]:
    """The (name, value) user property that carries a row to the controller (xdist-safe JSON)."""
    return ROW_PROPERTY, json.dumps(row.__dict__)


def _row_of(report: Any) -> Row | None:
    for name, value in getattr(report, "user_properties", ()):
        if name == ROW_PROPERTY:
            return Row(**json.loads(value))
    return None


class RunReporter:
    """Collects every scenario's outcome during ``faultlab run`` and reports at the end.

    Registered as a pytest plugin object by the CLI (it replaces pytest's terminal output): a
    progress bar while running; then each failure's explanation, the summary table, and the
    fault matrix, Markdown summary and results.json in the artifacts folder.
    """

    def __init__(
        self,
        artifacts: Path,
        expected: int,
        *,
        progress: bool = True,
        empty_ok: bool = False,
        searched: str = "the selection",
    ) -> None:
        from rich.console import Console

        self.artifacts = artifacts
        self.rows: list[Row] = []
        self.failures: list[tuple[str, str]] = []
        self.errors: list[str] = []
        self.console = Console(stderr=True, highlight=False)
        # Not a terminal (CI logs): wide enough that the summary table is not folded.
        self.out = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
        self.expected = expected
        self.empty_ok = empty_ok
        self.searched = searched
        self.interrupted = False
        self._progress: Any = self._make_progress() if progress else None
        self._task: Any = None

    def _make_progress(self) -> Any:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        return Progress(
            TextColumn("[bold]faultlab[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
            console=self.console,
            transient=True,
        )

    # -- pytest hooks -------------------------------------------------------------------------

    def pytest_sessionstart(self, session: Any) -> None:
        if self._progress is not None:
            self._progress.start()
            self._task = self._progress.add_task("", total=self.expected)

    def pytest_collection_finish(self, session: Any) -> None:
        self._set_total(len(session.items))

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        self._set_total(len(ids))

    def _set_total(self, total: int) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, total=total)

    def pytest_collectreport(self, report: Any) -> None:
        if report.failed:
            self.errors.append(report.longreprtext)

    def pytest_runtest_logreport(self, report: Any) -> None:
        row = _row_of(report)
        if row is None:
            return
        status = phase_status(report)
        if status is None:
            return
        message = XDIST_HEADER.sub("", report.longreprtext) if status in {"failed", "error"} else ""
        if status == "skipped" and isinstance(report.longrepr, tuple):
            message = str(report.longrepr[2])
        self.rows.append(row.with_result(status, report.duration, row.artifacts, message))
        if status in {"failed", "error"}:
            self.failures.append((row.name, _with_sections(report)))
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, advance=1, description=f"{status}: {row.name}")

    def pytest_keyboard_interrupt(self, excinfo: Any) -> None:
        self.interrupted = True

    def pytest_sessionfinish(self, session: Any, exitstatus: int) -> None:
        if self._progress is not None:
            self._progress.stop()

    # -- the end of the run ---------------------------------------------------------------------

    def finish(self, pytest_exit: int) -> int:
        """Print failures and the summary, write the reports; returns faultlab's exit code."""
        for error in self.errors:
            self.console.print(error, markup=False)
        for name, text in self.failures:
            self.out.rule(f"[bold red]{name}")
            self.out.print(text, markup=False)
        if self.rows:
            self.out.print(summary_table(self.rows))
            written = write_reports(self.rows, self.artifacts)
            self.out.print(f"fault matrix: {written['matrix']}", markup=False)
        self._print_skips()
        self.out.print(summary_line(self.rows), markup=False)
        return self.exit_code(pytest_exit)

    def _print_skips(self) -> None:
        reasons = skip_reasons(self.rows)
        if not reasons:
            return
        self.out.print("skipped, by reason:", markup=False)
        for reason, count in reasons:
            self.out.print(f"  {count:>3} x {reason}", markup=False, soft_wrap=True)

    def all_skipped(self) -> bool:
        """Every selected scenario was skipped: nothing ran, so the run proves nothing."""
        return bool(self.rows) and all(row.status == "skipped" for row in self.rows)

    def exit_code(self, pytest_exit: int) -> int:
        from harness.errors import ExitCode, HarnessBug

        if pytest_exit == 2 and self.interrupted:
            return 130
        if pytest_exit == 5:  # nothing selected
            if self.empty_ok:
                self.out.print("no scenario in this shard")
                return ExitCode.OK
            self.console.print(
                f"faultlab: no scenario selected from {self.searched}", markup=False, soft_wrap=True
            )
            return ExitCode.USAGE
        if pytest_exit == 3:
            raise HarnessBug("pytest reported an internal error (see above)")
        if pytest_exit in (2, 4) or self.errors:
            return ExitCode.USAGE
        if pytest_exit == 1:
            return ExitCode.FAILED
        if self.all_skipped():
            self.console.print(
                "faultlab: every selected scenario was skipped: nothing ran "
                "(`faultlab doctor` says what this machine lacks)",
                markup=False,
                soft_wrap=True,
            )
            return ExitCode.ENVIRONMENT
        return ExitCode.OK


def phase_status(report: Any) -> str | None:
    """The scenario's status from one phase's report, or None when the phase decides nothing
    (the summary and the HTML report both count by it)."""
    if report.when == "call":
        return "passed" if report.passed else ("skipped" if report.skipped else "failed")
    if report.when == "setup" and not report.passed:
        return "skipped" if report.skipped else "error"
    if report.when == "teardown" and report.failed:
        return "error"
    return None


#: The line pytest-xdist puts first in a worker's failure report (``[gw0] linux -- Python ...``).
XDIST_HEADER = re.compile(r"\A\[gw\d+\] \S+ -- Python [^\n]*\n?")


def _with_sections(report: Any) -> str:
    parts = [XDIST_HEADER.sub("", report.longreprtext)]
    for title, content in getattr(report, "sections", ()):
        if "router" in title or "event" in title:
            parts.append(f"--- {title} ---\n{content}")
    return "\n".join(parts)
