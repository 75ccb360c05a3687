"""IGMP codec: IPv1/v2/v3 queries and reports, the checksum, and validation of what arrives.

IPv4 header checks are here too, as pure functions of the bytes: ``ip_frame`` (what a packet
socket read, checked as the kernel's IPv4 input would), ``ip_header_length`` and
``ip_rule_broken`` (igmpd's own rules: TTL 1, Router Alert on v3 reports, a sender on the subnet).

Decoding never raises on network input: ``decode`` returns either a message or a Malformed
value naming the catalog event that fits (41013 too small, 41014 bad version or type, 41015
corrupt: checksum, length, counts that overrun the packet, IP-level rules broken).
"""

from __future__ import annotations

import socket
import struct
from array import array
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ipaddress import IPv4Network

QUERY = 0x11
V1_REPORT = 0x12
V2_REPORT = 0x16
LEAVE = 0x17
V3_REPORT = 0x22
# Types that share IP protocol 2 but are not membership messages: ignored quietly.
OTHER_KNOWN_TYPES = frozenset({0x13, 0x14, 0x1E, 0x1F, 0x30, 0x31, 0x32})

# IGMPv3 group record types (RFC 3376 section 4.2.12).
MODE_IS_INCLUDE = 1
MODE_IS_EXCLUDE = 2
CHANGE_TO_INCLUDE = 3
CHANGE_TO_EXCLUDE = 4
ALLOW_NEW_SOURCES = 5
BLOCK_OLD_SOURCES = 6
RECORD_TYPES = range(1, 7)

ALL_HOSTS = "224.0.0.1"
ALL_ROUTERS = "224.0.0.2"
V3_ROUTERS = "224.0.0.22"
ROUTER_ALERT = b"\x94\x04\x00\x00"
NO_OPTIONS = 0x45  # first byte of an IPv4 header without options
LINK_LOCAL_PREFIX = b"\xe0\x00\x00"  # 224.0.0.0/24, the groups the interface sockets read

TOO_SMALL = 41013
BAD_TYPE = 41014
CORRUPT = 41015


@dataclass(frozen=True, slots=True)
class Malformed:
    """A packet igmpd refuses: the event that reports it and why."""

    event: int
    reason: str


@dataclass(frozen=True, slots=True)
class IPInfo:
    """What igmpd checks in the IP header: sender, destination, TTL, Router Alert."""

    source: str
    destination: str
    ttl: int
    router_alert: bool
    header_length: int


@dataclass(frozen=True, slots=True)
class Query:
    """A membership query; version from its length and max response code."""

    version: int
    group: str  # "0.0.0.0" for a general query
    max_response: float  # seconds
    sources: tuple[str, ...] = ()
    suppress: bool = False
    qrv: int = 0
    qqi: float = 0.0


@dataclass(slots=True)
class Report:
    """A v1/v2 membership report or a v2 leave (type LEAVE)."""

    type: int
    group: bytes  # 4 bytes, the dict key used by igmpd.membership


@dataclass(frozen=True, slots=True)
class GroupRecord:
    """One group record of an IGMPv3 report."""

    type: int
    group: bytes
    sources: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class V3Report:
    """An IGMPv3 report: its group records (unknown record types already left out)."""

    records: tuple[GroupRecord, ...] = field(default_factory=tuple)
    skipped: int = 0


Message = Query | Report | V3Report

BAD_IP_HEADER = Malformed(CORRUPT, "bad IPv4 header")


