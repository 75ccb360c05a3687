"""What a merge reads (a shard's output and its ``shard.json``) and what it holds (a group).

A *group* is the cells that belong in one table: one router on one kernel for explore, one
kernel for compare, the whole kernel x scenario matrix for run. ``Joined`` is a group after the
merge: its planned cells (the union of every shard's plan), the cells that ran, those missing
(no shard ran them: it was killed, or never started) and those that errored (the harness could
not run them), with the shard each cell was dealt to.
"""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import InputError
from harness.shard import SHARD_NAME, load_json


@dataclass
class ShardOutput:
    """One ``shard.json`` and the folder it sits in (the shard's output for its kind)."""

    folder: Path
    root: Path  # the DIR given to merge that holds it (later DIRs win a tie)
    order: int  # the position of ``root`` on the command line
    data: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.data.get("kind"))

    @property
    def identity(self) -> dict[str, Any]:
        return dict(self.data.get("identity") or {})

    @property
    def shard(self) -> str | None:
        return self.data.get("shard")

    @property
    def total(self) -> int | None:
        shard = self.shard
        return int(shard.split("/")[1]) if shard else None

    @property
    def planned(self) -> list[str]:
        return list(self.data.get("planned") or [])

    @property
    def mine(self) -> list[str]:
        return list(self.data.get("mine") or [])

    @property
    def where(self) -> str:
        return str(self.folder / SHARD_NAME)


def find_outputs(dirs: list[Path], out: Path | None = None) -> list[ShardOutput]:
    """Every ``shard.json`` under ``dirs`` (not under ``out``): InputError when a folder has
    none, or one cannot be read (file and what was expected)."""
    found: list[ShardOutput] = []
    skip = out.resolve() if out is not None else None
    for order, root in enumerate(dirs):
        paths = sorted(p for p in root.rglob(SHARD_NAME) if not _under(p, skip))
        if not paths:
            raise InputError(
                f"{root}: no {SHARD_NAME} in this folder (expected the output of a sharded "
                "faultlab explore, compare or run: --out or --artifacts)"
            )
        for path in paths:
            found.append(ShardOutput(path.parent, root, order, _read(path)))
    return found


def _under(path: Path, folder: Path | None) -> bool:
    return folder is not None and folder in path.resolve().parents


def _read(path: Path) -> dict[str, Any]:
    data = load_json(path)
    if not isinstance(data, dict) or data.get("kind") not in ("explore", "compare", "run"):
        raise InputError(f"{path}: expected a shard manifest with kind explore, compare or run")
    return data


def read_json(path: Path) -> Any:
    """A JSON file's data, or None when it is missing or broken (a killed shard's leftovers)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def relink(path: str, folder: Path, out: Path) -> str:
    """An artifacts path as the merged report links it: relative to ``out``. A shard's path
    recorded on another machine is found again under the shard's ``folder`` by its tail."""
    candidate = Path(path)
    if not candidate.is_absolute():
        candidate = folder / candidate
    if not candidate.exists():
        parts = Path(path).parts
        for start in range(1, len(parts)):
            tail = folder.joinpath(*parts[start:])
            if tail.exists():
                candidate = tail
                break
    return os.path.relpath(candidate.resolve(), out.resolve())


