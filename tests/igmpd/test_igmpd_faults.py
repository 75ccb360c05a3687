"""Each socket step's event when that step fails for real or through seccomp, and recovery.

Syscall errors come from a small seccomp RET_ERRNO filter loaded in igmpd's child before exec;
real causes (a multicast router holding MRT_INIT, igmp_max_memberships=0, a deleted interface)
are set up in the namespace. igmpd's code is never patched.
"""

from __future__ import annotations

import errno
import socket

import pytest
from igmpd_testlib import seccomp_errno, stretched, wait_for

pytestmark = pytest.mark.netns

TWO = {
    "nodes": ["r1", "h1", "h2"],
    "links": [
        {"a": "r1:e0 10.0.1.1/24", "b": "h1:e0 10.0.1.2/24"},
        {"a": "r1:e1 10.0.2.1/24", "b": "h2:e0 10.0.2.2/24"},
    ],
}


SOL_IP, SOL_SOCKET = 0, 1
STEP_FAULTS = [
    # event, step, call, interface mode, seccomp rule
    (41024, "create_socket", "socket", "router",
     seccomp_errno("socket", errno.EMFILE, (0, 2, None), (1, 3, 0xFF), (2, 2, None))),
    (41025, "bind", "SO_BINDTODEVICE", "router",
     seccomp_errno("setsockopt", errno.EINVAL, (1, SOL_SOCKET, None), (2, 25, None))),
    (41028, "request_multicast", "IP_MULTICAST_IF", "router",
     seccomp_errno("setsockopt", errno.EADDRNOTAVAIL, (1, SOL_IP, None), (2, 32, None))),
    (41029, "router_alert", "IP_OPTIONS", "router",
     seccomp_errno("setsockopt", errno.ENOBUFS, (1, SOL_IP, None), (2, 4, None))),
    (41030, "header_include", "IP_HDRINCL", "internal",
     seccomp_errno("setsockopt", errno.ENOPROTOOPT, (1, SOL_IP, None), (2, 3, None))),
    (41023, "event_select", "epoll_ctl", "router",
     seccomp_errno("epoll_ctl", errno.ENOSPC)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("event", "step", "call", "mode", "preexec"), STEP_FAULTS, ids=[str(f[0]) for f in STEP_FAULTS]
)
def test_each_setup_step_failure_logs_its_event(
    make_lab, start_igmpd, event: int, step: str, call: str, mode: str, preexec
) -> None:
    lab = make_lab(TWO)
    router = start_igmpd(lab.node("r1"), [f"e0:{mode}"], preexec=preexec)
    record = router.wait_event(id=event, interface="e0")
    assert record["step"] == step and record["call"] == call
    assert record["strings"] == ["10.0.1.1"] and record["errno"] > 0 and record["winsock"]
    failure = router.wait_event(id=41055, interface="e0")
    assert failure["strings"] == ["3", "e0"] and failure["step"] == step
    ids = [e["id"] for e in router.events()]
    assert ids.index(event) < ids.index(41055) and 41052 not in ids
    state = wait_for("inactive in state", lambda: router.state().get("interfaces"))
    assert state["e0"]["status"] == "inactive" and state["e0"]["failed_step"] == step
    assert router.proc.poll() is None


def _hold_mrt() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_IGMP)
    sock.setsockopt(socket.IPPROTO_IP, 200, 1)  # MRT_INIT
    return sock


@pytest.mark.mrt
def test_mrt_held_fails_every_interface_then_recovers(make_lab, start_igmpd) -> None:
    lab = make_lab(TWO)
    router_node = lab.node("r1")
    holder = router_node.call(_hold_mrt)
    router = start_igmpd(router_node, ["e0", "e1"])  # auto: EADDRINUSE is no reason to fall back
    for name in ("e0", "e1"):
        record = router.wait_event(id=41028, interface=name)
        assert record["call"] == "MRT_INIT" and record["errno_name"] == "EADDRINUSE"
        assert record["winsock"] == 10048
    holder.close()
    for name in ("e0", "e1"):
        router.wait_event(id=41052, interface=name, timeout=3.0)
    assert not router.find(id=41900)
    wait_for(
        "auto decided for the mroute path",
        lambda: router.state().get("multicast_routing") == {"requested": "auto", "in_use": True},
        last=router.state,
    )


