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
#: Turns a path into the description data, e.g. ("links", 1, "a"), into "file:line:col": a str,
#: or any object that prints as one (the scenario loader's Location); None: the dotted path.
Locate: TypeAlias = Callable[[Path], Any]

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
    where: Any  # what the locator returned (str() gives "file:line:col"), or the dotted path
    #: What kind of problem, for callers that word it their own way ("" for the rest): see KINDS.
    kind: str = ""
    #: The facts behind the message (names, addresses), keyed by what they are.
    facts: Mapping[str, Any] = field(default_factory=lambda: EMPTY)

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


#: The kinds of Problem a caller may word itself, and their facts:
#: unknown-node (name, nodes), ifname-length (ifname), duplicate-ifname (node, ifname),
#: address (text: not an address at all), prefix (text: an address without /PREFIX),
#: same-address and overlap (address, node, ifname, other, other_node, other_if),
#: network (text: a route's dst or via that is no address or network), route-dev (node, dev,
#: names: the node's interfaces), sysctl (key: not per namespace; the problem is at the key).
KINDS = frozenset(
    {
        "unknown-node",
        "ifname-length",
        "duplicate-ifname",
        "address",
        "prefix",
        "same-address",
        "overlap",
        "network",
        "route-dev",
        "sysctl",
    }
)


