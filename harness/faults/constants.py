"""Symbolic names of the socket constants a router's steps use, resolved to kernel numbers.

A fault written by a person says ``level: IPPROTO_IP, optname: IP_HDRINCL``; the seccomp filter
needs 0 and 3. This is the one small table for that, with the multicast-routing options that
Python's ``socket`` module lacks (linux/mroute.h).
"""

from __future__ import annotations

import socket

from harness.errors import FaultConfigError
from harness.mroute import MRT_ADD_VIF, MRT_DEL_VIF, MRT_DONE, MRT_INIT
from harness.suggest import did_you_mean

VIFF_USE_IFINDEX = 0x8
# A VIF added from a socket that is not the namespace's multicast-routing socket gets the
# kernel-internal flag VIFF_STATIC (0x8000, include/linux/mroute.h) and survives that socket.
VIFF_STATIC = 0x8000
EPOLL_CTL_ADD = 1

SYMBOLS: dict[str, int] = {
    "AF_INET": socket.AF_INET,
    "SOCK_RAW": socket.SOCK_RAW,
    "SOCK_DGRAM": socket.SOCK_DGRAM,
    "SOCK_STREAM": socket.SOCK_STREAM,
    "IPPROTO_IP": socket.IPPROTO_IP,
    "IPPROTO_IGMP": socket.IPPROTO_IGMP,
    "IPPROTO_UDP": socket.IPPROTO_UDP,
    "SOL_SOCKET": socket.SOL_SOCKET,
    "SO_BINDTODEVICE": socket.SO_BINDTODEVICE,
    "SO_SNDBUF": socket.SO_SNDBUF,
    "SO_RCVBUF": socket.SO_RCVBUF,
    "IP_OPTIONS": socket.IP_OPTIONS,
    "IP_HDRINCL": socket.IP_HDRINCL,
    "IP_ROUTER_ALERT": 5,
    "IP_RECVERR": 11,
    "IP_MULTICAST_IF": socket.IP_MULTICAST_IF,
    "IP_MULTICAST_TTL": socket.IP_MULTICAST_TTL,
    "IP_MULTICAST_LOOP": socket.IP_MULTICAST_LOOP,
    "IP_ADD_MEMBERSHIP": socket.IP_ADD_MEMBERSHIP,
    "IP_DROP_MEMBERSHIP": socket.IP_DROP_MEMBERSHIP,
    "AF_PACKET": socket.AF_PACKET,
    "SOL_PACKET": 263,
    "PACKET_ADD_MEMBERSHIP": 1,
    "SO_ATTACH_FILTER": 26,
    "MRT_INIT": MRT_INIT,
    "MRT_DONE": MRT_DONE,
    "MRT_ADD_VIF": MRT_ADD_VIF,
    "MRT_DEL_VIF": MRT_DEL_VIF,
    "EPOLL_CTL_ADD": EPOLL_CTL_ADD,
    "EPOLL_CTL_DEL": 2,
    "EPOLL_CTL_MOD": 3,
}


def resolve(value: int | str, *, what: str) -> int:
    """A constant given as a number or a symbol from SYMBOLS; a clear error names ``what``."""
    if isinstance(value, bool):
        raise FaultConfigError(f"{what}: expected a number or a symbol, got {value!r}")
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return int(text)
    if text.lower().startswith("0x"):
        return int(text, 16)
    if text.upper() in SYMBOLS:
        return SYMBOLS[text.upper()]
    hint = did_you_mean(text.upper(), SYMBOLS)
    raise FaultConfigError(
        f"{what}: unknown symbol {value!r}{hint} (known: {', '.join(sorted(SYMBOLS))})"
    )
