"""The packet receive path: one AF_PACKET socket per interface, for kernels without multicast
routing (or --multicast-routing off).

Linux routes a multicast packet to its raw sockets only when the interface joined the group or
forwards multicast (a VIF, which needs MRT_INIT): without multicast routing, a raw IGMP socket
never sees a report to a group this host has not joined (net/ipv4/route.c, ip_check_mc_rcu).
A packet socket sees every frame of its interface before routing, so igmpd reads IGMP there:

- ``socket(AF_PACKET, SOCK_DGRAM, 0)``: SOCK_DGRAM delivers the packet from its IPv4 header on,
  as a raw socket does (and on links without Ethernet headers too); protocol 0 queues nothing
  until bind names the interface.
- ``bind`` to (ETH_P_IP, the interface): IPv4 frames of that interface only.
- ``SO_ATTACH_FILTER`` with bpf.INCOMING_IGMP (IGMP from the link; this host's own frames
  dropped), then what was queued between bind and the filter is thrown away, and
  ``PACKET_ADD_MEMBERSHIP`` PACKET_MR_ALLMULTI (veth passes every multicast frame up anyway;
  a real NIC filters by MAC address and would drop reports to groups nobody here joined).

The interface's raw IGMP socket still sends (its options and joins as on the other path), but
is never read: a DROP_ALL filter keeps the kernel from queueing the copies of 224.0.0.x packets
it would otherwise get, so each packet is read once, from the packet socket.
"""

from __future__ import annotations

import errno
import socket
import struct

from igmpcatalog import Step
from igmpd import bpf
from igmpd.sockets import RECEIVE_BUFFER, StepFailed, attempt

ETH_P_IP = 0x0800
SOL_PACKET = 263
PACKET_ADD_MEMBERSHIP = 1
PACKET_MR_ALLMULTI = 2
DRAIN_LIMIT = 4096  # reads that empty a queue filled before its filter: never a loop


def create() -> socket.socket:
    """Step 41024, call ``socket AF_PACKET``: the interface's packet socket, non-blocking."""
    try:
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, 0)
    except OSError as exc:
        raise StepFailed(Step.CREATE_SOCKET, "socket AF_PACKET", exc.errno or 0) from exc
    sock.setblocking(False)
    try:  # room for a burst of reports; the kernel caps it at net.core.rmem_max
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
    except OSError:
        pass  # not a catalog step: the default buffer still works
    return sock


def bind(sock: socket.socket, name: str, ifindex: int) -> None:
    """Step 41025, call ``bind``: IPv4 frames of this interface only. An unknown index is
    ENODEV here: bind with index 0 would mean every interface of the namespace."""
    if ifindex <= 0:
        raise StepFailed(Step.BIND, "bind", errno.ENODEV)
    attempt(Step.BIND, "bind", lambda: sock.bind((name, ETH_P_IP)))


def request(sock: socket.socket, ifindex: int) -> None:
    """Step 41028 on the packet socket: its filter (``SO_ATTACH_FILTER``), then all-multicast
    reception on the interface (``PACKET_ADD_MEMBERSHIP``)."""
    step = Step.REQUEST_MULTICAST
    attempt(step, "SO_ATTACH_FILTER", lambda: bpf.attach(sock, bpf.INCOMING_IGMP))
    drain(sock)
    mreq = struct.pack("iHH8s", ifindex, PACKET_MR_ALLMULTI, 0, b"")
    attempt(
        step,
        "PACKET_ADD_MEMBERSHIP",
        lambda: sock.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP, mreq),
    )


def silence(sock: socket.socket) -> None:
    """Step 41028 on the raw IGMP socket (call ``SO_ATTACH_FILTER``): drop everything it would
    receive, since the packet socket reads this interface; nothing piles up unread."""
    attempt(Step.REQUEST_MULTICAST, "SO_ATTACH_FILTER", lambda: bpf.attach(sock, bpf.DROP_ALL))
    drain(sock)


def drain(sock: socket.socket) -> None:
    """Throw away what was queued before the socket's filter was attached (a read error only
    ends the drain: the router's first real read will report it)."""
    for _ in range(DRAIN_LIMIT):
        try:
            sock.recv(1, socket.MSG_DONTWAIT | socket.MSG_TRUNC)
        except OSError:
            return
