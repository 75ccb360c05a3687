"""Fixtures for the fault tests: a two-namespace lab and a probe driven through stdin.

The lab is the smallest topology the faults need: the router namespace r1 with two interfaces
(e0 10.0.1.1/24, e1 10.0.2.1/24), each a veth to namespace h1. It implements the part of
``netns.Node`` the fault engine uses (``call``, ``popen``, sysctls), in real namespaces named
``fl<id>-...``, removed on every exit path.
"""

from __future__ import annotations

import ctypes
import json
import os
import secrets
import select
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.faults.base import FaultContext, Launch
from harness.runner import slow_factor

pytestmark = pytest.mark.netns
CLONE_NEWNET = 0x40000000
TOPOLOGY = {"e0": ("10.0.1.1", "10.0.1.2"), "e1": ("10.0.2.1", "10.0.2.2")}


class MiniNode:
    """A namespace with the Node methods the faults use."""

    def __init__(self, netns: str) -> None:
        self.netns = netns

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        from harness.faults.netops import in_netns

        return in_netns(self.netns, fn, *args)

    def popen(self, argv: list[str], preexec: Callable[[], None] | None = None, **kw: Any) -> Any:
        netns = self.netns
        libc = ctypes.CDLL(None, use_errno=True)

        def enter() -> None:
            fd = os.open(f"/run/netns/{netns}", os.O_RDONLY)
            if libc.setns(fd, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), f"setns {netns}")
            os.close(fd)
            if preexec is not None:
                preexec()

        return subprocess.Popen(argv, preexec_fn=enter, **kw)

    def set_sysctl(self, key: str, value: Any) -> None:
        path = "/proc/sys/" + key.replace(".", "/")
        self.call(Path(path).write_text, f"{value}\n")

    def get_sysctl(self, key: str) -> str:
        path = "/proc/sys/" + key.replace(".", "/")
        return self.call(lambda: Path(path).read_text().strip())


def _build(run: str) -> tuple[MiniNode, MiniNode]:
    from pyroute2 import IPRoute, netns

    r1, h1 = MiniNode(f"fl{run}-r1"), MiniNode(f"fl{run}-h1")
    for node in (r1, h1):
        netns.create(node.netns)
    for node in (r1, h1):
        node.call(_lo_up)

    def links() -> None:
        with IPRoute() as ipr:
            for ifname in TOPOLOGY:
                ipr.link(
                    "add",
                    ifname=ifname,
                    kind="veth",
                    peer={"ifname": ifname, "net_ns_fd": h1.netns},
                )

    r1.call(links)
    r1.call(_addresses, 0)
    h1.call(_addresses, 1)
    return r1, h1


def _lo_up() -> None:
    from pyroute2 import IPRoute

    with IPRoute() as ipr:
        ipr.link("set", index=ipr.link_lookup(ifname="lo")[0], state="up")


def _addresses(side: int) -> None:
    from pyroute2 import IPRoute

    with IPRoute() as ipr:
        for ifname, pair in TOPOLOGY.items():
            index = ipr.link_lookup(ifname=ifname)[0]
            ipr.addr("add", index=index, address=pair[side], prefixlen=24)
            ipr.link("set", index=index, state="up")
        if side == 0:  # a multicast route, so that route-removed has something to remove
            ipr.route("add", dst="224.0.0.0", dst_len=4, oif=ipr.link_lookup(ifname="e0")[0])


@pytest.fixture
def lab() -> Iterator[tuple[MiniNode, MiniNode]]:
    """Fresh r1 and h1 namespaces (veth e0 and e1 between them), removed afterwards."""
    from pyroute2 import netns

    if os.geteuid() != 0:
        pytest.skip("needs root for network namespaces")
    run = secrets.token_hex(3)
    try:
        yield _build(run)
    finally:
        for name in (f"fl{run}-r1", f"fl{run}-h1"):
            if os.path.exists(f"/run/netns/{name}"):
                netns.remove(name)


class ProbeProcess:
    """The probe program running in a namespace, driven one command at a time through stdin."""

    def __init__(self, node: MiniNode, launch: Launch) -> None:
        self.launch = launch
        self.proc = node.popen(
            launch.argv,
            preexec=launch.preexec_fn(),
            pass_fds=tuple(launch.pass_fds),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        first = self._line(10.0)
        assert first.get("ready"), f"probe did not start: {first}"
        self.pid = int(first["pid"])

    def _line(self, timeout: float) -> dict[str, Any]:
        assert self.proc.stdout is not None
        timeout *= slow_factor()  # FAULTLAB_SLOW: an emulated kernel-lab guest is 10-30x slower
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], deadline - time.monotonic())
            if ready:
                line = self.proc.stdout.readline()
                if not line:
                    break
                return json.loads(line)
        stderr = self.proc.stderr.read() if self.proc.poll() is not None else ""
        raise AssertionError(f"probe gave no answer within {timeout}s; stderr: {stderr}")

    def run(self, command: str, timeout: float = 10.0) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self._line(timeout)

    def errno(self, command: str) -> str | None:
        """The errno name the command ended with (None when it succeeded)."""
        return self.run(command).get("errno_name")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(5)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def start_probe(lab: tuple[MiniNode, MiniNode]) -> Iterator[Callable[..., ProbeProcess]]:
    """Start the probe in r1 after the given faults prepared its launch; stops it afterwards."""
    started: list[ProbeProcess] = []
    faults: list[Any] = []

    def start(*prepared: Any) -> ProbeProcess:
        launch = Launch([sys.executable, "-m", "harness.faults.probe", "--stdin"])
        for fault in prepared:
            fault.prepare(launch)
            faults.append(fault)
        probe = ProbeProcess(lab[0], launch)
        started.append(probe)
        return probe

    yield start
    for probe in started:
        probe.stop()
    for fault in faults:
        fault.close()


@pytest.fixture
def fault_ctx(lab: tuple[MiniNode, MiniNode]) -> Callable[..., FaultContext]:
    """A FaultContext on r1 for the given probe (its pid is the router's)."""

    def make(probe: ProbeProcess | None = None) -> FaultContext:
        return FaultContext(node=lab[0], pid=probe.pid if probe else None, interfaces=("e0", "e1"))

    return make
