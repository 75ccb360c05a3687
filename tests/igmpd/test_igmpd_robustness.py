"""Bad starts give one clear line and a non-zero exit; a malformed-packet flood is survived."""

from __future__ import annotations

import os
import socket
import subprocess
import time

import pytest
from igmpd_testlib import IGMPD, join, stretched, wait_for

from igmpd import packets

pytestmark = pytest.mark.netns

PAIR = {"nodes": ["r1", "h1"], "links": [{"a": "r1:e0 10.0.1.1/24", "b": "h1:e0 10.0.1.2/24"}]}


def _run(node, *args: str) -> subprocess.CompletedProcess:
    proc = node.popen([*IGMPD, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=stretched(10.0))
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _one_clear_line(result: subprocess.CompletedProcess, words: str) -> None:
    __tracebackhide__ = True
    lines = result.stderr.strip().splitlines()
    assert result.returncode != 0 and len(lines) == 1, result.stderr
    assert words in lines[0] and "Traceback" not in result.stderr


def test_missing_interface(make_lab) -> None:
    result = _run(make_lab(PAIR).node("r1"), "-i", "e9", "--event-log", "-")
    _one_clear_line(result, "interface e9 does not exist")
    assert result.returncode == 2


def test_unwritable_event_log(make_lab, tmp_path) -> None:
    result = _run(
        make_lab(PAIR).node("r1"), "-i", "e0", "--event-log", str(tmp_path / "no/such/dir.log")
    )
    _one_clear_line(result, "cannot open event log")


def test_twice_in_one_namespace(make_lab, start_igmpd) -> None:
    lab = make_lab(PAIR)
    first = start_igmpd(lab.node("r1"), ["e0"])
    result = _run(lab.node("r1"), "-i", "e0", "--event-log", os.devnull)
    _one_clear_line(result, "another igmpd is already running in this network namespace")
    assert first.proc.poll() is None


def test_bad_robustness_logs_41050(make_lab, tmp_path) -> None:
    log = tmp_path / "events"
    result = _run(
        make_lab(PAIR).node("r1"), "-i", "e0", "--robustness", "9", "--event-log", str(log)
    )
    _one_clear_line(result, "robustness 9")
    assert '"id": 41050' in log.read_text()


def _ip(src: str, dst: str, payload: bytes, ttl: int = 1, alert: bool = True) -> bytes:
    header = bytearray(packets.encode_ip_header(src, dst, len(payload)))
    header[8] = ttl
    if not alert:
        header = bytearray(header[:20])
        header[0] = 0x45
        header[2:4] = (20 + len(payload)).to_bytes(2, "big")
    header[10:12] = b"\0\0"
    header[10:12] = packets.checksum(bytes(header)).to_bytes(2, "big")
    return bytes(header) + payload


def _flood_packets() -> list[tuple[str, bytes]]:
    good = packets.encode_report(packets.V2_REPORT, "239.7.7.7")
    v3 = packets.encode_v3_report([(2, "239.8.8.8", [])])
    overrun = bytearray(v3)
    overrun[6:8] = (40).to_bytes(2, "big")
    overrun[2:4] = b"\0\0"
    overrun[2:4] = packets.checksum(bytes(overrun)).to_bytes(2, "big")
    huge = bytearray(packets.encode_v3_report([(1, "239.8.8.9", ["10.0.1.2"] * 300)]))
    return [
        ("224.0.0.22", _ip("10.0.1.2", "224.0.0.22", good[:5])),  # truncated
        ("239.7.7.7", _ip("10.0.1.2", "239.7.7.7", good[:7] + b"\x55")),  # bad checksum
        ("224.0.0.22", _ip("10.0.1.2", "224.0.0.22", b"\x77" + good[1:])),  # unknown type
        ("224.0.0.22", _ip("10.0.1.2", "224.0.0.22", bytes(overrun))),  # counts overrun
        ("224.0.0.22", _ip("10.0.1.2", "224.0.0.22", bytes(huge))),  # huge source list
        (
            "239.6.6.1",
            _ip("10.0.1.2", "239.6.6.1", packets.encode_report(0x16, "239.6.6.1"), ttl=9),
        ),
        (  # a v3 report without Router Alert (v1/v2 ones without it are valid)
            "224.0.0.22",
            _ip(
                "10.0.1.2",
                "224.0.0.22",
                packets.encode_v3_report([(2, "239.6.6.2", [])]),
                alert=False,
            ),
        ),
        ("239.6.6.3", _ip("10.9.9.9", "239.6.6.3", packets.encode_report(0x16, "239.6.6.3"))),
    ]


@pytest.mark.parametrize("routing", ["auto", "off"])
def test_malformed_flood_is_survived_and_a_real_join_still_learned(
    make_lab, start_igmpd, routing: str
) -> None:
    lab = make_lab(PAIR)
    host = lab.node("h1")
    router = start_igmpd(
        lab.node("r1"), ["e0"], "--max-sources", "64", "--multicast-routing", routing
    )
    sender = host.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    sender.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"e0")
    flood = _flood_packets()
    member = None
    deadline = time.monotonic() + stretched(1.5)  # as many packets in a slower guest
    sent = 0
    while time.monotonic() < deadline:
        for destination, packet in flood:
            sender.sendto(packet, (destination, 0))
            sent += 1
        if member is None and sent > 2000:
            member = join(host, "e0", "239.1.1.1")  # a real join in the middle of the flood
    groups = wait_for(
        "the real join", lambda: router.groups("e0").get("239.1.1.1") and router.groups("e0"), 2.0
    )
    assert set(groups) <= {"239.1.1.1", "239.8.8.9"}  # never a group from a broken packet
    assert len(groups.get("239.8.8.9", {}).get("sources", [])) <= 64
    events = router.events()
    for event_id in (41013, 41014, 41015):
        assert any(e["id"] == event_id for e in events), f"no {event_id}"
    assert len([e for e in events if e["id"] in (41013, 41014, 41015)]) < 60  # rate-limited
    counters = router.state()["interfaces"]["e0"]["counters"]
    assert counters["corrupt"] + counters["too_small"] + counters["bad_type"] > 1000
    assert router.proc.poll() is None
    assert member is not None
