"""The IGMP codec against scapy's dissector, and the malformed classes of bad input."""

from __future__ import annotations

import socket
import struct
from ipaddress import IPv4Network

import pytest
from scapy.layers.igmp import IGMP, IGMPv3_MQ, IGMPv3_MR, IGMPv3_MR_Group

from igmpd import packets


def test_v2_query_decodes_in_scapy_with_valid_checksum() -> None:
    raw = packets.encode_query(2, 0.5)
    parsed = IGMP(raw)
    assert parsed.type == 0x11 and parsed.mrcode == 5 and parsed.gaddr == "0.0.0.0"
    assert parsed.chksum == _scapy_checksum(raw)
    assert packets.checksum_ok(raw)


def _scapy_checksum(raw: bytes) -> int:
    """The checksum scapy computes for the same message with its checksum field cleared."""
    packet = IGMP(raw)
    packet.chksum = None
    return int(IGMP(bytes(packet)).chksum)


def test_v3_group_and_source_query_matches_scapy() -> None:
    raw = packets.encode_query(3, 1.0, "239.1.1.1", ("10.0.0.1", "10.0.0.2"), qrv=2, qqi=125)
    query = IGMP(raw)
    assert isinstance(query, IGMPv3_MQ) and query.mrcode == 10
    assert query.gaddr == "239.1.1.1" and query.srcaddrs == ["10.0.0.1", "10.0.0.2"]
    assert query.qrv == 2 and query.qqic == 125
    assert query.chksum == _scapy_checksum(raw)


def test_scapy_v3_report_decodes() -> None:
    report = IGMPv3_MR(
        records=[
            IGMPv3_MR_Group(rtype=4, maddr="239.1.1.1"),
            IGMPv3_MR_Group(rtype=1, maddr="239.2.2.2", srcaddrs=["10.0.1.9"]),
        ]
    )
    message = packets.decode(bytes(report))
    assert isinstance(message, packets.V3Report)
    assert [(r.type, socket.inet_ntoa(r.group)) for r in message.records] == [
        (4, "239.1.1.1"),
        (1, "239.2.2.2"),
    ]
    assert message.records[1].sources == (socket.inet_aton("10.0.1.9"),)


@pytest.mark.parametrize("kind", [packets.V1_REPORT, packets.V2_REPORT, packets.LEAVE])
def test_v1_v2_messages_round_trip(kind: int) -> None:
    raw = packets.encode_report(kind, "239.9.9.9")
    assert IGMP(raw).type == kind
    message = packets.decode(raw)
    assert message == packets.Report(kind, socket.inet_aton("239.9.9.9"))


def test_query_versions_from_length_and_code() -> None:
    assert packets.decode(packets.encode_query(1, 10)).version == 1
    assert packets.decode(packets.encode_query(2, 10)).version == 2
    assert packets.decode(packets.encode_query(3, 10)).version == 3


@pytest.mark.parametrize(
    ("raw", "event"),
    [
        (b"\x16\x00\x00", packets.TOO_SMALL),
        (packets.encode_report(0x16, "239.1.1.1")[:7], packets.TOO_SMALL),
        (b"\x99" + packets.encode_report(0x16, "239.1.1.1")[1:], packets.BAD_TYPE),
        (packets.encode_report(0x16, "239.1.1.1")[:7] + b"\x02", packets.CORRUPT),
        (packets.encode_report(0x16, "10.1.1.1"), packets.CORRUPT),
        (packets.encode_query(3, 1)[:10], packets.CORRUPT),
    ],
    ids=["3-bytes", "7-bytes", "unknown-type", "bad-checksum", "unicast-group", "short-v3-query"],
)
def test_malformed_classes(raw: bytes, event: int) -> None:
    result = packets.decode(raw)
    assert isinstance(result, packets.Malformed) and result.event == event


def _fix_checksum(raw: bytes) -> bytes:
    body = raw[:2] + b"\0\0" + raw[4:]
    return body[:2] + packets.checksum(body).to_bytes(2, "big") + body[4:]


def test_v3_report_whose_counts_overrun_the_packet_is_corrupt() -> None:
    one = packets.encode_v3_report([(2, "239.1.1.1", [])])
    too_many_records = _fix_checksum(one[:6] + struct.pack("!H", 50) + one[8:])
    result = packets.decode(too_many_records)
    assert isinstance(result, packets.Malformed) and result.event == packets.CORRUPT
    huge_sources = _fix_checksum(one[:10] + struct.pack("!H", 60000) + one[12:])
    result = packets.decode(huge_sources)
    assert isinstance(result, packets.Malformed) and "sources" in result.reason


def test_exponential_codes_round_trip_within_precision() -> None:
    for value in (0, 1, 127, 128, 1000, 3000, 31744):
        decoded = packets.decode_code(packets.encode_code(value))
        assert decoded <= value and value - decoded <= value / 16 + 1


def test_internal_mode_ip_header_has_ttl_1_router_alert_and_valid_checksum() -> None:
    from scapy.layers.inet import IP

    igmp = packets.encode_query(2, 1)
    header = packets.encode_ip_header("10.0.1.1", "224.0.0.1", len(igmp))
    parsed = IP(header + igmp)
    assert parsed.ttl == 1 and parsed.proto == 2 and parsed.len == 32
    assert parsed.options[0].option == 20  # Router Alert
    assert packets.checksum_ok(header)


# --- what a packet socket reads: the IPv4 input's checks, done by igmpd ------------------------


