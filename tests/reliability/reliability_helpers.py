"""Shared pieces of the reliability proofs: a `faultlab run` subprocess watched from outside,
and a probe for everything a run could leave behind on the host.

A run is identified by its lab run ids, learnt from the run records in /run/faultlab/runs
whose owner is the `faultlab` process (the CLI runs pytest in-process, so it owns every lab).
The watcher reads those records while the run lives, so the probe knows which namespaces,
processes and links to look for even after the run deleted its records.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RUNS_DIR = Path("/run/faultlab/runs")
NETNS_DIR = Path("/run/netns")
RUN_ENV = "FAULTLAB_RUN"
POLL = 0.02  # seconds between two looks at the run records (the watcher's polling interval)

SCENARIO = """\
name: {name}
description: igmpd in a small lab, its first raw IGMP socket refused by the harness's seccomp supervisor, for {hold}
timeout: 30s
topology:
  nodes: [r1, h1]
  links:
    - {{a: "r1:e0 10.0.1.1/24", b: "h1:e0 10.0.1.2/24"}}
router:
  node: r1
  interfaces: [e0]
faults:
  - {{kind: step-error, step: create_socket, errno: ENOBUFS, nth: 1}}
expect:
  events:
    - {{id: 41024, errno: ENOBUFS, interface: e0, within: 5s}}
  absent:
    - {{id: 41042, window: {hold}}}
{extra}"""
#: An expectation that cannot hold: igmpd always logs 41010 "IGMP has started".
FAILING = "    - {id: 41010}\n"


def scenario_text(name: str, hold: str = "200ms", failing: bool = False) -> str:
    """A scenario running igmpd under a supervised step error for about ``hold`` (any kernel);
    passes or fails."""
    return SCENARIO.format(name=name, hold=hold, extra=FAILING if failing else "")


def wait_until(what: str, probe: Callable[[], Any], timeout: float) -> Any:
    """Poll ``probe`` until it is truthy; AssertionError naming ``what`` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:g}s for {what}")
        time.sleep(POLL)  # the polling interval of this wait, not synchronisation


@dataclass
class Seen:
    """What the watcher learnt about one lab of the run from its run record."""

    run_id: str
    namespaces: set[str] = field(default_factory=set)
    processes: set[tuple[int, int]] = field(default_factory=set)  # (pid, start time)


class FaultlabRun:
    """`python -m harness.cli ARGS` in its own folder and session, its records followed."""

    def __init__(self, workdir: Path, *args: str) -> None:
        self.workdir = workdir
        self.tmpdir = workdir / "tmp"
        self.tmpdir.mkdir(parents=True, exist_ok=True)
        self.stdout = workdir / "faultlab.out"
        self.stderr = workdir / "faultlab.err"
        self.labs: dict[str, Seen] = {}
        self._stop = threading.Event()
        with self.stdout.open("wb") as out, self.stderr.open("wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "harness.cli", *args],
                cwd=workdir,
                env=_clean_env(self.tmpdir),
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        self._watcher = threading.Thread(target=self._watch, name="run-records", daemon=True)
        self._watcher.start()

    # -- following the run -------------------------------------------------------------------

    def _watch(self) -> None:
        while not self._stop.is_set():
            self._read_records()
            if self.proc.poll() is not None:
                break
            self._stop.wait(POLL)

    def _read_records(self) -> None:
        for path in RUNS_DIR.glob("*.json"):
            try:
                record = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            if record.get("owner_pid") != self.proc.pid:
                continue
            seen = self.labs.setdefault(record["run_id"], Seen(record["run_id"]))
            seen.namespaces.update(record.get("namespaces", []))
            seen.processes.update((p["pid"], p["start_time"]) for p in record.get("processes", []))

    def mid_run(self, timeout: float = 20.0) -> None:
        """Wait until a lab of this run is alive, igmpd recorded in it and the fault in effect
        (igmpd logged 41024: the fault's supervisor answered its first socket call)."""

        def started() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"faultlab exited early ({self.proc.returncode}):\n{self.log}")
            recorded = any(seen.processes for seen in self.labs.values())
            return recorded and any(
                '"id": 41024' in _read(str(path)).decode(errors="replace")
                for path in self.workdir.glob("artifacts/**/events.jsonl")
            )

        wait_until("the run to be mid-scenario (igmpd running, fault applied)", started, timeout)

    def signal(self, signum: int) -> None:
        os.kill(self.proc.pid, signum)

    def wait(self, timeout: float = 60.0) -> int:
        """The exit status, once the process ended and the watcher stopped."""
        try:
            code = self.proc.wait(timeout=timeout)
        finally:
            self._stop.set()
            self._watcher.join()
        return code

    def kill(self) -> None:
        """For a test's cleanup: SIGKILL the run (its leftovers are then swept)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.wait()

    @property
    def log(self) -> str:
        return self.stdout.read_text(errors="replace") + self.stderr.read_text(errors="replace")

    @property
    def run_ids(self) -> set[str]:
        return set(self.labs)

    @property
    def namespaces(self) -> set[str]:
        return {name for seen in self.labs.values() for name in seen.namespaces}


def _clean_env(tmpdir: Path) -> dict[str, str]:
    """This environment without pytest's and faultlab's own variables, with a private TMPDIR."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST_", "FAULTLAB_")) and key != "PYTHONPATH"
    }
    env.update(TMPDIR=str(tmpdir), PYTHONDONTWRITEBYTECODE="1")
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    return env


