"""The namespace's multicast routing socket: MRT_INIT once per router, one VIF per interface.

Linux delivers IGMPv2 reports (sent to the group address) to a raw socket only when a
multicast router holds MRT_INIT and the interface is a VIF (IN_DEV_MFORWARD); the reports then
travel the Router Alert chain to every IGMP socket with IP_ROUTER_ALERT bound to that device.
An IGMP packet *without* Router Alert to a group this host has not joined (an RFC 1112 host's
v1 report) goes to this socket alone (net/ipv4/ipmr.c, ip_mr_input: raw_rcv(mroute_sk)). So the
router reads it too, through a classic BPF filter (igmpd.bpf.UNALERTED_IGMP) that keeps only
IGMP without IP options to a destination outside 224.0.0.0/24 (what no interface socket is
given by the Router Alert chain or its joins) and drops the kernel's IGMPMSG_* upcalls.
IP_PKTINFO says on which interface each packet arrived. Closing the socket (or the process
exiting) removes the VIFs.
"""

from __future__ import annotations

import errno
import socket
import struct

from igmpcatalog import Step
from igmpd import bpf
from igmpd.sockets import RECEIVE_BUFFER, Poller, StepFailed

MRT_INIT = 200
MRT_ADD_VIF = 202
MRT_DEL_VIF = 203
VIFF_USE_IFINDEX = 0x8
IP_PKTINFO = 8
_PKTINFO = struct.Struct("i4s4s")  # struct in_pktinfo: ifindex, spec_dst, addr
_ANCILLARY_SPACE = socket.CMSG_SPACE(_PKTINFO.size)


class MrtUnavailable(StepFailed):
    """MRT_INIT itself failed with ENOPROTOOPT: this kernel has no multicast routing (or a
    fault says so). Only this failure lets --multicast-routing auto fall back to packet
    sockets; any other one (EADDRINUSE: another router holds MRT_INIT) stays a step failure."""


class MrouteSocket:
    """The router's MRT socket; failures raise StepFailed for the request-multicast step."""

    def __init__(self) -> None:
        self.sock: socket.socket | None = None
        self.vifs: dict[int, int] = {}  # vif index -> ifindex
        self.watched = False  # registered with the router's epoll instance

    def ensure(self) -> None:
        """Open the socket and take MRT_INIT if not done yet (EADDRINUSE: held elsewhere).

        The filter goes on before MRT_INIT, so no upcall is ever queued; IP_PKTINFO names the
        arrival interface of what the filter lets through."""
        if self.sock is not None:
            return
        try:
            sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_IGMP)
        except OSError as exc:
            raise StepFailed(Step.REQUEST_MULTICAST, "MRT_INIT", exc.errno or 0) from exc
        try:
            sock.setblocking(False)
            bpf.attach(sock, bpf.UNALERTED_IGMP)
            sock.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
        except OSError as exc:
            sock.close()
            raise StepFailed(Step.REQUEST_MULTICAST, "MRT_INIT", exc.errno or 0) from exc
        try:
            sock.setsockopt(socket.IPPROTO_IP, MRT_INIT, 1)
        except OSError as exc:
            sock.close()
            kind = MrtUnavailable if exc.errno == errno.ENOPROTOOPT else StepFailed
            raise kind(Step.REQUEST_MULTICAST, "MRT_INIT", exc.errno or 0) from exc
        try:  # room for a burst of v1 reports, as on the interface sockets
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
        except OSError:
            pass  # not a catalog step: the default buffer still works
        self.sock = sock

    def fileno(self) -> int | None:
        """The socket's descriptor, None while there is no socket."""
        return None if self.sock is None else self.sock.fileno()

    def watch(self, poller: Poller) -> None:
        """Register the socket with the router's epoll instance once (StepFailed for the
        event-select step, 41023, when epoll_ctl fails)."""
        if self.sock is None or self.watched:
            return
        poller.register(self.sock.fileno())
        self.watched = True

    def unwatch(self, poller: Poller) -> None:
        """Stop watching the socket (after a failed read: it is watched again later)."""
        if self.sock is not None and self.watched:
            poller.unregister(self.sock.fileno())
        self.watched = False

    def receive(self, buffer: bytearray) -> tuple[int, int]:
        """Read one packet (IPv4 header included) into buffer: (its size, the index of the
        interface it arrived on, 0 if the kernel did not say). Raises what recvmsg raises
        (BlockingIOError when the queue is empty)."""
        assert self.sock is not None
        size, ancillary, _flags, _address = self.sock.recvmsg_into([buffer], _ANCILLARY_SPACE)
        for level, kind, data in ancillary:
            if level == socket.IPPROTO_IP and kind == IP_PKTINFO and len(data) >= _PKTINFO.size:
                return size, _PKTINFO.unpack_from(data)[0]
        return size, 0

    def add_vif(self, vif: int, ifindex: int) -> None:
        """Make ifindex VIF number vif (EADDRINUSE when a stale VIF holds that number)."""
        self.ensure()
        assert self.sock is not None
        self.del_vif(vif)
        control = struct.pack("HBBIi4s", vif, VIFF_USE_IFINDEX, 1, 0, ifindex, bytes(4))
        try:
            self.sock.setsockopt(socket.IPPROTO_IP, MRT_ADD_VIF, control)
        except OSError as exc:
            raise StepFailed(Step.REQUEST_MULTICAST, "MRT_ADD_VIF", exc.errno or 0) from exc
        self.vifs[vif] = ifindex

    def del_vif(self, vif: int) -> None:
        """Remove VIF vif if this router added it; errors are ignored (the device may be gone)."""
        if self.sock is None or self.vifs.pop(vif, None) is None:
            return
        control = struct.pack("HBBIi4s", vif, 0, 0, 0, 0, bytes(4))
        try:
            self.sock.setsockopt(socket.IPPROTO_IP, MRT_DEL_VIF, control)
        except OSError as exc:
            if exc.errno not in (errno.EADDRNOTAVAIL, errno.ENODEV):
                raise

    def close(self) -> None:
        """Give MRT_INIT back (the kernel removes this socket's VIFs; closing the descriptor
        also takes it out of epoll)."""
        if self.sock is not None:
            self.sock.close()
            self.sock = None
            self.vifs.clear()
        self.watched = False
