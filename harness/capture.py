"""Per-link packet capture inside the lab, pcap files, and IGMP decoding with scapy.

A ``Capture`` opens an AF_PACKET socket inside a node's namespace (``Node.socket``), bound to one
interface, and reads every frame in a background thread, stamping it on the harness's monotonic
clock. Waiters share the event stream's ``threading.Condition``, so one wait wakes on an event or
a packet. Frames are written to ``<node>-<ifname>.pcap`` when the capture stops (writing during
the run would wake the event stream's inotify watch on the same folder).

Decoding is lazy and cached: scapy is imported on the first decode only (it takes about half a
second), and only IPv4 frames carrying IGMP are decoded at all.
"""

from __future__ import annotations

import errno
import os
import select
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import HarnessBug

Clock = Callable[[], float]

ETH_P_ALL = 0x0003
NETLINK_ROUTE = 0
RTMGRP_LINK = 0x1
# recvfrom on a packet socket whose interface was deleted; bind to a missing interface
_INTERFACE_GONE = frozenset({errno.ENETDOWN, errno.ENODEV, errno.ENXIO})
PACKET_OUTGOING = 4
IGMP_QUERY = 0x11
MRDISC_ADVERT = 0x30  # multicast router discovery (RFC 4286): a router's advert
_IP_OPTION_ROUTER_ALERT = 148
_PCAP_HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)  # LINKTYPE_ETHERNET
_PCAP_RECORD = struct.Struct("<IIII")

_IGMP_NAMES = {
    0x11: "query",
    0x12: "v1 report",
    0x16: "v2 report",
    0x17: "leave",
    0x22: "v3 report",
    MRDISC_ADVERT: "router advertisement",
}


SO_TIMESTAMPNS = 35  # SO_TIMESTAMPNS_OLD: a struct timespec of two longs on 64-bit Linux
_TIMESTAMP_SPACE = socket.CMSG_SPACE(16)


@dataclass(frozen=True)
class Frame:
    """One captured frame: when it was seen (monotonic and wall clock) and its bytes."""

    seen: float
    wall_ns: int
    data: bytes
    outgoing: bool  # sent by the capturing node itself, not received from the link


@dataclass(frozen=True)
class IgmpPacket:
    """An IGMP message as the checks read it (decoded by scapy from one frame)."""

    seen: float
    on: str
    outgoing: bool
    src: str
    dst: str
    ttl: int
    router_alert: bool
    type: int
    version: int
    group: str
    checksum_ok: bool

    @property
    def is_query(self) -> bool:
        return self.type == IGMP_QUERY

    @property
    def is_general_query(self) -> bool:
        return self.is_query and self.group == "0.0.0.0"

    @property
    def is_router_presence(self) -> bool:
        """A general query, or a multicast router discovery advert (RFC 4286, type 0x30): what
        a router sends periodically on every interface it serves, querier or not (smcroute)."""
        return self.is_general_query or self.type == MRDISC_ADVERT

    def brief(self) -> str:
        """``v3 general query 10.0.2.1 > 224.0.0.1 ttl 1 RA``: one line for timelines."""
        if self.is_query:
            kind = "general query" if self.is_general_query else f"query for {self.group}"
        else:
            kind = _IGMP_NAMES.get(self.type, f"type 0x{self.type:02x}")
            kind += f" {self.group}" if self.type in (0x12, 0x16, 0x17) else ""
        flags = " RA" if self.router_alert else " no-RA"
        bad = " BAD-CHECKSUM" if not self.checksum_ok else ""
        version = f"v{self.version} " if self.is_query else ""
        return f"{version}{kind} {self.src} > {self.dst} ttl {self.ttl}{flags}{bad}"


def is_igmp_frame(data: bytes) -> bool:
    """A cheap test before scapy: Ethernet + IPv4 + protocol 2."""
    return len(data) >= 34 and data[12:14] == b"\x08\x00" and data[23] == 2


def decode(frame: Frame, on: str) -> IgmpPacket | None:
    """The IGMP message in ``frame`` (scapy dissection), or None when it carries none."""
    if not is_igmp_frame(frame.data):
        return None
    from scapy.layers.inet import IP
    from scapy.layers.l2 import Ether
    from scapy.utils import checksum

    ip = Ether(frame.data).getlayer(IP)
    if ip is None:
        return None
    payload = bytes(ip.payload)
    if len(payload) < 8:
        return None
    igmp_type = payload[0]
    return IgmpPacket(
        seen=frame.seen,
        on=on,
        outgoing=frame.outgoing,
        src=str(ip.src),
        dst=str(ip.dst),
        ttl=int(ip.ttl),
        router_alert=_has_router_alert(frame.data[14 : 14 + ip.ihl * 4]),
        type=igmp_type,
        version=_igmp_version(igmp_type, payload),
        group=socket.inet_ntoa(payload[4:8]),
        checksum_ok=checksum(payload) == 0,
    )


