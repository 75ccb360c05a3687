"""The namespace lab on real namespaces: traffic crosses, live changes apply, nothing is left."""

from __future__ import annotations

import os
import select
import socket
import struct
import subprocess
from pathlib import Path
from typing import Any

import pytest

from netns import Lab, LabProcessWarning, Node, Topology, registry
from netns.errors import TopologyError
from netns.nsenter import NETNS_DIR

pytestmark = pytest.mark.netns

TWO_NODES: dict[str, Any] = {
    "nodes": ["r1", "h1"],
    "links": [{"a": "r1:e0 10.0.1.1/24", "b": "h1:e0 10.0.1.2/24"}],
}
BRIDGED: dict[str, Any] = {
    "nodes": ["r1", "h1", "h2"],
    "lans": [
        {"name": "lan0", "members": ["r1:e0 10.0.3.1/24", "h1:e0 10.0.3.2/24", "h2:e0 10.0.3.3/24"]}
    ],
}
DEADLINE = 2.0


def leftovers(run_id: str) -> list[str]:
    """Namespaces, root-namespace links and the run record still carrying ``run_id``."""
    found = [name for name in os.listdir(NETNS_DIR) if name.startswith(f"fl{run_id}")]
    found += [name for _, name in socket.if_nameindex() if run_id in name]
    if registry.load(run_id) is not None:
        found.append(f"record {run_id}")
    return found


def receive(sock: socket.socket, what: str) -> bytes:
    """One datagram, waited for with select() and a deadline."""
    readable, _, _ = select.select([sock], [], [], DEADLINE)
    assert readable, f"no datagram for {what} within {DEADLINE}s"
    return sock.recv(2048)


def udp_receiver(node: Node, port: int) -> socket.socket:
    sock = node.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("0.0.0.0", port))
    return sock


def wait_for_exit(proc: subprocess.Popen, what: str) -> int:
    try:
        return proc.wait(timeout=DEADLINE)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{what} (pid {proc.pid}) still runs after {DEADLINE}s")


def test_two_nodes_carry_unicast_udp_and_leave_nothing_behind() -> None:
    with Lab(Topology.from_dict(TWO_NODES)) as lab:
        run_id = lab.run_id
        assert run_id is not None and lab.namespaces == [f"fl{run_id}-r1", f"fl{run_id}-h1"]
        r1, h1 = lab.node("r1"), lab.node("h1")
        receiver = udp_receiver(h1, 5001)
        sender = r1.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sender.sendto(b"over the veth", ("10.0.1.2", 5001))
        assert receive(receiver, "10.0.1.1 -> 10.0.1.2") == b"over the veth"
        assert r1.interfaces() == {"lo": 1, "e0": 2}
        assert [str(a) for a in h1.addresses("e0")] == ["10.0.1.2/24"]
        assert h1.call(lambda: [name for _, name in socket.if_nameindex()]) == ["lo", "e0"]
        assert sorted(leftovers(run_id)) == [f"fl{run_id}-h1", f"fl{run_id}-r1", f"record {run_id}"]
    assert leftovers(run_id) == []
    assert receiver.fileno() == -1, "sockets from Node.socket are closed at teardown"


def test_multicast_crosses_the_bridge_to_every_member() -> None:
    group, port = "239.1.2.3", 5002
    with Lab(Topology.from_dict(BRIDGED)) as lab:
        r1, h1, h2 = (lab.node(name) for name in ("r1", "h1", "h2"))
        receivers = []
        for node, address in ((h1, "10.0.3.2"), (h2, "10.0.3.3")):
            sock = udp_receiver(node, port)
            membership = struct.pack("4s4s", socket.inet_aton(group), socket.inet_aton(address))
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
            receivers.append(sock)
        sender = r1.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sender.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("10.0.3.1"))
        sender.sendto(b"to the group", (group, port))
        assert [receive(sock, f"{group} on {sock}") for sock in receivers] == [b"to the group"] * 2
        bridge = lab.lan("lan0")
        assert bridge.netns == f"fl{lab.run_id}-lan-lan0"
        assert sorted(bridge.interfaces()) == sorted(
            ["lo", f"fl{lab.run_id}b"] + [f"fl{lab.run_id}p{n}" for n in (1, 2, 3)]
        )
    assert leftovers(lab.run_id or "") == []


def test_an_exception_inside_the_with_still_tears_down() -> None:
    with pytest.raises(ZeroDivisionError), Lab(Topology.from_dict(TWO_NODES)) as lab:
        assert len(leftovers(lab.run_id or "")) == 3
        1 / 0  # noqa: B018
    assert leftovers(lab.run_id or "") == []


def test_bad_descriptions_create_nothing() -> None:
    before = set(os.listdir(NETNS_DIR))
    for bad in (
        {"nodes": ["zq1"], "links": [{"a": "zq1:e0", "b": "zq9:e0"}]},
        {
            "nodes": ["zq1", "zq2"],
            "links": [{"a": "zq1:e0 10.0.1.1/24", "b": "zq2:e0 10.0.1.1/24"}],
        },
        {"nodes": ["zq1", "zq2"], "links": [{"a": "zq1:abcdefghijklmnop", "b": "zq2:e0"}]},
        {"nodes": ["zq1", "zq2"], "links": [{"a": "zq1:e0 10.0.1.1/24x", "b": "zq2:e0"}]},
        {"nodes": ["zq1"], "routes": [{"node": "zq7", "dst": "default", "dev": "e0"}]},
    ):
        with pytest.raises(TopologyError, match=r"zq9|10\.0\.1\.1|abcdefghijklmnop|24x|zq7"):
            Lab(Topology.from_dict(bad))
    created = {
        name for name in set(os.listdir(NETNS_DIR)) - before if name.split("-")[-1].startswith("zq")
    }
    assert created == set()


