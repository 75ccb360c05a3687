"""Netlink operations the real-cause faults perform inside the router's namespace.

Every function here runs *inside* a namespace: a fault calls it through ``node.call(fn, ...)``,
which enters the node's namespace in-process and comes back. pyroute2 is imported lazily so that
``harness.faults`` stays cheap to import (the probe and routers import parts of it).

What a fault does while the router runs (snapshot a link, set it down, rename or delete it,
take its addresses) goes through ``_Rtnl``: a plain netlink socket with pyroute2's message
classes, as the lab itself uses (``netns.rtnl``), about 0.1 ms a request. pyroute2's IPRoute
runs an asyncio loop under every call (0.3-0.5 ms each, and as much again to open one), which
made a link-down fault cost 3-4 ms before the router could even notice it; it is kept for what
only runs when a fault is cleared (routes, veth creation, qdiscs).
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

RT_TABLE_MAIN = 254
RTPROT_KERNEL = 2


def _iproute() -> Any:
    from pyroute2 import IPRoute

    return IPRoute()


def _index(ipr: Any, ifname: str) -> int:
    found = ipr.link_lookup(ifname=ifname)
    if not found:
        raise OSError(19, f"no interface {ifname!r} in this namespace")
    return int(found[0])


class _Rtnl:
    """A netlink channel in the calling thread's namespace, closed on leaving ``with``."""

    def __init__(self) -> None:
        from netns import rtnl

        self._rtnl = rtnl
        self.channel = rtnl.Channel(rtnl.open_socket(), "fault")

    def __enter__(self) -> _Rtnl:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.channel.close()

    def links(self) -> list[Any]:
        """Every link of the namespace (pyroute2 ifinfmsg)."""
        return self.channel.dump(self._rtnl.get_links())

    def link(self, ifname: str) -> Any:
        """The link named ifname; OSError(ENODEV) naming it when there is none."""
        for link in self.links():
            if link.get_attr("IFLA_IFNAME") == ifname:
                return link
        raise OSError(errno.ENODEV, f"no interface {ifname!r} in this namespace")

    def addresses(self, index: int, family: int = socket.AF_UNSPEC) -> list[tuple[str, int]]:
        """(address, prefix length) of every address on link ``index``."""
        return [
            (msg.get_attr("IFA_ADDRESS"), msg["prefixlen"])
            for msg in self.channel.dump(self._rtnl.get_addresses(family))
            if msg["index"] == index
        ]

    def routes(self, index: int) -> list[Any]:
        """The IPv4 main-table routes out of link ``index`` (pyroute2 rtmsg)."""
        from pyroute2.netlink.rtnl import RTM_GETROUTE
        from pyroute2.netlink.rtnl.rtmsg import rtmsg

        msg = rtmsg()
        msg["header"]["type"] = RTM_GETROUTE
        msg["family"] = socket.AF_INET
        return [
            route
            for route in self.channel.dump(msg)
            if route.get_attr("RTA_OIF") == index
            and (route.get_attr("RTA_TABLE") or route["table"]) == RT_TABLE_MAIN
        ]

    def request(self, request: Any) -> None:
        """Send one netns.rtnl Request; NetlinkRequestError (an OSError) when refused."""
        self.channel.request([request])

    def rename(self, index: int, ifname: str, new: str) -> None:
        from pyroute2.netlink.rtnl import RTM_NEWLINK
        from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg

        msg = ifinfmsg()
        msg["header"]["type"] = RTM_NEWLINK
        msg["index"] = index
        msg["attrs"] = [("IFLA_IFNAME", new)]
        self.request(self._rtnl.Request(msg, f"rename link {ifname} to {new}"))

    def set_up(self, index: int, ifname: str, up: bool) -> None:
        self.request(self._rtnl.set_link_up(index, ifname, up))

    def delete(self, index: int, ifname: str) -> None:
        self.request(self._rtnl.delete_link(index, ifname))

    def address(self, command: str, index: int, ifname: str, address: str, prefix: int) -> None:
        build = self._rtnl.add_address if command == "add" else self._rtnl.delete_address
        self.request(build(index, ifname, ipaddress.ip_interface(f"{address}/{prefix}")))


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
    with _Rtnl() as nl:
        return _link_state(nl, nl.link(ifname))


