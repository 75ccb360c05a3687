"""Host stimuli: kernel hosts in the lab join and leave groups, or send a query of their own.

A join is a real membership: a UDP socket opened inside the host's namespace (``Node.socket``)
with IP_ADD_MEMBERSHIP, so the host's kernel sends its reports and answers the router's queries
as any host would. ``igmp_version`` pins the host's IGMP version through the namespace's own
``net.ipv4.conf.<if>.force_igmp_version``. A ``query`` stimulus sends one general query of the
given version from the host (another querier on the link), through a raw IGMP socket.

The query is built with scapy (``scapy.layers.igmp``: IGMP and IGMPv3_MQ, which compute the checksum),
ahead of time: ``prepare()`` builds every query a run will send before the router starts, so
scapy's first import (about 0.5 s, holding the GIL) and the build never fall inside a deadline.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from harness.errors import FaultConfigError
from harness.scenario import TrafficSpec

IP_ADD_SOURCE_MEMBERSHIP = 39
IP_DROP_SOURCE_MEMBERSHIP = 40
ALL_HOSTS = "224.0.0.1"
_ROUTER_ALERT = b"\x94\x04\x00\x00"


def _mreqn(group: str, ifindex: int) -> bytes:
    """struct ip_mreqn: the group, any local address, the interface by index."""
    return struct.pack("=4s4si", socket.inet_aton(group), socket.inet_aton("0.0.0.0"), ifindex)


def _mreq_source(group: str, local: str, source: str) -> bytes:
    """struct ip_mreq_source: group, local interface address, source."""
    return socket.inet_aton(group) + socket.inet_aton(local) + socket.inet_aton(source)


def general_query(version: int, max_response: int = 100) -> bytes:
    """An IGMP general query of ``version`` (v1: max resp 0; v3: 12 bytes, QRV 2, QQIC 125).

    ``max_response`` in tenths of a second, below 128 (where v2 and v3 write it as it is).
    """
    from scapy.layers.igmp import IGMP, IGMPv3_MQ

    code = 0 if version == 1 else max_response
    if version == 3:
        return bytes(IGMPv3_MQ(type=0x11, mrcode=code, qrv=2, qqic=125))
    return bytes(IGMP(type=0x11, mrcode=code))


@dataclass
class Traffic:
    """The stimuli of one run; keeps each membership socket open until ``close()``."""

    lab: Any
    memberships: dict[tuple[str, str, str], socket.socket] = field(default_factory=dict)
    queries: dict[int, bytes] = field(default_factory=dict)  # IGMP version -> the query

    def prepare(self, items: Iterable[TrafficSpec]) -> None:
        """Build the queries ``items`` will send, now (before the router starts)."""
        for spec in items:
            if spec.action == "query":
                version = spec.igmp_version or 3
                self.queries.setdefault(version, general_query(version))

    def perform(self, spec: TrafficSpec) -> str:
        """Do one stimulus now; returns a line for the timeline."""
        node = self.lab.node(spec.node)
        if spec.igmp_version is not None:
            key = f"net.ipv4.conf.{spec.ifname}.force_igmp_version"
            node.set_sysctl(key, spec.igmp_version)
        if spec.action == "join":
            self._join(node, spec)
        elif spec.action == "leave":
            self._leave(spec)
        else:
            self._query(node, spec)
        what = spec.group or f"a v{spec.igmp_version or 3} general query"
        return f"{spec.node}:{spec.ifname} {spec.action} {what}"

    def _join(self, node: Any, spec: TrafficSpec) -> None:
        group = _group(spec)
        sock = node.socket(socket.AF_INET, socket.SOCK_DGRAM, 0)
        try:
            if spec.source:
                local = str(node.addresses(spec.ifname)[0].ip)
                request = _mreq_source(group, local, spec.source)
                sock.setsockopt(socket.IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP, request)
            else:
                request = _mreqn(group, node.ifindex(spec.ifname))
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, request)
        except OSError:
            sock.close()
            raise
        self.memberships[(spec.node, spec.ifname, group)] = sock

    def _leave(self, spec: TrafficSpec) -> None:
        """Closing the membership's socket makes the kernel send the leave / state change."""
        group = _group(spec)
        sock = self.memberships.pop((spec.node, spec.ifname, group), None)
        if sock is None:
            raise FaultConfigError(
                f"traffic (line {spec.line}): {spec.node}:{spec.ifname} leaves {group} "
                "without having joined it"
            )
        sock.close()

    def _query(self, node: Any, spec: TrafficSpec) -> None:
        with node.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_IGMP) as sock:
            ifindex = node.ifindex(spec.ifname)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, _mreqn("0.0.0.0", ifindex))
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_OPTIONS, _ROUTER_ALERT)
            version = spec.igmp_version or 3
            query = self.queries.get(version) or general_query(version)
            sock.sendto(query, (ALL_HOSTS, 0))

    def close(self) -> None:
        """Drop every membership still held."""
        for sock in self.memberships.values():
            sock.close()
        self.memberships.clear()


def _group(spec: TrafficSpec) -> str:
    if not spec.group:
        raise FaultConfigError(f"traffic (line {spec.line}): {spec.action} needs a group")
    return spec.group
