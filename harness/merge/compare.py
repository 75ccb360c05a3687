"""Compare shards joined: one robustness table (router x scenario cells), per kernel.

A shard's observations come from its ``robustness.json`` and, for a shard killed half-way,
from each cell's ``observation.json`` (written as soon as a router was judged).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.artifacts import OBSERVATION_NAME
from harness.compare import Observation, render_html, render_markdown, write_report
from harness.merge.identity import group_key
from harness.merge.model import Joined, ShardOutput, read_json, testsuite

ROBUSTNESS_JSON = "robustness.json"
FINDINGS = ("silent", "crash", "exit")


def _cell(obs: Observation) -> str:
    return f"{obs.router}:{obs.scenario}"


def _observation(data: dict[str, Any]) -> Observation:
    known = {f.name for f in dataclasses.fields(Observation)}
    return Observation(**{k: v for k, v in data.items() if k in known})


def _observations(output: ShardOutput) -> list[Observation]:
    data = read_json(output.folder / ROBUSTNESS_JSON)
    if not isinstance(data, list):
        paths = sorted(output.folder.rglob(OBSERVATION_NAME))
        data = [item for item in (read_json(p) for p in paths) if isinstance(item, dict)]
    return [_observation(item) for item in data if isinstance(item, dict)]


class CompareJoined(Joined):
    """One kernel's router x scenario table joined from its shards."""

    def section(self) -> tuple[str, str]:
        body = render_html(self.data).split("<body>", 1)[1].rsplit("</body>", 1)[0]
        return self.label, body

    def markdown(self) -> str:
        counts: dict[str, int] = {}
        for obs in self.data:
            word = obs.outcome().split()[0]
            counts[word] = counts.get(word, 0) + 1
        return ", ".join(f"{n} {word}" for word, n in sorted(counts.items())) or "no cell ran"

    def junit(self) -> Any:
        by_cell = {_cell(o): o for o in self.data}
        cases = []
        for cell in self.planned:
            router, _, scenario = cell.partition(":")
            obs = by_cell.get(cell)
            if obs is None:
                cases.append((router, scenario, "error", f"not run: shard {self.owner(cell)}"))
            elif obs.error is not None:
                cases.append((router, scenario, "error", obs.error))
            elif obs.skipped is not None:
                cases.append((router, scenario, "skipped", obs.skipped))
            elif obs.outcome().split()[0] in FINDINGS:
                cases.append((router, scenario, "failure", obs.outcome()))
            else:
                cases.append((router, scenario, "passed", ""))
        return testsuite(f"faultlab {self.label}", cases)


def join(outputs: Sequence[ShardOutput], out: Path) -> list[Joined]:
    groups: dict[tuple[object, ...], list[ShardOutput]] = {}
    for output in outputs:
        groups.setdefault(group_key(output), []).append(output)
    joined: list[Joined] = []
    for key, members in groups.items():
        ordered = sorted(members, key=lambda o: o.order)
        chosen: dict[str, Observation] = {}
        for output in ordered:
            for obs in _observations(output):
                old = chosen.get(_cell(obs))
                if old is None or not (old.error is None and obs.error is not None):
                    chosen[_cell(obs)] = obs
        planned = list(dict.fromkeys(c for o in ordered for c in o.planned))
        label = "compare" if len(groups) == 1 else f"compare on {key[1]}"
        item = CompareJoined("compare", label, ordered)
        item.planned = planned
        item.ran = {c for c in chosen if c in planned}
        item.errors = {c: str(o.error) for c, o in chosen.items() if o.error is not None}
        item.data = [chosen[c] for c in planned if c in chosen]
        item.findings = sum(o.outcome().split()[0] in FINDINGS for o in item.data)
        item.rerun_argv = list(ordered[0].data.get("rerun") or [])
        kernel = ordered[0].identity.get("kernel")
        import os

        if kernel and kernel != os.uname().release:
            item.rerun_argv += ["--kernel", str(kernel)]
        joined.append(item)
    return joined


def write(joined: Sequence[Joined], out: Path) -> list[Path]:
    """robustness.md/.html/.json (several kernels: one table each, in ``compare-<release>``)."""
    written: list[Path] = []
    for item in joined:
        folder = out if len(joined) == 1 else out / item.slug
        markdown, page = write_report(item.data, folder)
        written += [markdown, page, folder / ROBUSTNESS_JSON]
    if len(joined) > 1:
        every = [obs for item in joined for obs in item.data]
        (out / "robustness.md").write_text(render_markdown(every), encoding="utf-8")
        (out / ROBUSTNESS_JSON).write_text(
            json.dumps([o.to_json() for o in every], indent=1), encoding="utf-8"
        )
    return written
