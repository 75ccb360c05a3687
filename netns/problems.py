"""What is wrong with a topology description, and the state its reading collects it in.

A ``Problem`` is where (a path into the data, located through the caller's ``Locate``) and
what, with a ``kind`` from ``KINDS`` and its ``facts`` for callers that word it their own way.
``Reading`` is what the readers of one description share (netns.nodespecs, netns.endpoints,
netns.routespecs, netns.clashes): every problem so far, the node names given, each node's
interfaces and every address seen; its shape checks report a problem and raise ``Skip`` so that
reading goes on with the next item instead of stopping at the first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeAlias

from .errors import TopologyError
from .spec import EMPTY, Interface

Path: TypeAlias = tuple[str | int, ...]
#: Turns a path into the description data, e.g. ("links", 1, "a"), into "file:line:col": a str,
#: or any object that prints as one (the scenario loader's Location); None: the dotted path.
Locate: TypeAlias = Callable[[Path], Any]


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


class Skip(Exception):
    """An item was reported as a problem; reading goes on with the next item."""


@dataclass
class Reading:
    """One description's reading: the problems found so far and what later items are checked
    against (reading collects problems instead of stopping at the first)."""

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

    def fail(self, path: Path, message: str, kind: str = "", **facts: Any) -> Skip:
        where = (self.locate(path) if self.locate else None) or dotted(path)
        self.problems.append(Problem(path, message, where, kind, MappingProxyType(facts)))
        return Skip()

    def after_first(self, since: int) -> None:
        """An item already had a problem: keep only the KINDS problems reported since ``since``
        (every one of those is reported; of netns's other problems, only an item's first)."""
        self.problems[since:] = [p for p in self.problems[since:] if p.kind]

    def unknown_node(self, path: Path, node: Any, item: str = "") -> Skip:
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

    def sequence_or_skip(self, top: dict, key: str) -> list:
        try:
            return self.sequence(top.get(key), (key,))
        except Skip:
            return []

    def each(self, items: list, path: Path, parse: Callable[[Any, Path], Any]) -> list:
        parsed = []
        for index, item in enumerate(items):
            try:
                parsed.append(parse(item, path + (index,)))
            except Skip:
                continue
        return parsed


def dotted(path: Path) -> str:
    """A path as text: ("links", 1, "a") -> "links[1].a"; () -> "topology"."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "topology"
