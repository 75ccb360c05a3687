"""Sweeping the leftovers of runs whose owner died (SIGKILL, a crashed CI job, a power cut).

A namespace called ``fl<runid>-...`` belongs to a dead run when its run record is missing or
the record's owner is gone (its pid no longer exists, or exists with another start time). For
such a run the sweep kills the recorded processes (pid and start time must both match) and any
process whose network namespace is one of the run's, removes the namespaces, deletes the record,
and deletes links named ``fl<runid>...`` in the caller's namespace (normally there are none: a
lab never creates links there). A live run is never touched.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from . import registry, rtnl
from .naming import run_id_of, run_id_of_netns
from .nsenter import NETNS_DIR, netns_identity, netns_names, remove_netns
from .processes import kill_pids, kill_recorded
from .registry import RUNS_DIR, RunRecord

#: Seconds a namespace without any run record is presumed to be in use by a probe.
UNRECORDED_GRACE = 300.0


@dataclass
class SweepReport:
    """What a sweep removed, what it left alone because it is alive, and what failed."""

    removed_namespaces: list[str] = field(default_factory=list)
    killed_pids: list[int] = field(default_factory=list)
    removed_records: list[str] = field(default_factory=list)
    removed_links: list[str] = field(default_factory=list)
    live_runs: list[str] = field(default_factory=list)
    young_unrecorded: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        """True if the sweep removed anything."""
        return bool(
            self.removed_namespaces
            or self.killed_pids
            or self.removed_records
            or self.removed_links
        )


def sweep(runs_dir: Path = RUNS_DIR, grace: float = UNRECORDED_GRACE) -> SweepReport:
    """Remove everything of dead runs; never anything of a live one.

    A namespace with no run record at all is left alone for its first ``grace`` seconds: a
    throwaway probe (``faultlab doctor``) names its namespace the same way without a record.
    """
    report = SweepReport()
    by_run = _namespaces_by_run(netns_names())  # listed before records are read: see below
    # A lab claims its record before creating a namespace, so a namespace listed above whose
    # record is missing now belongs to a run that was never recorded or has finished.
    dead = set()
    for run_id in sorted(set(by_run) | set(registry.run_ids(runs_dir))):
        record = registry.load(run_id, runs_dir)
        if record is not None and record.owner_alive():
            report.live_runs.append(run_id)
            continue
        if record is None and _any_younger(by_run.get(run_id, []), grace):
            report.young_unrecorded.append(run_id)
            continue
        dead.add(run_id)
        _sweep_run(run_id, record, by_run.get(run_id, []), report, runs_dir)
    _sweep_links(dead, report)
    return report


def _any_younger(namespaces: list[str], seconds: float) -> bool:
    """True if one of ``namespaces`` appeared less than ``seconds`` ago.

    The time is the namespace inode's (set when the namespace was first given a path, i.e.
    bind-mounted under /run/netns).
    """
    now = time.time()
    for name in namespaces:
        try:
            if now - os.stat(NETNS_DIR / name).st_mtime < seconds:
                return True
        except FileNotFoundError:
            continue
    return False


def _namespaces_by_run(names: Iterable[str]) -> dict[str, list[str]]:
    by_run: dict[str, list[str]] = {}
    for name in names:
        run_id = run_id_of_netns(name)
        if run_id is not None:
            by_run.setdefault(run_id, []).append(name)
    return by_run


def _sweep_run(
    run_id: str,
    record: RunRecord | None,
    namespaces: list[str],
    report: SweepReport,
    runs_dir: Path,
) -> None:
    if record is not None:
        for entry in record.processes:
            if kill_recorded(entry.pid, entry.start_time):
                report.killed_pids.append(entry.pid)
    _kill_processes_inside(namespaces, report)
    for name in namespaces:
        try:
            remove_netns(name)
        except OSError as exc:
            report.errors.append(f"removing namespace {name}: {exc}")
            continue
        report.removed_namespaces.append(name)
    if record is not None:
        registry.delete(run_id, runs_dir)
        report.removed_records.append(run_id)


def _kill_processes_inside(namespaces: list[str], report: SweepReport) -> None:
    """Kill every process living in one of ``namespaces`` (one /proc scan for all of them)."""
    identities = {netns_identity(NETNS_DIR / name) for name in namespaces} - {None}
    if not identities:
        return
    me = os.getpid()
    inside = [
        pid
        for pid in (int(entry) for entry in os.listdir("/proc") if entry.isdigit())
        if pid != me and netns_identity(f"/proc/{pid}/ns/net") in identities
    ]
    report.killed_pids.extend(kill_pids(inside))


def _sweep_links(dead: set[str], report: SweepReport) -> None:
    """Delete links called fl<runid>... of a dead run in the caller's own namespace."""
    if not dead:
        return
    channel = rtnl.Channel(rtnl.open_socket(), "this namespace")
    try:
        for link in channel.dump(rtnl.get_links()):
            name = link.get_attr("IFLA_IFNAME") or ""
            if run_id_of(name) in dead:
                _delete_link(channel, link["index"], name, report)
    finally:
        channel.close()


def _delete_link(channel: rtnl.Channel, index: int, name: str, report: SweepReport) -> None:
    try:
        channel.request([rtnl.delete_link(index, name)])
    except OSError as exc:
        report.errors.append(f"deleting link {name}: {exc}")
        return
    report.removed_links.append(name)
