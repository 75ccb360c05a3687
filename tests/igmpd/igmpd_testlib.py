"""Helpers and fixtures for igmpd's namespace tests: a lab per test, igmpd started in it, and
waits with deadlines on its event log, its state file and the wire (never a bare sleep).

Every deadline here is stretched by ``FAULTLAB_SLOW`` (harness.runner.slow_factor): the kernel
lab runs these tests in an emulated guest 15-30x slower, where igmpd's start alone takes
seconds. Callers give the unstretched figure; ``stretched`` is for their own deadlines.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from harness.runner import slow_factor

IGMPD = [sys.executable, "-m", "igmpd"]
FAST = [
    "--query-interval", "0.5",
    "--query-response-interval", "0.2",
    "--last-member-query-interval", "0.1",
    "--startup-query-interval", "0.1",
    "--retry-interval", "0.3",
]  # fmt: skip


def _lab_api() -> tuple[Any, Any]:
    try:
        from netns.lab import Lab
        from netns.topology import Topology
    except Exception as exc:  # the lab package is written in parallel: skip until it works
        pytest.skip(f"netns.Lab is not usable yet: {exc}")
    return Lab, Topology


def stretched(seconds: float) -> float:
    """A deadline of seconds on this machine, FAULTLAB_SLOW times that in a slower one."""
    return seconds * slow_factor()


def wait_for(
    what: str,
    probe: Callable[[], Any],
    timeout: float = 5.0,
    last: Callable[[], Any] = lambda: None,
) -> Any:
    """Poll probe until it returns something truthy within timeout (stretched); fail naming
    what was awaited and what was last seen."""
    __tracebackhide__ = True
    timeout = stretched(timeout)
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout}s for {what}; last seen: {last()!r}")
        time.sleep(0.01)  # polling interval of the wait, not synchronisation


@dataclass
class Igmpd:
    """One igmpd process in a lab node, with its event log and state file."""

    proc: subprocess.Popen
    events_path: Path
    state_path: Path
    stderr_path: Path
    interfaces: list[str] = field(default_factory=list)

    def events(self) -> list[dict[str, Any]]:
        if not self.events_path.exists():
            return []
        lines = self.events_path.read_text().splitlines()
        return [json.loads(line) for line in lines if line.endswith("}")]

    def find(self, **match: Any) -> list[dict[str, Any]]:
        return [e for e in self.events() if all(e.get(k) == v for k, v in match.items())]

    def wait_event(self, timeout: float = 5.0, **match: Any) -> dict[str, Any]:
        __tracebackhide__ = True
        return wait_for(f"event {match}", lambda: self.find(**match), timeout, self.events)[0]

    def state(self) -> dict[str, Any]:
        try:
            return json.loads(self.state_path.read_text())
        except (OSError, ValueError):
            return {}

    def interface(self, name: str) -> dict[str, Any]:
        """The interface's entry in the state file; empty until igmpd first wrote it."""
        return self.state().get("interfaces", {}).get(name, {})

    def counter(self, interface: str, name: str) -> int:
        return int(self.interface(interface).get("counters", {}).get(name, 0))

    def groups(self, interface: str) -> dict[str, Any]:
        return self.state().get("interfaces", {}).get(interface, {}).get("groups", {})

    def wait_ready(self, timeout: float = 5.0) -> None:
        __tracebackhide__ = True

        def ready() -> bool:
            events = self.events()
            done = {e["interface"] for e in events if e["id"] in (41052, 41055)}
            return any(e["id"] == 41010 for e in events) and done >= set(self.interfaces)

        wait_for("igmpd ready (41010 + 41052/41055 per interface)", ready, timeout, self.events)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=stretched(5.0))


@pytest.fixture
def make_lab(tmp_path: Path) -> Iterator[Callable[[dict[str, Any]], Any]]:
    """Build labs from topology mappings; all are torn down at the end of the test."""
    Lab, Topology = _lab_api()
    labs: list[Any] = []

    def build(data: dict[str, Any]) -> Any:
        lab = Lab(Topology.from_dict(data), workdir=tmp_path)
        lab.__enter__()
        labs.append(lab)
        return lab

    yield build
    for lab in reversed(labs):
        lab.__exit__(None, None, None)


