"""THE errno table of ``faultlab explore``: which errors each socket-related call can return.

Data, in one place, from the Linux man pages (socket(2), bind(2), setsockopt(2) with socket(7),
ip(7), raw(7), packet(7) and netlink(7), send(2), recv(2), connect(2), epoll_ctl(2),
epoll_create(2), ioctl(2) with netdevice(7)) and from what this project measured
(../shared/reference/linux-fault-facts.md). Each entry splits the errors in two:

* ``env``: what the environment can make a correct program's call return (a limit, a missing
  device, an address gone, a signal, a full queue). ``faultlab explore`` injects these.
* ``bugs``: what only a caller's own mistake provokes (a bad descriptor, a bad pointer). They
  are listed for completeness and injected only with ``--errnos all``.

An option or family refines its call with ``extra`` errors (IP_ADD_MEMBERSHIP adds ENOBUFS,
a raw socket adds EPERM ...). EINTR and EAGAIN are ``TRANSIENT``: a real one happens once, so
the explorer fails one call; every other error is held (every later matching call fails too)
until the fault is cleared, as a real cause would be.
"""

from __future__ import annotations

import errno as errno_mod
from dataclasses import dataclass

TRANSIENT = frozenset({"EINTR", "EAGAIN"})


@dataclass(frozen=True)
class ErrnoEntry:
    """The errors of one call (or one refinement of it), and the man page that lists them."""

    env: tuple[str, ...]
    bugs: tuple[str, ...] = ()
    source: str = ""


_SEND_ENV = (
    "EAGAIN", "EINTR", "EACCES", "EPERM", "EMSGSIZE", "ENOBUFS", "ENOMEM", "ENETUNREACH",
    "EHOSTUNREACH", "ENETDOWN", "ENODEV", "ENXIO", "EINVAL",
)  # fmt: skip
_SEND_BUGS = ("EBADF", "EFAULT", "ENOTSOCK", "EDESTADDRREQ", "EISCONN", "ENOTCONN", "EOPNOTSUPP")
_RECV_ENV = ("EAGAIN", "EINTR", "ENOMEM", "ENETDOWN")
_RECV_BUGS = ("EBADF", "EFAULT", "EINVAL", "ENOTCONN", "ENOTSOCK")
_SOCKOPT_BUGS = ("EBADF", "EFAULT", "ENOTSOCK")
_WAIT_BUGS = ("EBADF", "EFAULT", "EINVAL")

#: syscall -> its errors (generic part).
CALLS: dict[str, ErrnoEntry] = {
    "socket": ErrnoEntry(
        ("EACCES", "EAFNOSUPPORT", "EPROTONOSUPPORT", "EMFILE", "ENFILE", "ENOBUFS", "ENOMEM"),
        ("EINVAL",),
        "socket(2)",
    ),
    "bind": ErrnoEntry(
        ("EADDRINUSE", "EADDRNOTAVAIL", "EACCES", "ENOMEM"),
        ("EBADF", "EINVAL", "ENOTSOCK", "EFAULT"),
        "bind(2), ip(7)",
    ),
    "setsockopt": ErrnoEntry(("EINVAL", "ENOPROTOOPT"), _SOCKOPT_BUGS, "setsockopt(2)"),
    "getsockopt": ErrnoEntry(("EINVAL", "ENOPROTOOPT"), _SOCKOPT_BUGS, "getsockopt(2)"),
    "connect": ErrnoEntry(
        (
            "EACCES",
            "EPERM",
            "EADDRNOTAVAIL",
            "EAGAIN",
            "ECONNREFUSED",
            "EINTR",
            "ENETUNREACH",
            "ETIMEDOUT",
        ),
        ("EBADF", "EFAULT", "ENOTSOCK", "EISCONN", "EALREADY", "EAFNOSUPPORT"),
        "connect(2)",
    ),  # fmt: skip
    "sendto": ErrnoEntry(_SEND_ENV, _SEND_BUGS, "send(2), ip(7), raw(7)"),
    "sendmsg": ErrnoEntry(_SEND_ENV, _SEND_BUGS, "send(2), ip(7), raw(7)"),
    "recvfrom": ErrnoEntry(_RECV_ENV, _RECV_BUGS, "recv(2), packet(7)"),
    "recvmsg": ErrnoEntry(_RECV_ENV, _RECV_BUGS, "recv(2), packet(7)"),
    "epoll_create1": ErrnoEntry(("EMFILE", "ENFILE", "ENOMEM"), ("EINVAL",), "epoll_create(2)"),
    "epoll_create": ErrnoEntry(("EMFILE", "ENFILE", "ENOMEM"), ("EINVAL",), "epoll_create(2)"),
    "epoll_ctl": ErrnoEntry(
        ("ENOMEM", "ENOSPC"),
        ("EBADF", "EEXIST", "EINVAL", "ELOOP", "ENOENT", "EPERM"),
        "epoll_ctl(2)",
    ),
    "ioctl": ErrnoEntry(("ENODEV",), ("EBADF", "EFAULT", "EINVAL", "ENOTTY"), "netdevice(7)"),
}

