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
_EXTRA_IP_RFC3678 = {42: "MCAST_JOIN_GROUP", 43: "MCAST_BLOCK_SOURCE", 44: "MCAST_UNBLOCK_SOURCE",
                     45: "MCAST_LEAVE_GROUP", 46: "MCAST_JOIN_SOURCE_GROUP",
                     47: "MCAST_LEAVE_SOURCE_GROUP", 48: "MCAST_MSFILTER",
                     49: "IP_MULTICAST_ALL", 50: "IP_UNICAST_IF"}  # fmt: skip
_EXTRA_IPV6 = {20: "IPV6_ADD_MEMBERSHIP", 21: "IPV6_DROP_MEMBERSHIP", 22: "IPV6_ROUTER_ALERT",
               23: "IPV6_MTU_DISCOVER", 24: "IPV6_MTU", 25: "IPV6_RECVERR",
               29: "IPV6_MULTICAST_ALL", 200: "MRT6_INIT", 201: "MRT6_DONE",
               202: "MRT6_ADD_MIF", 203: "MRT6_DEL_MIF", 204: "MRT6_ADD_MFC",
               205: "MRT6_DEL_MFC", 208: "MRT6_PIM"}  # fmt: skip
SOL_IPV6, SOL_ICMPV6 = 41, 58
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
    SOL_IPV6: "IPPROTO_IPV6",
    SOL_ICMPV6: "IPPROTO_ICMPV6",
    SOL_PACKET: "SOL_PACKET",
}
# Python's socket module also has other protocols' options (SO_J1939_*, SO_VM_*) and defaults
# (IP_DEFAULT_MULTICAST_*) that share numbers with socket(7)'s and ip(7)'s own options.
_NOT_OPTIONS = ("SO_J1939_", "SO_VM_", "IP_DEFAULT_", "IP_RECVRETOPTS")
OPTIONS = {
    socket.SOL_SOCKET: {
        **_by_prefix("SO_", skip=_NOT_OPTIONS),
        26: "SO_ATTACH_FILTER",
        27: "SO_DETACH_FILTER",
    },
    socket.IPPROTO_IP: {**_by_prefix("IP_", skip=_NOT_OPTIONS), **_EXTRA_IP, **_EXTRA_IP_RFC3678},
    SOL_IPV6: {**_by_prefix("IPV6_"), **_EXTRA_IPV6},
    SOL_ICMPV6: {1: "ICMP6_FILTER"},
    SOL_PACKET: _PACKET,
}


def name(table: dict[int, str], value: int) -> str:
    """The symbol of ``value`` in ``table``, else the number itself."""
    return table.get(value, str(value))


def option(level: int, optname: int) -> str:
    """``IP_ADD_MEMBERSHIP``, ``SO_BINDTODEVICE``, ``PACKET_ADD_MEMBERSHIP`` ... or the number."""
    return name(OPTIONS.get(level, {}), optname)