class InvalidTopology(TopologyError):
    """A topology description is wrong; ``problems`` lists every problem, each naming its item."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(map(str, self.problems)))


@dataclass(frozen=True)
class Checked:
    """What ``check`` found: the topology (None when there are problems), every problem, and
    the interface names of each node (every endpoint of a known node, in order, even a bad one)."""

    topology: Topology | None
    problems: tuple[Problem, ...]
    interfaces: Mapping[str, tuple[str, ...]]


def check(data: Any, locate: Locate | None = None) -> Checked:
    """Parse and validate a topology mapping, returning every problem instead of raising."""
    parser = _Parser(locate)
    try:
        topology: Topology | None = parser.topology(data)
    except InvalidTopology:
        topology = None
    interfaces = {node: tuple(names) for node, names in parser.interfaces.items()}
    return Checked(topology, tuple(parser.problems), MappingProxyType(interfaces))


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
    #: Every node name given (valid or not): what endpoints, routes and sysctls may name.
    known: dict[str, None] = field(default_factory=dict)
    #: The nodes whose names are accepted, as listed (a node listed twice is in twice).
    accepted: list[str] = field(default_factory=list)
    #: Each known node's interface names, in order, as written (bad ones too).
    interfaces: dict[str, list[str]] = field(default_factory=dict)
    #: Where each (node, ifname) is first defined, for interfaces whose name is valid.
    defined: dict[tuple[str, str], Path] = field(default_factory=dict)
    #: Every address of a known node's endpoint: (path, node, ifname, address).
    addresses: list[tuple[Path, str, str, Interface]] = field(default_factory=list)

    # -- reporting -----------------------------------------------------------------------

    def fail(self, path: Path, message: str, kind: str = "", **facts: Any) -> _Skip:
        where = (self.locate(path) if self.locate else None) or _dotted(path)
        self.problems.append(Problem(path, message, where, kind, MappingProxyType(facts)))
        return _Skip()

    def after_first(self, since: int) -> None:
        """An item already had a problem: keep only the KINDS problems reported since ``since``
        (every one of those is reported; of netns's other problems, only an item's first)."""
        self.problems[since:] = [p for p in self.problems[since:] if p.kind]

    def unknown_node(self, path: Path, node: Any, item: str = "") -> _Skip:
        nodes = list(self.known)
        return self.fail(
            path,
            f"{item}{': ' if item else ''}unknown node {node!r} (nodes: {', '.join(nodes)})",
            "unknown-node",
            name=node,
            nodes=nodes,
        )

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
        raw = top.get("nodes")
        given = raw if isinstance(raw, Mapping | list | tuple) else ()
        self.known = {name: None for name in given if isinstance(name, str)}
        self.interfaces = {name: [] for name in self.known}
        nodes = self.nodes(raw, ("nodes",))
        self.accepted = [node.name for node in nodes]
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
        body = self.mapping(body or {}, path, {"sysctls"}, set())
        try:
            name = self.name(name, path, "node")
        except _Skip:
            since = len(self.problems)
            self.sysctls(body.get("sysctls"), path + ("sysctls",))  # for its refused keys
            self.after_first(since)
            raise
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
                "sysctl",
                key=key,
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
            if name not in self.known:
                self.unknown_node(path, name)
                continue
            if name not in by_name:  # a node whose name is refused: reported there
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
        try:
            a: Endpoint | None = self.endpoint(body["a"], path + ("a",))
        except _Skip:
            a = None
        since = len(self.problems)
        try:
            b = self.endpoint(body["b"], path + ("b",))
        finally:
            if a is None:
                self.after_first(since)
        up = body.get("up", True)
        if not isinstance(up, bool):
            raise self.fail(path + ("up",), f"'up' must be true or false, got {up!r}")
        if a is None:
            raise _Skip()
        return LinkSpec(a, b, up)

    def lan(self, value: Any, path: Path) -> LanSpec:
        body = self.mapping(value, path, {"name", "members"}, {"name", "members"})
        try:
            name = self.name(body["name"], path + ("name",), "LAN")
        except _Skip:
            since = len(self.problems)
            self.each(
                self.sequence(body["members"], path + ("members",)),
                path + ("members",),
                self.endpoint,
            )
            self.after_first(since)
            raise
        given = self.sequence(body["members"], path + ("members",))
        members = self.each(given, path + ("members",), self.endpoint)
        if len(members) < len(given):
            raise _Skip()
        if not body["members"]:
            raise self.fail(path + ("members",), f"LAN {name!r} has no members")
        return LanSpec(name, tuple(members))

    def endpoint(self, value: Any, path: Path) -> Endpoint:
        """An endpoint of a known node; every problem with its name and addresses is reported
        (at the endpoint), and its interface and addresses are counted even when bad."""
        if isinstance(value, str):
            words = value.split()
            node, colon, ifname = words[0].partition(":") if words else ("", "", "")
            if not colon or not node:
                raise self.fail(
                    path, f"endpoint {value!r} is not 'NODE:IFNAME [ADDRESS/PREFIX ...]'"
                )
            texts: list = words[1:]
        else:
            body = self.mapping(value, path, {"node", "ifname", "addresses"}, {"node", "ifname"})
            node, ifname = body["node"], body["ifname"]
            if not isinstance(node, str):
                raise self.fail(path + ("node",), f"node must be a name, got {node!r}")
            texts = self.sequence(body.get("addresses"), path + ("addresses",))
        item = repr(" ".join([f"{node}:{ifname}", *map(str, texts)]))
        if node not in self.known:
            raise self.unknown_node(path, node, item)
        valid = self.endpoint_name(
            ifname, path, path if isinstance(value, str) else path + ("ifname",)
        )
        if node not in self.accepted and valid:  # a node whose name is refused
            self.fail(path, f"{item}: unknown node {node!r} (nodes: {', '.join(self.accepted)})")
            valid = False
        if isinstance(ifname, str) and ifname in self.interfaces[node]:
            self.fail(
                path,
                f"interface {node}:{ifname} is already defined at"
                f" {_dotted(self.defined.get((node, ifname), ()))}",
                "duplicate-ifname",
                node=node,
                ifname=ifname,
            )
        self.interfaces[node].append(ifname)
        if valid:
            self.defined.setdefault((node, ifname), path)
        addresses = [self.interface(text, path) for text in texts]
        found = tuple(address for address in addresses if address is not None)
        self.addresses.extend((path, node, ifname, address) for address in found)
        if not valid or len(found) < len(texts):
            raise _Skip()
        return Endpoint(node, ifname, found)

    def endpoint_name(self, ifname: Any, path: Path, name_path: Path) -> bool:
        """Report what is wrong with an endpoint's interface name (its length at the endpoint,
        the rest at the name); whether it is usable."""
        valid = True
        if not isinstance(ifname, str) or not IFNAME_RE.fullmatch(ifname) or ifname in (".", ".."):
            self.fail(name_path, f"interface name {ifname!r} is not a valid interface name")
            valid = False
        if isinstance(ifname, str) and len(ifname) > IFNAME_MAX:
            self.fail(
                path,
                f"interface name {ifname!r} is {len(ifname)} characters; at most {IFNAME_MAX}",
                "ifname-length",
                ifname=ifname,
            )
            valid = False
        if ifname == "lo":
            self.fail(name_path, "interface name 'lo' is the loopback every node already has")
            valid = False
        return valid

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

    def interface(self, text: Any, path: Path) -> Interface | None:
        """An address with its prefix; one without (10.0.1.1) is reported and taken as a host."""
        try:
            address = ipaddress.ip_interface(text) if isinstance(text, str) else None
        except ValueError as exc:
            if "/" in text:
                self.fail(path, f"address {text!r} is malformed: {exc}", "address", text=text)
                return None
            address = None
        if address is None:
            self.fail(
                path,
                f"address {text!r} is not ADDRESS/PREFIX (e.g. 10.0.1.1/24)",
                "address",
                text=text,
            )
            return None
        if "/" not in text:
            self.fail(
                path,
                f"address {text!r} is not ADDRESS/PREFIX (e.g. 10.0.1.1/24)",
                "prefix",
                text=text,
            )
        return address

    # -- routes --------------------------------------------------------------------------

    def route(self, value: Any, path: Path) -> RouteSpec:
        body = self.mapping(value, path, {"node", "dst", "via", "dev"}, {"node", "dst"})
        node = body["node"]
        if node not in self.known:
            raise self.unknown_node(path + ("node",), node, f"route to {_shown(body)}")
        failed = self.route_names(node, body, path)
        if "via" not in body and "dev" not in body:
            raise self.fail(path, "a route needs 'via' (a gateway), 'dev' (an interface), or both")
        via = None if "via" in failed else self.gateway(body.get("via"), path + ("via",))
        if "dst" in failed:
            raise _Skip()
        dst = self.destination(body["dst"], path + ("dst",), via)
        dev = body.get("dev")
        if dev is not None and "dev" not in failed:
            dev = self.ifname(dev, path + ("dev",))
        if via is not None and via.version != dst.version:
            raise self.fail(path + ("via",), f"gateway {via} is not of the same family as {dst}")
        if failed:
            raise _Skip()
        if node not in self.accepted:  # a node whose name is refused
            raise self.fail(
                path + ("node",),
                f"route to {dst}: unknown node {node!r} (nodes: {', '.join(self.accepted)})",
            )
        if dev is not None and (node, dev) not in self.defined:  # only a refused one has it
            raise self.fail(path + ("dev",), self.unknown_dev(node, dev, dst))
        return RouteSpec(str(node), dst, via, dev)

    def route_names(self, node: str, body: dict, path: Path) -> set[str]:
        """A route's dst and via that are no address or network at all, and a dev its node
        does not have: every one is reported; the keys that were."""
        failed: set[str] = set()
        if "dst" in body and body["dst"] != "default":
            try:
                ipaddress.ip_network(str(body["dst"]), strict=False)
            except ValueError as exc:
                self.fail(
                    path + ("dst",),
                    f"destination {body['dst']!r} is not 'default' or NETWORK/PREFIX: {exc}",
                    "network",
                    text=body["dst"],
                )
                failed.add("dst")
        if "via" in body:
            try:
                ipaddress.ip_network(str(body["via"]), strict=False)
            except ValueError:
                self.fail(
                    path + ("via",),
                    f"gateway {body['via']!r} is not an IP address",
                    "network",
                    text=body["via"],
                )
                failed.add("via")
        names = self.interfaces[node]
        if "dev" in body and body["dev"] not in names:
            self.fail(
                path + ("dev",),
                self.unknown_dev(node, body["dev"], _shown(body)),
                "route-dev",
                node=node,
                dev=body["dev"],
                names=tuple(names),
            )
            failed.add("dev")
        return failed

    def unknown_dev(self, node: str, dev: Any, dst: Any) -> str:
        mine = sorted({name for (owner, name) in self.defined if owner == node})
        return (
            f"route to {dst} via unknown interface {node}:{dev}"
            f" (interfaces of {node}: {', '.join(mine) or 'none'})"
        )

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
    """Cross-item checks on a parsed topology: node and LAN names unique, addresses unique,
    no two interfaces of a node on overlapping subnets (names must exist: checked while parsing)."""

    parser: _Parser
    topology: Topology

    def check(self) -> None:
        self.unique_nodes()
        self.unique_lans()
        self.clashes()

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

    def clashes(self) -> None:
        """Every clash among the addresses of known nodes' endpoints, each with every earlier
        address it clashes with."""
        entries = self.parser.addresses
        for clash in address_clashes([(node, ifname, a) for _, node, ifname, a in entries]):
            path, node, ifname, address = entries[clash.index]
            first_path, other_node, other_if, other = entries[clash.other]
            facts = dict(
                address=address,
                node=node,
                ifname=ifname,
                other=other,
                other_node=other_node,
                other_if=other_if,
            )
            if clash.same:
                message = (
                    f"duplicate address {address.ip} on {node}:{ifname};"
                    f" already on {other_node}:{other_if} ({_dotted(first_path)})"
                )
            else:
                message = (
                    f"{address} on {node}:{ifname} overlaps {other} on"
                    f" {other_node}:{other_if} ({_dotted(first_path)})"
                )
            self.parser.fail(path, message, "same-address" if clash.same else "overlap", **facts)


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


def _shown(route: Mapping[str, Any]) -> str:
    """A route's destination for messages: default as 0.0.0.0/0 (::/0 via an IPv6 gateway)."""
    dst = route.get("dst")
    if dst == "default":
        return "::/0" if ":" in str(route.get("via") or "") else "0.0.0.0/0"
    try:
        return str(ipaddress.ip_network(str(dst)))
    except ValueError:
        return str(dst)


def _dotted(path: Path) -> str:
    """A path as text: ("links", 1, "a") -> "links[1].a"; () -> "topology"."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "topology"
