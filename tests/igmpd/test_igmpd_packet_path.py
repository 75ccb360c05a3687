"""The packet receive path (--multicast-routing off; auto where the kernel has no multicast
routing), on any kernel: reports of every version, leaves answered on the wire, frames the
kernel's IPv4 input would have dropped, one interface's packet socket failing alone, the link
going down and up, and auto's fallback (said once, never a catalog failure).

Hand-built packets come from a raw socket in h1 (igmpd_testlib.Host); frames the kernel would
never send (a bad IPv4 header checksum, Ethernet padding) from a packet socket in h1.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Callable
from typing import Any

import pytest
from igmpd_testlib import (
    HOST,
    LEAVE,
    ROUTER,
    V1_REPORT,
    V2_REPORT,
    Host,
    capture,
    igmp_frames,
    join,
    seccomp_errno,
    v1v2,
    v3,
    wait_for,
)

from igmpd import packets

pytestmark = pytest.mark.netns

OFF = ("--multicast-routing", "off")
PAIR = {"nodes": ["r1", "h1"], "links": [{"a": f"r1:e0 {ROUTER}/24", "b": f"h1:e0 {HOST}/24"}]}
TWO = {
    "nodes": ["r1", "h1", "h2"],
    "links": [
        {"a": "r1:e0 10.0.1.1/24", "b": "h1:e0 10.0.1.2/24"},
        {"a": "r1:e1 10.0.2.1/24", "b": "h2:e0 10.0.2.2/24"},
    ],
}
SOL_IP, MRT_INIT, MRT_ADD_VIF = 0, 200, 202


def _counters(router: Any, name: str = "e0") -> dict[str, int]:
    return router.interface(name).get("counters", {})


@pytest.fixture(params=["router", "internal"])
def pair(request, make_lab, start_igmpd) -> tuple[Any, Any, Host]:
    """igmpd (v3, packet path) on r1:e0 in either mode, and a sending host h1."""
    lab = make_lab(PAIR)
    router = start_igmpd(lab.node("r1"), [f"e0:{request.param}"], *OFF)
    return lab, router, Host(lab.node("h1"))


def test_reports_of_every_version_are_learned(pair) -> None:
    _, router, host = pair
    host.send(
        v1v2(V1_REPORT, "239.5.5.1", alert=False),  # RFC 1112: no IP options at all
        v1v2(V2_REPORT, "239.5.5.2", alert=True),  # as Linux sends it
        v1v2(V2_REPORT, "239.5.5.3", alert=False),  # older stacks
        v3(4, "239.5.5.4", alert=True),  # CHANGE_TO_EXCLUDE {}: a v3 join
    )
    wanted = {"239.5.5.1": 1, "239.5.5.2": 2, "239.5.5.3": 2, "239.5.5.4": 3}
    groups = wait_for(
        "four groups learned",
        lambda: set(wanted) <= set(router.groups("e0")) and router.groups("e0"),
        2.0,
        lambda: router.groups("e0"),
    )
    assert {g: groups[g]["version"] for g in wanted} == wanted
    assert {groups[g]["last_reporter"] for g in wanted} == {HOST}
    state = router.state()
    assert state["multicast_routing"] == {"requested": "off", "in_use": False}
    assert state["interfaces"]["e0"]["receive_path"] == "packet"
    assert not router.find(id=41015) and not router.find(id=41900)


def test_v3_report_without_router_alert_is_refused_and_a_leave_followed(pair) -> None:
    _, router, host = pair
    host.send(
        v3(4, "239.5.6.7", alert=False),
        v3(4, "239.5.6.8", alert=False, destination="239.5.6.8"),
        v1v2(V2_REPORT, "239.5.6.9", alert=True),
    )
    wait_for(
        "both refusals counted and the v2 report learned",
        lambda: _counters(router).get("corrupt") == 2 and "239.5.6.9" in router.groups("e0"),
        2.0,
        lambda: router.interface("e0"),
    )
    refusals = router.find(id=41015, interface="e0")
    assert [e["reason"] for e in refusals] == ["no Router Alert option"] * 2
    assert all(e["strings"] == [ROUTER, HOST] for e in refusals)
    host.send(v1v2(LEAVE, "239.5.6.9", alert=True))
    wait_for("the group to go after the leave", lambda: "239.5.6.9" not in router.groups("e0"))
    assert not {"239.5.6.7", "239.5.6.8"} & set(router.groups("e0"))


def test_each_report_is_handled_once(pair) -> None:
    lab, router, host = pair
    # r1's kernel joins groups too: it then hands those reports to every raw IGMP socket as well
    # (igmpd's included), but on this path igmpd reads only its packet socket.
    joined = [join(lab.node("r1"), "e0", group) for group in ("239.6.0.1", "239.6.1.1")]
    wait_for("igmpd serving", lambda: _counters(router).get("queries_sent", 0) >= 1)
    before = _counters(router)
    sent = [
        *(v1v2(V2_REPORT, f"239.6.0.{n}", alert=True) for n in (1, 2, 3)),
        *(v1v2(V1_REPORT, f"239.6.1.{n}", alert=False) for n in (1, 2, 3)),
        v3(4, "239.6.2.1", alert=True),
    ]
    marker = v1v2(V2_REPORT, "239.6.9.1", alert=True)
    host.send(*sent, marker)
    state = wait_for(  # one socket, in order: once the marker is in, so is every copy before it
        "the marker learned",
        lambda: "239.6.9.1" in router.groups("e0") and router.state(),
        2.0,
    )
    after = state["interfaces"]["e0"]["counters"]
    handled = lambda c: c["received"] - c["ignored"]  # noqa: E731
    assert handled(after) - handled(before) == len(sent) + 1, (before, after)
    assert after["corrupt"] == before["corrupt"]
    assert _raw_igmp_queues(router.proc.pid) == [0]  # DROP_ALL: the send socket queues nothing
    for sock in joined:
        sock.close()


def _raw_igmp_queues(pid: int) -> list[int]:
    """Bytes queued on each raw IGMP socket of pid's namespace (/proc/PID/net/raw rx_queue)."""
    lines = open(f"/proc/{pid}/net/raw").read().splitlines()[1:]
    fields = [line.split() for line in lines]
    return [int(f[4].split(":")[1], 16) for f in fields if f[1].endswith(":0002")]


