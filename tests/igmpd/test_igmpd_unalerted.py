"""IGMP without Router Alert on the mroute path: v1 and v2 reports learned, v3 reports refused,
each packet once.

Linux gives an IGMP packet without Router Alert to a group the router has not joined to the
multicast routing socket only (ip_mr_input); igmpd reads it there. Packets are built with scapy
and sent from a raw socket in h1, exactly as given (a v1 host sends no IP options at all).
These tests need the kernel's multicast routing (igmpd runs with --multicast-routing on); the
same packets on the packet path are in test_igmpd_packet_path.py.
"""

from __future__ import annotations

import errno
import socket
import time
from typing import Any

import pytest
from igmpd_testlib import (
    HOST,
    LEAVE,
    ROUTER,
    V1_REPORT,
    V2_REPORT,
    Host,
    join,
    seccomp_errno,
    v1v2,
    v3,
    wait_for,
)

pytestmark = [pytest.mark.netns, pytest.mark.mrt]

PAIR = {"nodes": ["r1", "h1"], "links": [{"a": f"r1:e0 {ROUTER}/24", "b": f"h1:e0 {HOST}/24"}]}
ON = ("--multicast-routing", "on")


@pytest.fixture
def pair(make_lab, start_igmpd) -> tuple[Any, Host]:
    """igmpd (v3) on r1:e0 and a sending host h1."""
    lab = make_lab(PAIR)
    return lab, start_igmpd(lab.node("r1"), ["e0"], *ON), Host(lab.node("h1"))


def _counters(router: Any) -> dict[str, int]:
    return router.state().get("interfaces", {}).get("e0", {}).get("counters", {})


def test_v1_report_without_router_alert_is_learned_and_holds_off_leaves(pair) -> None:
    _, router, host = pair
    host.send(v1v2(V1_REPORT, "239.5.5.5", alert=False))
    group = wait_for("239.5.5.5 learned", lambda: router.groups("e0").get("239.5.5.5"), 2.0)
    assert group["version"] == 1 and group["last_reporter"] == HOST
    # Older version host present: a leave is ignored while a v1 host is there (RFC 3376 7.3.2),
    # so the group keeps its membership interval (1.2 s) instead of dropping to LMQT (0.2 s).
    host.send(
        v1v2(V1_REPORT, "239.5.5.5", alert=False),
        v1v2(LEAVE, "239.5.5.5", alert=False),
        v1v2(V2_REPORT, "239.5.5.99", alert=True),  # a marker, read after the leave
    )
    groups = wait_for(
        "the marker after the leave",
        lambda: "239.5.5.99" in router.groups("e0") and router.groups("e0"),
        2.0,
    )
    assert groups["239.5.5.5"]["version"] == 1 and groups["239.5.5.5"]["expires_in"] > 0.5
    assert not router.find(id=41015)


def test_v2_report_and_leave_without_router_alert_are_followed(pair) -> None:
    _, router, host = pair
    host.send(v1v2(V2_REPORT, "239.5.5.6", alert=False))
    group = wait_for("239.5.5.6 learned", lambda: router.groups("e0").get("239.5.5.6"), 2.0)
    assert group["version"] == 2 and group["last_reporter"] == HOST
    host.send(v1v2(LEAVE, "239.5.5.6", alert=False))  # 224.0.0.2: an interface socket reads it
    wait_for("the group to go after the leave", lambda: "239.5.5.6" not in router.groups("e0"))
    assert not router.find(id=41015)


def test_v3_report_without_router_alert_is_refused_and_counted(pair) -> None:
    _, router, host = pair
    host.send(
        v3(4, "239.5.5.7", alert=False),  # to 224.0.0.22: an interface socket reads it
        v3(4, "239.5.5.8", alert=False, destination="239.5.5.8"),  # the routing socket does
    )
    wait_for(
        "both refusals counted",
        lambda: _counters(router).get("corrupt") == 2,
        2.0,
        lambda: _counters(router),
    )
    refusals = router.find(id=41015, interface="e0")
    assert [e["reason"] for e in refusals] == ["no Router Alert option"] * 2
    assert all(e["strings"] == [ROUTER, HOST] for e in refusals)
    host.send(v3(4, "239.5.5.9", alert=True))  # the same report with Router Alert: learned
    wait_for("239.5.5.9 learned", lambda: "239.5.5.9" in router.groups("e0"), 2.0)
    assert not {"239.5.5.7", "239.5.5.8"} & set(router.groups("e0"))


