"""Missing routes and addresses: what the router relies on disappears while it runs.

``clear`` puts back exactly what ``apply`` removed: the same addresses, routes, link state, and
for a deleted veth the same pair (names, addresses, up) with its peer in the same namespace.
"""

from __future__ import annotations

from typing import Any, ClassVar

from harness.catalog import Step
from harness.faults import netops
from harness.faults.base import Fault, FaultContext
from harness.faults.bindconflicts import IFACE, AddressGone


class RouteRemoved(Fault):
    """The route to the destination is removed (ENETUNREACH at send without an interface)."""

    kind: ClassVar[str] = "route-removed"
    steps: ClassVar[tuple[Step, ...]] = (Step.SEND,)
    summary: ClassVar[str] = "the route the router sends through was removed"
    params: ClassVar[dict[str, dict[str, Any]]] = {
        "dst": {"type": "string", "description": "route prefix (224.0.0.0/4, default, ...)"},
    }

    def __init__(self, dst: str = "224.0.0.0/4") -> None:
        self.dst = dst
        self._removed: list[dict[str, Any]] = []

    def apply(self, ctx: FaultContext) -> None:
        routes = ctx.node.call(netops.routes_to, self.dst)
        ctx.node.call(netops.route_change, "del", routes)
        self._removed = routes

    def clear(self, ctx: FaultContext) -> None:
        if self._removed:
            ctx.node.call(netops.route_change, "add", self._removed)
            self._removed = []


class AddressRemoved(AddressGone):
    """The interface address is deleted while the router runs (ENETUNREACH at send, ENODEV at join)."""

    kind: ClassVar[str] = "address-removed"
    steps: ClassVar[tuple[Step, ...]] = (Step.SEND, Step.REQUEST_MULTICAST)
    summary: ClassVar[str] = "the interface address was deleted"


class LinkDown(Fault):
    """The link is set down (ENETUNREACH at send; never ENETDOWN on Linux)."""

    kind: ClassVar[str] = "link-down"
    steps: ClassVar[tuple[Step, ...]] = (Step.SEND,)
    summary: ClassVar[str] = "the interface went down"
    params: ClassVar[dict[str, dict[str, Any]]] = {"interface": IFACE}

    def __init__(self, interface: str | None = None) -> None:
        self.interface = interface
        self._state: netops.LinkState | None = None

    def apply(self, ctx: FaultContext) -> None:
        self._state = ctx.node.call(netops.set_down_keeping, ctx.interface(self.interface))

    def clear(self, ctx: FaultContext) -> None:
        if self._state is not None:
            state, self._state = self._state, None
            ctx.node.call(netops.set_up, state.ifname, True)
            ctx.node.call(netops.restore_routes, state.ifname, state.routes)


class LinkDeleted(Fault):
    """The veth is deleted (ENODEV at send after SO_BINDTODEVICE, ENODEV at joins)."""

    kind: ClassVar[str] = "link-deleted"
    not_before_start: ClassVar[str] = (
        "the router then finds no interface and never reaches the socket step"
    )
    steps: ClassVar[tuple[Step, ...]] = (Step.SEND, Step.REQUEST_MULTICAST, Step.BIND)
    summary: ClassVar[str] = "the interface was deleted (cable, VM NIC or veth gone)"
    params: ClassVar[dict[str, dict[str, Any]]] = {"interface": IFACE}

    def __init__(self, interface: str | None = None) -> None:
        self.interface = interface
        self._saved: tuple[netops.LinkState, str, netops.LinkState] | None = None

    def apply(self, ctx: FaultContext) -> None:
        own = ctx.node.call(netops.link_state, ctx.interface(self.interface))
        others = netops.sibling_namespaces(ctx.node.netns)
        peer_ns, peer = netops.find_peer(own.peer_index, others, own.index)
        ctx.node.call(netops.delete_link, own.ifname)
        self._saved = (own, peer_ns, peer)

    def clear(self, ctx: FaultContext) -> None:
        if self._saved is None:
            return
        own, peer_ns, peer = self._saved
        self._saved = None
        ctx.node.call(netops.create_veth, own.ifname, peer.ifname, peer_ns)
        _restore(lambda fn, *a: ctx.node.call(fn, *a), own)
        _restore(lambda fn, *a: netops.in_netns(peer_ns, fn, *a), peer)


def _restore(call: Any, state: netops.LinkState) -> None:
    call(netops.address_change, "add", state.ifname, state.addresses)
    if state.up:
        call(netops.set_up, state.ifname, True)
    call(netops.restore_routes, state.ifname, state.routes)