def test_v2_leave_is_answered_with_group_specific_queries(make_lab, start_igmpd) -> None:
    lab = make_lab(PAIR)
    host = lab.node("h1")
    host.set_sysctl("net.ipv4.conf.e0.force_igmp_version", 2)
    router = start_igmpd(lab.node("r1"), ["e0"], "--version", "2", *OFF)
    member = join(host, "e0", "239.1.2.3")
    wait_for("the group learned", lambda: "239.1.2.3" in router.groups("e0"), 1.0)
    wire = capture(host, "e0")
    member.close()  # the kernel sends a v2 leave to 224.0.0.2

    def specific(packet: bytes) -> bool:
        return packet[20 + 4] == packets.QUERY and packet[16:20] == socket.inet_aton("239.1.2.3")

    seen: list[bytes] = []
    igmp_frames(wire, 2.0, lambda p: specific(p) and (seen.append(p) or len(seen) >= 2))
    assert len(seen) == 2, "expected LMQC (2) group-specific queries after the leave"
    for query in seen:
        assert query[12:16] == socket.inet_aton(ROUTER) and query[8] == 1  # TTL 1
        assert query[20:24] == packets.ROUTER_ALERT
        igmp = query[24:]
        assert len(igmp) == 8 and igmp[4:8] == socket.inet_aton("239.1.2.3")
        assert packets.checksum_ok(igmp)
    wait_for("the group to go", lambda: "239.1.2.3" not in router.groups("e0"), 1.0)


# --- frames only a packet socket sees ---------------------------------------------------------


def _frame_sender(node: Any) -> Callable[[bytes], None]:
    """Send an IPv4 packet exactly as given (checksum, padding, flags) in one Ethernet frame
    to its group's multicast MAC address."""
    sock = node.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800))

    def send(packet: bytes) -> None:
        mac = bytes((0x01, 0x00, 0x5E, packet[17] & 0x7F, packet[18], packet[19]))
        sock.sendto(packet, ("e0", 0x0800, 0, 0, mac))

    return send


def _ip(igmp: bytes, destination: str, *, flags: int = 0, bad_checksum: bool = False) -> bytes:
    header = bytearray(packets.encode_ip_header(HOST, destination, len(igmp)))
    header[6:8] = flags.to_bytes(2, "big")
    header[10:12] = b"\0\0"
    header[10:12] = packets.checksum(bytes(header)).to_bytes(2, "big")
    if bad_checksum:
        header[10] ^= 0xFF
    return bytes(header) + igmp


