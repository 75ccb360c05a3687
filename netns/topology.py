"""The topology description: nodes, veth links, LANs, routes and sysctls (architecture section 1).

``Topology.from_dict(data)`` turns the mapping found under ``topology:`` in a scenario file into
frozen dataclasses, and checks everything that can be checked without a kernel: unknown nodes,
duplicate addresses and interface names, names over 15 characters, malformed prefixes, routes
via an unknown interface. Every problem is reported at once, each naming its item; nothing is
ever built from an invalid description.

An endpoint string is ``NODE:IFNAME [ADDRESS/PREFIX ...]``; the mapping form is
``{node: NODE, ifname: IFNAME, addresses: [ADDRESS/PREFIX, ...]}``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeAlias

from .errors import TopologyError
from .naming import IFNAME_MAX, LAN_PREFIX

Interface: TypeAlias = ipaddress.IPv4Interface | ipaddress.IPv6Interface
Network: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network
Address: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address
Path: TypeAlias = tuple[str | int, ...]
#: Turns a path into the description data, e.g. ("links", 1, "a"), into "file:line:col".
Locate: TypeAlias = Callable[[Path], str | None]

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
IFNAME_RE = re.compile(r"[^\s/:]+")
SYSCTL_RE = re.compile(r"net[./][A-Za-z0-9_./-]+")
#: The sysctl trees that are per network namespace; a key anywhere else would change the host.
NAMESPACED_SYSCTLS = ("net.ipv4.", "net.ipv6.", "net.core.", "net.netfilter.", "net.unix.")
EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True)
class Endpoint:
    """One end of a link or one member of a LAN: an interface of a node and its addresses."""

    node: str
    ifname: str
    addresses: tuple[Interface, ...] = ()

    def __str__(self) -> str:
        return " ".join([f"{self.node}:{self.ifname}", *map(str, self.addresses)])


@dataclass(frozen=True)
class NodeSpec:
    """A node: one network namespace, with its own sysctls (keys under NAMESPACED_SYSCTLS)."""

    name: str
    sysctls: Mapping[str, str] = field(default_factory=lambda: EMPTY)


@dataclass(frozen=True)
class LinkSpec:
    """A point-to-point veth pair between two endpoints; ``up: false`` leaves both ends down."""

    a: Endpoint
    b: Endpoint
    up: bool = True


@dataclass(frozen=True)
class LanSpec:
    """A LAN segment: a bridge in a namespace of its own, one veth to each member."""

    name: str
    members: tuple[Endpoint, ...]


@dataclass(frozen=True)
class RouteSpec:
    """A static route in one node: ``dst`` (0.0.0.0/0 for ``default``) via a gateway, a device, or both."""

    node: str
    dst: Network
    via: Address | None = None
    dev: str | None = None


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a description: where (a path into the data) and what."""

    path: Path
    message: str
    where: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class InvalidTopology(TopologyError):
    """A topology description is wrong; ``problems`` lists every problem, each naming its item."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(map(str, self.problems)))


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
        return _Parser(locate).topology(data)

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


class _Skip(Exception):
    """An item was reported as a problem; parsing goes on with the next item."""


@dataclass
class _Parser:
    """Parses one description, collecting problems instead of stopping at the first."""

    locate: Locate | None
    problems: list[Problem] = field(default_factory=list)

    # -- reporting -----------------------------------------------------------------------

    def fail(self, path: Path, message: str) -> _Skip:
        where = (self.locate(path) if self.locate else None) or _dotted(path)
        self.problems.append(Problem(path, message, where))
        return _Skip()

    def mapping(self, value: Any, path: Path, allowed: set[str], required: set[str]) -> dict:
        if not isinstance(value, Mapping):
            raise self.fail(path, f"expected a mapping with keys {sorted(allowed)}, got {value!r}")
        for key in value:
            if key not in allowed:
                raise self.fail(path + (key,), f"unknown key {key!r} (valid: {sorted(allowed)})")
        for key in sorted(required - set(value)):
            raise self.fail(path, f"missing key {key!r}")
        return dict(value)

    def sequence(self, value: Any, path: Path) -> list:
        if value is None:
            return []
        if not isinstance(value, list | tuple):
            raise self.fail(path, f"expected a list, got {value!r}")
        return list(value)

    def each(self, items: list, path: Path, parse: Callable[[Any, Path], Any]) -> list:
        parsed = []
        for index, item in enumerate(items):
            try:
                parsed.append(parse(item, path + (index,)))
            except _Skip:
                continue
        return parsed

    # -- the whole description -----------------------------------------------------------

    def topology(self, data: Any) -> Topology:
        try:
            top = self.mapping(data, (), {"nodes", "links", "lans", "routes", "sysctls"}, {"nodes"})
        except _Skip:
            raise InvalidTopology(self.problems) from None
        nodes = self.nodes(top.get("nodes"), ("nodes",))
        links = self.each(self.sequence_or_skip(top, "links"), ("links",), self.link)
        lans = self.each(self.sequence_or_skip(top, "lans"), ("lans",), self.lan)
        routes = self.each(self.sequence_or_skip(top, "routes"), ("routes",), self.route)
        nodes = self.merge_sysctls(nodes, top.get("sysctls"))
        topology = Topology(tuple(nodes), tuple(links), tuple(lans), tuple(routes))
        _Checker(self, topology).check()
        if self.problems:
            raise InvalidTopology(self.problems)
        return topology

    def sequence_or_skip(self, top: dict, key: str) -> list:
        try:
            return self.sequence(top.get(key), (key,))
        except _Skip:
            return []

    # -- nodes and sysctls ---------------------------------------------------------------

    def nodes(self, value: Any, path: Path) -> list[NodeSpec]:
        if isinstance(value, Mapping):
            return self.each(list(value.items()), path, self.node_item)
        try:
            names = self.sequence(value, path)
        except _Skip:
            return []
        if not names:
            self.fail(path, "a topology needs at least one node")
        return self.each(names, path, lambda name, p: NodeSpec(self.name(name, p, "node")))

    def node_item(self, item: tuple[Any, Any], path: Path) -> NodeSpec:
        name, body = item
        path = path[:-1] + (str(name),)
        name = self.name(name, path, "node")
        body = self.mapping(body or {}, path, {"sysctls"}, set())
        return NodeSpec(name, self.sysctls(body.get("sysctls"), path + ("sysctls",)))

    def name(self, value: Any, path: Path, what: str) -> str:
        if not isinstance(value, str) or not NAME_RE.fullmatch(value):
            raise self.fail(
                path,
                f"{what} name {value!r} must be 1-32 characters of letters, digits, '_', '.', '-',"
                " starting with a letter or digit",
            )
        if what == "node" and value.startswith(LAN_PREFIX):
            raise self.fail(path, f"node name {value!r} may not begin with {LAN_PREFIX!r}")
        return value

    def sysctls(self, value: Any, path: Path) -> Mapping[str, str]:
        if value is None:
            return EMPTY
        if not isinstance(value, Mapping):
            raise self.fail(path, f"expected a mapping of sysctl keys to values, got {value!r}")
        result = {}
        for key, raw in value.items():
            try:
                result[self.sysctl_key(key, path + (key,))] = self.sysctl_value(raw, path + (key,))
            except _Skip:
                continue
        return MappingProxyType(result)

    def sysctl_key(self, key: Any, path: Path) -> str:
        if not is_namespaced_sysctl(key):
            raise self.fail(
                path,
                f"sysctl {key!r}: only keys under {', '.join(NAMESPACED_SYSCTLS)} are per"
                " namespace (e.g. net.ipv4.igmp_max_memberships)",
            )
        return key

    def sysctl_value(self, raw: Any, path: Path) -> str:
        if isinstance(raw, bool):
            return "1" if raw else "0"
        if isinstance(raw, int | str):
            return str(raw)
        raise self.fail(path, f"sysctl value {raw!r} must be a number or a string")

    def merge_sysctls(self, nodes: list[NodeSpec], value: Any) -> list[NodeSpec]:
        if value is None:
            return nodes
        if not isinstance(value, Mapping):
            self.fail(("sysctls",), f"expected a mapping of node -> {{key: value}}, got {value!r}")
            return nodes
        by_name = {node.name: node for node in nodes}
        for name, keys in value.items():
            path = ("sysctls", name)
            if name not in by_name:
                self.fail(path, f"unknown node {name!r} (nodes: {', '.join(by_name)})")
                continue
            try:
                extra = self.sysctls(keys, path)
            except _Skip:
                continue
            by_name[name] = self.merged(by_name[name], extra, path)
        return [by_name[node.name] for node in nodes]

    def merged(self, node: NodeSpec, extra: Mapping[str, str], path: Path) -> NodeSpec:
        for key in extra.keys() & node.sysctls.keys():
            if extra[key] != node.sysctls[key]:
                self.fail(
                    path + (key,), f"sysctl {key} of node {node.name} given twice, differently"
                )
        return NodeSpec(node.name, MappingProxyType({**node.sysctls, **extra}))

    # -- links, LANs, endpoints ----------------------------------------------------------

    def link(self, value: Any, path: Path) -> LinkSpec:
        body = self.mapping(value, path, {"a", "b", "up"}, {"a", "b"})
        up = body.get("up", True)
        if not isinstance(up, bool):
            raise self.fail(path + ("up",), f"'up' must be true or false, got {up!r}")
        return LinkSpec(
            self.endpoint(body["a"], path + ("a",)), self.endpoint(body["b"], path + ("b",)), up
        )

    def lan(self, value: Any, path: Path) -> LanSpec:
        body = self.mapping(value, path, {"name", "members"}, {"name", "members"})
        name = self.name(body["name"], path + ("name",), "LAN")
        members = self.each(
            self.sequence(body["members"], path + ("members",)), path + ("members",), self.endpoint
        )
        if not body["members"]:
            raise self.fail(path + ("members",), f"LAN {name!r} has no members")
        return LanSpec(name, tuple(members))

    def endpoint(self, value: Any, path: Path) -> Endpoint:
        if isinstance(value, str):
            return self.endpoint_string(value, path)
        body = self.mapping(value, path, {"node", "ifname", "addresses"}, {"node", "ifname"})
        node, ifname = body["node"], body["ifname"]
        if not isinstance(node, str):
            raise self.fail(path + ("node",), f"node must be a name, got {node!r}")
        addresses = self.sequence(body.get("addresses"), path + ("addresses",))
        return Endpoint(
            node,
            self.ifname(ifname, path + ("ifname",)),
            self.interfaces(addresses, path + ("addresses",)),
        )

    def endpoint_string(self, text: str, path: Path) -> Endpoint:
        words = text.split()
        node, colon, ifname = words[0].partition(":") if words else ("", "", "")
        if not colon or not node:
            raise self.fail(path, f"endpoint {text!r} is not 'NODE:IFNAME [ADDRESS/PREFIX ...]'")
        return Endpoint(node, self.ifname(ifname, path), self.interfaces(words[1:], path))

    def ifname(self, value: Any, path: Path) -> str:
        if not isinstance(value, str) or not IFNAME_RE.fullmatch(value) or value in (".", ".."):
            raise self.fail(path, f"interface name {value!r} is not a valid interface name")
        if len(value) > IFNAME_MAX:
            raise self.fail(
                path, f"interface name {value!r} is {len(value)} characters; at most {IFNAME_MAX}"
            )
        if value == "lo":
            raise self.fail(path, "interface name 'lo' is the loopback every node already has")
        return value

    def interfaces(self, texts: list, path: Path) -> tuple[Interface, ...]:
        return tuple(self.interface(text, path) for text in texts)

    def interface(self, text: Any, path: Path) -> Interface:
        if not isinstance(text, str) or "/" not in text:
            raise self.fail(path, f"address {text!r} is not ADDRESS/PREFIX (e.g. 10.0.1.1/24)")
        try:
            return ipaddress.ip_interface(text)
        except ValueError as exc:
            raise self.fail(path, f"address {text!r} is malformed: {exc}") from None

    # -- routes --------------------------------------------------------------------------

    def route(self, value: Any, path: Path) -> RouteSpec:
        body = self.mapping(value, path, {"node", "dst", "via", "dev"}, {"node", "dst"})
        if "via" not in body and "dev" not in body:
            raise self.fail(path, "a route needs 'via' (a gateway), 'dev' (an interface), or both")
        via = self.gateway(body.get("via"), path + ("via",))
        dst = self.destination(body["dst"], path + ("dst",), via)
        dev = body.get("dev")
        if dev is not None:
            dev = self.ifname(dev, path + ("dev",))
        if via is not None and via.version != dst.version:
            raise self.fail(path + ("via",), f"gateway {via} is not of the same family as {dst}")
        return RouteSpec(str(body["node"]), dst, via, dev)

    def gateway(self, value: Any, path: Path) -> Address | None:
        if value is None:
            return None
        try:
            return ipaddress.ip_address(value)
        except ValueError:
            raise self.fail(path, f"gateway {value!r} is not an IP address") from None

    def destination(self, value: Any, path: Path, via: Address | None) -> Network:
        if value == "default":
            return ipaddress.ip_network(
                "::/0" if via is not None and via.version == 6 else "0.0.0.0/0"
            )
        try:
            return ipaddress.ip_network(value)
        except ValueError as exc:
            raise self.fail(
                path, f"destination {value!r} is not 'default' or NETWORK/PREFIX: {exc}"
            ) from None


@dataclass
class _Checker:
    """Cross-item checks on a parsed topology: names known and unique, addresses unique,
    no two interfaces of a node on overlapping subnets."""

    parser: _Parser
    topology: Topology

    def check(self) -> None:
        self.unique_nodes()
        self.unique_lans()
        known = {node.name for node in self.topology.nodes}
        for path, endpoint in self.endpoint_paths():
            if endpoint.node not in known:
                self.unknown_node(path, endpoint.node, repr(str(endpoint)))
        self.unique_ifnames()
        self.unique_addresses()
        self.routes(known)

    def endpoint_paths(self) -> Iterator[tuple[Path, Endpoint]]:
        for index, link in enumerate(self.topology.links):
            yield ("links", index, "a"), link.a
            yield ("links", index, "b"), link.b
        for index, lan in enumerate(self.topology.lans):
            for member, endpoint in enumerate(lan.members):
                yield ("lans", index, "members", member), endpoint

    def unknown_node(self, path: Path, node: str, item: str) -> None:
        self.parser.fail(
            path, f"{item}: unknown node {node!r} (nodes: {self.topology.node_names()})"
        )

    def unique_nodes(self) -> None:
        seen: set[str] = set()
        for index, node in enumerate(self.topology.nodes):
            if node.name in seen:
                self.parser.fail(("nodes", index), f"node {node.name!r} is listed twice")
            seen.add(node.name)

    def unique_lans(self) -> None:
        seen: set[str] = set()
        for index, lan in enumerate(self.topology.lans):
            if lan.name in seen:
                self.parser.fail(("lans", index, "name"), f"LAN {lan.name!r} is defined twice")
            seen.add(lan.name)

    def unique_ifnames(self) -> None:
        seen: dict[tuple[str, str], Path] = {}
        for path, endpoint in self.endpoint_paths():
            key = (endpoint.node, endpoint.ifname)
            if key in seen:
                self.parser.fail(
                    path,
                    f"interface {endpoint.node}:{endpoint.ifname} is already defined at {_dotted(seen[key])}",
                )
            seen.setdefault(key, path)

    def unique_addresses(self) -> None:
        entries = [
            (path, endpoint, interface)
            for path, endpoint in self.endpoint_paths()
            for interface in endpoint.addresses
        ]
        named: set[int] = set()  # a repeated address is reported once, against its first owner
        for clash in address_clashes([(e.node, e.ifname, i) for _, e, i in entries]):
            path, endpoint, interface = entries[clash.index]
            first_path, first, earlier = entries[clash.other]
            if clash.same and clash.index not in named:
                named.add(clash.index)
                self.parser.fail(
                    path,
                    f"duplicate address {interface.ip} on {endpoint.node}:{endpoint.ifname};"
                    f" already on {first.node}:{first.ifname} ({_dotted(first_path)})",
                )
            elif not clash.same:
                self.parser.fail(
                    path,
                    f"{interface} on {endpoint.node}:{endpoint.ifname} overlaps {earlier} on"
                    f" {first.node}:{first.ifname} ({_dotted(first_path)})",
                )

    def routes(self, known: set[str]) -> None:
        ifnames = {(e.node, e.ifname) for e in self.topology.endpoints()}
        for index, route in enumerate(self.topology.routes):
            path: Path = ("routes", index)
            if route.node not in known:
                self.unknown_node(path + ("node",), route.node, f"route to {route.dst}")
            elif route.dev is not None and (route.node, route.dev) not in ifnames:
                mine = sorted(name for node, name in ifnames if node == route.node)
                self.parser.fail(
                    path + ("dev",),
                    f"route to {route.dst} via unknown interface {route.node}:{route.dev}"
                    f" (interfaces of {route.node}: {', '.join(mine) or 'none'})",
                )


@dataclass(frozen=True)
class Clash:
    """Two addresses that cannot both be in one lab: entry ``index`` and the earlier ``other``.

    ``same``: the same address twice; else overlapping subnets on two interfaces of one node.
    """

    index: int
    other: int
    same: bool


def address_clashes(entries: Sequence[tuple[str, str, Interface]]) -> Iterator[Clash]:
    """Every clash among ``(node, ifname, address)`` entries, in order, each with every
    earlier entry it clashes with."""
    for index, (node, ifname, address) in enumerate(entries):
        for other, (other_node, other_if, earlier) in enumerate(entries[:index]):
            if address.ip == earlier.ip:
                yield Clash(index, other, True)
            elif (
                node == other_node
                and ifname != other_if
                and address.version == earlier.version
                and address.network.overlaps(earlier.network)
            ):
                yield Clash(index, other, False)


def is_namespaced_sysctl(key: Any) -> bool:
    """Whether ``key`` is a sysctl of one network namespace (dotted, under NAMESPACED_SYSCTLS)."""
    return (
        isinstance(key, str)
        and key.startswith(NAMESPACED_SYSCTLS)
        and SYSCTL_RE.fullmatch(key) is not None
        and ".." not in key
    )


def _dotted(path: Path) -> str:
    """A path as text: ("links", 1, "a") -> "links[1].a"; () -> "topology"."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "topology"
