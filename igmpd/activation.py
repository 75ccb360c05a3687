"""Activation of one interface: the catalog's socket steps, in order, for the receive path in
use, and the multicast-routing decision that picks that path.

Both paths open the interface's raw IGMP socket, which sends (step by step: create_socket,
bind, request_multicast, router_alert or header_include, event_select). They differ in what
receives:

- ``mroute``: the raw socket itself (the Router Alert chain and the joins), plus the router's
  multicast routing socket (MRT_INIT once, a VIF per interface; igmpd.mroute).
- ``packet``: a packet socket bound to the interface (igmpd.packetsock); the raw socket is
  silenced and never read. Each step then covers the packet socket's calls too.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

from igmpcatalog import Step
from igmpd import packetsock
from igmpd.mroute import MrouteSocket, MrtUnavailable
from igmpd.sockets import (
    Poller,
    bind_to_device,
    create_socket,
    request_multicast,
    set_header_include,
    set_router_alert,
)

MROUTE, PACKET = "mroute", "packet"


class MulticastRouting:
    """--multicast-routing and what it came to: ``in_use`` is True (the mroute path), False
    (the packet path) or None (auto, not decided yet: MRT_INIT has not answered).

    ``auto`` decides from MRT_INIT's errno alone, once for the process: ENOPROTOOPT (the kernel
    has no multicast routing, or a fault says so exactly there) means packet sockets for good;
    success means the mroute path; any other failure leaves it undecided, so the interface
    fails its step as with ``on`` and the next activation asks again."""

    def __init__(self, requested: str) -> None:
        self.requested = requested
        self.in_use: bool | None = {"on": True, "off": False}.get(requested)

    @property
    def path(self) -> str:
        """The receive path of the next activation (mroute until auto learns otherwise)."""
        return PACKET if self.in_use is False else MROUTE

    @property
    def planned(self) -> str | None:
        """The receive path an inactive interface would use: None while undecided."""
        return None if self.in_use is None else self.path

    def fall_back(self, failure: Exception) -> bool:
        """True (and decided: packet sockets) when auto meets an MrtUnavailable failure."""
        if self.requested != "auto" or self.in_use is not None:
            return False
        if not isinstance(failure, MrtUnavailable):
            return False
        self.in_use = False
        return True

    def succeeded(self, path: str) -> None:
        """An activation on path worked: MRT_INIT answered, auto is decided."""
        if self.in_use is None and path == MROUTE:
            self.in_use = True

    def snapshot(self) -> dict[str, object]:
        """The state file's ``multicast_routing``."""
        return {"requested": self.requested, "in_use": self.in_use}


@dataclass
class InterfaceSockets:
    """An active interface's sockets: ``send`` is the raw IGMP socket; ``receive`` is what the
    router reads (the same socket on the mroute path, the packet socket on the packet path)."""

    send: socket.socket
    receive: socket.socket
    path: str

    def close(self) -> None:
        """Close both (the kernel drops the packet socket's membership and filter with it)."""
        if self.receive is not self.send:
            self.receive.close()
        self.send.close()


@dataclass(frozen=True)
class Target:
    """What one activation needs to know about the interface."""

    name: str
    ifindex: int
    vif: int
    mode: str


def setup_steps(mode: str) -> tuple[Step, ...]:
    """The setup steps of an interface in this mode, in the catalog's order (either path)."""
    last = Step.HEADER_INCLUDE if mode == "internal" else Step.ROUTER_ALERT
    return (Step.CREATE_SOCKET, Step.BIND, Step.REQUEST_MULTICAST, last, Step.EVENT_SELECT)


def _set_mode_option(sock: socket.socket, mode: str) -> None:
    if mode == "internal":
        set_header_include(sock)
    else:
        set_router_alert(sock)


def open_interface(
    target: Target, path: str, mroute: MrouteSocket, poller: Poller
) -> InterfaceSockets:
    """Run every setup step for one interface on path; on failure undo what was done and
    re-raise the StepFailed (an MrtUnavailable when MRT_INIT said ENOPROTOOPT)."""
    if path == PACKET:
        return _open_packet(target, poller)
    return _open_mroute(target, mroute, poller)


def _open_mroute(target: Target, mroute: MrouteSocket, poller: Poller) -> InterfaceSockets:
    sock = create_socket()
    try:
        bind_to_device(sock, target.name)
        request_multicast(sock, target.ifindex)
        mroute.ensure()
        mroute.add_vif(target.vif, target.ifindex)
        _set_mode_option(sock, target.mode)
        poller.register(sock.fileno())
        mroute.watch(poller)  # once per router: the unalerted reports only it receives
    except BaseException:
        mroute.del_vif(target.vif)
        sock.close()
        raise
    return InterfaceSockets(sock, sock, MROUTE)


def _open_packet(target: Target, poller: Poller) -> InterfaceSockets:
    sock = create_socket(receives=False)
    listener: socket.socket | None = None
    try:
        listener = packetsock.create()
        bind_to_device(sock, target.name)
        packetsock.bind(listener, target.name, target.ifindex)
        request_multicast(sock, target.ifindex)
        packetsock.silence(sock)
        packetsock.request(listener, target.ifindex)
        _set_mode_option(sock, target.mode)
        poller.register(listener.fileno())
    except BaseException:
        if listener is not None:
            listener.close()
        sock.close()
        raise
    return InterfaceSockets(sock, listener, PACKET)
