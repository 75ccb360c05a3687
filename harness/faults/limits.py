"""Memory and resource limits: joins, file descriptors and the egress queue run out."""

from __future__ import annotations

import functools
import os
import resource
from typing import Any, ClassVar

from harness.catalog import Step
from harness.errors import FaultConfigError
from harness.faults import netops
from harness.faults.base import Fault, FaultContext, Launch
from harness.faults.bindconflicts import IFACE
from harness.faults.sysctl import SysctlFault


class IgmpMaxMemberships(SysctlFault):
    """net.ipv4.igmp_max_memberships lowered in the namespace (ENOBUFS at IP_ADD_MEMBERSHIP)."""

    kind: ClassVar[str] = "igmp-max-memberships"
    generic: ClassVar[bool] = False
    steps: ClassVar[tuple[Step, ...]] = (Step.REQUEST_MULTICAST,)
    summary: ClassVar[str] = "the namespace allows no more multicast group memberships per socket"
    required: ClassVar[tuple[str, ...]] = ()
    params: ClassVar[dict[str, dict[str, Any]]] = {
        "value": {"type": "integer", "minimum": 0, "description": "joins allowed (default 0)"},
    }

    def __init__(self, value: int = 0) -> None:
        super().__init__("net.ipv4.igmp_max_memberships", value)


class OptmemMax(SysctlFault):
    """net.core.optmem_max lowered in the namespace (ENOBUFS at IP_ADD_MEMBERSHIP)."""

    kind: ClassVar[str] = "optmem-max"
    generic: ClassVar[bool] = False
    steps: ClassVar[tuple[Step, ...]] = (Step.REQUEST_MULTICAST,)
    summary: ClassVar[str] = "socket option memory is exhausted in the namespace"
    required: ClassVar[tuple[str, ...]] = ()
    params: ClassVar[dict[str, dict[str, Any]]] = {
        "value": {"type": "integer", "minimum": 0, "description": "bytes (default 0)"},
    }

    def __init__(self, value: int = 0) -> None:
        super().__init__("net.core.optmem_max", value)


class FdLimit(Fault):
    """The router process reaches RLIMIT_NOFILE (EMFILE at socket and epoll_create1).

    At runtime (default) the soft limit is lowered with prlimit(2) to the lowest free descriptor
    number of the router, so its very next socket or epoll fails; ``clear`` restores the old
    limit. ``at: launch`` sets ``limit`` in the child before exec instead (too low a limit
    breaks an interpreter's own start-up).
    """

    kind: ClassVar[str] = "fd-limit"
    not_before_start: ClassVar[str] = (
        "lowers the limit of a running router (needs its pid); at launch the limit "
        "would have to match the router's own descriptor count"
    )
    steps: ClassVar[tuple[Step, ...]] = (Step.CREATE_SOCKET, Step.EVENT_SELECT)
    summary: ClassVar[str] = "the router ran out of file descriptors"
    params: ClassVar[dict[str, dict[str, Any]]] = {
        "at": {"enum": ["runtime", "launch"], "description": "when the limit is set"},
        "limit": {"type": "integer", "minimum": 3, "description": "soft limit (at: launch)"},
    }

    def __init__(self, at: str = "runtime", limit: int | None = None) -> None:
        if at == "launch" and limit is None:
            raise FaultConfigError("fd-limit at: launch needs limit: N (the soft RLIMIT_NOFILE)")
        self.at, self.limit = at, limit
        self._previous: tuple[int, int] | None = None
        self._pid: int | None = None

    def prepare(self, launch: Launch) -> None:
        if self.at == "launch" and self.limit is not None:
            hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
            launch.rlimits[resource.RLIMIT_NOFILE] = (self.limit, hard)

    def apply(self, ctx: FaultContext) -> None:
        if self.at != "runtime":
            return
        if ctx.pid is None:
            raise FaultConfigError("fd-limit at runtime needs the router's pid")
        previous = resource.prlimit(ctx.pid, resource.RLIMIT_NOFILE)
        resource.prlimit(ctx.pid, resource.RLIMIT_NOFILE, (lowest_free_fd(ctx.pid), previous[1]))
        if self._previous is None:
            self._previous, self._pid = previous, ctx.pid

    def clear(self, ctx: FaultContext) -> None:
        if self._previous is not None and self._pid is not None:
            resource.prlimit(self._pid, resource.RLIMIT_NOFILE, self._previous)
            self._previous = None


def lowest_free_fd(pid: int) -> int:
    """The number the kernel gives the process's next descriptor (the lowest unused one)."""
    used = {int(name) for name in os.listdir(f"/proc/{pid}/fd")}
    number = 0
    while number in used:
        number += 1
    return number


# rate in bytes/s: one IGMP packet a few seconds; a queue long enough to fill any send buffer.
TBF_BARELY_DRAINS = {"rate": 8, "burst": 1600, "limit": 1 << 24}


class EgressFull(Fault):
    """The egress queue of the interface is full (a tbf qdisc that barely drains).

    The send buffer of the router's socket fills with packets waiting in the qdisc, so a
    non-blocking sendto fails with EAGAIN; with IP_RECVERR the queue's own drops show as ENOBUFS.
    """

    kind: ClassVar[str] = "egress-full"
    steps: ClassVar[tuple[Step, ...]] = (Step.SEND,)
    summary: ClassVar[str] = "the interface's egress queue is full"
    params: ClassVar[dict[str, dict[str, Any]]] = {"interface": IFACE}

    def __init__(self, interface: str | None = None) -> None:
        self.interface = interface
        self._ifname: str | None = None

    def apply(self, ctx: FaultContext) -> None:
        ifname = ctx.interface(self.interface)
        ctx.node.call(functools.partial(netops.qdisc_replace, ifname, "tbf", **TBF_BARELY_DRAINS))
        self._ifname = ifname

    def clear(self, ctx: FaultContext) -> None:
        if self._ifname is not None:
            ctx.node.call(netops.qdisc_delete_root, self._ifname)
            self._ifname = None