def test_frames_the_kernel_would_drop_are_refused_and_padding_is_trimmed(pair) -> None:
    lab, router, _ = pair
    send = _frame_sender(lab.node("h1"))
    report = lambda group: packets.encode_report(packets.V2_REPORT, group)  # noqa: E731
    send(_ip(report("239.7.0.1"), "239.7.0.1", bad_checksum=True))
    send(_ip(report("239.7.0.2"), "239.7.0.2", flags=0x2000))  # more fragments
    send(_ip(report("239.7.0.3"), "239.7.0.3")[:-2])  # shorter than its total length
    # A v2 query padded to Ethernet's minimum: 8 bytes of IGMP, not a 22-byte v3 query.
    send(_ip(packets.encode_query(2, 1.0), "224.0.0.1") + bytes(14))
    send(_ip(report("239.7.0.9"), "239.7.0.9") + bytes(14))  # padded too: learned
    wait_for(
        "the padded report learned",
        lambda: "239.7.0.9" in router.groups("e0"),
        2.0,
        lambda: router.interface("e0"),
    )
    reasons = {e["reason"] for e in router.find(id=41015, interface="e0")}
    assert reasons >= {"bad IPv4 header checksum", "IPv4 fragment"}, reasons
    assert any(r.startswith("IPv4 header of 24 and total length 32") for r in reasons), reasons
    heard = router.wait_event(id=41017, interface="e0")
    assert heard["strings"] == ["3", "e0", "2", HOST]
    assert set(router.groups("e0")) == {"239.7.0.9"}
    assert router.groups("e0")["239.7.0.9"]["version"] == 2


# --- failures, links, the choice of path --------------------------------------------------------


def _nth_fault(syscall: str, args: dict[str, Any], nth: int) -> Any:
    """A harness syscall-error fault that fails only the nth matching call (user notification),
    and the preexec that installs it: (fault launch, preexec)."""
    from harness.faults.base import Launch
    from harness.faults.seccomp import SyscallErrorFault

    fault = SyscallErrorFault(syscall=syscall, errno="ENOBUFS", args=args, nth=nth)
    launch = Launch(argv=[])
    fault.prepare(launch)
    return launch, launch.preexec_fn()


PACKET_SOCKET_FAULTS = [
    # event, step, call, syscall, arguments, nth: the matching call that is e1's first
    (41024, "create_socket", "socket AF_PACKET", "socket", {"domain": 17}, 2),
    (41025, "bind", "bind", "bind", {}, 3),  # 1: igmpd's namespace lock, 2: e0
    (41028, "request_multicast", "SO_ATTACH_FILTER", "setsockopt",
     {"level": "SOL_SOCKET", "optname": 26}, 4),  # e0: raw socket's, packet socket's
    (41028, "request_multicast", "PACKET_ADD_MEMBERSHIP", "setsockopt",
     {"level": 263, "optname": 1}, 2),
    (41023, "event_select", "epoll_ctl", "epoll_ctl", {}, 2),
]  # fmt: skip


@pytest.mark.parametrize(
    ("event", "step", "call", "syscall", "args", "nth"),
    PACKET_SOCKET_FAULTS,
    ids=[f[2] for f in PACKET_SOCKET_FAULTS],
)
def test_one_interface_packet_socket_fails_alone_then_recovers(
    make_lab, start_igmpd, event: int, step: str, call: str, syscall: str, args: dict, nth: int
) -> None:
    lab = make_lab(TWO)
    launch, preexec = _nth_fault(syscall, args, nth)
    try:
        router = start_igmpd(lab.node("r1"), ["e0", "e1"], *OFF, preexec=preexec)
        record = router.wait_event(id=event, interface="e1")
        assert (record["step"], record["call"]) == (step, call)
        assert record["errno_name"] == "ENOBUFS" and record["strings"] == ["10.0.2.1"]
        router.wait_event(id=41055, interface="e1")
        router.wait_event(id=41052, interface="e1", timeout=3.0)  # the retry's calls go through
        assert not router.find(id=41055, interface="e0") and len(router.find(id=41052)) == 2
        for name in ("e0", "e1"):
            wait_for(
                f"{name} active on the packet path",
                lambda n=name: (
                    router.interface(n).get("receive_path") == "packet"
                    and router.interface(n).get("status") == "active"
                ),
            )
        member = join(lab.node("h2"), "e0", "239.3.3.3")
        wait_for("e1 learning", lambda: "239.3.3.3" in router.groups("e1"), 2.0)
        member.close()
    finally:
        if launch.supervisor is not None:
            launch.supervisor.close()


def test_receive_failure_closes_the_packet_socket_and_reactivates(make_lab, start_igmpd) -> None:
    lab = make_lab(PAIR)
    router = start_igmpd(
        lab.node("r1"), ["e0"], *OFF, preexec=seccomp_errno("recvfrom", errno.ENOMEM)
    )
    Host(lab.node("h1")).send(v1v2(V2_REPORT, "239.5.5.5", alert=True))
    record = router.wait_event(id=41012, interface="e0", timeout=3.0)
    assert (record["step"], record["call"], record["errno_name"]) == (
        "receive",
        "recvfrom",
        "ENOMEM",
    )
    wait_for("a re-activation", lambda: len(router.find(id=41052)) >= 2, 3.0)
    assert router.proc.poll() is None


