"""Checks across the items of a read topology: node and LAN names unique, addresses unique, no two
interfaces of a node on overlapping subnets (names must exist: checked while reading)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from .problems import Reading, dotted
from .spec import Interface, LanSpec, NodeSpec


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


def check_across(r: Reading, nodes: Sequence[NodeSpec], lans: Sequence[LanSpec]) -> None:
    """Report every node listed twice, every LAN defined twice, then every address clash."""
    unique_nodes(r, nodes)
    unique_lans(r, lans)
    clashes(r)


def unique_nodes(r: Reading, nodes: Sequence[NodeSpec]) -> None:
    seen: set[str] = set()
    for index, node in enumerate(nodes):
        if node.name in seen:
            r.fail(("nodes", index), f"node {node.name!r} is listed twice")
        seen.add(node.name)


def unique_lans(r: Reading, lans: Sequence[LanSpec]) -> None:
    seen: set[str] = set()
    for index, lan in enumerate(lans):
        if lan.name in seen:
            r.fail(("lans", index, "name"), f"LAN {lan.name!r} is defined twice")
        seen.add(lan.name)


def clashes(r: Reading) -> None:
    """Every clash among the addresses of known nodes' endpoints, each with every earlier
    address it clashes with."""
    entries = r.addresses
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
                f" already on {other_node}:{other_if} ({dotted(first_path)})"
            )
        else:
            message = (
                f"{address} on {node}:{ifname} overlaps {other} on"
                f" {other_node}:{other_if} ({dotted(first_path)})"
            )
        r.fail(path, message, "same-address" if clash.same else "overlap", **facts)
