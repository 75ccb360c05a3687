"""Netlink operations the real-cause faults perform inside the router's namespace.

Every function here runs *inside* a namespace: a fault calls it through ``node.call(fn, ...)``,
which enters the node's namespace in-process and comes back. pyroute2 is imported lazily so that
``harness.faults`` stays cheap to import (the probe and routers import parts of it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any


def _iproute() -> Any:
    from pyroute2 import IPRoute

    return IPRoute()


def _index(ipr: Any, ifname: str) -> int:
    found = ipr.link_lookup(ifname=ifname)
    if not found:
        raise OSError(19, f"no interface {ifname!r} in this namespace")
    return int(found[0])


@dataclass
class LinkState:
    """What re-creating a link needs: name, addresses, MTU, whether it was up, its routes."""

    ifname: str
    index: int = 0
    addresses: list[tuple[str, int]] = field(default_factory=list)
    up: bool = True
    mtu: int = 1500
    routes: list[dict[str, Any]] = field(default_factory=list)
    peer_index: int = 0


def link_state(ifname: str) -> LinkState:
    """A snapshot of ``ifname``: addresses, MTU, up/down, peer index and non-kernel routes."""
    with _iproute() as ipr:
        index = _index(ipr, ifname)
        link = ipr.get_links(index)[0]
        state = LinkState(ifname, index, up=bool(link["flags"] & 1), mtu=link.get_attr("IFLA_MTU"))
        state.peer_index = link.get_attr("IFLA_LINK") or 0
        state.addresses = [
            (a.get_attr("IFA_ADDRESS"), a["prefixlen"]) for a in ipr.get_addr(index=index, family=2)
        ]
        state.routes = _static_routes(ipr, index)
    return state


def _static_routes(ipr: Any, index: int) -> list[dict[str, Any]]:
    routes = []
    for route in ipr.get_routes(family=2, oif=index, table=254):
        if route["proto"] == 2:  # RTPROT_KERNEL: comes back by itself with the address
            continue
        spec: dict[str, Any] = {"dst": route.get_attr("RTA_DST") or "0.0.0.0"}
        spec["dst_len"] = route["dst_len"]
        if route.get_attr("RTA_GATEWAY"):
            spec["gateway"] = route.get_attr("RTA_GATEWAY")
        routes.append(spec)
    return routes


def restore_routes(ifname: str, routes: list[dict[str, Any]]) -> None:
    """Re-add routes taken by ``link_state`` through ``ifname`` (existing ones are kept)."""
    with _iproute() as ipr:
        index = _index(ipr, ifname)
        for spec in routes:
            try:
                ipr.route("add", oif=index, **spec)
            except Exception as exc:  # pyroute2 raises NetlinkError(EEXIST)
                if getattr(exc, "code", None) != 17:
                    raise


def delete_routes(routes: list[dict[str, Any]], ifname: str) -> None:
    with _iproute() as ipr:
        index = _index(ipr, ifname)
        for spec in routes:
            ipr.route("del", oif=index, **spec)


def routes_to(dst: str) -> list[dict[str, Any]]:
    """Routes in the main table whose destination is ``dst`` (a prefix, or "default")."""
    network, _, length = ("0.0.0.0/0" if dst == "default" else dst).partition("/")
    found = []
    with _iproute() as ipr:
        for route in ipr.get_routes(family=2, table=254):
            here = route.get_attr("RTA_DST") or "0.0.0.0"
            if here == network and route["dst_len"] == int(length or 32):
                spec: dict[str, Any] = {"dst": here, "dst_len": route["dst_len"]}
                spec["oif"] = route.get_attr("RTA_OIF")
                if route.get_attr("RTA_GATEWAY"):
                    spec["gateway"] = route.get_attr("RTA_GATEWAY")
                if route.get_attr("RTA_PRIORITY") is not None:
                    spec["priority"] = route.get_attr("RTA_PRIORITY")
                found.append(spec)
    return found


def route_change(command: str, specs: list[dict[str, Any]]) -> None:
    """Add or delete routes given as pyroute2 keyword sets (as ``routes_to`` returns them)."""
    with _iproute() as ipr:
        for spec in specs:
            ipr.route(command, table=254, **spec)


def addresses(ifname: str) -> list[tuple[str, int]]:
    with _iproute() as ipr:
        index = _index(ipr, ifname)
        return [(a.get_attr("IFA_ADDRESS"), a["prefixlen"]) for a in ipr.get_addr(index=index)]


def address_change(command: str, ifname: str, items: list[tuple[str, int]]) -> None:
    with _iproute() as ipr:
        index = _index(ipr, ifname)
        for address, prefixlen in items:
            ipr.addr(command, index=index, address=address, prefixlen=prefixlen)


def set_up(ifname: str, up: bool) -> None:
    with _iproute() as ipr:
        ipr.link("set", index=_index(ipr, ifname), state="up" if up else "down")


def rename(ifname: str, new: str) -> None:
    """Rename a link (it must be down first; the kernel refuses to rename an up link)."""
    with _iproute() as ipr:
        index = _index(ipr, ifname)
        ipr.link("set", index=index, state="down")
        ipr.link("set", index=index, ifname=new)


def delete_link(ifname: str) -> None:
    with _iproute() as ipr:
        ipr.link("del", index=_index(ipr, ifname))


def find_peer(peer_index: int, candidates: list[str], own_index: int) -> tuple[str, LinkState]:
    """The namespace (among ``candidates``) and state of the veth peer with ``peer_index``."""
    from pyroute2 import netns

    for name in candidates:
        netns.pushns(name)
        try:
            with _iproute() as ipr:
                links = ipr.get_links(peer_index) if _has_index(ipr, peer_index) else []
                if links and links[0].get_attr("IFLA_LINK") == own_index:
                    ifname = links[0].get_attr("IFLA_IFNAME")
                    return name, link_state(ifname)
        finally:
            netns.popns()
    raise LookupError(f"veth peer index {peer_index} not found in {candidates}")


def _has_index(ipr: Any, index: int) -> bool:
    return any(link["index"] == index for link in ipr.get_links())


def create_veth(ifname: str, peer: str, peer_netns: str) -> None:
    """Create veth ``ifname`` here with its peer ``peer`` already in namespace ``peer_netns``."""
    with _iproute() as ipr:
        ipr.link("add", ifname=ifname, kind="veth", peer={"ifname": peer, "net_ns_fd": peer_netns})


def in_netns(name: str, fn: Any, *args: Any) -> Any:
    """Run ``fn`` inside namespace ``name`` (which must exist) and come back."""
    from pyroute2 import netns

    netns.pushns()
    try:
        netns.setns(name, flags=0)
        return fn(*args)
    finally:
        netns.popns()


def sibling_namespaces(own: str) -> list[str]:
    """The other namespaces of the same faultlab run (same ``fl<runid>-`` prefix)."""
    prefix = own.rsplit("-", 1)[0] + "-"
    names = os.listdir("/run/netns") if os.path.isdir("/run/netns") else []
    return sorted(n for n in names if n.startswith(prefix) and n != own)


def qdisc_replace(ifname: str, kind: str, **params: Any) -> None:
    with _iproute() as ipr:
        ipr.tc("replace", kind, _index(ipr, ifname), 0x10000, **params)


def qdisc_delete_root(ifname: str) -> None:
    """Remove the root qdisc (the kernel puts the default back); no error if none is left."""
    with _iproute() as ipr:
        try:
            ipr.tc("del", index=_index(ipr, ifname), parent=TC_H_ROOT)
        except Exception as exc:
            if getattr(exc, "code", None) != 2:  # ENOENT: already gone
                raise


TC_H_ROOT = 0xFFFFFFFF
