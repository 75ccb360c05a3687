"""Which syscalls, with which integer arguments, a router makes for each catalog step.

This is data: ``step-error`` faults read it to turn "fail the header_include step" into
"setsockopt level IPPROTO_IP optname IP_HDRINCL", and the fault table re-exports it. The socket
type is masked with 0xff because routers (and Python) add SOCK_CLOEXEC / SOCK_NONBLOCK to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.catalog import Step
from harness.errors import FaultConfigError

# Argument names per syscall, in the kernel's order (for ``args:`` in syscall-error faults).
ARG_NAMES: dict[str, tuple[str, ...]] = {
    "socket": ("domain", "type", "protocol"),
    "bind": ("fd", "addr", "addrlen"),
    "setsockopt": ("fd", "level", "optname", "optval", "optlen"),
    "getsockopt": ("fd", "level", "optname", "optval", "optlen"),
    "epoll_create1": ("flags",),
    "epoll_create": ("size",),
    "epoll_ctl": ("epfd", "op", "fd", "event"),
    "sendto": ("fd", "buf", "len", "flags", "dest_addr", "addrlen"),
    "sendmsg": ("fd", "msg", "flags"),
    "recvfrom": ("fd", "buf", "len", "flags", "src_addr", "addrlen"),
    "recvmsg": ("fd", "msg", "flags"),
    "close": ("fd",),
}

# Default masks for arguments that carry flags besides the value a rule means.
ARG_MASKS: dict[tuple[str, str], int] = {("socket", "type"): 0xFF}

#: The calls of the packet receive path (igmpd without multicast routing, docs/igmpd.md): a
#: step-error fails them only when it names them (``call:``), so that a fault on "every call of
#: the step" means what it meant before igmpd had that path (its nth counts the same calls).
NAMED_ONLY: dict[Step, frozenset[str]] = {
    Step.CREATE_SOCKET: frozenset({"socket AF_PACKET"}),
    Step.REQUEST_MULTICAST: frozenset({"SO_ATTACH_FILTER", "PACKET_ADD_MEMBERSHIP"}),
}

# step -> call name -> (syscall, {argument: symbol or number})
STEP_CALLS: dict[Step, dict[str, tuple[str, dict[str, int | str]]]] = {
    Step.CREATE_SOCKET: {
        "socket": ("socket", {"domain": "AF_INET", "type": "SOCK_RAW", "protocol": "IPPROTO_IGMP"}),
        "socket AF_PACKET": ("socket", {"domain": "AF_PACKET"}),
    },
    Step.BIND: {
        "bind": ("bind", {}),
        "SO_BINDTODEVICE": ("setsockopt", {"level": "SOL_SOCKET", "optname": "SO_BINDTODEVICE"}),
    },
    Step.REQUEST_MULTICAST: {
        "IP_MULTICAST_IF": ("setsockopt", {"level": "IPPROTO_IP", "optname": "IP_MULTICAST_IF"}),
        "IP_ADD_MEMBERSHIP": (
            "setsockopt",
            {"level": "IPPROTO_IP", "optname": "IP_ADD_MEMBERSHIP"},
        ),
        "MRT_INIT": ("setsockopt", {"level": "IPPROTO_IP", "optname": "MRT_INIT"}),
        "MRT_ADD_VIF": ("setsockopt", {"level": "IPPROTO_IP", "optname": "MRT_ADD_VIF"}),
        "SO_ATTACH_FILTER": ("setsockopt", {"level": "SOL_SOCKET", "optname": "SO_ATTACH_FILTER"}),
        "PACKET_ADD_MEMBERSHIP": (
            "setsockopt",
            {"level": "SOL_PACKET", "optname": "PACKET_ADD_MEMBERSHIP"},
        ),
    },
    Step.ROUTER_ALERT: {
        "IP_OPTIONS": ("setsockopt", {"level": "IPPROTO_IP", "optname": "IP_OPTIONS"}),
    },
    Step.HEADER_INCLUDE: {
        "IP_HDRINCL": ("setsockopt", {"level": "IPPROTO_IP", "optname": "IP_HDRINCL"}),
    },
    Step.EVENT_SELECT: {
        "epoll_ctl": ("epoll_ctl", {"op": "EPOLL_CTL_ADD"}),
        "epoll_create1": ("epoll_create1", {}),
    },
    Step.SEND: {"sendto": ("sendto", {}), "sendmsg": ("sendmsg", {})},
    Step.RECEIVE: {"recvfrom": ("recvfrom", {}), "recvmsg": ("recvmsg", {})},
}


def step_of_call(syscall: str, args: Mapping[str, Any]) -> Step | None:
    """The catalog step whose calls include ``syscall`` with ``args`` (by name, symbols or
    numbers), e.g. setsockopt level IPPROTO_IP optname IP_HDRINCL -> header_include; None for
    a call no step makes (an ioctl SIOCGIFADDR, a getsockopt ...)."""
    from harness.faults.constants import resolve

    def value(given: Any) -> int | None:
        given = given.get("value") if isinstance(given, Mapping) else given
        try:
            return resolve(given, what=syscall)
        except (FaultConfigError, TypeError, ValueError):
            return None

    names = ARG_NAMES.get(syscall, ())
    wanted = {
        (names[int(key[3:])] if key.startswith("arg") and key[3:].isdigit() else key): value(v)
        for key, v in args.items()
        if not key.startswith("arg") or (key[3:].isdigit() and int(key[3:]) < len(names))
    }
    for step, calls in STEP_CALLS.items():
        for call, table_args in calls.values():
            if call != syscall:
                continue
            mask = {k: ARG_MASKS.get((syscall, k), 0xFFFFFFFF) for k in table_args}
            if all(
                wanted.get(k) is not None and (wanted[k] & mask[k]) == value(v)
                for k, v in table_args.items()
            ):
                return step
    return None


def step_of(call: str) -> Step | None:
    """The catalog step whose calls include ``call`` (MRT_INIT -> request_multicast)."""
    for step, calls in STEP_CALLS.items():
        if call in calls:
            return step
    return None
