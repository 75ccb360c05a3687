"""Crashes and signals: a SIGKILLed owner's leftovers are swept, SIGTERM still tears down."""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from netns import Lab, Topology, registry, sweep
from netns.nsenter import NETNS_DIR
from netns.registry import process_start_time

#: Every test that calls sweep() (or SIGKILLs a lab owner) takes the machine-wide sweep lock, so
#: one test's sweep never removes another test's SIGKILLed lab before that test looked at it
#: (tests/reliability/test_reliability_leftovers.py takes it too).
pytestmark = [pytest.mark.netns, pytest.mark.usefixtures("exclusive_sweep")]

DEADLINE = 10.0  # a child Python imports pyroute2 and builds a lab: well under a second here
OWNER = """
import sys
from netns import Lab, Topology
topology = Topology.from_dict({"nodes": ["r1", "h1"], "links": [{"a": "r1:e0 10.0.1.1/24", "b": "h1:e0 10.0.1.2/24"}]})
with Lab(topology) as lab:
    sleeper = lab.node("h1").popen(["sleep", "60"])
    print(lab.run_id, sleeper.pid, "ready", flush=True)
    sys.stdin.read()
"""
TWO_NODES = {"nodes": ["r1", "h1"], "links": [{"a": "r1:e0 10.0.2.1/24", "b": "h1:e0 10.0.2.2/24"}]}


@contextmanager
def lab_owner() -> Iterator[tuple[subprocess.Popen, str, int]]:
    """A child Python that owns a lab and a sleeping process: (child, run id, sleeper pid)."""
    child = subprocess.Popen(
        [sys.executable, "-c", OWNER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        readable, _, _ = select.select([child.stdout], [], [], DEADLINE)
        assert readable, f"the lab owner printed nothing within {DEADLINE}s"
        run_id, sleeper, ready = child.stdout.readline().split()
        assert ready == "ready"
        yield child, run_id, int(sleeper)
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()


def namespaces_of(run_id: str) -> list[str]:
    return sorted(name for name in os.listdir(NETNS_DIR) if name.startswith(f"fl{run_id}-"))


def test_sweep_removes_a_killed_owners_leftovers_and_spares_a_live_lab() -> None:
    with Lab(Topology.from_dict(TWO_NODES)) as live, lab_owner() as (child, dead_run, sleeper):
        sleeper_start = process_start_time(sleeper)
        child.send_signal(signal.SIGKILL)
        child.wait()
        assert namespaces_of(dead_run) == [f"fl{dead_run}-h1", f"fl{dead_run}-r1"], (
            "SIGKILL leaves them"
        )

        report = sweep()

        assert sorted(n for n in report.removed_namespaces if dead_run in n) == [
            f"fl{dead_run}-h1",
            f"fl{dead_run}-r1",
        ]
        assert namespaces_of(dead_run) == []
        assert sleeper in report.killed_pids and dead_run in report.removed_records
        assert registry.load(dead_run) is None
        assert process_start_time(sleeper) != sleeper_start or _is_zombie(sleeper)
        assert live.run_id in report.live_runs
        assert namespaces_of(live.run_id or "") == [f"fl{live.run_id}-h1", f"fl{live.run_id}-r1"]
        receiver = live.node("h1").socket(socket.AF_INET, socket.SOCK_DGRAM)
        receiver.bind(("10.0.2.2", 5003))
        live.node("r1").socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(
            b"still here", ("10.0.2.2", 5003)
        )
        assert select.select([receiver], [], [], 2.0)[0], "the live lab no longer carries traffic"
        assert receiver.recv(100) == b"still here"


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return False


def test_sigterm_to_the_owner_tears_the_lab_down() -> None:
    with lab_owner() as (child, run_id, sleeper):
        sleeper_start = process_start_time(sleeper)
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the lab owner ignored SIGTERM for {DEADLINE}s")
        assert child.returncode != 0
        assert namespaces_of(run_id) == []
        assert registry.load(run_id) is None
        assert process_start_time(sleeper) != sleeper_start, "the lab's process outlived the lab"


def test_sweep_leaves_a_recordless_namespace_alone_during_its_grace() -> None:
    with Lab(Topology.from_dict(TWO_NODES)) as lab:
        run_id = lab.run_id or ""
        registry.delete(run_id)  # as if a probe made these namespaces without a record
        report = sweep()
        assert run_id in report.young_unrecorded
        assert namespaces_of(run_id) == [f"fl{run_id}-h1", f"fl{run_id}-r1"]
