"""The merged run's files: each kind's own, one report.html, one JUnit file, one summary.md.

``summary.md`` is what a CI's step summary takes (GitHub: ``cat summary.md >>
"$GITHUB_STEP_SUMMARY"``): per group its cells planned, ran, missing and errored, the shards
seen, the missing and errored cells by name (the first 50), and each kind's own summary.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence
from pathlib import Path

from harness.artifacts import REPORT_NAME, SUMMARY_NAME
from harness.merge.model import Joined

JUNIT_NAME = "junit.xml"
MERGE_NAME = "merge.json"
LISTED = 50  # cells named in summary.md per group (all of them are in merge.json)


def write(joined: Sequence[Joined], out: Path) -> list[Path]:
    from harness.merge import compare, explore, run

    out.mkdir(parents=True, exist_ok=True)
    writers = {"explore": explore.write, "compare": compare.write, "run": run.write}
    written: list[Path] = []
    for kind, writer in writers.items():
        mine = [item for item in joined if item.kind == kind]
        if mine:
            written += writer(mine, out)
    written.append(write_junit(joined, out / JUNIT_NAME))
    written.append(write_html(joined, out))
    (out / SUMMARY_NAME).write_text(render_summary(joined), encoding="utf-8")
    written = [p for p in written if p.name != SUMMARY_NAME]
    written += [out / SUMMARY_NAME, write_record(joined, out)]
    return written


def write_junit(joined: Sequence[Joined], path: Path) -> Path:
    root = ElementTree.Element("testsuites", name="faultlab merge")
    for item in joined:
        suites = item.junit()
        for suite in suites if isinstance(suites, list) else [suites]:
            root.append(suite)
    ElementTree.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path


def write_html(joined: Sequence[Joined], out: Path) -> Path:
    """report.html: the run's scenarios (when run shards were merged) and a section per
    explore/compare group and for the kernel table, after the merge's own table."""
    import html

    from harness import htmlreport
    from harness.merge.run import RunJoined

    rows = [row for item in joined if isinstance(item, RunJoined) for row in item.rows()]
    sections = [htmlreport.Section("Merge", _merge_table(joined, html.escape), "merge")]
    for item in joined:
        title, fragment = item.section()
        if fragment:
            sections.append(htmlreport.Section(title, fragment))
    return htmlreport.write(out / REPORT_NAME, rows, sections, pcapng=False, title="faultlab merge")


def _merge_table(joined: Sequence[Joined], esc: object) -> str:
    import html

    head = "<tr><th>group</th><th>planned</th><th>ran</th><th>missing</th><th>errored</th>"
    head += "<th>shards</th></tr>"
    rows = [head]
    for item in joined:
        rows.append(
            f"<tr><td>{html.escape(item.label)}</td><td>{len(item.planned)}</td>"
            f"<td>{len(item.ran)}</td><td>{len(item.missing)}</td><td>{len(item.errored)}</td>"
            f"<td>{html.escape(item.totals())}</td></tr>"
        )
    listed = [
        f"<li>{html.escape(item.label)}: {html.escape(cell)} ({word})</li>"
        for item in joined
        for cells, word in ((item.missing, "missing"), (item.errored, "errored"))
        for cell in cells[:LISTED]
    ]
    more = f"<ul>{''.join(listed)}</ul>" if listed else "<p>Every planned cell ran.</p>"
    return f"<table>{''.join(rows)}</table>{more}"


def render_summary(joined: Sequence[Joined]) -> str:
    """The merged run in Markdown (module docstring)."""
    lines = ["# faultlab merge", "", "| group | planned | ran | missing | errored | shards |"]
    lines.append("|---|---|---|---|---|---|")
    for item in joined:
        lines.append(
            f"| {item.label} | {len(item.planned)} | {len(item.ran)} | {len(item.missing)} | "
            f"{len(item.errored)} | {item.totals()} |"
        )
    lines.append("")
    for item in joined:
        lines += [f"## {item.label}", "", item.markdown().strip(), ""]
        if item.warning():
            lines += [f"**Warning**: {item.warning()}.", ""]
        for cells, word in ((item.missing, "Missing"), (item.errored, "Errored")):
            if not cells:
                continue
            lines.append(f"{word} ({len(cells)}):")
            lines.append("")
            for cell in cells[:LISTED]:
                extra = f" (shard {item.owner(cell)})" if word == "Missing" else ""
                lines.append(f"- `{cell}`{extra}")
            if len(cells) > LISTED:
                lines.append(f"- ... {len(cells) - LISTED} more in merge.json")
            lines.append("")
    if any(item.missing or item.errored for item in joined):
        lines += ["Run `faultlab merge ... --rerun` for the command that runs just those.", ""]
    return "\n".join(lines)


def merge_record(joined: Sequence[Joined]) -> dict[str, object]:
    """``merge.json``: per group its shards, planned/ran counts, missing and errored cells."""
    return {"format": 1, "groups": [item.record() for item in joined]}


def write_record(joined: Sequence[Joined], out: Path) -> Path:
    path = out / MERGE_NAME
    path.write_text(json.dumps(merge_record(joined), indent=1) + "\n", encoding="utf-8")
    return path
