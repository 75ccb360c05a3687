"""The topology description: nodes, veth links, LANs, routes and sysctls (architecture section 1).

``Topology.from_dict(data)`` turns the mapping found under ``topology:`` in a scenario file into
frozen dataclasses, and checks everything that can be checked without a kernel: unknown nodes,
duplicate addresses and interface names, names over 15 characters, malformed prefixes, routes
via an unknown interface. Every problem is reported at once, each naming its item (every bad
endpoint, each of its problems); nothing is ever built from an invalid description.
``check(data, locate)`` returns the problems instead of raising, each with a ``kind`` and its
``facts`` for callers that word them their own way (the scenario loader), and the interface
names of each node.

An endpoint string is ``NODE:IFNAME [ADDRESS/PREFIX ...]``; the mapping form is
``{node: NODE, ifname: IFNAME, addresses: [ADDRESS/PREFIX, ...]}``.

This module reads the sections in order and builds the ``Topology``; each concern is a module
of its own, whose public names are importable from here too: the items (netns.spec), problems
and their ``KINDS`` (netns.problems), nodes and sysctls (netns.nodespecs), links, LANs and
endpoints (netns.endpoints), routes (netns.routespecs), the checks across items
(netns.clashes).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from types import MappingProxyType
from typing import Any

from .clashes import Clash, address_clashes, check_across
from .endpoints import read_lan, read_link
from .names import IFNAME_RE, NAME_RE
from .nodespecs import (
    NAMESPACED_SYSCTLS,
    SYSCTL_RE,
    is_namespaced_sysctl,
    merge_sysctls,
    read_nodes,
)
from .problems import KINDS, InvalidTopology, Locate, Path, Problem, Reading, Skip
from .routespecs import read_route
from .spec import (
    EMPTY,
    Address,
    Endpoint,
    Interface,
    LanSpec,
    LinkSpec,
    Network,
    NodeSpec,
    RouteSpec,
)

__all__ = [
    "EMPTY",
    "IFNAME_RE",
    "KINDS",
    "NAMESPACED_SYSCTLS",
    "NAME_RE",
    "SYSCTL_RE",
    "Address",
    "Checked",
    "Clash",
    "Endpoint",
    "Interface",
    "InvalidTopology",
    "LanSpec",
    "LinkSpec",
    "Locate",
    "Network",
    "NodeSpec",
    "Path",
    "Problem",
    "RouteSpec",
    "Topology",
    "address_clashes",
    "check",
    "is_namespaced_sysctl",
]


@dataclass(frozen=True)
class Checked:
    """What ``check`` found: the topology (None when there are problems), every problem, and
    the interface names of each node (every endpoint of a known node, in order, even a bad one)."""

    topology: Topology | None
    problems: tuple[Problem, ...]
    interfaces: Mapping[str, tuple[str, ...]]


def check(data: Any, locate: Locate | None = None) -> Checked:
    """Parse and validate a topology mapping, returning every problem instead of raising."""
    reading = Reading(locate)
    try:
        topology: Topology | None = _read(reading, data)
    except InvalidTopology:
        topology = None
    interfaces = {node: tuple(names) for node, names in reading.interfaces.items()}
    return Checked(topology, tuple(reading.problems), MappingProxyType(interfaces))


@dataclass(frozen=True)
class Topology:
    """What a lab builds: nodes, veth links, LANs and routes (sysctls live in each NodeSpec)."""

    nodes: tuple[NodeSpec, ...]
    links: tuple[LinkSpec, ...] = ()
    lans: tuple[LanSpec, ...] = ()
    routes: tuple[RouteSpec, ...] = ()

    @classmethod
    def from_dict(cls, data: Any, locate: Locate | None = None) -> Topology:
        """Parse and validate a topology mapping; raise InvalidTopology naming every bad item."""
        return _read(Reading(locate), data)

    def node(self, name: str) -> NodeSpec:
        """The node called ``name``; KeyError if there is none."""
        for spec in self.nodes:
            if spec.name == name:
                return spec
        raise KeyError(f"no node {name!r} in this topology (nodes: {self.node_names()})")

    def node_names(self) -> str:
        """The node names, comma separated, for messages."""
        return ", ".join(spec.name for spec in self.nodes)

    def endpoints(self) -> Iterator[Endpoint]:
        """Every node interface the topology creates, links first, then LAN members."""
        for link in self.links:
            yield link.a
            yield link.b
        for lan in self.lans:
            yield from lan.members


def _read(r: Reading, data: Any) -> Topology:
    """Read every section (nodes first: the others name them), then check across items;
    raise InvalidTopology with every problem found."""
    try:
        top = r.mapping(data, (), {"nodes", "links", "lans", "routes", "sysctls"}, {"nodes"})
    except Skip:
        raise InvalidTopology(r.problems) from None
    raw = top.get("nodes")
    given = raw if isinstance(raw, Mapping | list | tuple) else ()
    r.known = {name: None for name in given if isinstance(name, str)}
    r.interfaces = {name: [] for name in r.known}
    nodes = read_nodes(r, raw, ("nodes",))
    r.accepted = [node.name for node in nodes]
    links = r.each(r.sequence_or_skip(top, "links"), ("links",), partial(read_link, r))
    lans = r.each(r.sequence_or_skip(top, "lans"), ("lans",), partial(read_lan, r))
    routes = r.each(r.sequence_or_skip(top, "routes"), ("routes",), partial(read_route, r))
    nodes = merge_sysctls(r, nodes, top.get("sysctls"))
    topology = Topology(tuple(nodes), tuple(links), tuple(lans), tuple(routes))
    check_across(r, topology.nodes, topology.lans)
    if r.problems:
        raise InvalidTopology(r.problems)
    return topology
