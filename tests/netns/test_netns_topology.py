"""Topology descriptions: parsing both endpoint forms, and every bad item named (no kernel)."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from netns import InvalidTopology, Topology
from netns.errors import TopologyError
from netns.naming import (
    bridge_port_ifname,
    check_run_id,
    lan_netns,
    new_run_id,
    node_netns,
    run_id_of_netns,
)
from netns.plan import make_plan

EXAMPLE: dict[str, Any] = {
    "nodes": ["r1", "h1", "h2", "h3"],
    "links": [
        {"a": "r1:e0 10.0.1.1/24", "b": "h1:e0 10.0.1.2/24"},
        {
            "a": {"node": "r1", "ifname": "e1", "addresses": ["10.0.2.1/24"]},
            "b": "h2:e0 10.0.2.2/24",
            "up": False,
        },
    ],
    "lans": [{"name": "lan0", "members": ["r1:e2 10.0.3.1/24 fd00::1/64", "h3:e0 10.0.3.2/24"]}],
    "routes": [
        {"node": "h1", "dst": "10.0.2.0/24", "via": "10.0.1.1"},
        {"node": "h2", "dst": "default", "dev": "e0"},
    ],
    "sysctls": {"r1": {"net.ipv4.igmp_max_memberships": 20, "net.ipv4.conf.e0.forwarding": True}},
}


def problems_of(data: dict[str, Any], **kwargs: Any) -> list[str]:
    with pytest.raises(InvalidTopology) as info:
        Topology.from_dict(data, **kwargs)
    assert isinstance(info.value, TopologyError)
    return [str(problem) for problem in info.value.problems]


def with_links(*links: dict[str, Any], nodes: tuple[str, ...] = ("r1", "h1")) -> dict[str, Any]:
    return {"nodes": list(nodes), "links": list(links)}


def test_both_endpoint_forms_parse_to_the_same_model() -> None:
    topology = Topology.from_dict(EXAMPLE)
    first, second = topology.links
    assert (first.a.node, first.a.ifname, first.a.addresses) == (
        "r1",
        "e0",
        (ipaddress.ip_interface("10.0.1.1/24"),),
    )
    assert (second.a.node, second.a.ifname, str(second.a.addresses[0])) == (
        "r1",
        "e1",
        "10.0.2.1/24",
    )
    assert second.up is False and first.up is True
    assert [str(a) for a in topology.lans[0].members[0].addresses] == ["10.0.3.1/24", "fd00::1/64"]


def test_routes_and_sysctls() -> None:
    topology = Topology.from_dict(EXAMPLE)
    via, default = topology.routes
    assert (str(via.dst), str(via.via), via.dev) == ("10.0.2.0/24", "10.0.1.1", None)
    assert (str(default.dst), default.via, default.dev) == ("0.0.0.0/0", None, "e0")
    assert dict(topology.node("r1").sysctls) == {
        "net.ipv4.igmp_max_memberships": "20",
        "net.ipv4.conf.e0.forwarding": "1",
    }
    assert dict(topology.node("h1").sysctls) == {}


def test_nodes_as_a_mapping_carry_their_sysctls() -> None:
    topology = Topology.from_dict(
        {"nodes": {"r1": {"sysctls": {"net.core.optmem_max": 0}}, "h1": None}}
    )
    assert [n.name for n in topology.nodes] == ["r1", "h1"]
    assert dict(topology.node("r1").sysctls) == {"net.core.optmem_max": "0"}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            with_links({"a": "r1:e0 10.0.1.1/24", "b": "h9:e0 10.0.1.2/24"}),
            "links[0].b: 'h9:e0 10.0.1.2/24': unknown node 'h9'",
        ),
        (
            with_links({"a": "r1:e0 10.0.1.1/24", "b": "h1:e0 10.0.1.1/24"}),
            "links[0].b: duplicate address 10.0.1.1 on h1:e0; already on r1:e0 (links[0].a)",
        ),
        (
            with_links(
                {"a": "r1:e0 10.0.1.1/24", "b": "h1:e0"}, {"a": "r1:e1 10.0.1.9/16", "b": "h1:e1"}
            ),
            "links[1].a: 10.0.1.9/16 on r1:e1 overlaps 10.0.1.1/24 on r1:e0 (links[0].a)",
        ),
        (
            with_links({"a": "r1:averyverylongname0 10.0.1.1/24", "b": "h1:e0"}),
            "links[0].a: interface name 'averyverylongname0' is 18 characters; at most 15",
        ),
        (
            with_links({"a": "r1:e0 10.0.1.1/33", "b": "h1:e0"}),
            "links[0].a: address '10.0.1.1/33' is malformed",
        ),
        (
            with_links({"a": "r1:e0 10.0.1.1", "b": "h1:e0"}),
            "links[0].a: address '10.0.1.1' is not ADDRESS/PREFIX",
        ),
        (
            with_links({"a": "r1:e0", "b": "h1:e0"}, {"a": "r1:e0", "b": "h1:e1"}),
            "links[1].a: interface r1:e0 is already defined at links[0].a",
        ),
        (
            with_links({"a": "r1 e0", "b": "h1:e0"}),
            "links[0].a: endpoint 'r1 e0' is not 'NODE:IFNAME",
        ),
        (with_links({"a": "r1:e0", "b": "h1:e0", "mtu": 9000}), "links[0].mtu: unknown key 'mtu'"),
        (
            {"nodes": ["r1"], "routes": [{"node": "h7", "dst": "default", "via": "10.0.0.1"}]},
            "routes[0].node: route to 0.0.0.0/0: unknown node 'h7' (nodes: r1)",
        ),
        (
            {
                "nodes": ["r1", "h1"],
                "links": [{"a": "r1:e0", "b": "h1:e0"}],
                "routes": [{"node": "r1", "dst": "10.9.0.0/16", "dev": "e5"}],
            },
            "routes[0].dev: route to 10.9.0.0/16 via unknown interface r1:e5 (interfaces of r1: e0)",
        ),
        (
            {"nodes": ["r1"], "routes": [{"node": "r1", "dst": "10.9.0.1/16", "dev": "e0"}]},
            "routes[0].dst: destination '10.9.0.1/16'",
        ),
        (
            {"nodes": ["r1"], "routes": [{"node": "r1", "dst": "default"}]},
            "routes[0]: a route needs 'via'",
        ),
        (
            {"nodes": ["r1"], "sysctls": {"r1": {"kernel.pid_max": 5}}},
            "sysctls.r1.kernel.pid_max: sysctl 'kernel.pid_max': only keys under net.ipv4.,",
        ),
        (
            {"nodes": {"r1": {"sysctls": {"net.bridge.bridge-nf-call-iptables": 0}}}},
            "nodes.r1.sysctls.net.bridge.bridge-nf-call-iptables: sysctl 'net.bridge.",
        ),
        (
            {"nodes": ["r1"], "sysctls": {"r1": {"net/ipv4/igmp_max_memberships": 5}}},
            "sysctls.r1.net/ipv4/igmp_max_memberships: sysctl 'net/ipv4/",
        ),
        (
            {"nodes": ["r1"], "sysctls": {"h1": {"net.core.optmem_max": 0}}},
            "sysctls.h1: unknown node 'h1' (nodes: r1)",
        ),
        ({"nodes": ["r1", "r1"]}, "nodes[1]: node 'r1' is listed twice"),
        ({"nodes": ["r/1"]}, "nodes[0]: node name 'r/1' must be"),
        ({"nodes": ["lan-x"]}, "nodes[0]: node name 'lan-x' may not begin with 'lan-'"),
        ({"nodes": []}, "nodes: a topology needs at least one node"),
        ({"links": []}, "topology: missing key 'nodes'"),
        (
            {"nodes": ["r1"], "lans": [{"name": "l", "members": []}]},
            "lans[0].members: LAN 'l' has no members",
        ),
    ],
)
def test_each_bad_item_is_named(data: dict[str, Any], expected: str) -> None:
    problems = problems_of(data)
    assert any(problem.startswith(expected) for problem in problems), problems


def test_all_problems_are_reported_at_once() -> None:
    data = with_links(
        {"a": "r1:e0 10.0.1.1/24", "b": "h9:e0"}, {"a": "r1:e1 10.0.1.1/24", "b": "h1:e0"}
    )
    assert len(problems_of(data)) == 2


def test_locate_turns_paths_into_file_positions() -> None:
    seen = []

    def locate(path: tuple[str | int, ...]) -> str:
        seen.append(path)
        return "lab.yaml:7:12"

    problems = problems_of(with_links({"a": "r1:e0", "b": "h9:e0"}), locate=locate)
    assert problems == ["lab.yaml:7:12: 'h9:e0': unknown node 'h9' (nodes: r1, h1)"]
    assert seen == [("links", 0, "b")]


def test_plan_names_and_numbers_every_interface() -> None:
    plan = make_plan(Topology.from_dict(EXAMPLE), "abc123")
    assert list(plan.namespaces) == [
        "flabc123-r1",
        "flabc123-h1",
        "flabc123-h2",
        "flabc123-h3",
        "flabc123-lan-lan0",
    ]
    assert plan.namespaces["flabc123-r1"].ifindex == {"e0": 2, "e1": 4, "e2": 8}
    assert plan.namespaces["flabc123-lan-lan0"].ifindex == {
        "flabc123b": 6,
        "flabc123p1": 7,
        "flabc123p2": 9,
    }
    lan_veths = [v for v in plan.veths if v.master is not None]
    assert [(v.peer.ns, v.peer.ifname, v.peer.index, v.master) for v in lan_veths] == [
        ("flabc123-r1", "e2", 8, 6),
        ("flabc123-h3", "e0", 10, 6),
    ]
    indexes = [index for ns in plan.namespaces.values() for index in ns.ifindex.values()]
    assert len(set(indexes)) == len(indexes), "no two ends of a veth may share an ifindex"
    r1 = plan.namespaces["flabc123-r1"]
    assert r1.early_sysctls() == {"net.ipv4.igmp_max_memberships": "20"}
    assert r1.late_sysctls() == {"net.ipv4.conf.e0.forwarding": "1"}


def test_names_derive_from_the_run_id() -> None:
    run_id = new_run_id()
    assert check_run_id(run_id) == run_id
    assert node_netns(run_id, "r1") == f"fl{run_id}-r1"
    assert lan_netns(run_id, "lan0") == f"fl{run_id}-lan-lan0"
    assert run_id_of_netns(f"fl{run_id}-lan-lan0") == run_id
    assert run_id_of_netns("flxr") is None and run_id_of_netns("fligd-r1") is None
    assert len(bridge_port_ifname(run_id, 999999)) == 15
    with pytest.raises(ValueError, match="6 lowercase base-36"):
        check_run_id("ABC123")