@dataclass(frozen=True, slots=True)
class Subnet:
    """An interface's IPv4 subnet as ``ip_rule_broken`` checks senders against it: as integers,
    so that the check is two operations a packet (``text`` names it in the reason)."""

    address: int
    mask: int
    text: str

    @classmethod
    def of(cls, network: IPv4Network | None) -> Subnet | None:
        """The subnet of an interface's network (None when it has no address)."""
        if network is None:
            return None
        return cls(int(network.network_address), int(network.netmask), str(network))


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071) of data, in network byte order as an int."""
    if len(data) % 2:
        data = data + b"\x00"
    total = sum(array("H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    value = ~total & 0xFFFF
    return int.from_bytes(value.to_bytes(2, "little" if _LITTLE else "big"), "big")


_LITTLE = array("H", b"\x01\x00")[0] == 1


def checksum_ok(data: bytes) -> bool:
    """True when data (checksum field included) sums to all ones."""
    if len(data) % 2:
        data = data + b"\x00"
    total = sum(array("H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total == 0xFFFF


def _with_checksum(message: bytearray) -> bytes:
    message[2:4] = b"\x00\x00"
    message[2:4] = checksum(bytes(message)).to_bytes(2, "big")
    return bytes(message)


def encode_code(seconds: float) -> int:
    """RFC 3376 4.1.1 code (max response or QQIC) for a time in tenths or seconds units."""
    value = max(0, int(round(seconds)))
    if value < 128:
        return value
    exponent = 0
    mantissa = value >> 3
    while mantissa > 0x1F and exponent < 7:
        mantissa >>= 1
        exponent += 1
    mantissa = min(mantissa, 0x1F)
    return 0x80 | (exponent << 4) | (mantissa & 0x0F)


def decode_code(code: int) -> int:
    """The value of an RFC 3376 exponential code."""
    if code < 128:
        return code
    return ((code & 0x0F) | 0x10) << (((code >> 4) & 0x07) + 3)


def encode_query(
    version: int,
    max_response: float,
    group: str = "0.0.0.0",
    sources: tuple[str, ...] = (),
    *,
    suppress: bool = False,
    qrv: int = 2,
    qqi: float = 125.0,
) -> bytes:
    """An IGMP query message (no IP header); max_response in seconds."""
    tenths = max(1, int(round(max_response * 10))) if version > 1 else 0
    if version < 3:
        code = min(tenths, 255)
        message = bytearray(struct.pack("!BBH4s", QUERY, code, 0, socket.inet_aton(group)))
        return _with_checksum(message)
    flags = (0x08 if suppress else 0) | (qrv if qrv <= 7 else 0)
    message = bytearray(
        struct.pack(
            "!BBH4sBBH",
            QUERY,
            encode_code(tenths),
            0,
            socket.inet_aton(group),
            flags,
            encode_code(qqi),
            len(sources),
        )
    )
    for source in sources:
        message += socket.inet_aton(source)
    return _with_checksum(message)


def encode_report(kind: int, group: str) -> bytes:
    """A v1 report, v2 report or v2 leave for group (used by tests and the benchmark)."""
    return _with_checksum(bytearray(struct.pack("!BBH4s", kind, 0, 0, socket.inet_aton(group))))


def encode_v3_report(records: list[tuple[int, str, list[str]]]) -> bytes:
    """An IGMPv3 report from (record type, group, sources) tuples."""
    message = bytearray(struct.pack("!BBHHH", V3_REPORT, 0, 0, 0, len(records)))
    for kind, group, sources in records:
        message += struct.pack("!BBH4s", kind, 0, len(sources), socket.inet_aton(group))
        for source in sources:
            message += socket.inet_aton(source)
    return _with_checksum(message)


def encode_ip_header(source: str, destination: str, payload_length: int) -> bytes:
    """An IPv4 header with Router Alert and TTL 1, for IP_HDRINCL sockets (internal mode)."""
    header = bytearray(
        struct.pack(
            "!BBHHHBBH4s4s",
            0x46,
            0xC0,
            24 + payload_length,
            0,
            0,
            1,
            socket.IPPROTO_IGMP,
            0,
            socket.inet_aton(source),
            socket.inet_aton(destination),
        )
    )
    header += ROUTER_ALERT
    header[10:12] = checksum(bytes(header)).to_bytes(2, "big")
    return bytes(header)


def ip_frame(view: memoryview, size: int) -> bytes | Malformed:
    """The IPv4 packet a packet socket read into view[:size], as the kernel's IPv4 input would
    hand it to a raw socket: link padding (Ethernet pads short frames to 60 bytes) trimmed
    to the total length. A packet socket sees frames before that input, so what it would have
    dropped is refused here: a frame shorter than its header or total length, a bad header
    checksum, a fragment (raw sockets only ever see reassembled packets; IGMP is never
    fragmented)."""
    if size < 20:
        return Malformed(TOO_SMALL, f"{size} bytes, shorter than an IPv4 header")
    header_length = (view[0] & 0x0F) * 4
    total = view[2] << 8 | view[3]
    if view[0] >> 4 != 4 or header_length < 20 or not header_length <= total <= size:
        return Malformed(
            CORRUPT, f"IPv4 header of {header_length} and total length {total} in {size} bytes"
        )
    packet = bytes(view[:total])
    if not checksum_ok(packet[:header_length]):
        return Malformed(CORRUPT, "bad IPv4 header checksum")
    if packet[6] & 0x3F or packet[7]:
        return Malformed(CORRUPT, "IPv4 fragment")
    return packet


def ip_header_length(packet: bytes) -> int:
    """The length of the IPv4 header in front of a received packet's IGMP message, or 0 when
    it is not one (not version 4, shorter than 20 bytes, longer than the packet): BAD_IP_HEADER."""
    first = packet[0]
    length = (first & 0x0F) * 4
    if first >> 4 != 4 or length < 20 or len(packet) < length:
        return 0
    return length


def unalerted_routable(packet: bytes) -> bool:
    """IGMP without IP options to a group outside 224.0.0.0/24: on the mroute path the multicast
    routing socket reads it too (it is handled from there), so an interface socket skips it."""
    return packet[0] == NO_OPTIONS and packet[16:19] != LINK_LOCAL_PREFIX


def ip_rule_broken(
    packet: bytes,
    header_length: int,
    message: Message,
    source: str,
    subnet: Subnet | None,
) -> str | None:
    """Why a decoded message's IP header breaks igmpd's rules, or None: TTL 1, a sender on the
    interface's subnet (``subnet``; 0.0.0.0 is allowed), and Router Alert where igmpd requires
    it: on IGMPv3 reports only (RFC 3376 section 9). v1 reports come without it (RFC 1112
    predates it); v2 reports and leaves without it are accepted like a v1 report (docs/igmpd.md).
    ``source`` is the sender as text, as the reason names it."""
    if packet[8] != 1:
        return f"TTL {packet[8]}, must be 1"
    if isinstance(message, V3Report) and (
        header_length == 20 or ROUTER_ALERT not in packet[20:header_length]
    ):
        return "no Router Alert option"
    if subnet is not None and source != "0.0.0.0":
        if int.from_bytes(packet[12:16], "big") & subnet.mask != subnet.address:
            return f"sender {source} is not on {subnet.text}"
    return None


def decode_ip(packet: bytes) -> IPInfo | Malformed:
    """Read the IPv4 header a raw socket delivers in front of the IGMP message."""
    if len(packet) < 20:
        return Malformed(TOO_SMALL, f"{len(packet)} bytes, shorter than an IPv4 header")
    header_length = (packet[0] & 0x0F) * 4
    if packet[0] >> 4 != 4 or header_length < 20 or header_length > len(packet):
        return Malformed(CORRUPT, "bad IPv4 header length")
    options = packet[20:header_length]
    return IPInfo(
        source=socket.inet_ntoa(packet[12:16]),
        destination=socket.inet_ntoa(packet[16:20]),
        ttl=packet[8],
        router_alert=_has_router_alert(options),
        header_length=header_length,
    )


def _has_router_alert(options: bytes) -> bool:
    index = 0
    while index < len(options):
        kind = options[index]
        if kind == 0:
            return False
        if kind == 1:
            index += 1
            continue
        if index + 1 >= len(options):
            return False
        length = options[index + 1]
        if kind == 0x94 and length == 4:
            return True
        if length < 2:
            return False
        index += length
    return False


def decode(message: bytes) -> Message | Malformed:
    """Decode one IGMP message (IP header already removed)."""
    size = len(message)
    if size < 8:
        return Malformed(TOO_SMALL, f"{size} bytes, an IGMP message has at least 8")
    kind = message[0]
    if kind not in (QUERY, V1_REPORT, V2_REPORT, LEAVE, V3_REPORT):
        if kind in OTHER_KNOWN_TYPES:
            return Malformed(0, f"type 0x{kind:02x} ignored")
        return Malformed(BAD_TYPE, f"unknown type 0x{kind:02x}")
    if not checksum_ok(message):
        return Malformed(CORRUPT, "bad checksum")
    if kind == V3_REPORT:
        return _decode_v3_report(message)
    if kind == QUERY:
        return _decode_query(message)
    group = message[4:8]
    if not 224 <= group[0] <= 239:
        return Malformed(CORRUPT, f"group {socket.inet_ntoa(group)} is not multicast")
    return Report(kind, group)


def _decode_query(message: bytes) -> Query | Malformed:
    size = len(message)
    group = socket.inet_ntoa(message[4:8])
    if size == 8:
        code = message[1]
        return Query(1 if code == 0 else 2, group, (code or 100) / 10)
    if size < 12:
        return Malformed(CORRUPT, f"query of {size} bytes (8, or at least 12)")
    count = int.from_bytes(message[10:12], "big")
    if 12 + 4 * count > size:
        return Malformed(CORRUPT, f"query claims {count} sources, overruns {size} bytes")
    sources = tuple(socket.inet_ntoa(message[i : i + 4]) for i in range(12, 12 + 4 * count, 4))
    return Query(
        3,
        group,
        decode_code(message[1]) / 10,
        sources,
        suppress=bool(message[8] & 0x08),
        qrv=message[8] & 0x07,
        qqi=float(decode_code(message[9])),
    )


def _decode_v3_report(message: bytes) -> V3Report | Malformed:
    size = len(message)
    count = int.from_bytes(message[6:8], "big")
    offset = 8
    records: list[GroupRecord] = []
    skipped = 0
    for _ in range(count):
        if offset + 8 > size:
            return Malformed(CORRUPT, f"report claims {count} records, overruns {size} bytes")
        kind, aux, nsrc = message[offset], message[offset + 1], message[offset + 2 : offset + 4]
        sources_count = int.from_bytes(nsrc, "big")
        group = message[offset + 4 : offset + 8]
        end = offset + 8 + 4 * sources_count + 4 * aux
        if end > size:
            return Malformed(CORRUPT, f"record claims {sources_count} sources, overruns the packet")
        if kind not in RECORD_TYPES or not 224 <= group[0] <= 239:
            skipped += 1
        else:
            start = offset + 8
            sources = tuple(message[i : i + 4] for i in range(start, start + 4 * sources_count, 4))
            records.append(GroupRecord(kind, group, sources))
        offset = end
    return V3Report(tuple(records), skipped)
