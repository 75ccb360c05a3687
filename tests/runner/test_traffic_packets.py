"""The host-side query, built with scapy, is byte for byte the query the harness hand-built before.

``handmade`` is the former harness/traffic.py code (its own checksum and struct packing), kept
here as the reference: every message the harness sends (a general query of v1, v2 and v3 with
its default max response) must come out the same.
"""

from __future__ import annotations

import struct

import pytest

from harness.scenario import TrafficSpec
from harness.traffic import Traffic, general_query


def _checksum(data: bytes) -> int:
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def handmade(version: int, max_response: int = 100) -> bytes:
    code = 0 if version == 1 else max_response
    body = struct.pack("!BBH4s", 0x11, code, 0, bytes(4))
    if version == 3:
        body += struct.pack("!BBH", 2, 125, 0)
    return body[:2] + struct.pack("!H", _checksum(body)) + body[4:]


@pytest.mark.parametrize("version", [1, 2, 3])
def test_the_general_query_the_harness_sends_has_the_same_bytes(version: int) -> None:
    assert general_query(version) == handmade(version)


@pytest.mark.parametrize("version", [1, 2, 3])
@pytest.mark.parametrize("max_response", [0, 1, 10, 127])
def test_every_max_response_below_128_has_the_same_bytes(version: int, max_response: int) -> None:
    assert general_query(version, max_response) == handmade(version, max_response)


def test_prepare_builds_each_version_once_before_the_run() -> None:
    items = [
        TrafficSpec("h1", "query", "e0"),
        TrafficSpec("h1", "query", "e0", igmp_version=2),
        TrafficSpec("h2", "query", "e0", igmp_version=3),
        TrafficSpec("h2", "join", "e0", group="239.1.1.1"),
    ]
    traffic = Traffic(lab=None)
    traffic.prepare(items)
    assert traffic.queries == {3: handmade(3), 2: handmade(2)}