def test_link_down_and_up_keep_the_packet_socket(make_lab, start_igmpd) -> None:
    lab = make_lab(PAIR)
    node = lab.node("r1")
    router = start_igmpd(node, ["e0"], *OFF)
    node.set_link("e0", up=False)
    router.wait_event(id=41019, interface="e0", timeout=3.0)  # the probe query, at once
    node.set_link("e0", up=True)
    host = Host(lab.node("h1"))

    def learned() -> bool:  # sent until h1's side has its carrier back and the report arrives
        host.send(v1v2(V2_REPORT, "239.4.4.4", alert=True))
        return "239.4.4.4" in router.groups("e0")

    wait_for("a report after the link came back", learned, 3.0, router.events)
    assert not router.find(id=41012) and not router.find(id=41055)
    assert len(router.find(id=41052)) == 1  # never re-activated: the socket resumed by itself


def _mrt_errno() -> int:
    """MRT_INIT's errno in this namespace (0: this kernel has multicast routing)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_IGMP)
    try:
        sock.setsockopt(socket.IPPROTO_IP, MRT_INIT, 1)
    except OSError as exc:
        return exc.errno or 0
    finally:
        sock.close()
    return 0


@pytest.mark.parametrize("cause", ["kernel", "seccomp"])
def test_auto_falls_back_to_packet_sockets_once(make_lab, start_igmpd, cause: str) -> None:
    lab = make_lab(TWO)
    node = lab.node("r1")
    preexec = None
    if cause == "seccomp":  # exactly what a kernel without multicast routing answers
        preexec = seccomp_errno(
            "setsockopt", errno.ENOPROTOOPT, (1, SOL_IP, None), (2, MRT_INIT, None)
        )
    elif node.call(_mrt_errno) != errno.ENOPROTOOPT:
        pytest.skip("this kernel has multicast routing; the seccomp case covers the fallback")
    router = start_igmpd(node, ["e0", "e1"], preexec=preexec)
    (notice,) = router.find(id=41900)
    assert notice["level"] == "Information" and notice["interface"] is None
    assert (notice["call"], notice["errno_name"]) == ("MRT_INIT", "ENOPROTOOPT")
    assert "step" not in notice and notice["strings"] == ["ENOPROTOOPT"]
    assert len(router.find(id=41052)) == 2
    assert not [e for e in router.events() if e["id"] in (41028, 41055)]
    state = wait_for(
        "both interfaces in the state file",
        lambda: len(router.state().get("interfaces", {})) == 2 and router.state(),
    )
    assert state["multicast_routing"] == {"requested": "auto", "in_use": False}
    assert {i["receive_path"] for i in state["interfaces"].values()} == {"packet"}
    member = join(lab.node("h1"), "e0", "239.2.2.2")
    wait_for("a join learned", lambda: "239.2.2.2" in router.groups("e0"), 2.0)
    member.close()
    assert len(router.find(id=41900)) == 1


def test_on_fails_as_before_where_mrt_init_says_enoprotoopt(make_lab, start_igmpd) -> None:
    lab = make_lab(PAIR)
    preexec = seccomp_errno("setsockopt", errno.ENOPROTOOPT, (1, SOL_IP, None), (2, MRT_INIT, None))
    router = start_igmpd(lab.node("r1"), ["e0"], "--multicast-routing", "on", preexec=preexec)
    record = router.wait_event(id=41028, interface="e0")
    assert (record["call"], record["errno_name"]) == ("MRT_INIT", "ENOPROTOOPT")
    router.wait_event(id=41055, interface="e0")
    assert not router.find(id=41900) and not router.find(id=41052)
    state = wait_for("the state file", lambda: router.interface("e0") and router.state())
    assert state["multicast_routing"] == {"requested": "on", "in_use": True}
    assert state["interfaces"]["e0"]["receive_path"] == "mroute"


def test_off_never_touches_multicast_routing(make_lab, start_igmpd) -> None:
    lab = make_lab(PAIR)
    no_mrt = seccomp_errno("setsockopt", errno.EPERM, (1, SOL_IP, None), (2, 192, 0xFFF0))
    router = start_igmpd(lab.node("r1"), ["e0"], *OFF, preexec=no_mrt)  # MRT_* options: 192-207
    router.wait_event(id=41052, interface="e0")
    assert not [e for e in router.events() if e["id"] in (41028, 41055, 41900)]