def _frame(igmp: bytes, pad: int = 0, flags: int = 0, corrupt: bool = False) -> memoryview:
    header = bytearray(packets.encode_ip_header("10.0.1.2", "239.1.1.1", len(igmp)))
    header[6:8] = flags.to_bytes(2, "big")
    header[10:12] = b"\0\0"
    header[10:12] = packets.checksum(bytes(header)).to_bytes(2, "big")
    if corrupt:
        header[11] ^= 1
    return memoryview(bytes(header) + igmp + bytes(pad))


def test_ip_frame_trims_link_padding_to_the_total_length() -> None:
    query = packets.encode_query(2, 1.0)
    frame = _frame(query, pad=14)
    packet = packets.ip_frame(frame, len(frame))
    assert packet == bytes(frame[: 24 + 8])
    assert packets.decode(packet[24:]) == packets.decode(query)  # a v2 query, not a v3 one


@pytest.mark.parametrize(
    ("frame", "size", "event", "reason"),
    [
        (_frame(b"\x16" * 8, corrupt=True), None, packets.CORRUPT, "bad IPv4 header checksum"),
        (_frame(b"\x16" * 8, flags=0x2000), None, packets.CORRUPT, "IPv4 fragment"),
        (_frame(b"\x16" * 8, flags=0x0001), None, packets.CORRUPT, "IPv4 fragment"),
        (_frame(b"\x16" * 8), 30, packets.CORRUPT, "total length 32 in 30 bytes"),
        (_frame(b"\x16" * 8), 19, packets.TOO_SMALL, "shorter than an IPv4 header"),
    ],
)
def test_ip_frame_refuses_what_the_kernel_would_drop(frame, size, event, reason) -> None:
    bad = packets.ip_frame(frame, len(frame) if size is None else size)
    assert isinstance(bad, packets.Malformed) and bad.event == event and reason in bad.reason


# -- IPv4 header checks of a received packet (igmpd.router.handle calls them) ------------------


def _packet(
    igmp: bytes, source: str = "10.0.1.2", ttl: int = 1, alert: bool = True, to: str = "224.0.0.22"
) -> bytes:
    """An IPv4 packet as a raw socket delivers it: with Router Alert (24-byte header) or none."""
    header = bytearray(packets.encode_ip_header(source, to, len(igmp)))
    if not alert:
        header = bytearray(header[:20])
        header[0], header[2:4] = packets.NO_OPTIONS, (20 + len(igmp)).to_bytes(2, "big")
    header[8] = ttl
    return bytes(header) + igmp


V2_REPORT = packets.encode_report(packets.V2_REPORT, "239.1.1.1")
V3_REPORT = packets.encode_v3_report([(packets.MODE_IS_EXCLUDE, "239.1.1.1", [])])
SUBNET = packets.Subnet.of(IPv4Network("10.0.1.0/24"))


@pytest.mark.parametrize(
    ("packet", "length"),
    [
        (_packet(V2_REPORT), 24),
        (_packet(V2_REPORT, alert=False), 20),
        (b"\x65" + _packet(V2_REPORT)[1:], 0),  # version 6
        (b"\x44" + _packet(V2_REPORT)[1:], 0),  # a header of 16 bytes
        (_packet(V2_REPORT)[:22], 0),  # the 24-byte header does not fit
    ],
)
def test_ip_header_length_or_0_when_it_is_not_an_ipv4_header(packet: bytes, length: int) -> None:
    assert packets.ip_header_length(packet) == length


def test_bad_ip_header_is_a_corrupt_packet() -> None:
    assert packets.BAD_IP_HEADER == packets.Malformed(packets.CORRUPT, "bad IPv4 header")


def test_unalerted_routable_is_igmp_without_options_outside_224_0_0() -> None:
    assert packets.unalerted_routable(_packet(V2_REPORT, alert=False, to="239.1.1.1"))
    assert not packets.unalerted_routable(_packet(V2_REPORT, alert=False))  # to 224.0.0.22
    assert not packets.unalerted_routable(_packet(V2_REPORT, to="239.1.1.1"))  # Router Alert


@pytest.mark.parametrize(
    ("packet", "message", "source", "subnet", "problem"),
    [
        (_packet(V2_REPORT), V2_REPORT, "10.0.1.2", SUBNET, None),
        (_packet(V2_REPORT, alert=False), V2_REPORT, "10.0.1.2", SUBNET, None),  # v2: accepted
        (_packet(V3_REPORT), V3_REPORT, "10.0.1.2", SUBNET, None),
        (_packet(V2_REPORT, ttl=2), V2_REPORT, "10.0.1.2", SUBNET, "TTL 2, must be 1"),
        (_packet(V3_REPORT, alert=False), V3_REPORT, "10.0.1.2", SUBNET, "no Router Alert option"),
        (
            _packet(V2_REPORT, source="10.0.2.2"),
            V2_REPORT,
            "10.0.2.2",
            SUBNET,
            "sender 10.0.2.2 is not on 10.0.1.0/24",
        ),
        (_packet(V2_REPORT, source="0.0.0.0"), V2_REPORT, "0.0.0.0", SUBNET, None),
        (_packet(V2_REPORT, source="10.0.2.2"), V2_REPORT, "10.0.2.2", None, None),  # no address
    ],
)
def test_ip_rule_broken_names_the_rule(
    packet: bytes, message: bytes, source: str, subnet: packets.Subnet | None, problem: str | None
) -> None:
    decoded = packets.decode(message)
    assert not isinstance(decoded, packets.Malformed)
    length = packets.ip_header_length(packet)
    assert packets.ip_rule_broken(packet, length, decoded, source, subnet) == problem


def test_subnet_of_an_interface_network() -> None:
    assert packets.Subnet.of(None) is None
    subnet = packets.Subnet.of(IPv4Network("10.0.1.0/24"))
    assert subnet == packets.Subnet(0x0A000100, 0xFFFFFF00, "10.0.1.0/24")