def _has_router_alert(header: bytes) -> bool:
    """Whether the IPv4 header's options hold Router Alert (148), read from the wire bytes.

    Not from scapy's dissection: scapy's IGMP layer adds a Router Alert option to its IP
    underlayer while dissecting, so a packet without one would look as if it had it.
    """
    options, offset = header[20:], 0
    while offset < len(options):
        code = options[offset]
        if code == 0:  # end of options
            return False
        if code == 1:  # no-operation
            offset += 1
            continue
        if code == _IP_OPTION_ROUTER_ALERT:
            return True
        length = options[offset + 1] if offset + 1 < len(options) else 0
        if length < 2:
            return False
        offset += length
    return False


def _igmp_version(igmp_type: int, payload: bytes) -> int:
    """RFC 3376 section 7.1: a query's version follows from its length and max response code."""
    if igmp_type == IGMP_QUERY:
        if len(payload) >= 12:
            return 3
        return 1 if payload[1] == 0 else 2
    return {0x12: 1, 0x16: 2, 0x17: 2, 0x22: 3}.get(igmp_type, 0)


class Capture:
    """Captures one interface of one lab node; decoded IGMP packets wait on a shared Condition."""

    def __init__(
        self,
        node: Any,
        ifname: str,
        *,
        on: str | None = None,
        condition: threading.Condition | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self.node = node
        self.ifname = ifname
        self.on = on or f"{getattr(node, 'name', node)}:{ifname}"
        self.condition = condition or threading.Condition()
        self.clock = clock
        self.frames: list[Frame] = []
        self.errors: list[BaseException] = []
        self._decoded: list[IgmpPacket | None] = []
        self._socket: socket.socket | None = None
        self._wake_read, self._wake_write = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._thread: threading.Thread | None = None
        self._closer: threading.Thread | None = None

    def closed(self, timeout: float = 5.0) -> bool:
        """Wait until the socket is really closed (after ``stop()``)."""
        if self._closer is not None:
            self._closer.join(timeout)
            return not self._closer.is_alive()
        return self._socket is None

    def _open_socket(self, missing_ok: bool = False) -> socket.socket | None:
        """An AF_PACKET socket bound to the interface (None if it is missing and missing_ok)."""
        # Protocol 0 at creation, ETH_P_ALL at bind: a socket created with a protocol is
        # unhooked again by bind(), which waits for an RCU grace period (about 10 ms).
        sock = self.node.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        try:
            sock.bind((self.ifname, ETH_P_ALL))
            sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            sock.setblocking(False)
        except OSError as exc:
            sock.close()
            if missing_ok and exc.errno in _INTERFACE_GONE:
                return None
            raise
        return sock

    def start(self) -> Capture:
        """Open the socket in the node's namespace and start reading."""
        self._socket = self._open_socket()
        self._thread = threading.Thread(
            target=self._read, name=f"faultlab-capture-{self.on}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop reading and close the socket (frames stay available).

        Closing an AF_PACKET socket waits for an RCU grace period in the kernel (about 16 ms),
        so the close runs in a thread of its own; ``closed()`` waits for it.
        """
        if self._thread is not None:
            os.write(self._wake_write, b"x")
            self._thread.join(timeout=5)
            if self._thread.is_alive():
                raise HarnessBug(f"capture thread for {self.on} did not stop within 5 s")
            self._thread = None
        if self._socket is not None:
            self._closer = threading.Thread(
                target=self._socket.close, name=f"faultlab-close-{self.on}", daemon=True
            )
            self._closer.start()
            self._socket = None
        for fd in (self._wake_read, self._wake_write):
            if fd >= 0:
                os.close(fd)
        self._wake_read = self._wake_write = -1

    def _read(self) -> None:
        try:
            while self._follow():
                pass
        except BaseException as exc:  # noqa: BLE001 - handed to the waiters
            with self.condition:
                self.errors.append(exc)
                self.condition.notify_all()

    def _follow(self) -> bool:
        """Read until stopped (False), or until a fault deletes the interface and it is back
        (True: the capture goes on, on the new interface of the same name)."""
        assert self._socket is not None
        poller = select.poll()
        poller.register(self._socket.fileno(), select.POLLIN)
        poller.register(self._wake_read, select.POLLIN)
        while True:
            ready = {fd for fd, _ in poller.poll()}
            if self._wake_read in ready:
                return False
            if self._socket.fileno() in ready:
                try:
                    self._drain_socket()
                except OSError as exc:
                    if exc.errno not in _INTERFACE_GONE:
                        raise
                    return self._reopen_when_back()

    def _reopen_when_back(self) -> bool:
        """The interface was deleted (a link-deleted fault): wait, woken by the namespace's
        link notifications, until an interface of that name exists again and bind to it."""
        assert self._socket is not None
        self._socket.close()
        links = self.node.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
        try:
            links.bind((0, RTMGRP_LINK))
            links.setblocking(False)
            poller = select.poll()
            poller.register(links.fileno(), select.POLLIN)
            poller.register(self._wake_read, select.POLLIN)
            while True:
                sock = self._open_socket(missing_ok=True)
                if sock is not None:
                    self._socket = sock
                    return True
                ready = {fd for fd, _ in poller.poll()}
                if self._wake_read in ready:
                    self._socket = None
                    return False
                _drain(links)
        finally:
            links.close()

    def _drain_socket(self) -> None:
        assert self._socket is not None
        batch: list[Frame] = []
        while True:
            try:
                data, ancillary, _, address = self._socket.recvmsg(65535, _TIMESTAMP_SPACE)
            except BlockingIOError:
                break
            seen, wall_ns = self._when(ancillary)
            batch.append(Frame(seen, wall_ns, data, address[2] == PACKET_OUTGOING))
        with self.condition:
            self.frames.extend(batch)
            self.condition.notify_all()

    def _when(self, ancillary: list[tuple[int, int, bytes]]) -> tuple[float, int]:
        """When the frame crossed the interface: the kernel's receive timestamp, on our clock.

        Stamping frames when this thread reads them would make packets look late whenever the
        harness is starved of CPU; the kernel's stamp is when the packet was on the wire.
        """
        now_ns = time.time_ns()
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(payload) >= 16:
                seconds, nanoseconds = struct.unpack_from("qq", payload)
                wall_ns = seconds * 1_000_000_000 + nanoseconds
                age = max(0, now_ns - wall_ns) / 1e9
                return self.clock() - age, wall_ns
        return self.clock(), now_ns

    # -- reading what was captured ------------------------------------------------------

    def packets(self, since: float | None = None) -> list[IgmpPacket]:
        """Decoded IGMP packets seen at or after monotonic time ``since`` (all when None)."""
        with self.condition:
            frames = list(self.frames)
        while len(self._decoded) < len(frames):
            self._decoded.append(decode(frames[len(self._decoded)], self.on))
        return [
            packet
            for packet in self._decoded[: len(frames)]
            if packet is not None and (since is None or packet.seen >= since)
        ]

    def wait_for_packets(
        self, predicate: Callable[[list[IgmpPacket]], bool], since: float, deadline: float
    ) -> list[IgmpPacket]:
        """Wait (woken by each frame) until ``predicate(packets since)`` holds or the deadline.

        Returns the packets seen since ``since`` at that moment; the caller judges them again.
        """
        with self.condition:
            while True:
                if self.errors:
                    raise self.errors[0]
                packets = self.packets(since)
                if predicate(packets):
                    return packets
                remaining = deadline - self.clock()
                if remaining <= 0:
                    return packets
                self.condition.wait(remaining)

    def write_pcap(self, path: Path) -> Path:
        """Every frame captured, as a classic pcap file (readable by scapy, tcpdump, Wireshark)."""
        with self.condition:
            frames = list(self.frames)
        with path.open("wb") as out:
            out.write(_PCAP_HEADER)
            for frame in frames:
                seconds, nanos = divmod(frame.wall_ns, 1_000_000_000)
                size = len(frame.data)
                out.write(_PCAP_RECORD.pack(seconds, nanos // 1000, size, size))
                out.write(frame.data)
        return path


def _drain(sock: socket.socket) -> None:
    """Read a non-blocking socket until it is empty (the messages themselves do not matter)."""
    while True:
        try:
            sock.recv(65536)
        except BlockingIOError:
            return


def preload_scapy() -> None:
    """Import the scapy layers decoding needs (about 0.5 s, once per process)."""
    import scapy.layers.igmp  # noqa: F401
    import scapy.layers.inet  # noqa: F401
    import scapy.layers.l2  # noqa: F401
