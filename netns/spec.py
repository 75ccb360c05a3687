"""The typed items of a topology description: endpoints, nodes, veth links, LANs and routes.

Frozen dataclasses, built only from a checked description (``netns.topology``) and read by the
lab's plan; ``Topology`` (in ``netns.topology``) holds them (architecture section 1).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeAlias

Interface: TypeAlias = ipaddress.IPv4Interface | ipaddress.IPv6Interface
Network: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network
Address: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address
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
