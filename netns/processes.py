"""Processes inside a namespace: started with a preexec that enters it, stopped like trio does.

A lab starts programs with ``subprocess.Popen`` whose ``preexec_fn`` first moves the child into
the node's namespace and then runs the caller's preexec callables (the fault engine loads seccomp
filters and drops capabilities there, after the namespace switch that needs CAP_SYS_ADMIN).
Stopping is SIGTERM to every process, one shared bounded wait, then SIGKILL with a warning
naming each pid that had to be killed, then reaping.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from .nsenter import netns_identity, setns
from .registry import process_alive

Preexec = Callable[[], None]


class LabProcessWarning(RuntimeWarning):
    """A lab process ignored SIGTERM and had to be killed."""


@dataclass
class LabProcess:
    """A process a lab started: the Popen, where it runs, and its start time."""

    popen: subprocess.Popen
    netns: str
    start_time: int


def preexec_entering(netns_fd: int, preexecs: Sequence[Preexec]) -> Preexec:
    """The child's preexec: enter the namespace, then the caller's preexecs in order."""

    def enter_then_prepare() -> None:
        setns(netns_fd)
        for preexec in preexecs:
            preexec()

    return enter_then_prepare


def as_preexecs(preexec: Preexec | Sequence[Preexec] | None) -> list[Preexec]:
    """Normalise ``preexec=``: None, one callable, or a sequence of callables."""
    if preexec is None:
        return []
    if callable(preexec):
        return [preexec]
    return list(preexec)


def stop(processes: Iterable[LabProcess], timeout: float) -> None:
    """SIGTERM every process, wait up to ``timeout`` in total, SIGKILL the rest, reap all."""
    running = [proc for proc in processes if proc.popen.poll() is None]
    for proc in running:
        _signal(proc.popen, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for proc in running:
        try:
            proc.popen.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            warnings.warn(
                f"process {proc.popen.pid} ({argv0(proc.popen)}) in {proc.netns} ignored SIGTERM"
                f" for {timeout:g}s; sent SIGKILL",
                LabProcessWarning,
                stacklevel=2,
            )
            _signal(proc.popen, signal.SIGKILL)
            proc.popen.wait()


def _signal(popen: subprocess.Popen, signum: int) -> None:
    try:
        popen.send_signal(signum)
    except ProcessLookupError:
        pass


def argv0(popen: subprocess.Popen) -> str:
    """The program a Popen runs, for messages and run records."""
    args = popen.args
    if isinstance(args, str | bytes | os.PathLike):
        return os.fsdecode(args)
    return os.fsdecode(next(iter(args), "?"))


def pids_in_netns(netns_path: str, exclude: int | None = None) -> list[int]:
    """Every pid whose network namespace is the one at ``netns_path`` (a /proc scan)."""
    identity = netns_identity(netns_path)
    if identity is None:
        return []
    return [
        pid
        for pid in _all_pids()
        if pid != exclude and netns_identity(f"/proc/{pid}/ns/net") == identity
    ]


def _all_pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def kill_recorded(pid: int, start_time: int) -> bool:
    """SIGKILL ``pid`` if it is still the process that started at ``start_time``."""
    if not process_alive(pid, start_time):
        return False
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    return True


def kill_pids(pids: Iterable[int]) -> list[int]:
    """SIGKILL each pid (processes found in a dead run's namespace); the ones signalled."""
    killed = []
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
        killed.append(pid)
    return killed
