"""The ``routes:`` of a topology description: a destination via a gateway, a device, or both.

Read after the links and LANs, so that a route's ``dev`` is checked against the interfaces its
node has (``Reading.interfaces``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from .names import read_ifname
from .problems import Path, Reading, Skip
from .spec import Address, Network, RouteSpec


def read_route(r: Reading, value: Any, path: Path) -> RouteSpec:
    body = r.mapping(value, path, {"node", "dst", "via", "dev"}, {"node", "dst"})
    node = body["node"]
    if node not in r.known:
        raise r.unknown_node(path + ("node",), node, f"route to {shown(body)}")
    failed = route_names(r, node, body, path)
    if "via" not in body and "dev" not in body:
        raise r.fail(path, "a route needs 'via' (a gateway), 'dev' (an interface), or both")
    via = None if "via" in failed else read_gateway(r, body.get("via"), path + ("via",))
    if "dst" in failed:
        raise Skip()
    dst = read_destination(r, body["dst"], path + ("dst",), via)
    dev = body.get("dev")
    if dev is not None and "dev" not in failed:
        dev = read_ifname(r, dev, path + ("dev",))
    if via is not None and via.version != dst.version:
        raise r.fail(path + ("via",), f"gateway {via} is not of the same family as {dst}")
    if failed:
        raise Skip()
    if node not in r.accepted:  # a node whose name is refused
        raise r.fail(
            path + ("node",),
            f"route to {dst}: unknown node {node!r} (nodes: {', '.join(r.accepted)})",
        )
    if dev is not None and (node, dev) not in r.defined:  # only a refused one has it
        raise r.fail(path + ("dev",), unknown_dev(r, node, dev, dst))
    return RouteSpec(str(node), dst, via, dev)


def route_names(r: Reading, node: str, body: dict, path: Path) -> set[str]:
    """A route's dst and via that are no address or network at all, and a dev its node
    does not have: every one is reported; the keys that were."""
    failed: set[str] = set()
    if "dst" in body and body["dst"] != "default":
        try:
            ipaddress.ip_network(str(body["dst"]), strict=False)
        except ValueError as exc:
            r.fail(
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
            r.fail(
                path + ("via",),
                f"gateway {body['via']!r} is not an IP address",
                "network",
                text=body["via"],
            )
            failed.add("via")
    names = r.interfaces[node]
    if "dev" in body and body["dev"] not in names:
        r.fail(
            path + ("dev",),
            unknown_dev(r, node, body["dev"], shown(body)),
            "route-dev",
            node=node,
            dev=body["dev"],
            names=tuple(names),
        )
        failed.add("dev")
    return failed


def unknown_dev(r: Reading, node: str, dev: Any, dst: Any) -> str:
    mine = sorted({name for (owner, name) in r.defined if owner == node})
    return (
        f"route to {dst} via unknown interface {node}:{dev}"
        f" (interfaces of {node}: {', '.join(mine) or 'none'})"
    )


def read_gateway(r: Reading, value: Any, path: Path) -> Address | None:
    if value is None:
        return None
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        raise r.fail(path, f"gateway {value!r} is not an IP address") from None


def read_destination(r: Reading, value: Any, path: Path, via: Address | None) -> Network:
    if value == "default":
        return ipaddress.ip_network("::/0" if via is not None and via.version == 6 else "0.0.0.0/0")
    try:
        return ipaddress.ip_network(value)
    except ValueError as exc:
        raise r.fail(
            path, f"destination {value!r} is not 'default' or NETWORK/PREFIX: {exc}"
        ) from None


def shown(route: Mapping[str, Any]) -> str:
    """A route's destination for messages: default as 0.0.0.0/0 (::/0 via an IPv6 gateway)."""
    dst = route.get("dst")
    if dst == "default":
        return "::/0" if ":" in str(route.get("via") or "") else "0.0.0.0/0"
    try:
        return str(ipaddress.ip_network(str(dst)))
    except ValueError:
        return str(dst)
