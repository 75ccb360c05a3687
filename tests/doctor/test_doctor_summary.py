"""The CI job summary and the shard split, as the CI kit uses them.

The job summary is harness.report's Markdown file, appended to $GITHUB_STEP_SUMMARY; it is
rendered here with markdown-it-py (GitHub's tables are the GFM table extension) and the table
must come out with one row per scenario and every cell in its column, even when a message
contains a pipe or HTML. The shard split must give every scenario to exactly one machine.
"""

from __future__ import annotations

import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from doctor_helpers import REPO, SCENARIO, child_env
from markdown_it import MarkdownIt

from harness import report
from harness.report import Row
from harness.shard import Shard

COLUMNS = ["scenario", "step", "cause", "expected event", "verdict", "duration"]


class TableCells(HTMLParser):
    """The text of every table cell, row by row, plus the tags seen."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.tags: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "tr":
            self.rows.append([])
        elif tag in {"td", "th"}:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in {"td", "th"} and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def render(markdown: str) -> TableCells:
    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)
    cells = TableCells()
    cells.feed(html)
    return cells


def row(name: str, step: str, cause: str, event: str, status: str, duration: float | None,
        message: str = "") -> Row:  # fmt: skip
    base = Row(name=name, path=f"{name}.yaml", step=step, cause=cause, event=event)
    return base.with_result(status, duration, None, message)


def sample_rows() -> list[Row]:
    return [
        row("mrt held", "request_multicast", "mrt-held", "41028 IGMPLOG_SET_MCAST_IF_FAILED",
            "passed", 0.48),
        row("nth bind | e1", "bind", "syscall-error", "41025 IGMPLOG_BIND_FAILED", "failed", 2.1,
            "expected 41025 on e1\nsaw <nothing> | after 2s"),
        row("no nftables", "send", "firewall-drop", "41019 IGMPLOG_SENDTO_FAILED", "skipped",
            None, "nftables missing"),
    ]  # fmt: skip


def test_summary_renders_as_one_table_with_a_row_per_scenario() -> None:
    rows = sample_rows()
    cells = render(report.markdown_summary(rows))
    assert cells.tags.count("table") == 1
    header, *body = cells.rows
    assert header == COLUMNS
    assert len(body) == len(rows)
    assert all(len(row) == len(COLUMNS) for row in body)


def test_a_pipe_in_a_name_stays_inside_its_cell() -> None:
    body = render(report.markdown_summary(sample_rows())).rows[1:]
    assert body[1][0] == "nth bind | e1"
    assert body[1][COLUMNS.index("verdict")] == "FAIL"
    assert [row[COLUMNS.index("step")] for row in body] == ["request_multicast", "bind", "send"]


def test_failure_details_render_below_the_table_not_inside_it() -> None:
    markdown = report.markdown_summary(sample_rows())
    cells = render(markdown)
    assert "details" in cells.tags and "summary" in cells.tags
    assert "saw <nothing> | after 2s" in markdown  # kept verbatim inside a code block
    assert len(cells.rows) == 1 + len(sample_rows())


def test_an_empty_shard_still_renders_a_table_header() -> None:
    cells = render(report.markdown_summary([]))
    assert cells.rows == [COLUMNS]


@pytest.mark.parametrize("total", [1, 2, 3, 4, 7])
@pytest.mark.parametrize("count", [0, 1, 5, 23])
def test_shards_cover_every_scenario_exactly_once(total: int, count: int) -> None:
    names = [f"scenarios/family-{i % 3}/case-{i:02d}.yaml::case-{i}" for i in range(count)]
    names.reverse()  # the split must not depend on the order the files were found in
    parts = [Shard(index, total).select(names, key=str) for index in range(1, total + 1)]
    flat = [name for part in parts for name in part]
    assert sorted(flat) == sorted(names)  # all of them, none twice
    sizes = [len(part) for part in parts]
    assert max(sizes) - min(sizes) <= 1
    assert parts == [Shard(i, total).select(list(names), key=str) for i in range(1, total + 1)]


def collected(shard: str, suite: Path) -> list[str]:
    """Node ids pytest collects from ``suite`` with the faultlab plugin and ``--shard``."""
    argv = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
            "--shard", shard, str(suite)]  # fmt: skip
    proc = subprocess.run(
        argv, capture_output=True, text=True, timeout=60, env=child_env(), cwd=REPO
    )
    assert proc.returncode in (0, 5), proc.stdout + proc.stderr  # 5: this shard is empty
    return [line for line in proc.stdout.splitlines() if "::" in line]


def assert_split_covers(suite: Path, total: int) -> None:
    everything = collected("1/1", suite)
    parts = [collected(f"{index}/{total}", suite) for index in range(1, total + 1)]
    flat = [node for part in parts for node in part]
    assert everything and sorted(flat) == sorted(everything)
    assert len(set(flat)) == len(flat)
    assert all(parts), "a shard is empty although the suite has more scenarios than shards"


def test_the_plugin_splits_a_suite_into_4_shards_covering_each_scenario_once(
    tmp_path: Path,
) -> None:
    first_line, rest = SCENARIO.split("\n", 1)
    assert first_line.startswith("name:")
    suite = tmp_path / "scenarios"
    for index in range(9):
        folder = suite / f"family-{index % 3}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"case-{index}.yaml").write_text(f"name: case {index}\n{rest}")
    assert_split_covers(suite, 4)


def test_the_real_suite_splits_into_4_shards_covering_each_scenario_once() -> None:
    suite = REPO / "scenarios"
    if len(list(suite.rglob("*.yaml"))) < 4:
        pytest.skip("the scenario suite has fewer than 4 scenarios yet")
    assert_split_covers(suite, 4)