def test_a_build_that_fails_half_way_removes_what_it_made() -> None:
    data = {**TWO_NODES, "routes": [{"node": "h1", "dst": "10.9.0.0/16", "via": "10.7.7.7"}]}
    lab = Lab(Topology.from_dict(data))
    with pytest.raises(
        TopologyError,
        match=r"route rejected by the kernel: .*add route 10\.9\.0\.0/16 via 10\.7\.7\.7",
    ):
        lab.__enter__()
    assert lab.run_id is not None and leftovers(lab.run_id) == []


def test_a_sysctl_unknown_in_a_namespace_is_named_and_nothing_stays() -> None:
    data = {**TWO_NODES, "sysctls": {"h1": {"net.ipv4.no_such_knob": 1}}}
    lab = Lab(Topology.from_dict(data))
    with pytest.raises(TopologyError, match="no_such_knob of node h1"):
        lab.__enter__()
    assert lab.run_id is not None and leftovers(lab.run_id) == []


def test_live_changes_apply_inside_the_node_only() -> None:
    host_value = Path("/proc/sys/net/ipv4/igmp_max_memberships").read_text().strip()
    data = {**TWO_NODES, "sysctls": {"r1": {"net.ipv4.conf.e0.forwarding": 1}}}
    with Lab(Topology.from_dict(data)) as lab:
        r1 = lab.node("r1")
        r1.add_address("e0", "10.0.1.9/24")
        assert [str(a) for a in r1.addresses("e0")] == ["10.0.1.1/24", "10.0.1.9/24"]
        r1.del_address("e0", "10.0.1.9/24")
        assert [str(a) for a in r1.addresses("e0")] == ["10.0.1.1/24"]
        r1.add_route("10.9.0.0/16", via="10.0.1.2")
        assert (
            "10.9.0.0/16 via 10.0.1.2"
            in r1.popen(["ip", "route"], stdout=subprocess.PIPE).communicate()[0].decode()
        )
        r1.del_route("10.9.0.0/16")
        r1.set_link("e0", up=False)
        assert not r1.is_up("e0") and lab.node("h1").is_up("e0")
        r1.set_sysctl("net.ipv4.igmp_max_memberships", 3)
        assert r1.get_sysctl("net.ipv4.igmp_max_memberships") == "3"
        assert r1.get_sysctl("net.ipv4.conf.e0.forwarding") == "1"
        lab.node("h1").del_link("e0")
        assert "e0" not in r1.interfaces(), "deleting one end of a veth removes the other"
        with pytest.raises(LookupError, match="no interface 'e0'"):
            r1.ifindex("e0")
    assert Path("/proc/sys/net/ipv4/igmp_max_memberships").read_text().strip() == host_value


def test_popen_runs_inside_after_preexec_and_is_stopped_at_teardown(tmp_path: Path) -> None:
    marker = tmp_path / "preexec-netns"

    def preexec() -> None:
        marker.write_text(os.readlink("/proc/self/ns/net"))

    with Lab(Topology.from_dict(TWO_NODES)) as lab:
        h1 = lab.node("h1")
        proc = h1.popen(["sleep", "30"], preexec=preexec)
        listing = h1.popen(
            ["cat", "/proc/self/net/dev"], stdout=subprocess.PIPE, env={"PATH": os.environ["PATH"]}
        )
        devices = listing.communicate(timeout=DEADLINE)[0].decode()
        assert " e0:" in devices and " lo:" in devices
        assert marker.read_text() == h1.call(os.readlink, "/proc/thread-self/ns/net")
        record = registry.load(lab.run_id or "")
        assert record is not None and [p.pid for p in record.processes] == [proc.pid, listing.pid]
        assert (
            open(f"/proc/{proc.pid}/environ", "rb")
            .read()
            .count(f"FAULTLAB_RUN={lab.run_id}".encode())
            == 1
        )
    assert proc.returncode == -15, "stopped with SIGTERM"


def test_a_process_that_ignores_sigterm_is_killed_with_a_warning() -> None:
    with pytest.warns(LabProcessWarning, match=r"process \d+ \(sh\) in fl\w{6}-h1 ignored SIGTERM"):
        with Lab(Topology.from_dict(TWO_NODES), terminate_timeout=0.2) as lab:
            proc = lab.node("h1").popen(
                ["sh", "-c", "trap '' TERM; echo ready; exec sleep 30"], stdout=subprocess.PIPE
            )
            assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
    assert proc.returncode == -9


def test_teardown_errors_are_raised_together_after_every_step(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import netns.node as node_module

    real_remove = node_module.remove_netns
    refused: list[str] = []

    def refuse_h1(name: str) -> None:
        if name.endswith("-h1"):
            refused.append(name)
            raise OSError(16, f"{name} is busy")
        real_remove(name)

    monkeypatch.setattr(node_module, "remove_netns", refuse_h1)
    with pytest.raises(ExceptionGroup, match="1 step") as info:
        with Lab(Topology.from_dict(TWO_NODES)) as lab:
            pass
    real_remove(refused[0])
    assert [str(e) for e in info.value.exceptions] == [f"[Errno 16] {refused[0]} is busy"]
    assert leftovers(lab.run_id or "") == [], "r1 and the record were removed despite h1's failure"
