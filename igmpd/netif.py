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


SIOCGIFINDEX = 0x8933

_control: socket.socket | None = None


def _control_socket() -> socket.socket:
    """One datagram socket for every ioctl, opened at start-up and kept.

    Opening one per query would fail exactly when an interface's events matter most: at the
    process's open-file limit, the 41024 event still has to name the interface's address.
    """
    global _control
    if _control is None:
        _control = socket.socket(socket.AF_INET, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
    return _control


def _ioctl(request: int, name: str) -> bytes:
    request_buffer = struct.pack("16s16x", name.encode())
    return fcntl.ioctl(_control_socket().fileno(), request, request_buffer)


def read_link(name: str) -> Link:
    """The interface's current index, flags and primary IPv4 address."""
    try:
        index: int | None = struct.unpack_from("i", _ioctl(SIOCGIFINDEX, name), 16)[0]
        flags = struct.unpack_from("H", _ioctl(SIOCGIFFLAGS, name), 16)[0]
    except OSError:
        return Link(name, None, False, None, None)
    try:
        address = socket.inet_ntoa(_ioctl(SIOCGIFADDR, name)[20:24])
        netmask = socket.inet_ntoa(_ioctl(SIOCGIFNETMASK, name)[20:24])
    except OSError:
        return Link(name, index, bool(flags & IFF_UP), None, None)
    network = ipaddress.IPv4Network(f"{address}/{netmask}", strict=False)
    return Link(name, index, bool(flags & IFF_UP), address, network)


def exists(name: str) -> bool:
    """True when the interface exists in this network namespace."""
    try:
        _ioctl(SIOCGIFINDEX, name)
    except OSError:
        return False
    return True
