"""What igmpd reads about a network interface: index, primary IPv4 address, netmask, link flags.

Standard library only (ioctl on a datagram socket), so igmpd starts fast. ``Link`` is also the
fingerprint compared on netlink notifications: an inactive interface is retried when it changed.
A failed ioctl is kept in the Link (``call``, ``errno``) rather than turned into "missing" or
"no address": only ENODEV on SIOCGIFINDEX means the first, only EADDRNOTAVAIL on SIOCGIFADDR or
SIOCGIFNETMASK the second, and the router's 41055 has to say which it was.
"""

from __future__ import annotations

import errno as errnos
import fcntl
import ipaddress
import os
import socket
import struct
from dataclasses import dataclass

SIOCGIFFLAGS = 0x8913
SIOCGIFADDR = 0x8915
SIOCGIFNETMASK = 0x891B
IFF_UP = 0x1
IFF_RUNNING = 0x40
SIOCGIFINDEX = 0x8933
REQUEST_NAMES = {
    SIOCGIFINDEX: "SIOCGIFINDEX",
    SIOCGIFFLAGS: "SIOCGIFFLAGS",
    SIOCGIFADDR: "SIOCGIFADDR",
    SIOCGIFNETMASK: "SIOCGIFNETMASK",
}
CONTROL_SOCKET_CALL = "socket AF_INET SOCK_DGRAM"  # as messages and faultlab explore name it


class IoctlFailed(OSError):
    """An interface ioctl failed; ``call`` names the request (SIOCGIFADDR ...) so that the
    event or message can say which question the kernel refused, not just that one was."""

    def __init__(self, call: str, err: int) -> None:
        super().__init__(err, os.strerror(err))
        self.call = call


@dataclass(frozen=True)
class Link:
    """An interface as igmpd sees it; None fields from the first ioctl that failed on, which
    ``call`` and ``errno`` name (both None when every lookup answered)."""

    name: str
    index: int | None
    up: bool
    address: str | None
    network: ipaddress.IPv4Network | None
    call: str | None = None
    errno: int | None = None

    @property
    def missing(self) -> bool:
        """SIOCGIFINDEX said ENODEV: there is no such interface."""
        return self.call == "SIOCGIFINDEX" and self.errno == errnos.ENODEV

    @property
    def no_address(self) -> bool:
        """SIOCGIFADDR or SIOCGIFNETMASK said EADDRNOTAVAIL: the interface has no IPv4 address."""
        return self.call in ("SIOCGIFADDR", "SIOCGIFNETMASK") and self.errno == errnos.EADDRNOTAVAIL


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


def open_control() -> None:
    """Open the ioctl socket now (start-up): its failure (OSError, e.g. EMFILE) is then igmpd's
    own, told apart from any answer about an interface."""
    _control_socket()


def _ioctl(request: int, name: str) -> bytes:
    """The ioctl's answer; IoctlFailed names the request when the kernel refused it."""
    request_buffer = struct.pack("16s16x", name.encode())
    fd = _control_socket().fileno()
    try:
        return fcntl.ioctl(fd, request, request_buffer)
    except OSError as exc:
        raise IoctlFailed(REQUEST_NAMES[request], exc.errno or 0) from exc


def read_link(name: str) -> Link:
    """The interface's current index, flags and primary IPv4 address; the fields after a
    failed ioctl stay None and the Link names that ioctl and its errno."""
    index: int | None = None
    up = False
    try:
        index = struct.unpack_from("i", _ioctl(SIOCGIFINDEX, name), 16)[0]
        up = bool(struct.unpack_from("H", _ioctl(SIOCGIFFLAGS, name), 16)[0] & IFF_UP)
        address = socket.inet_ntoa(_ioctl(SIOCGIFADDR, name)[20:24])
        netmask = socket.inet_ntoa(_ioctl(SIOCGIFNETMASK, name)[20:24])
    except IoctlFailed as failure:
        return Link(name, index, up, None, None, failure.call, failure.errno)
    network = ipaddress.IPv4Network(f"{address}/{netmask}", strict=False)
    return Link(name, index, up, address, network)


def exists(name: str) -> bool:
    """True when the interface exists in this network namespace, False on ENODEV; any other
    failure raises IoctlFailed: EFAULT or ENOMEM says nothing about the interface."""
    try:
        _ioctl(SIOCGIFINDEX, name)
    except IoctlFailed as failure:
        if failure.errno == errnos.ENODEV:
            return False
        raise
    return True
