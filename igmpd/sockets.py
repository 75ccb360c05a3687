"""The socket steps of an interface's raw IGMP socket and the router's epoll instance, one
function each (igmpd.activation runs them in the catalog's order, with those of the receive
path in use: igmpd.mroute or igmpd.packetsock).

Each step raises StepFailed(step, call, errno) naming the catalog step (which decides the
event: 41024, 41025, 41028, 41029, 41030, 41023) and the system call or option that failed.
"""

from __future__ import annotations

import select
import socket
import struct
from collections.abc import Callable

from igmpcatalog import Step

IP_ROUTER_ALERT = 5
IP_OPTIONS = 4
ROUTER_ALERT_OPTION = b"\x94\x04\x00\x00"
JOINED_GROUPS = ("224.0.0.2", "224.0.0.22")
RECEIVE_BUFFER = 4 << 20


class StepFailed(Exception):
    """A socket step failed: which step, which call, which errno (0 when there is none)."""

    def __init__(self, step: Step, call: str, errno: int, reason: str | None = None) -> None:
        super().__init__(f"{step} failed at {call}: errno {errno}")
        self.step = step
        self.call = call
        self.errno = errno
        self.reason = reason


def attempt(step: Step, call: str, action: Callable[[], object]) -> None:
    """Run action; an OSError becomes StepFailed(step, call, its errno)."""
    try:
        action()
    except OSError as exc:
        raise StepFailed(step, call, exc.errno or 0) from exc


def create_socket(receives: bool = True) -> socket.socket:
    """Step 41024: the interface's raw IGMP socket, non-blocking. One that only sends (on the
    packet receive path) keeps the default receive buffer."""
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_IGMP)
    except OSError as exc:
        raise StepFailed(Step.CREATE_SOCKET, "socket", exc.errno or 0) from exc
    sock.setblocking(False)
    if not receives:
        return sock
    try:  # room for a burst of reports; the kernel caps it at net.core.rmem_max
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
    except OSError:
        pass  # not a catalog step: the default buffer still works
    return sock


def bind_to_device(sock: socket.socket, name: str) -> None:
    """Step 41025: SO_BINDTODEVICE (never bind((addr, 0)): that stops multicast reception)."""
    attempt(
        Step.BIND,
        "SO_BINDTODEVICE",
        lambda: sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, name.encode()),
    )


def _mreqn(group: str, ifindex: int) -> bytes:
    return struct.pack("4s4si", socket.inet_aton(group), bytes(4), ifindex)


def request_multicast(sock: socket.socket, ifindex: int) -> None:
    """Step 41028, the part both receive paths share: TTL 1, no loopback, outgoing interface,
    the joins and Router Alert delivery. The failing sub-call is named."""
    step = Step.REQUEST_MULTICAST
    ip = socket.IPPROTO_IP
    attempt(step, "IP_MULTICAST_TTL", lambda: sock.setsockopt(ip, socket.IP_MULTICAST_TTL, 1))
    attempt(step, "IP_MULTICAST_LOOP", lambda: sock.setsockopt(ip, socket.IP_MULTICAST_LOOP, 0))
    attempt(
        step,
        "IP_MULTICAST_IF",
        lambda: sock.setsockopt(ip, socket.IP_MULTICAST_IF, _mreqn("0.0.0.0", ifindex)),
    )
    for group in JOINED_GROUPS:
        attempt(
            step,
            f"IP_ADD_MEMBERSHIP {group}",
            lambda g=group: sock.setsockopt(ip, socket.IP_ADD_MEMBERSHIP, _mreqn(g, ifindex)),
        )
    attempt(step, "IP_ROUTER_ALERT", lambda: sock.setsockopt(ip, IP_ROUTER_ALERT, 1))


def set_router_alert(sock: socket.socket) -> None:
    """Step 41029 (router interfaces): the Router Alert IP option on every packet sent."""
    attempt(
        Step.ROUTER_ALERT,
        "IP_OPTIONS",
        lambda: sock.setsockopt(socket.IPPROTO_IP, IP_OPTIONS, ROUTER_ALERT_OPTION),
    )


def set_header_include(sock: socket.socket) -> None:
    """Step 41030 (internal interfaces): igmpd writes the IP header itself (never with
    IP_OPTIONS as well: Linux then fails every send with EINVAL)."""
    attempt(
        Step.HEADER_INCLUDE,
        "IP_HDRINCL",
        lambda: sock.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1),
    )


class Poller:
    """The router's epoll instance, created by the first register step (EMFILE shows as 41023)."""

    def __init__(self) -> None:
        self.epoll: select.epoll | None = None

    def ensure(self) -> select.epoll:
        """The epoll instance, created on first use; StepFailed(event_select) when it cannot."""
        if self.epoll is None:
            try:
                self.epoll = select.epoll()
            except OSError as exc:
                raise StepFailed(Step.EVENT_SELECT, "epoll_create", exc.errno or 0) from exc
        return self.epoll

    def register(self, fd: int) -> None:
        """Step 41023: watch fd for read readiness."""
        epoll = self.ensure()
        attempt(Step.EVENT_SELECT, "epoll_ctl", lambda: epoll.register(fd, select.EPOLLIN))

    def unregister(self, fd: int) -> None:
        """Stop watching fd (it may already be closed)."""
        if self.epoll is not None:
            try:
                self.epoll.unregister(fd)
            except (OSError, ValueError):
                pass
