"""The ``topology:`` section, as netns.topology.check judges it, worded for scenario files."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.errors import Location
from harness.reading.base import ReaderBase
from harness.reading.base import dotted as _dotted
from harness.reading.base import guess as _guess
from harness.scenario import (
    TopologySpec,
)
from harness.yamlsource import PathKey
from netns.topology import NAMESPACED_SYSCTLS
from netns.topology import Problem as TopologyProblem
from netns.topology import check as check_topology

MAX_IFNAME = 15


class TopologyReader:
    """Has netns check the topology mapping (the one topology checker) and words its problems.

    The problems the loader words itself (unknown nodes with a did-you-mean, interface names,
    addresses, routes, sysctls: netns.topology.KINDS) are all reported; netns's other problems
    (in its own words, after "topology: ") only when the file had no problem so far.
    """

    def __init__(self, builder: ReaderBase) -> None:
        self.builder = builder

    def read(self, data: Mapping[str, Any]) -> TopologySpec:
        source = self.builder.source
        checked = check_topology(dict(data), locate=lambda path: source.locate(("topology", *path)))
        worded = [(self.where(p), message) for p in checked.problems if (message := self.words(p))]
        if worded:
            self.builder.problems.extend(worded)
        elif not self.builder.problems:
            self.builder.problems.extend(
                (p.where, f"topology: {p.message}") for p in checked.problems
            )
        interfaces = dict(checked.interfaces)
        return TopologySpec(data, interfaces, checked.topology, self.builder.line(("topology",)))

    def where(self, problem: TopologyProblem) -> Location:
        """Where netns's locator put it; a refused sysctl key is shown at the key itself."""
        if problem.kind == "sysctl":
            return self.builder.source.locate(("topology", *problem.path), key=True)
        return problem.where

    def words(self, problem: TopologyProblem) -> str | None:
        """The loader's words for a problem of one of netns's KINDS; None for the others."""
        facts = problem.facts
        path: PathKey = ("topology", *problem.path)
        at = _dotted(path)
        match problem.kind:
            case "unknown-node":
                name, nodes = facts["name"], facts["nodes"]
                return (
                    f"{at}: unknown node {name!r}{_guess(name, nodes)} (nodes: {', '.join(nodes)})"
                )
            case "ifname-length":
                return f"{at}: interface name {facts['ifname']!r} is longer than {MAX_IFNAME} characters"
            case "duplicate-ifname":
                return f"{at}: node {facts['node']!r} already has an interface {facts['ifname']!r}"
            case "address":
                return f"{at}: {facts['text']!r} is not an ADDRESS/PREFIX"
            case "prefix":
                return f"{at}: {facts['text']!r} needs a prefix length (e.g. {facts['text']}/24)"
            case "same-address":
                return f"{at}: address {facts['address'].ip} is already on {facts['other_node']}:{facts['other_if']}"
            case "overlap":
                return (
                    f"{at}: {facts['address']} on {facts['node']}:{facts['ifname']} overlaps"
                    f" {facts['other']} on {facts['node']}:{facts['other_if']}"
                )
            case "network":
                return f"{at}: {facts['text']!r} is not an address or network"
            case "route-dev":
                node, dev, names = facts["node"], facts["dev"], facts["names"]
                return f"{at}: node {node!r} has no interface {dev!r}{_guess(dev, names)}"
            case "sysctl":
                return (
                    f"{_dotted(path[:-1])}: sysctl {facts['key']!r} is not per network namespace;"
                    " setting it would change the host"
                    f" (only {', '.join(p + '*' for p in NAMESPACED_SYSCTLS)})"
                )
        return None