#: "syscall detail" -> more errors for that option, family or request (detail as discovered).
EXTRA: dict[str, ErrnoEntry] = {
    "socket AF_INET SOCK_RAW": ErrnoEntry(("EPERM",), source="raw(7): no CAP_NET_RAW"),
    "socket AF_PACKET": ErrnoEntry(("EPERM",), source="packet(7): no CAP_NET_RAW"),
    "bind AF_PACKET": ErrnoEntry(("ENODEV", "ENETDOWN"), source="packet(7)"),
    "bind AF_NETLINK": ErrnoEntry(("EPERM",), source="netlink(7)"),
    "recvfrom AF_NETLINK": ErrnoEntry(("ENOBUFS",), source="netlink(7): overrun"),
    "recvmsg AF_NETLINK": ErrnoEntry(("ENOBUFS",), source="netlink(7): overrun"),
    "setsockopt SO_BINDTODEVICE": ErrnoEntry(("ENODEV", "EPERM"), source="socket(7)"),
    "setsockopt SO_ATTACH_FILTER": ErrnoEntry(("ENOMEM", "EPERM"), source="socket(7)"),
    "setsockopt SO_RCVBUF": ErrnoEntry((), source="socket(7)"),
    "setsockopt IP_ADD_MEMBERSHIP": ErrnoEntry(
        ("EADDRINUSE", "ENOBUFS", "ENODEV", "ENOMEM"), source="ip(7)"
    ),
    "setsockopt MCAST_JOIN_GROUP": ErrnoEntry(
        ("EADDRINUSE", "ENOBUFS", "ENODEV", "ENOMEM"), source="ip(7), RFC 3678"
    ),
    "setsockopt IP_DROP_MEMBERSHIP": ErrnoEntry(("EADDRNOTAVAIL", "ENODEV"), source="ip(7)"),
    "setsockopt IP_MULTICAST_IF": ErrnoEntry(("EADDRNOTAVAIL", "ENODEV"), source="ip(7)"),
    "setsockopt IP_OPTIONS": ErrnoEntry(("ENOMEM",), source="ip(7)"),
    "setsockopt IP_HDRINCL": ErrnoEntry(("EPERM",), source="raw(7)"),
    "setsockopt IP_ROUTER_ALERT": ErrnoEntry(("EADDRINUSE",), source="ip(7)"),
    "setsockopt MRT_INIT": ErrnoEntry(("EADDRINUSE", "EACCES", "EOPNOTSUPP"), source="ipmr.c"),
    "setsockopt MRT_ADD_VIF": ErrnoEntry(
        ("EADDRINUSE", "EADDRNOTAVAIL", "ENFILE", "ENOMEM"), source="ipmr.c"
    ),
    "setsockopt PACKET_ADD_MEMBERSHIP": ErrnoEntry(
        ("ENOBUFS", "ENODEV", "ENOMEM"), source="packet(7)"
    ),
    "ioctl SIOCGIFADDR": ErrnoEntry(("EADDRNOTAVAIL",), source="netdevice(7): no address"),
    "ioctl SIOCGIFNETMASK": ErrnoEntry(("EADDRNOTAVAIL",), source="netdevice(7): no address"),
    "ioctl SIOCGIFBRDADDR": ErrnoEntry(("EADDRNOTAVAIL",), source="netdevice(7): no address"),
}


def errnos_for(syscall: str, details: tuple[str, ...], *, bugs: bool = False) -> tuple[str, ...]:
    """The errors a call can return, in the table's order: the syscall's own, then those of
    each matching refinement (``details`` are words of the site: family, type, option, request).
    With ``bugs``, the caller-mistake errors too."""
    entry = CALLS.get(syscall)
    if entry is None:
        return ()
    names = list(entry.env) + (list(entry.bugs) if bugs else [])
    for word in _refinements(details):
        extra = EXTRA.get(f"{syscall} {word}")
        if extra is not None:
            names += list(extra.env) + (list(extra.bugs) if bugs else [])
    return tuple(dict.fromkeys(name for name in names if hasattr(errno_mod, name)))


def sources_for(syscall: str, details: tuple[str, ...]) -> str:
    """The man pages behind a call's errors (for the report)."""
    parts = [CALLS[syscall].source] if syscall in CALLS else []
    keys = [f"{syscall} {w}" for w in _refinements(details)]
    parts += [EXTRA[key].source for key in keys if key in EXTRA]
    return "; ".join(dict.fromkeys(p for p in parts if p))


def _refinements(details: tuple[str, ...]) -> list[str]:
    """The words of a site and each pair of neighbours ("AF_INET SOCK_RAW")."""
    return [*details, *(f"{a} {b}" for a, b in zip(details, details[1:], strict=False))]


def is_transient(name: str) -> bool:
    """EINTR and EAGAIN happen once: the explorer fails a single call for them."""
    return name in TRANSIENT