# -- probing for leftovers -----------------------------------------------------------------------


def leftovers(run: FaultlabRun, allowed: Iterable[str]) -> list[str]:
    """Everything the run left behind, one line each ([] when the host is clean of it).

    ``allowed`` names the entries of the run's folder that may remain (the scenario files and
    the artifacts folder); everything else there, and anything in its private TMPDIR, is stray.
    """
    found = [f"namespace {name}" for name in sorted(run.namespaces) if (NETNS_DIR / name).exists()]
    found += [f"namespace {name}" for name in _namespaces_of(run.run_ids) - run.namespaces]
    found += [f"run record {path.name}" for path in _record_files(run.run_ids)]
    found += [f"root-namespace link {name}" for name in root_links(run.run_ids)]
    found += [f"process {line}" for line in processes_of(run)]
    stray = sorted(
        {path.name for path in run.workdir.iterdir()}
        - set(allowed)
        - {"tmp", run.stdout.name, run.stderr.name}
    )
    found += [f"stray file {run.workdir / name}" for name in stray]
    found += [f"stray file {path}" for path in sorted(run.tmpdir.rglob("*"))]
    return found


def _namespaces_of(run_ids: set[str]) -> set[str]:
    try:
        names = os.listdir(NETNS_DIR)
    except FileNotFoundError:
        return set()
    return {name for name in names if name[2:8] in run_ids and name.startswith("fl")}


def _record_files(run_ids: set[str]) -> list[Path]:
    if not RUNS_DIR.exists():
        return []
    return [path for path in RUNS_DIR.iterdir() if any(rid in path.name for rid in run_ids)]


def root_links(run_ids: set[str] | None = None) -> list[str]:
    """Links called fl... in this (the root) namespace; only those of ``run_ids`` if given."""
    names = os.listdir("/sys/class/net")
    return sorted(
        name
        for name in names
        if name.startswith("fl") and (run_ids is None or name[2:8] in run_ids)
    )


def processes_of(run: FaultlabRun) -> list[str]:
    """Live (non-zombie) processes of the run: the runner itself, recorded pids, and any process
    tagged with one of its run ids or naming its folder on its command line."""
    recorded = {pid: start for seen in run.labs.values() for pid, start in seen.processes}
    tags = [f"{RUN_ENV}={rid}".encode() for rid in run.run_ids]
    folder = str(run.workdir).encode()
    found = []
    for pid in (int(entry) for entry in os.listdir("/proc") if entry.isdigit()):
        stat = _stat(pid)
        if stat is None or stat[0] == "Z" or pid == os.getpid():
            continue
        cmdline = _read(f"/proc/{pid}/cmdline")
        why = []
        if pid == run.proc.pid:
            why.append("the faultlab process itself")
        if recorded.get(pid) == stat[1]:
            why.append("recorded in the run record")
        environ = _read(f"/proc/{pid}/environ")
        if any(tag + b"\0" in environ or environ.endswith(tag) for tag in tags):
            why.append("tagged with the run id")
        if folder in cmdline:
            why.append("names the run's folder")
        if why:
            text = cmdline.replace(b"\0", b" ").decode(errors="replace").strip()
            found.append(f"{pid} ({text[:120]}): {', '.join(why)}")
    return found


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, start time) of ``pid``; None if it is gone."""
    raw = _read(f"/proc/{pid}/stat")
    if not raw:
        return None
    fields = raw[raw.rindex(b")") + 2 :].split()
    return fields[0].decode(), int(fields[19])


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return b""


def sweep() -> subprocess.CompletedProcess[str]:
    """`faultlab sweep`, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", "sweep"],
        capture_output=True,
        text=True,
        timeout=60,
        env=_clean_env(Path(os.environ.get("TMPDIR", "/tmp"))),
    )
