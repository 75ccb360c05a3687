"""Explore shards joined: one call site x errno matrix per router (and kernel), one explore.json.

A shard's observations come from its ``explore.json`` and, for a shard killed half-way, from
the results it wrote one by one (``<router>/results/<fault id>.json``, harness.explore.run's
Store). The plan (sites and faults) comes from the manifests, so a shard that never finished
still names the faults it was dealt. Artifact links are rewritten to point from the merged
folder into the shard's.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.explore.classify import FATAL, Observation, acceptable
from harness.explore.plan import PlannedFault
from harness.explore.report import JSON_NAME, RouterExploration, render_markdown, summary_line
from harness.explore.sites import CallSite
from harness.merge.identity import group_key
from harness.merge.model import Joined, ShardOutput, read_json, relink, testsuite


class ExploreJoined(Joined):
    """One router's exploration (on one kernel) joined from its shards."""

    def section(self) -> tuple[str, str]:
        from harness.explore.report import render_html

        return self.label, render_html([self.data])

    def markdown(self) -> str:
        return summary_line(self.data)

    def junit(self) -> Any:
        e: RouterExploration = self.data
        by_id = {o.fault: o for o in e.observations}
        cases = []
        for fault in e.faults:
            obs = by_id.get(fault.id)
            name = f"{fault.site.key} {fault.errno}"
            if obs is None:
                cases.append((e.router, name, "error", f"not run: shard {self.owner(fault.id)}"))
            elif obs.error:
                cases.append((e.router, name, "error", obs.error))
            elif obs.word == "unreached":
                cases.append((e.router, name, "skipped", obs.outcome))
            elif not acceptable(obs):
                cases.append((e.router, name, "failure", f"{obs.outcome}: {obs.line}"))
            else:
                cases.append((e.router, name, "passed", ""))
        return testsuite(f"faultlab explore {self.label}", cases)


def _observations(output: ShardOutput, out: Path) -> list[Observation]:
    """What one shard observed: its explore.json's, else the results it wrote one by one."""
    router = output.identity.get("router")
    found: dict[str, Observation] = {}
    for path in sorted((output.folder / "results").glob("*.json")):
        data = read_json(path)
        if isinstance(data, dict) and isinstance(data.get("observation"), dict):
            obs = Observation.from_json(data["observation"])
            found[obs.fault] = obs
    report = read_json(output.folder.parent / JSON_NAME)
    for entry in (report or {}).get("routers", []) if isinstance(report, dict) else []:
        if entry.get("router") == router:
            for item in entry.get("observations", []):
                obs = Observation.from_json(item)
                found[obs.fault] = obs
    for obs in found.values():
        if obs.folder:
            obs.folder = relink(obs.folder, output.folder, out / str(router))
    return list(found.values())


def _wall(output: ShardOutput) -> float:
    report = read_json(output.folder.parent / JSON_NAME)
    router = output.identity.get("router")
    for entry in (report or {}).get("routers", []) if isinstance(report, dict) else []:
        if entry.get("router") == router:
            return float(entry.get("wall_s") or 0.0)
    return 0.0


def _better(old: Observation | None, new: Observation) -> bool:
    """A cell seen twice keeps the run without a harness error, else the later one."""
    return old is None or not (old.error is None and new.error is not None)


def join_group(outputs: Sequence[ShardOutput], out: Path, label: str) -> ExploreJoined:
    ordered = sorted(outputs, key=lambda o: o.order)
    first = ordered[0]
    router = str(first.identity.get("router"))
    sites: dict[str, CallSite] = {}
    faults: dict[str, PlannedFault] = {}
    for output in ordered:
        for item in output.data.get("sites", []):
            site = CallSite.from_json(item)
            sites.setdefault(site.key, site)
        for item in output.data.get("faults", []):
            if item["site"] in sites and item["id"] not in faults:
                faults[item["id"]] = PlannedFault(sites[item["site"]], item["errno"])
    chosen: dict[str, Observation] = {}
    for output in ordered:
        for obs in _observations(output, out):
            if _better(chosen.get(obs.fault), obs):
                chosen[obs.fault] = obs
    exploration = RouterExploration(label if " on " in label else router)
    exploration.sites = list(sites.values())
    exploration.faults = list(faults.values())
    exploration.observations = [chosen[f] for f in faults if f in chosen]
    exploration.calls = int(first.data.get("calls") or 0)
    exploration.wall = max((_wall(o) for o in ordered), default=0.0)
    joined = ExploreJoined("explore", f"explore {label}", list(ordered))
    joined.planned = list(faults)
    joined.ran = {o.fault for o in exploration.observations}
    joined.errors = {o.fault: str(o.error) for o in exploration.observations if o.error}
    joined.findings = sum(
        not acceptable(o) and o.word not in FATAL for o in exploration.observations
    )
    given = [o for o in ordered if "--sites" in (o.data.get("rerun") or [])]
    joined.rerun_argv = _rerun_argv(given[0] if given else first)
    joined.data = exploration
    return joined


def _rerun_argv(output: ShardOutput) -> list[str]:
    """The shard's rerun command, on its kernel when that is not this machine's."""
    import os

    argv = list(output.data.get("rerun") or [])
    kernel = output.identity.get("kernel")
    if kernel and kernel != os.uname().release:
        argv += ["--kernel", str(kernel)]
    return argv


def join(outputs: Sequence[ShardOutput], out: Path) -> list[Joined]:
    """Every router x kernel group of explore shards, joined."""
    groups: dict[tuple[object, ...], list[ShardOutput]] = {}
    for output in outputs:
        groups.setdefault(group_key(output), []).append(output)
    kernels = {key[2] for key in groups}
    joined: list[Joined] = []
    for key, members in groups.items():
        label = str(key[1]) if len(kernels) == 1 else f"{key[1]} on {key[2]}"
        joined.append(join_group(members, out, label))
    return joined


def write(joined: Sequence[Joined], out: Path) -> list[Path]:
    """One explore.json (every router side by side) and explore.md."""
    explorations = [item.data for item in joined]
    scenario = str(joined[0].shards[0].identity.get("scenario"))
    from harness.explore.report import MARKDOWN_NAME, to_json

    data = to_json(scenario, explorations)
    data["merged"] = [item.record() for item in joined]
    out.mkdir(parents=True, exist_ok=True)
    (out / JSON_NAME).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    (out / MARKDOWN_NAME).write_text(render_markdown(scenario, explorations), encoding="utf-8")
    return [out / JSON_NAME, out / MARKDOWN_NAME]