def test_each_report_is_handled_once(pair) -> None:
    lab, router, host = pair
    # r1's kernel joins one group of each kind: the kernel then also hands those reports to
    # every raw IGMP socket, the interface socket and the routing socket alike.
    joined = [join(lab.node("r1"), "e0", group) for group in ("239.6.0.1", "239.6.1.1")]
    wait_for("igmpd serving", lambda: _counters(router).get("queries_sent", 0) >= 1)
    before = _counters(router)
    sent = [
        *(v1v2(V2_REPORT, f"239.6.0.{n}", alert=True) for n in (1, 2, 3)),  # as Linux sends
        *(v1v2(V1_REPORT, f"239.6.1.{n}", alert=False) for n in (1, 2, 3)),  # as RFC 1112
    ]
    markers = [v1v2(V2_REPORT, "239.6.9.1", alert=True), v1v2(V1_REPORT, "239.6.9.2", False)]
    host.send(*sent, *markers)
    # Each marker comes after the others on its socket: once both are in the state file, every
    # copy of every earlier packet has been read, and the counters in that file include them.
    state = wait_for(
        "both markers learned",
        lambda: {"239.6.9.1", "239.6.9.2"} <= set(router.groups("e0")) and router.state(),
        2.0,
    )
    after = state["interfaces"]["e0"]["counters"]
    handled = lambda c: c["received"] - c["ignored"]  # noqa: E731 - r1's own reports: ignored
    assert handled(after) - handled(before) == len(sent) + len(markers), (before, after)
    groups = state["interfaces"]["e0"]["groups"]
    assert {f"239.6.{k}.{n}" for k in (0, 1) for n in (1, 2, 3)} <= set(groups)
    assert after["corrupt"] == before["corrupt"]
    for sock in joined:
        sock.close()


def test_a_failed_read_of_the_routing_socket_pauses_it_instead_of_spinning(
    make_lab, start_igmpd
) -> None:
    lab = make_lab(PAIR)
    router = start_igmpd(
        lab.node("r1"), ["e0"], *ON, preexec=seccomp_errno("recvmsg", errno.ENOMEM)
    )
    host = Host(lab.node("h1"))
    host.send(v1v2(V1_REPORT, "239.5.6.1", alert=False))
    record = router.wait_event(id=41012, interface="e0")
    assert record["call"] == "recvmsg" and record["socket"] == "mroute"
    assert record["errno_name"] == "ENOMEM" and record["strings"] == [ROUTER]
    start = time.monotonic()

    def unalerted_and_alerted() -> bool:
        host.send(v1v2(V1_REPORT, "239.5.6.1", False), v1v2(V2_REPORT, "239.5.6.2", True))
        return len(router.find(id=41012)) >= 2 and "239.5.6.2" in router.groups("e0")

    # The routing socket is read again after the retry interval (0.3 s), not in a loop, and
    # the interface's own socket is read all along.
    wait_for("a second 41012, and a v2 report learned", unalerted_and_alerted, 3.0)
    failures = len(router.find(id=41012))
    assert failures <= (time.monotonic() - start) / 0.3 + 2  # a spin hits the burst (10) at once
    e0 = router.state()["interfaces"]["e0"]
    assert e0["status"] == "active" and "239.5.6.1" not in e0["groups"]
    assert len(router.find(id=41052)) == 1 and not router.find(id=41055)


def test_multicast_data_and_its_upcalls_are_not_taken_for_igmp(pair) -> None:
    lab, router, host = pair
    # UDP to a group with no route makes the kernel queue an IGMPMSG_NOCACHE upcall on the
    # routing socket: an IPv4-like header with protocol 0, which the filter must drop.
    data = lab.node("h1").socket(socket.AF_INET, socket.SOCK_DGRAM)
    data.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"e0")
    data.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 8)
    for n in range(1, 6):
        data.sendto(b"data", (f"239.7.0.{n}", 5000))
    host.send(v1v2(V1_REPORT, "239.7.9.1", alert=False))  # a marker on the routing socket
    state = wait_for(
        "the marker learned",
        lambda: "239.7.9.1" in router.groups("e0") and router.state(),
        2.0,
    )
    counters = state["interfaces"]["e0"]["counters"]
    assert set(state["interfaces"]["e0"]["groups"]) == {"239.7.9.1"}
    assert counters["bad_type"] == counters["corrupt"] == counters["too_small"] == 0
    assert not [e for e in router.events() if e["id"] in (41013, 41014, 41015)]
    data.close()
