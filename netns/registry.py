"""Run records: which process owns which namespaces and processes, so crashes can be swept.

A run record ``/run/faultlab/runs/<runid>.json`` is claimed (created exclusively) before a lab
creates any namespace and deleted after the last one is gone. It names the owner by pid *and*
start time (field 22 of ``/proc/PID/stat``), so a recycled pid never makes a dead run look alive.
Every write is atomic (a temporary file renamed over the record): a reader sees the old record
or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

RUNS_DIR = Path("/run/faultlab/runs")


@dataclass(frozen=True)
class ProcessEntry:
    """A process a lab started: pid plus start time, so a recycled pid is never killed."""

    pid: int
    start_time: int
    node: str
    argv0: str


@dataclass
class RunRecord:
    """What a run owns: its owner process, its namespaces and the processes it started."""

    run_id: str
    owner_pid: int
    owner_start_time: int
    namespaces: list[str] = field(default_factory=list)
    processes: list[ProcessEntry] = field(default_factory=list)
    workdir: str | None = None

    @classmethod
    def for_this_process(cls, run_id: str, namespaces: list[str], workdir: str | None) -> RunRecord:
        """A record owned by the calling process."""
        pid = os.getpid()
        start = process_start_time(pid)
        if start is None:
            raise RuntimeError(f"cannot read /proc/{pid}/stat of this very process")
        return cls(run_id, pid, start, list(namespaces), [], workdir)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    @classmethod
    def from_json(cls, text: str) -> RunRecord:
        data = json.loads(text)
        data["processes"] = [ProcessEntry(**entry) for entry in data.get("processes", [])]
        return cls(**data)

    def owner_alive(self) -> bool:
        """True while the owner process runs (same pid and same start time)."""
        return process_alive(self.owner_pid, self.owner_start_time)


def process_start_time(pid: int) -> int | None:
    """The start time of ``pid`` in clock ticks since boot, or None if there is no such process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            text = stat.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # comm (field 2) may hold spaces and parentheses: fields after the last ')' are fixed.
    fields = text[text.rindex(b")") + 2 :].split()
    return int(fields[19])  # field 22 overall; the list starts at field 3


def process_alive(pid: int, start_time: int) -> bool:
    """True if ``pid`` exists, is the same process that started at ``start_time``, and is not
    a zombie (a dead process nobody reaped yet: where PID 1 does not reap orphans, the owner
    of a killed run can stay a zombie, and its leftovers must still be swept)."""
    return process_start_time(pid) == start_time and not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            text = stat.read()
    except (FileNotFoundError, ProcessLookupError):
        return True
    return text[text.rindex(b")") + 2 :].split()[0] in (b"Z", b"X")


def record_path(run_id: str, runs_dir: Path = RUNS_DIR) -> Path:
    return runs_dir / f"{run_id}.json"


def claim(record: RunRecord, runs_dir: Path = RUNS_DIR) -> bool:
    """Create the record if no record of that run id exists; False if the id is taken."""
    runs_dir.mkdir(parents=True, exist_ok=True)
    temporary = _write_temporary(record, runs_dir)
    try:
        os.link(temporary, record_path(record.run_id, runs_dir))
    except FileExistsError:
        return False
    finally:
        temporary.unlink()
    return True


def save(record: RunRecord, runs_dir: Path = RUNS_DIR) -> None:
    """Replace the record atomically."""
    os.replace(_write_temporary(record, runs_dir), record_path(record.run_id, runs_dir))


def load(run_id: str, runs_dir: Path = RUNS_DIR) -> RunRecord | None:
    """The record of ``run_id``; None if there is none or it cannot be read (a stale record)."""
    try:
        return RunRecord.from_json(record_path(run_id, runs_dir).read_text())
    except FileNotFoundError:
        return None
    except (ValueError, TypeError, KeyError):
        return None


def delete(run_id: str, runs_dir: Path = RUNS_DIR) -> None:
    """Remove the record; a missing record is fine (teardown and sweep may race)."""
    record_path(run_id, runs_dir).unlink(missing_ok=True)


def run_ids(runs_dir: Path = RUNS_DIR) -> list[str]:
    """The run ids that have a record."""
    try:
        return sorted(path.name[: -len(".json")] for path in runs_dir.glob("*.json"))
    except FileNotFoundError:
        return []


def _write_temporary(record: RunRecord, runs_dir: Path) -> Path:
    temporary = runs_dir / f".{record.run_id}.{os.getpid()}.tmp"
    with open(temporary, "w") as out:
        out.write(record.to_json())
    return temporary