@dataclass
class Joined:
    """One group after the merge (module docstring); the kinds fill and render it."""

    kind: str
    label: str  # "explore igmpd on 6.18.44", "compare on 6.1.0-57-amd64", "run"
    shards: list[ShardOutput]
    planned: list[str] = field(default_factory=list)
    ran: set[str] = field(default_factory=set)
    errors: dict[str, str] = field(default_factory=dict)  # cell -> the harness error
    failed: bool = False  # a scenario failed (run): merge's exit 1
    findings: int = 0
    rerun_argv: list[str] = field(default_factory=list)
    kernels: dict[str, str] = field(default_factory=dict)  # release -> --kernel spec
    data: Any = None  # the kind's joined results (explorations, observations, rows)

    @property
    def slug(self) -> str:
        return re.sub(r"[^A-Za-z0-9._-]+", "-", self.label).strip("-")

    @property
    def missing(self) -> list[str]:
        return [cell for cell in self.planned if cell not in self.ran]

    @property
    def errored(self) -> list[str]:
        return [cell for cell in self.planned if cell in self.errors]

    def owner(self, cell: str) -> str:
        """The shard that was dealt ``cell`` ("?" when no manifest says)."""
        for output in self.shards:
            owner = (output.data.get("owners") or {}).get(cell)
            if owner:
                return str(owner)
        for output in self.shards:
            if cell in output.mine:
                return output.shard or "unsharded"
        return "?"

    def totals(self) -> str:
        seen = sorted({output.shard for output in self.shards if output.shard})
        total = next((output.total for output in self.shards if output.total), None)
        if total is None:
            return f"{len(self.shards)} output(s)"
        absent = [f"{i}/{total}" for i in range(1, total + 1) if f"{i}/{total}" not in seen]
        text = f"{len(seen)} of {total} shards"
        return text + (f" (absent: {', '.join(absent)})" if absent else "")

    @property
    def plans_differ(self) -> bool:
        """The shards of one explore or compare group planned different cells: their own
        discoveries differed (a run under load can see one more call), so their deals did too
        and some cells went to no shard. Giving every shard the plan's sites avoids it."""
        if self.kind == "run":
            return False  # a kernel run's root and per-kernel manifests plan different spans
        return len({o.data.get("planned_digest") for o in self.shards}) > 1

    def warning(self) -> str | None:
        if not self.plans_differ:
            return None
        return (
            f"{self.label}: the shards planned different cells (their discoveries differed); "
            "give every shard the same sites: faultlab plan --sites-out FILE, explore --sites FILE"
        )

    def summary_line(self) -> str:
        return (
            f"{self.label}: {len(self.planned)} cells planned, {len(self.ran)} ran, "
            f"{len(self.missing)} missing, {len(self.errored)} errored; {self.totals()}"
        )

    def rerun(self, cells: list[str], out: Path, target: Path) -> list[str]:
        """The command that runs just ``cells`` (the shard's recorded rerun argv, filled)."""
        argv: list[str] = []
        listed = ",".join(cells)
        if any("," in cell for cell in cells) or len(listed) > 2000:
            path = out / f"rerun-{self.slug}.txt"
            path.write_text("".join(f"{cell}\n" for cell in cells), encoding="utf-8")
            listed = f"@{path}"
        for word in self.rerun_argv:
            if word == "{kernels}":
                argv += self.kernel_options(cells)
            else:
                argv.append(word.replace("{cells}", listed))
        return [*argv, *self.out_options(target)]

    def kernel_options(self, cells: list[str]) -> list[str]:
        releases = {cell.partition(":")[0] for cell in cells}
        options: list[str] = []
        for release, spec in self.kernels.items():
            if release in releases and spec:
                options += ["--kernel", spec]
        return options

    def out_options(self, target: Path) -> list[str]:
        flag = "--artifacts" if self.kind == "run" else "--out"
        return [flag, str(target)]

    def record(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "label": self.label,
            "shards": [
                {"shard": o.shard, "folder": str(o.folder), "cells": len(o.mine)}
                for o in self.shards
            ],
            "planned": len(self.planned),
            "ran": len(self.ran),
            "missing": [{"cell": c, "shard": self.owner(c)} for c in self.missing],
            "errored": [{"cell": c, "error": self.errors[c]} for c in self.errored],
        }

    # -- what each kind renders (harness.merge.explore/compare/run set these) --------------

    def write(self, out: Path) -> list[Path]:
        return []

    def section(self) -> tuple[str, str]:
        return self.label, ""

    def junit(self) -> ElementTree.Element:
        return testsuite(self.label, [])

    def markdown(self) -> str:
        return ""


def testsuite(name: str, cases: list[tuple[str, str, str, str]]) -> ElementTree.Element:
    """A JUnit ``testsuite`` of (classname, name, outcome, message) cases; outcome is passed,
    failure, error or skipped."""
    suite = ElementTree.Element("testsuite", name=name)
    counts = {"failure": 0, "error": 0, "skipped": 0}
    for classname, case_name, outcome, message in cases:
        case = ElementTree.SubElement(suite, "testcase", classname=classname, name=case_name)
        if outcome in counts:
            counts[outcome] += 1
            ElementTree.SubElement(case, outcome, message=message[:500])
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(counts["failure"]))
    suite.set("errors", str(counts["error"]))
    suite.set("skipped", str(counts["skipped"]))
    return suite
