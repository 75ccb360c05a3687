"""Where each field interface lives in the lab: field addresses reused when they are safe to use
(private or documentation ranges), the others mapped into 10.99.0.0/16, and a peer host each."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from pathlib import Path

DEFAULT_OUTPUT = Path("reproduced")  # where reproduce writes its scenarios (-o)
ROUTER_NODE = "r1"  # the router's node; its interfaces e0, e1 ... face hosts h1, h2 ...

# Field addresses in these ranges are reused as they are; any other is mapped to MAPPED_RANGE.
SAFE_NETWORKS: tuple[IPv4Network, ...] = tuple(
    IPv4Network(net)
    for net in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "192.0.2.0/24",  # TEST-NET-1
        "198.51.100.0/24",  # TEST-NET-2
        "203.0.113.0/24",  # TEST-NET-3
    )
)
MAPPED_RANGE = IPv4Network("10.99.0.0/16")  # field address N -> 10.99.N.1/24


@dataclass(frozen=True)
class AddressPlan:
    """Where each field interface lives in the lab: its name, address and its peer host's address.

    ``mapped`` lists the field addresses that were not reused (not private or documentation-safe,
    not a host address of its /24, or a /24 another interface already has).
    """

    interfaces: dict[IPv4Address, str]
    lab: dict[IPv4Address, IPv4Interface]
    peers: dict[IPv4Address, IPv4Interface]
    mapped: dict[IPv4Address, IPv4Address] = field(default_factory=dict)

    def describe(self, address: IPv4Address) -> str:
        lab = self.lab[address].ip
        if address in self.mapped:
            return f"field {address} -> lab {lab} ({self.interfaces[address]}, mapped)"
        return f"field {address} = lab {lab} ({self.interfaces[address]})"


def plan_addresses(addresses: Iterable[IPv4Address]) -> AddressPlan:
    """Name the interfaces e0, e1 ... in order of appearance and give each a lab address."""
    distinct = list(dict.fromkeys(addresses))
    lab: dict[IPv4Address, IPv4Interface] = {}
    for address in distinct:
        candidate = IPv4Interface(f"{address}/24")
        if _reusable(candidate, lab.values()):
            lab[address] = candidate
    mapped = _map_the_rest([a for a in distinct if a not in lab], lab)
    lab.update({field_address: IPv4Interface(f"{new}/24") for field_address, new in mapped.items()})
    ordered = {address: lab[address] for address in distinct}
    return AddressPlan(
        interfaces={address: f"e{index}" for index, address in enumerate(distinct)},
        lab=ordered,
        peers={address: _peer(iface, ordered.values()) for address, iface in ordered.items()},
        mapped=mapped,
    )


def _reusable(candidate: IPv4Interface, taken: Iterable[IPv4Interface]) -> bool:
    network = candidate.network
    return (
        any(candidate.ip in safe for safe in SAFE_NETWORKS)
        and candidate.ip not in (network.network_address, network.broadcast_address)
        and not candidate.ip.is_loopback
        and all(other.network != network for other in taken)
    )


def _map_the_rest(
    addresses: list[IPv4Address], taken: Mapping[IPv4Address, IPv4Interface]
) -> dict[IPv4Address, IPv4Address]:
    used = {iface.network for iface in taken.values()}
    free = (net for net in MAPPED_RANGE.subnets(new_prefix=24) if net not in used)
    return {address: next(free).network_address + 1 for address in addresses}


def _peer(router: IPv4Interface, taken: Iterable[IPv4Interface]) -> IPv4Interface:
    """The first host address of the router interface's /24 that no router interface uses."""
    busy = {iface.ip for iface in taken}
    host = next(ip for ip in router.network.hosts() if ip not in busy)
    return IPv4Interface(f"{host}/{router.network.prefixlen}")
