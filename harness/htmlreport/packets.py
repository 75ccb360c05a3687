"""The packets of a scenario's pcaps, each decoded to one line for the report and the pcapng.

The runner writes one classic pcap per captured link endpoint (``<node>-<ifname>.pcap``, wall
clock stamps). The report needs every IGMP packet on the same axis as the verdict's timeline
(milliseconds from the router's start), decoded in one line a person can scan: IGMP type,
version, group, the sources and record types of IGMPv3, TTL and Router Alert. The base fields
come from ``harness.capture.decode`` (scapy's dissection, Router Alert read from the wire), so the
report and the packet checks never disagree; only the IGMPv3 group records are read here.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from harness.artifacts import PCAP_SUFFIX
from harness.capture import Frame, IgmpPacket, decode

_RECORD_TYPES = {1: "IS_IN", 2: "IS_EX", 3: "TO_IN", 4: "TO_EX", 5: "ALLOW", 6: "BLOCK"}
_MAX_SOURCES = 4  # sources shown per group before "+N more" (the pcap holds them all)


@dataclass(frozen=True)
class Packet:
    """One captured frame: where, when (unix seconds), its bytes, and its one-line decoding."""

    on: str  # "node:ifname"
    wall: float
    data: bytes
    line: str  # "" when the frame carries no IGMP
    igmp: IgmpPacket | None

    @property
    def is_igmp(self) -> bool:
        return self.igmp is not None


def endpoint_of(path: Path) -> str:
    """``h2-e0.pcap`` -> ``h2:e0`` (node names never hold a dash; interface names may)."""
    node, _, ifname = path.stem.partition("-")
    return f"{node}:{ifname}"


def read_pcap(path: Path) -> Iterator[tuple[float, bytes]]:
    """(unix seconds, frame bytes) of a classic pcap, microsecond or nanosecond stamps.

    Read with struct, not scapy's reader: the harness writes these files itself, and a report
    over a whole suite reads thousands of frames.
    """
    raw = path.read_bytes()
    if len(raw) < 24:
        return
    magic = struct.unpack_from("<I", raw)[0]
    order = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    scale = 1e-9 if magic in (0xA1B23C4D, 0x4D3CB2A1) else 1e-6
    offset = 24
    while offset + 16 <= len(raw):
        seconds, fraction, caplen, _ = struct.unpack_from(order + "IIII", raw, offset)
        offset += 16
        yield seconds + fraction * scale, raw[offset : offset + caplen]
        offset += caplen


def load_packets(folder: Path) -> list[Packet]:
    """Every frame of every pcap in ``folder``, decoded, in time order."""
    packets = []
    for path in sorted(folder.glob(f"*{PCAP_SUFFIX}")):
        on = endpoint_of(path)
        for wall, data in read_pcap(path):
            igmp = decode(Frame(0.0, int(wall * 1e9), data, False), on)
            packets.append(Packet(on, wall, data, describe(igmp, data) if igmp else "", igmp))
    packets.sort(key=lambda packet: packet.wall)
    return packets


def describe(igmp: IgmpPacket, data: bytes) -> str:
    """One line: the capture's brief (type, version, group, addresses, TTL, RA) plus the
    sources of an IGMPv3 query and the group records of an IGMPv3 report."""
    payload = _igmp_payload(data)
    extra = ""
    if igmp.type == 0x11 and len(payload) >= 12:
        sources = _addresses(payload, 12, struct.unpack_from("!H", payload, 10)[0])
        extra = f" sources [{_shorten(sources)}]" if sources else ""
    elif igmp.type == 0x22 and len(payload) >= 8:
        extra = " " + "; ".join(_records(payload))
    return igmp.brief() + extra


def _igmp_payload(data: bytes) -> bytes:
    ihl = (data[14] & 0x0F) * 4
    total = struct.unpack_from("!H", data, 16)[0]
    return data[14 + ihl : 14 + total]


def _addresses(payload: bytes, offset: int, count: int) -> list[str]:
    end = min(len(payload), offset + 4 * count)
    return [socket.inet_ntoa(payload[i : i + 4]) for i in range(offset, end - 3, 4)]


def _shorten(addresses: list[str]) -> str:
    shown = ", ".join(addresses[:_MAX_SOURCES])
    more = len(addresses) - _MAX_SOURCES
    return shown + (f" +{more} more" if more > 0 else "")


def _records(payload: bytes) -> list[str]:
    """``TO_EX 239.2.2.2 {}``: each group record of an IGMPv3 report (RFC 3376 4.2.4)."""
    count = struct.unpack_from("!H", payload, 6)[0]
    offset, records = 8, []
    for _ in range(count):
        if offset + 8 > len(payload):
            break
        rtype, aux, nsrc = struct.unpack_from("!BBH", payload, offset)
        group = socket.inet_ntoa(payload[offset + 4 : offset + 8])
        sources = _addresses(payload, offset + 8, nsrc)
        records.append(f"{_RECORD_TYPES.get(rtype, rtype)} {group} {{{_shorten(sources)}}}")
        offset += 8 + 4 * nsrc + 4 * aux
    return records