def test_igmp_max_memberships_zero_is_enobufs_at_the_join(make_lab, start_igmpd) -> None:
    lab = make_lab(TWO)
    node = lab.node("r1")
    node.set_sysctl("net.ipv4.igmp_max_memberships", 0)
    router = start_igmpd(node, ["e0"])
    record = router.wait_event(id=41028, interface="e0")
    assert record["call"] == "IP_ADD_MEMBERSHIP 224.0.0.2" and record["errno_name"] == "ENOBUFS"


def test_deleted_interface_fails_alone_and_the_other_keeps_running(make_lab, start_igmpd) -> None:
    lab = make_lab(TWO)
    node = lab.node("r1")
    router = start_igmpd(node, ["e0", "e1"])
    node.del_link("e0")
    record = router.wait_event(id=41025, interface="e0", timeout=3.0)
    assert record["errno_name"] == "ENODEV" and record["strings"] == ["10.0.1.1"]
    state = wait_for(
        "e0 inactive",
        lambda: router.interface("e0").get("status") == "inactive" and router.state(),
    )
    assert state["interfaces"]["e1"]["status"] == "active"
    sent = state["interfaces"]["e1"]["counters"]["queries_sent"]
    wait_for(
        "e1 still querying",
        lambda: router.counter("e1", "queries_sent") > sent,
        2.0,
    )
    assert router.proc.poll() is None and not router.find(id=41055, interface="e1")


def test_link_down_is_logged_at_once_not_at_the_next_query(make_lab, start_igmpd) -> None:
    lab = make_lab(TWO)
    node = lab.node("r1")
    router = start_igmpd(
        node, ["e0", "e1"], "--query-interval", "30", "--query-response-interval", "1",
        "--startup-query-count", "1",
    )  # fmt: skip
    wait_for(
        "the startup query on e0",
        lambda: router.counter("e0", "queries_sent") >= 1,
    )
    node.set_link("e0", up=False)
    record = router.wait_event(id=41019, interface="e0", timeout=3.0)  # next query: in 30 s
    assert record["errno_name"] == "ENETUNREACH" and record["strings"] == ["10.0.1.1", "224.0.0.1"]
    assert router.state()["interfaces"]["e0"]["status"] == "active"  # a warning, no 41055
    assert not router.find(id=41019, interface="e1") and not router.find(id=41055)


def test_runtime_send_failure_is_a_warning_and_the_router_goes_on(make_lab, start_igmpd) -> None:
    lab = make_lab(TWO)
    preexec = seccomp_errno("sendto", errno.EPERM)
    router = start_igmpd(lab.node("r1"), ["e0"], preexec=preexec)
    record = router.wait_event(id=41019, interface="e0")
    assert record["level"] == "Warning" and record["strings"] == ["10.0.1.1", "224.0.0.1"]
    assert record["errno_name"] == "EPERM" and record["winsock"] == 10013
    wait_for(
        "more send errors counted",
        lambda: router.counter("e0", "send_errors") >= 3,
        3.0,
    )
    assert len(router.find(id=41019)) <= 10 + 3  # burst, then about one a second
    assert router.state()["interfaces"]["e0"]["status"] == "active"


def test_receive_failure_closes_the_socket_instead_of_spinning(make_lab, start_igmpd) -> None:
    lab = make_lab(TWO)
    preexec = seccomp_errno("recvfrom", errno.ENOMEM)
    router = start_igmpd(lab.node("r1"), ["e0"], preexec=preexec)
    lab.node("h1").set_sysctl("net.ipv4.conf.e0.force_igmp_version", 2)
    from igmpd_testlib import join

    # A report makes the socket readable; the member is kept open until it was read (closed
    # at once, the kernel would cancel its delayed report and send no leave either).
    member = join(lab.node("h1"), "e0", "239.5.5.5")
    record = router.wait_event(id=41012, interface="e0", timeout=3.0)
    assert record["errno_name"] == "ENOMEM" and record["step"] == "receive"
    router.wait_event(id=41052, interface="e0", timeout=3.0)  # first activation
    reactivations = wait_for("a re-activation", lambda: len(router.find(id=41052)) >= 2, 3.0)
    assert reactivations
    with open(f"/proc/{router.proc.pid}/stat") as stat:
        cpu_ticks = sum(int(x) for x in stat.read().split()[13:15])
    assert cpu_ticks < stretched(300)  # well under the 3 s of CPU a busy loop would have used
    member.close()
