"""Run shards joined: one results.json (each row with its kernel), the kernel x scenario table
when several kernels ran, and every shard's JUnit testsuites in one file.

A cell is ``RELEASE:NAME``. Rows come from every ``results.json`` under the shards' folders
(a ``run --kernel`` shard holds one per kernel, ``<release>/results.json``); a row without a
``kernel`` key is on the kernel its shard's manifest names.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.artifacts import RESULTS_NAME
from harness.merge.model import Joined, ShardOutput, read_json, relink
from harness.report import Row, markdown_summary, summary_line, write_reports
from harness.shard import run_cell

BAD = ("failed", "error")


def _rows(output: ShardOutput, out: Path) -> list[tuple[str, dict[str, Any]]]:
    """(cell, row) for every row under the shard's folder."""
    default = next(iter(output.data.get("kernels") or {}), "")
    found = []
    for path in sorted(output.folder.rglob(RESULTS_NAME)):
        rows = read_json(path)
        if not isinstance(rows, list):
            continue
        for row in rows:
            if not isinstance(row, dict) or "name" not in row:
                continue
            row = dict(row)
            if row.get("artifacts"):
                row["artifacts"] = str(out / relink(row["artifacts"], path.parent, out))
            found.append((run_cell(str(row.get("kernel") or default), row["name"]), row))
    return found


def _junit_files(output: ShardOutput) -> list[Path]:
    """The JUnit XML files under a shard's folder (any ``*.xml`` whose root is a testsuite)."""
    found = []
    for path in sorted(output.folder.rglob("*.xml")):
        try:
            tag = ElementTree.parse(path).getroot().tag
        except (ElementTree.ParseError, OSError):
            continue
        if tag in ("testsuite", "testsuites"):
            found.append(path.resolve())
    return found


def _every_suite(outputs: Sequence[ShardOutput]) -> list[ElementTree.Element]:
    """Each JUnit file's testsuites once (a ``run --kernel`` shard's folder holds its kernels'
    manifests too), each with a ``shard`` property."""
    seen: set[Path] = set()
    suites = []
    for output in sorted(outputs, key=lambda o: (o.order, o.shard is None)):
        for path in _junit_files(output):
            if path in seen:
                continue
            seen.add(path)
            root = ElementTree.parse(path).getroot()
            for suite in [root] if root.tag == "testsuite" else root.findall("testsuite"):
                if output.shard:
                    properties = suite.find("properties")
                    if properties is None:
                        properties = ElementTree.Element("properties")
                        suite.insert(0, properties)
                    ElementTree.SubElement(properties, "property", name="shard", value=output.shard)
                suites.append(suite)
    return suites


class RunJoined(Joined):
    """The kernel x scenario cells of every run shard."""

    suites: list[ElementTree.Element]

    def rows(self) -> list[Row]:
        known = set(Row.__dataclass_fields__)
        return [Row(**{k: v for k, v in row.items() if k in known}) for row in self.data]

    def verdicts(self) -> dict[str, dict[str, str]]:
        table: dict[str, dict[str, str]] = {release: {} for release in self.kernels}
        for row in self.data:
            table.setdefault(str(row.get("kernel")), {})[row["name"]] = row.get("status") or "-"
        return table

    def section(self) -> tuple[str, str]:
        from harness.kernellab.table import render_fragment

        if len(self.verdicts()) < 2:
            return self.label, ""
        return "Scenario verdicts per kernel", render_fragment(self.verdicts())

    def markdown(self) -> str:
        return markdown_summary(self.rows())

    def junit(self) -> Any:
        return self.suites


def join(outputs: Sequence[ShardOutput], out: Path) -> list[Joined]:
    ordered = sorted(outputs, key=lambda o: o.order)
    chosen: dict[str, dict[str, Any]] = {}
    for output in ordered:
        for cell, row in _rows(output, out):
            old = chosen.get(cell)
            if old is None or not (old.get("status") != "error" and row.get("status") == "error"):
                chosen[cell] = row
    planned = list(dict.fromkeys(c for o in ordered for c in o.planned))
    item = RunJoined("run", "run", ordered)
    item.planned = planned
    item.ran = {c for c in chosen if c in planned}
    item.errors = {
        c: str(r.get("message") or "error")[:300]
        for c, r in chosen.items()
        if r.get("status") == "error"
    }
    item.data = [chosen[c] for c in planned if c in chosen]
    item.failed = any(row.get("status") in BAD for row in item.data)
    item.findings = sum(row.get("status") == "failed" for row in item.data)
    outer = [o for o in ordered if o.data.get("mine_known")] or ordered
    item.rerun_argv = list(outer[0].data.get("rerun") or [])
    for output in ordered:
        for release, spec in (output.data.get("kernels") or {}).items():
            if spec or release not in item.kernels:
                item.kernels[release] = spec
    item.suites = _every_suite(ordered)
    return [item]


def write(joined: Sequence[Joined], out: Path) -> list[Path]:
    """results.json, summary.md and the fault matrix of every row (and the kernel table)."""
    item = joined[0]
    assert isinstance(item, RunJoined)
    written = list(write_reports(item.rows(), out).values())
    results = out / RESULTS_NAME
    import json

    results.write_text(json.dumps(item.data, indent=2) + "\n", encoding="utf-8")
    if len(item.verdicts()) > 1:
        from harness.kernellab import table

        written += list(table.write(item.verdicts(), out))
    print(summary_line(item.rows()))
    return written
