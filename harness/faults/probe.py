"""A tiny router stand-in: performs a router's socket steps on command and reports each errno.

Tests apply a fault to this probe instead of a real router, so they prove what the kernel (or the
seccomp filter) does at each step without depending on igmpd. It makes the same calls a router
makes, in the same way (raw IGMP sockets, SO_BINDTODEVICE, joins by interface address, MRT_INIT on
a dedicated socket, IP_OPTIONS router alert, epoll, non-blocking sendto/recvfrom).

    python -m harness.faults.probe socket:e0 bindtodevice:e0 join:e0:224.0.0.22
    python -m harness.faults.probe --stdin          # one command per line, e.g. "send e0"

Each command prints one JSON line: {"cmd", "step", "call", "ok", "errno", "errno_name"}. With
``--stdin`` a first line {"ready": true, "pid": N} is printed. Commands (IF is an interface name):

    socket IF | bind IF [ADDR] | bindtodevice IF | multicast_if IF [ADDR] | join IF GROUP
    mrt_init | mrt_done | add_vif IF VIFI | router_alert IF | hdrincl IF | epoll IF
    send IF [GROUP [COUNT]] | recv IF | recverr IF | close IF | fds
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import select
import socket
import struct
import sys
from collections.abc import Callable

from harness.mroute import MRT_ADD_VIF, MRT_INIT

IP_RECVERR = 11
SIOCGIFADDR = 0x8915
ROUTER_ALERT = bytes([0x94, 0x04, 0x00, 0x00])
GENERAL_QUERY = bytes([0x11, 0x64, 0xEE, 0x9B, 0, 0, 0, 0])


class Probe:
    """Per-interface raw IGMP sockets plus the namespace-wide multicast-routing socket."""

    def __init__(self) -> None:
        self.socks: dict[str, socket.socket] = {}
        self.addresses: dict[str, str] = {}
        self.mrt: socket.socket | None = None
        self.poller: select.epoll | None = None

    def address(self, ifname: str, given: str | None = None) -> str:
        if given:
            self.addresses[ifname] = given
        if ifname not in self.addresses:
            self.addresses[ifname] = interface_address(ifname) or "0.0.0.0"
        return self.addresses[ifname]

    def sock(self, ifname: str) -> socket.socket:
        if ifname not in self.socks:
            raise OSError(errno.EBADF, f"no socket for {ifname}: run 'socket {ifname}' first")
        return self.socks[ifname]

    def socket(self, ifname: str) -> None:
        self.address(ifname)
        self.socks[ifname] = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_IGMP)
        self.socks[ifname].setblocking(False)

    def bind(self, ifname: str, addr: str | None = None) -> None:
        self.sock(ifname).bind((self.address(ifname, addr), 0))

    def bindtodevice(self, ifname: str) -> None:
        self.sock(ifname).setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifname.encode())

    def multicast_if(self, ifname: str, addr: str | None = None) -> None:
        packed = socket.inet_aton(self.address(ifname, addr))
        self.sock(ifname).setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, packed)

    def join(self, ifname: str, group: str = "224.0.0.22") -> None:
        mreq = socket.inet_aton(group) + socket.inet_aton(self.address(ifname))
        self.sock(ifname).setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)

    def mrt_init(self) -> None:
        """MRT_INIT on a fresh dedicated socket (as a router does at start-up or on a retry)."""
        self.mrt_done()
        self.mrt = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_IGMP)
        self.mrt.setsockopt(socket.IPPROTO_IP, MRT_INIT, struct.pack("i", 1))

    def mrt_done(self) -> None:
        if self.mrt is not None:
            self.mrt.close()
            self.mrt = None

    def add_vif(self, ifname: str, vifi: str = "0") -> None:
        if self.mrt is None:
            raise OSError(errno.EBADF, "no multicast-routing socket: run 'mrt_init' first")
        local = socket.inet_aton(self.address(ifname))
        vifctl = struct.pack("HBBI4s4s", int(vifi), 0, 1, 0, local, b"\0" * 4)
        self.mrt.setsockopt(socket.IPPROTO_IP, MRT_ADD_VIF, vifctl)

    def router_alert(self, ifname: str) -> None:
        self.sock(ifname).setsockopt(socket.IPPROTO_IP, socket.IP_OPTIONS, ROUTER_ALERT)

    def hdrincl(self, ifname: str) -> None:
        self.sock(ifname).setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)

    def recverr(self, ifname: str) -> None:
        self.sock(ifname).setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)

    def epoll(self, ifname: str) -> str:
        if self.poller is None:
            self.poller = select.epoll()
        self.poller.register(self.sock(ifname).fileno(), select.EPOLLIN)
        return "epoll_ctl"

    def send(self, ifname: str, group: str = "224.0.0.1", count: str = "1") -> dict[str, int]:
        sent = 0
        for _ in range(int(count)):
            self.sock(ifname).sendto(GENERAL_QUERY, (group, 0))
            sent += 1
        return {"sent": sent}

    def recv(self, ifname: str) -> dict[str, int]:
        try:
            data = self.sock(ifname).recvfrom(2048)[0]
        except BlockingIOError:
            return {"bytes": 0}
        return {"bytes": len(data)}

    def close(self, ifname: str) -> None:
        self.socks.pop(ifname).close()

    def fds(self) -> dict[str, int]:
        return {"open": len(os.listdir("/proc/self/fd"))}


# command -> (catalog step, the call it makes)
COMMANDS: dict[str, tuple[str, str]] = {
    "socket": ("create_socket", "socket"),
    "bind": ("bind", "bind"),
    "bindtodevice": ("bind", "SO_BINDTODEVICE"),
    "multicast_if": ("request_multicast", "IP_MULTICAST_IF"),
    "join": ("request_multicast", "IP_ADD_MEMBERSHIP"),
    "mrt_init": ("request_multicast", "MRT_INIT"),
    "mrt_done": ("request_multicast", "MRT_DONE"),
    "add_vif": ("request_multicast", "MRT_ADD_VIF"),
    "router_alert": ("router_alert", "IP_OPTIONS"),
    "hdrincl": ("header_include", "IP_HDRINCL"),
    "recverr": ("send", "IP_RECVERR"),
    "epoll": ("event_select", "epoll_create1"),
    "send": ("send", "sendto"),
    "recv": ("receive", "recvfrom"),
    "close": ("", "close"),
    "fds": ("", "fds"),
}


def interface_address(ifname: str) -> str | None:
    """The IPv4 address of ``ifname`` in this namespace, or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            answer = fcntl.ioctl(sock.fileno(), SIOCGIFADDR, struct.pack("16s16x", ifname.encode()))
        except OSError:
            return None
    return socket.inet_ntoa(answer[20:24])


def run(probe: Probe, line: str) -> dict[str, object]:
    """Run one command line and return its report."""
    words = line.replace(":", " ").split()
    verb, args = words[0], words[1:]
    if verb not in COMMANDS:
        return {"cmd": line, "ok": False, "error": f"unknown command {verb!r}"}
    step, call = COMMANDS[verb]
    report: dict[str, object] = {"cmd": line, "step": step, "call": call}
    action: Callable[..., object] = getattr(probe, verb)
    try:
        extra = action(*args)
    except OSError as exc:
        if verb == "epoll" and probe.poller is not None:
            report["call"] = "epoll_ctl"
        report.update(ok=False, errno=exc.errno, errno_name=errno.errorcode.get(exc.errno or 0))
        return report
    if isinstance(extra, str):
        report["call"] = extra
    elif isinstance(extra, dict):
        report.update(extra)
    report.update(ok=True, errno=None, errno_name=None)
    return report


def emit(report: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(report) + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    probe = Probe()
    if args and args[0] == "--stdin":
        emit({"ready": True, "pid": os.getpid()})
        for line in sys.stdin:
            if line.strip():
                emit(run(probe, line.strip()))
        return 0
    for command in args:
        emit(run(probe, command))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
