"""Symbolic names of the numbers a socket call carries (family, type, level, option, ioctl).

The report and the site keys use names (``setsockopt IPPROTO_IP IP_ADD_MEMBERSHIP``), the
faults use the numbers; both come from here, so the two never disagree.
"""

from __future__ import annotations

import socket

SOL_PACKET = 263
_EXTRA_IP = {5: "IP_ROUTER_ALERT", 8: "IP_PKTINFO", 200: "MRT_INIT", 201: "MRT_DONE",
             202: "MRT_ADD_VIF", 203: "MRT_DEL_VIF", 204: "MRT_ADD_MFC", 205: "MRT_DEL_MFC",
             206: "MRT_VERSION", 207: "MRT_ASSERT", 208: "MRT_PIM", 209: "MRT_TABLE"}  # fmt: skip
_PACKET = {1: "PACKET_ADD_MEMBERSHIP", 2: "PACKET_DROP_MEMBERSHIP", 8: "PACKET_RX_RING",
           10: "PACKET_VERSION", 13: "PACKET_TX_RING"}  # fmt: skip
IOCTLS = {0x8910: "SIOCGIFNAME", 0x8912: "SIOCGIFCONF", 0x8913: "SIOCGIFFLAGS",
          0x8914: "SIOCSIFFLAGS", 0x8915: "SIOCGIFADDR", 0x8917: "SIOCGIFDSTADDR",
          0x8919: "SIOCGIFBRDADDR", 0x891B: "SIOCGIFNETMASK", 0x891D: "SIOCGIFMETRIC",
          0x8921: "SIOCGIFMTU", 0x8927: "SIOCGIFHWADDR", 0x8931: "SIOCADDMULTI",
          0x8932: "SIOCDELMULTI", 0x8933: "SIOCGIFINDEX", 0x8946: "SIOCETHTOOL",
          0x89F0: "SIOCDEVPRIVATE"}  # fmt: skip
EPOLL_OPS = {1: "ADD", 2: "DEL", 3: "MOD"}


def _by_prefix(prefix: str, skip: tuple[str, ...] = ()) -> dict[int, str]:
    found: dict[int, str] = {}
    for name in sorted(dir(socket)):
        value = getattr(socket, name)
        if name.startswith(prefix) and isinstance(value, int) and not name.startswith(skip):
            found.setdefault(int(value), name)
    return found


FAMILIES = _by_prefix("AF_")
TYPES = _by_prefix("SOCK_", skip=("SOCK_CLOEXEC", "SOCK_NONBLOCK"))
PROTOCOLS = _by_prefix("IPPROTO_")
LEVELS = {
    socket.SOL_SOCKET: "SOL_SOCKET",
    socket.IPPROTO_IP: "IPPROTO_IP",
    SOL_PACKET: "SOL_PACKET",
}
OPTIONS = {
    socket.SOL_SOCKET: {**_by_prefix("SO_"), 26: "SO_ATTACH_FILTER", 27: "SO_DETACH_FILTER"},
    socket.IPPROTO_IP: {**_by_prefix("IP_"), **_EXTRA_IP},
    SOL_PACKET: _PACKET,
}


def name(table: dict[int, str], value: int) -> str:
    """The symbol of ``value`` in ``table``, else the number itself."""
    return table.get(value, str(value))


def option(level: int, optname: int) -> str:
    """``IP_ADD_MEMBERSHIP``, ``SO_BINDTODEVICE``, ``PACKET_ADD_MEMBERSHIP`` ... or the number."""
    return name(OPTIONS.get(level, {}), optname)
