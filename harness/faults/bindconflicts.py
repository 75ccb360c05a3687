"""Bind conflicts: another router holds what this one must own, or what it expects is gone."""

from __future__ import annotations

from typing import Any, ClassVar

from harness.catalog import Step
from harness.faults import netops
from harness.faults.base import Fault, FaultContext
from harness.faults.helper import add_vif, del_vif, igmp_socket

IFACE = {"type": "string", "description": "the router interface (default: its first)"}


class MrtHeld(Fault):
    """Another multicast router process holds the namespace's MRT socket (EADDRINUSE at MRT_INIT).

    The harness process itself is that other process: it opens the socket inside the router's
    namespace and does MRT_INIT there (what ``helper hold-mrt`` does in a process of its own,
    without paying a Python start-up per scenario); ``clear`` closes it, as when mrouted exits.
    """

    kind: ClassVar[str] = "mrt-held"
    steps: ClassVar[tuple[Step, ...]] = (Step.REQUEST_MULTICAST,)
    summary: ClassVar[str] = "another multicast router already did MRT_INIT in the namespace"

    def features(self) -> tuple[str, ...]:
        return ("mrt",)

    def __init__(self) -> None:
        self._holder: Any = None

    def apply(self, ctx: FaultContext) -> None:
        if self._holder is None:
            self._holder = ctx.node.call(_hold_mrt)

    def clear(self, ctx: FaultContext) -> None:
        self.close()

    def close(self) -> None:
        if self._holder is not None:
            self._holder.close()
            self._holder = None


class StaleVif(Fault):
    """A static VIF left in the namespace at the index the router uses (EADDRINUSE at MRT_ADD_VIF)."""

    kind: ClassVar[str] = "stale-vif"
    steps: ClassVar[tuple[Step, ...]] = (Step.REQUEST_MULTICAST,)
    summary: ClassVar[str] = "an earlier router process left a VIF behind"
    params: ClassVar[dict[str, dict[str, Any]]] = {
        "vifi": {"type": "integer", "minimum": 0, "maximum": 31, "description": "VIF index"},
        "interface": IFACE,
    }

    def features(self) -> tuple[str, ...]:
        return ("mrt",)

    def __init__(self, vifi: int = 0, interface: str | None = None) -> None:
        self.vifi, self.interface = vifi, interface
        self._added = False

    def apply(self, ctx: FaultContext) -> None:
        ifindex = ctx.node.call(_ifindex, ctx.interface(self.interface))
        ctx.node.call(add_vif, self.vifi, ifindex)
        self._added = True

    def clear(self, ctx: FaultContext) -> None:
        if self._added:
            ctx.node.call(del_vif, self.vifi)
            self._added = False


def _hold_mrt() -> Any:
    """Inside the namespace: a raw IGMP socket that has done MRT_INIT (held until closed)."""
    import socket
    import struct

    from harness.faults.constants import MRT_INIT

    sock = igmp_socket()
    try:
        sock.setsockopt(socket.IPPROTO_IP, MRT_INIT, struct.pack("i", 1))
    except OSError:
        sock.close()
        raise
    return sock


def _ifindex(ifname: str) -> int:
    import socket

    return socket.if_nametoindex(ifname)


class AddressGone(Fault):
    """The address the router binds to is not on its interface (EADDRNOTAVAIL at bind)."""

    kind: ClassVar[str] = "address-gone"
    not_before_start: ClassVar[str] = (
        "the router then finds no address on the interface and logs 41055 alone"
    )
    steps: ClassVar[tuple[Step, ...]] = (Step.BIND, Step.REQUEST_MULTICAST)
    summary: ClassVar[str] = "the interface address the router is configured with is gone"
    params: ClassVar[dict[str, dict[str, Any]]] = {"interface": IFACE}

    def __init__(self, interface: str | None = None) -> None:
        self.interface = interface
        self._taken: list[tuple[str, int]] = []
        self._ifname = ""

    def apply(self, ctx: FaultContext) -> None:
        self._ifname = ctx.interface(self.interface)
        taken = [a for a in ctx.node.call(netops.addresses, self._ifname) if ":" not in a[0]]
        ctx.node.call(netops.address_change, "del", self._ifname, taken)
        self._taken = taken

    def clear(self, ctx: FaultContext) -> None:
        if self._taken:
            ctx.node.call(netops.address_change, "add", self._ifname, self._taken)
            self._taken = []


class DeviceGone(Fault):
    """The device the router expects is not there: renamed away (ENODEV at SO_BINDTODEVICE)."""

    kind: ClassVar[str] = "device-gone"
    not_before_start: ClassVar[str] = (
        "the router then finds no interface and never reaches the socket step"
    )
    steps: ClassVar[tuple[Step, ...]] = (Step.BIND,)
    summary: ClassVar[str] = "the interface was renamed, so the name the router uses is gone"
    params: ClassVar[dict[str, dict[str, Any]]] = {"interface": IFACE}

    def __init__(self, interface: str | None = None) -> None:
        self.interface = interface
        self._state: netops.LinkState | None = None

    def apply(self, ctx: FaultContext) -> None:
        ifname = ctx.interface(self.interface)
        self._state = ctx.node.call(netops.rename_keeping, ifname, _away(ifname))

    def clear(self, ctx: FaultContext) -> None:
        if self._state is None:
            return
        state, self._state = self._state, None
        ctx.node.call(netops.rename, _away(state.ifname), state.ifname)
        if state.up:
            ctx.node.call(netops.set_up, state.ifname, True)
        ctx.node.call(netops.restore_routes, state.ifname, state.routes)


def _away(ifname: str) -> str:
    return (ifname[:11] + "-off")[:15]
