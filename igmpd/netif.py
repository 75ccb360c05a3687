"""What igmpd reads about a network interface: index, primary IPv4 address, netmask, link flags.

Standard library only (ioctl on a datagram socket), so igmpd starts fast. ``Link`` is also the
fingerprint compared on netlink notifications: an inactive interface is retried when it changed.
"""

from __future__ import annotations

import fcntl
import ipaddress
import socket
import struct
from dataclasses import dataclass

SIOCGIFFLAGS = 0x8913
SIOCGIFADDR = 0x8915
SIOCGIFNETMASK = 0x891B
IFF_UP = 0x1
IFF_RUNNING = 0x40


@dataclass(frozen=True)
class Link:
    """An interface as igmpd sees it; None fields when it is missing or has no address."""

    name: str
    index: int | None
    up: bool
    address: str | None
    network: ipaddress.IPv4Network | None


def _ioctl(sock: socket.socket, request: int, name: str) -> bytes:
    return fcntl.ioctl(sock.fileno(), request, struct.pack("16s16x", name.encode()))


def read_link(name: str) -> Link:
    """The interface's current index, flags and primary IPv4 address."""
    try:
        index: int | None = socket.if_nametoindex(name)
    except OSError:
        return Link(name, None, False, None, None)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            flags = struct.unpack_from("H", _ioctl(sock, SIOCGIFFLAGS, name), 16)[0]
        except OSError:
            return Link(name, None, False, None, None)
        try:
            address = socket.inet_ntoa(_ioctl(sock, SIOCGIFADDR, name)[20:24])
            netmask = socket.inet_ntoa(_ioctl(sock, SIOCGIFNETMASK, name)[20:24])
        except OSError:
            return Link(name, index, bool(flags & IFF_UP), None, None)
    network = ipaddress.IPv4Network(f"{address}/{netmask}", strict=False)
    return Link(name, index, bool(flags & IFF_UP), address, network)


def exists(name: str) -> bool:
    """True when the interface exists in this network namespace."""
    try:
        socket.if_nametoindex(name)
    except OSError:
        return False
    return True