@pytest.fixture
def start_igmpd(tmp_path: Path) -> Iterator[Callable[..., Igmpd]]:
    """Start igmpd in a node: start(node, [interfaces], *extra_args, preexec=None)."""
    started: list[Igmpd] = []

    def start(
        node: Any, interfaces: list[str], *args: str, preexec: Any = None, wait: bool = True
    ) -> Igmpd:
        tag = f"{node.netns.rsplit('-', 1)[-1]}-{len(started)}"
        events, state, err = (tmp_path / f"{tag}.{ext}" for ext in ("events", "state", "stderr"))
        argv = [*IGMPD, *FAST, "--event-log", str(events), "--state", str(state)]
        for name in interfaces:
            argv += ["--interface", name]
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
        proc = node.popen(
            [*argv, *args],
            stdout=subprocess.DEVNULL,
            stderr=err.open("w"),
            env=env,
            preexec=preexec,
        )
        daemon = Igmpd(proc, events, state, err, [i.split(":")[0] for i in interfaces])
        started.append(daemon)
        if wait:
            daemon.wait_ready()
        return daemon

    yield start
    for daemon in started:
        if daemon.proc.poll() is None:
            daemon.proc.kill()
            daemon.proc.wait()


def join(node: Any, ifname: str, group: str) -> socket.socket:
    """A kernel host socket in node that joined group on ifname (close it to leave)."""
    sock = node.socket(socket.AF_INET, socket.SOCK_DGRAM)
    mreqn = struct.pack("4s4si", socket.inet_aton(group), bytes(4), node.ifindex(ifname))
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreqn)
    return sock


def capture(node: Any, ifname: str) -> socket.socket:
    """An AF_PACKET socket in node receiving every IPv4 frame on ifname."""
    sock = node.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
    sock.bind((ifname, 0x0800))
    sock.settimeout(0.05)
    return sock


def igmp_frames(sock: socket.socket, timeout: float, want: Callable[[bytes], bool]) -> list[bytes]:
    """IP packets (without the Ethernet header) carrying IGMP, until want(...) or timeout
    (stretched: a window for what must not arrive only grows, which keeps it meaningful)."""
    found: list[bytes] = []
    deadline = time.monotonic() + stretched(timeout)
    while time.monotonic() < deadline:
        try:
            frame = sock.recv(65535)
        except TimeoutError:
            continue
        packet = frame[14:]
        if len(packet) > 20 and packet[9] == socket.IPPROTO_IGMP:
            found.append(packet)
            if want(packet):
                break
    return found


HOST, ROUTER = "10.0.1.2", "10.0.1.1"  # h1 and r1 of the usual pair
V1_REPORT, V2_REPORT, LEAVE = 0x12, 0x16, 0x17


def ip_packet(igmp: Any, destination: str, alert: bool) -> bytes:
    """The IP packet (TTL 1, from h1) around an IGMP message, with Router Alert or no options.

    The message goes in as raw bytes: scapy would "igmpize" an IP/IGMP stack and add the very
    Router Alert option these tests leave out."""
    from scapy.layers.inet import IP, IPOption_Router_Alert
    from scapy.packet import Raw

    options = [IPOption_Router_Alert()] if alert else []
    header = IP(src=HOST, dst=destination, ttl=1, proto=socket.IPPROTO_IGMP, options=options)
    return bytes(header / Raw(load=bytes(igmp)))


def v1v2(kind: int, group: str, alert: bool, destination: str | None = None) -> tuple[str, bytes]:
    """(destination, packet) of a v1 report, v2 report or leave; reports go to the group."""
    from scapy.layers.igmp import IGMP

    if destination is None:
        destination = "224.0.0.2" if kind == LEAVE else group
    return destination, ip_packet(IGMP(type=kind, gaddr=group), destination, alert)


def v3(record_type: int, group: str, alert: bool, destination: str = "224.0.0.22") -> tuple:
    """(destination, packet) of an IGMPv3 report with one record."""
    from scapy.layers.igmp import IGMPv3_MR, IGMPv3_MR_Group

    report = IGMPv3_MR(records=[IGMPv3_MR_Group(rtype=record_type, maddr=group)])
    return destination, ip_packet(report, destination, alert)


class Host:
    """h1 sending hand-built IGMP packets on its e0."""

    def __init__(self, node: Any) -> None:
        self.sock = node.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"e0")

    def send(self, *packets: tuple[str, bytes]) -> None:
        for destination, packet in packets:
            self.sock.sendto(packet, (destination, 0))


def seccomp_errno(
    syscall: str, code: int, *args: tuple[int, int, int | None]
) -> Callable[[], None]:
    """A preexec that makes syscall fail with code when its arguments match (index, value, mask)."""

    def load() -> None:
        import pyseccomp

        rules = [
            pyseccomp.Arg(i, pyseccomp.MASKED_EQ, v, m) if m else pyseccomp.Arg(i, pyseccomp.EQ, v)
            for i, v, m in args
        ]
        flt = pyseccomp.SyscallFilter(defaction=pyseccomp.ALLOW)
        flt.add_rule(pyseccomp.ERRNO(code), syscall, *rules)
        flt.load()

    return load
