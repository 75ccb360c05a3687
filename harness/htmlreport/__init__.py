"""``report.html``: one self-contained HTML report per run (CSS and script inline, no network).

    from harness import htmlreport
    htmlreport.write(artifacts / "report.html", rows, extra_sections=[
        htmlreport.Section("Robustness", "<table>...</table>", id="robustness"),
    ])

``run`` is a ``RunView`` (``load_run``), the run's ``harness.report.Row`` list, or nothing (the
folder's ``results.json`` is read). Other commands (``faultlab compare``, ``faultlab explore``,
the kernel lab) add their own tables as ``extra_sections``: each is a title and an HTML fragment
the caller has escaped, shown after the scenarios under its own heading and anchor.

Writing the report also writes ``capture.pcapng`` next to each reported scenario's pcaps
(harness.pcapng), so that the report links to the same evidence Wireshark users open.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.artifacts import REPORT_NAME
from harness.htmlreport.model import RunView, ScenarioView, anchor_for, load_run, load_view
from harness.report import Row

__all__ = [
    "REPORT_NAME",
    "RunView",
    "ScenarioView",
    "Section",
    "anchor_for",
    "load_run",
    "load_view",
    "render",
    "write",
]


@dataclass(frozen=True)
class Section:
    """A table another command adds to the run's report: its heading and an HTML fragment."""

    title: str
    html: str
    id: str = ""

    @property
    def anchor(self) -> str:
        return self.id or re.sub(r"[^a-z0-9]+", "-", self.title.lower()).strip("-")


def render(run: RunView, extra_sections: Sequence[Section] = ()) -> str:
    """The report's HTML text."""
    from harness.htmlreport import pages

    sections = [Section(s.title, s.html, s.anchor) for s in extra_sections]
    return pages.page(run, sections)


def write(
    path: Path,
    run: RunView | Sequence[Row] | None = None,
    extra_sections: Sequence[Section] = (),
    *,
    pcapng: bool = True,
    **info: Any,
) -> Path:
    """Write the report to ``path`` (its folder is the run's artifacts root) and return it.

    ``info`` fills the overview when ``run`` is not a RunView: ``duration`` (seconds),
    ``run_id``, ``title``, ``kernel``, ``host``.
    """
    path = Path(path)
    if not isinstance(run, RunView):
        run = load_run(path.parent, list(run) if run is not None else None, **info)
    if pcapng:
        _write_pcapngs(run)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(run, extra_sections), encoding="utf-8")
    return path


def _write_pcapngs(run: RunView) -> None:
    from harness.pcapng import write_story

    for view in run.scenarios:
        if view.packets:
            write_story(view)


def timed_write(path: Path, run: Any, **kwargs: Any) -> tuple[Path, float]:
    """``write`` and the seconds it took (the report's cost, printed by the commands)."""
    begun = time.perf_counter()
    written = write(path, run, **kwargs)
    return written, time.perf_counter() - begun
