"""A build plan: the topology turned into namespaces and links with names and ifindexes.

Planning is pure (no kernel): it names every namespace after the run id and gives every
interface its ifindex up front, so the lab can send each namespace's requests in one batch
without asking the kernel for indexes. ``lo`` is 1 in every fresh namespace; our interfaces
count from 2 *across the whole lab*, so the two ends of a veth never share an ifindex. That
matters: the kernel's linkwatch treats a device whose ifindex equals its iflink (its peer's
index) as a physical one and may delay its carrier-up by up to a second, during which the
link drops packets; with distinct indexes the link is operational within milliseconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from .naming import bridge_ifname, bridge_port_ifname, lan_netns, node_netns
from .topology import Address, Endpoint, Interface, Network, NodeSpec, RouteSpec, Topology

LOOPBACK_INDEX = 1
FIRST_INDEX = 2


@dataclass
class NamespacePlan:
    """One namespace: a node's (``node`` set) or a LAN's bridge namespace (``lan`` set)."""

    name: str
    node: str | None = None
    lan: str | None = None
    sysctls: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    ifindex: dict[str, int] = field(default_factory=dict)

    def allocate(self, ifname: str, index: int) -> int:
        """Record that ``ifname`` gets ifindex ``index`` in this namespace."""
        self.ifindex[ifname] = index
        return index

    def early_sysctls(self) -> dict[str, str]:
        """Sysctls that name no interface of this node: written before its links exist."""
        return {k: v for k, v in self.sysctls.items() if not self._names_interface(k)}

    def late_sysctls(self) -> dict[str, str]:
        """Sysctls of one interface (net.ipv4.conf.e0.*): written once the links exist."""
        return {k: v for k, v in self.sysctls.items() if self._names_interface(k)}

    def _names_interface(self, key: str) -> bool:
        return any(part in self.ifindex for part in key.replace("/", ".").split("."))


@dataclass(frozen=True)
class Side:
    """One end of a veth: its namespace, name and ifindex."""

    ns: str
    ifname: str
    index: int


@dataclass(frozen=True)
class VethPlan:
    """A veth created from ``local``'s namespace with its peer born in ``peer``'s."""

    local: Side
    peer: Side
    up: bool
    master: int | None = None


@dataclass(frozen=True)
class AddressPlan:
    ns: str
    side: Side
    address: Interface


@dataclass(frozen=True)
class RoutePlan:
    ns: str
    dst: Network
    via: Address | None
    oif: int | None
    text: str


@dataclass
class Plan:
    """Everything to build, in build order."""

    namespaces: dict[str, NamespacePlan] = field(default_factory=dict)
    bridges: list[Side] = field(default_factory=list)
    veths: list[VethPlan] = field(default_factory=list)
    addresses: list[AddressPlan] = field(default_factory=list)
    routes: list[RoutePlan] = field(default_factory=list)
    last_index: int = FIRST_INDEX - 1

    def next_index(self) -> int:
        """The next ifindex, unique in the whole lab."""
        self.last_index += 1
        return self.last_index


def make_plan(topology: Topology, run_id: str) -> Plan:
    """Name and number everything ``topology`` asks for, for run ``run_id``."""
    plan = Plan()
    nodes = {node.name: _plan_node(plan, run_id, node) for node in topology.nodes}
    for link in topology.links:
        _plan_link(plan, nodes, link.a, link.b, link.up)
    members = [(lan.name, member) for lan in topology.lans for member in lan.members]
    for port, (lan_name, member) in enumerate(members, start=1):
        _plan_lan_member(plan, nodes, run_id, lan_name, member, port)
    for route in topology.routes:
        _plan_route(plan, nodes[route.node], route)
    return plan


def route_text(dst: Network, via: Address | None, dev: str | None) -> str:
    """A route as ``ip route`` shows it, for messages: ``10.9.0.0/16 via 10.0.1.2 dev e0``."""
    return " ".join([str(dst)] + ([f"via {via}"] if via else []) + ([f"dev {dev}"] if dev else []))


def _plan_node(plan: Plan, run_id: str, node: NodeSpec) -> NamespacePlan:
    ns = NamespacePlan(node_netns(run_id, node.name), node=node.name, sysctls=node.sysctls)
    plan.namespaces[ns.name] = ns
    return ns


def _plan_route(plan: Plan, ns: NamespacePlan, route: RouteSpec) -> None:
    oif = ns.ifindex[route.dev] if route.dev else None
    text = route_text(route.dst, route.via, route.dev)
    plan.routes.append(RoutePlan(ns.name, route.dst, route.via, oif, text))


def _plan_link(
    plan: Plan, nodes: dict[str, NamespacePlan], a: Endpoint, b: Endpoint, up: bool
) -> None:
    local = _side(plan, nodes[a.node], a.ifname)
    peer = _side(plan, nodes[b.node], b.ifname)
    plan.veths.append(VethPlan(local, peer, up))
    _plan_addresses(plan, local, a)
    _plan_addresses(plan, peer, b)


def _plan_lan_member(
    plan: Plan, nodes: dict[str, NamespacePlan], run_id: str, lan: str, member: Endpoint, port: int
) -> None:
    bridge_ns = _lan_namespace(plan, run_id, lan)
    bridge = Side(bridge_ns.name, bridge_ifname(run_id), bridge_ns.ifindex[bridge_ifname(run_id)])
    local = _side(plan, bridge_ns, bridge_port_ifname(run_id, port))
    peer = _side(plan, nodes[member.node], member.ifname)
    plan.veths.append(VethPlan(local, peer, up=True, master=bridge.index))
    _plan_addresses(plan, peer, member)


def _lan_namespace(plan: Plan, run_id: str, lan: str) -> NamespacePlan:
    name = lan_netns(run_id, lan)
    if name not in plan.namespaces:
        ns = plan.namespaces[name] = NamespacePlan(name, lan=lan)
        index = ns.allocate(bridge_ifname(run_id), plan.next_index())
        plan.bridges.append(Side(name, bridge_ifname(run_id), index))
    return plan.namespaces[name]


def _side(plan: Plan, ns: NamespacePlan, ifname: str) -> Side:
    return Side(ns.name, ifname, ns.allocate(ifname, plan.next_index()))


def _plan_addresses(plan: Plan, side: Side, endpoint: Endpoint) -> None:
    for address in endpoint.addresses:
        plan.addresses.append(AddressPlan(side.ns, side, address))