def _link_state(nl: _Rtnl, link: Any) -> LinkState:
    index = link["index"]
    state = LinkState(
        link.get_attr("IFLA_IFNAME"),
        index,
        up=bool(link["flags"] & 1),
        mtu=link.get_attr("IFLA_MTU"),
    )
    state.peer_index = link.get_attr("IFLA_LINK") or 0
    state.addresses = nl.addresses(index, socket.AF_INET)
    state.routes = _static_routes(nl.routes(index))
    return state


def _static_routes(found: list[Any]) -> list[dict[str, Any]]:
    routes = []
    for route in found:
        if route["proto"] == RTPROT_KERNEL:  # comes back by itself with the address
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
    """(address, prefix length) of every address (IPv4 and IPv6) on ``ifname``."""
    with _Rtnl() as nl:
        return nl.addresses(nl.link(ifname)["index"])


def address_change(command: str, ifname: str, items: list[tuple[str, int]]) -> None:
    """Add (``"add"``) or delete (``"del"``) the given addresses on ``ifname``."""
    with _Rtnl() as nl:
        index = nl.link(ifname)["index"]
        for address, prefixlen in items:
            nl.address(command, index, ifname, address, prefixlen)


def set_up(ifname: str, up: bool) -> None:
    """Bring ``ifname`` up or down."""
    with _Rtnl() as nl:
        nl.set_up(nl.link(ifname)["index"], ifname, up)


def set_down_keeping(ifname: str) -> LinkState:
    """Snapshot ``ifname`` (for the clear) and set it down, on one netlink socket."""
    with _Rtnl() as nl:
        state = _link_state(nl, nl.link(ifname))
        nl.set_up(state.index, ifname, False)
    return state


def rename(ifname: str, new: str) -> None:
    """Rename a link (it must be down first; the kernel refuses to rename an up link)."""
    with _Rtnl() as nl:
        index = nl.link(ifname)["index"]
        nl.set_up(index, ifname, False)
        nl.rename(index, ifname, new)


def rename_keeping(ifname: str, new: str) -> LinkState:
    """Snapshot ``ifname`` (for the clear), then set it down and rename it, on one socket."""
    with _Rtnl() as nl:
        state = _link_state(nl, nl.link(ifname))
        nl.set_up(state.index, ifname, False)
        nl.rename(state.index, ifname, new)
    return state


def delete_link(ifname: str) -> None:
    """Delete ``ifname`` (a veth takes its peer with it)."""
    with _Rtnl() as nl:
        nl.delete(nl.link(ifname)["index"], ifname)


def find_peer(peer_index: int, candidates: list[str], own_index: int) -> tuple[str, LinkState]:
    """The namespace (among ``candidates``) and state of the veth peer with ``peer_index``."""
    for name in candidates:
        found = in_netns(name, _peer_state, peer_index, own_index)
        if found is not None:
            return name, found
    raise LookupError(f"veth peer index {peer_index} not found in {candidates}")


def _peer_state(peer_index: int, own_index: int) -> LinkState | None:
    """Here: the state of link ``peer_index`` if it is the veth peer of ``own_index``."""
    with _Rtnl() as nl:
        for link in nl.links():
            if link["index"] == peer_index and link.get_attr("IFLA_LINK") == own_index:
                return _link_state(nl, link)
    return None


def create_veth(ifname: str, peer: str, peer_netns: str) -> None:
    """Create veth ``ifname`` here with its peer ``peer`` already in namespace ``peer_netns``."""
    with _iproute() as ipr:
        ipr.link("add", ifname=ifname, kind="veth", peer={"ifname": peer, "net_ns_fd": peer_netns})


def in_netns(name: str, fn: Any, *args: Any) -> Any:
    """Run ``fn`` inside namespace ``name`` (which must exist) and come back."""
    from netns.nsenter import call_in, open_netns

    fd = open_netns(name)
    try:
        return call_in(fd, fn, *args)
    finally:
        os.close(fd)


def sibling_namespaces(own: str) -> list[str]:
    """The other namespaces of the same faultlab run as namespace ``own`` (netns reads the run
    id from the name: node names may contain ``-``)."""
    from netns.naming import run_id_of_netns
    from netns.nsenter import netns_names

    run_id = run_id_of_netns(own)
    if run_id is None:
        return []
    return [n for n in netns_names() if n != own and run_id_of_netns(n) == run_id]


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
