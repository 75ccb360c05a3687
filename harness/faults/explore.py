"""The two faults ``faultlab explore`` runs through the ordinary runner.

* ``explore-record`` (discovery): the user-notification supervisor in record-only mode. Every
  socket-related call of the router (and its event waits, which mark the end of start-up) is
  seen, its interface resolved, and let through unchanged (SECCOMP_USER_NOTIF_FLAG_CONTINUE).
* ``explore-fault`` (one planned fault): a ``syscall-error`` whose rule fails the site's
  occurrence on its interface, and, for an error that is not transient, every later matching
  call too, until ``clear`` switches it off. Each failed call is kept (time, interface,
  position) so the judge knows when the fault hit, and so that ``--write-scenarios`` can pin
  exactly those positions in an ordinary ``syscall-error`` fault.

Both kinds are ``internal``: registered in FAULT_KINDS with the others (harness/faults/__init__.py)
but kept out of scenario files, the schema and the fault table; the scenarios the explorer writes
for people use ``syscall-error`` instead. They live here, below harness.explore, so the registry
is complete whatever was imported first.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from harness.catalog import Step
from harness.faults.base import Fault, Launch
from harness.faults.filters import ArgMatch, SyscallMatch, syscall_number
from harness.faults.seccomp import SyscallErrorFault
from harness.faults.supervisor import Call, NotifyRule

#: What discovery records: socket-related calls, and the waits that end start-up.
RECORDED = (
    "socket", "bind", "connect", "setsockopt", "getsockopt", "sendto", "sendmsg", "recvfrom",
    "recvmsg", "epoll_create1", "epoll_create", "epoll_ctl",
)  # fmt: skip
WAITS = ("epoll_wait", "epoll_pwait", "poll", "ppoll", "select", "pselect6")
SOCKET_IOCTL = SyscallMatch("ioctl", (ArgMatch(1, 0x8900, 0xFF00),), "ioctl SIOC*")


@dataclass(frozen=True)
class Recorded:
    """One call the router made: when, which, its arguments, its interface and socket family."""

    at: float
    pid: int
    syscall: str
    args: tuple[int, ...]
    interface: str | None
    family: int | None


@dataclass
class CallLog:
    """The calls seen so far (filled by the supervisor's thread, read by the harness)."""

    calls: list[Recorded] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _names: dict[int, str] = field(default_factory=dict)

    def __call__(self, call: Call, interface_of: Callable[[Call], str | None]) -> None:
        """The supervisor's recorder: resolve and keep; never fail (the call continues)."""
        if not self._names:
            self._names.update({syscall_number(n): n for n in (*RECORDED, *WAITS, "ioctl")})
        name = self._names.get(call.nr, str(call.nr))
        waits = name in WAITS
        interface = None if waits or name.startswith("epoll_create") else interface_of(call)
        family = None if waits or name == "socket" else _family(call, _fd_arg(name, call))
        if name == "socket":
            family = int(call.args[0])
        entry = Recorded(time.monotonic(), call.pid, name, tuple(call.args), interface, family)
        with self.lock:
            self.calls.append(entry)

    def snapshot(self) -> list[Recorded]:
        with self.lock:
            return list(self.calls)


def _fd_arg(name: str, call: Call) -> int | None:
    if name == "epoll_ctl":
        return int(call.args[2])
    if name.startswith("epoll_create"):
        return None
    return int(call.args[0])


def _family(call: Call, fd: int | None) -> int | None:
    """The address family of the router's socket ``fd`` (pidfd_getfd), None if not a socket."""
    if fd is None:
        return None
    import ctypes
    import os

    try:
        pidfd = os.pidfd_open(call.pid)
    except OSError:
        return None
    try:
        dup = ctypes.CDLL(None, use_errno=True).syscall(syscall_number("pidfd_getfd"), pidfd, fd, 0)
    finally:
        os.close(pidfd)
    if dup < 0:
        return None
    try:
        with socket.socket(fileno=dup) as sock:
            return int(sock.family)
    except OSError:
        os.close(dup)
        return None


class RecordFault(Fault):
    """Record every socket-related call of the router; fail none (discovery)."""

    kind: ClassVar[str] = "explore-record"
    internal: ClassVar[bool] = True
    steps: ClassVar[tuple[Step, ...]] = ()
    mechanism: ClassVar[str] = "exact"
    summary: ClassVar[str] = "records the router's socket calls (supervisor, record-only)"

    def __init__(self) -> None:
        self.log = CallLog()

    def prepare(self, launch: Launch) -> None:
        supervisor = launch.notify_supervisor()
        for name in (*RECORDED, *WAITS):
            launch.seccomp.add_notify(SyscallMatch(name))
        launch.seccomp.add_notify(SOCKET_IOCTL)
        supervisor.record(self.log)

    def features(self) -> tuple[str, ...]:
        return ("seccomp", "seccomp-notify")


@dataclass
class SiteRule(NotifyRule):
    """A NotifyRule that fails from the ``nth`` matching call on (``held``) or that call only,
    while enabled; it keeps each failure and wakes the judge (``on_hit``)."""

    held: bool = False
    hits: list[tuple[float, str | None, int]] = field(default_factory=list)
    on_hit: Callable[[], None] | None = None

    def decide(self, call: Call, interface_of: Callable[[Call], str | None]) -> int | None:
        if not self.match.matches(call.nr, call.args):
            return None
        interface = interface_of(call) if self.interface is not None else None
        if self.interface is not None and interface != self.interface:
            return None
        self.seen += 1
        first = self.nth[0] if self.nth else 1
        wanted = self.seen >= first if self.held else self.seen == first
        if not self.enabled or not wanted:
            return None
        self.failed.append(self.seen)
        self.hits.append((time.monotonic(), interface, self.seen))
        if self.on_hit is not None:
            self.on_hit()
        return self.errno


class ExploreFault(SyscallErrorFault):
    """One planned fault: a call site (syscall, arguments, interface, occurrence) and an errno."""

    kind: ClassVar[str] = "explore-fault"
    internal: ClassVar[bool] = True
    summary: ClassVar[str] = "fails one call site from its occurrence on (explore)"
    params: ClassVar[dict[str, dict[str, Any]]] = {
        **SyscallErrorFault.params,
        "held": {"type": "boolean", "description": "fail every later matching call too"},
    }

    def __init__(self, syscall: str, errno: Any, held: bool = False, **rest: Any) -> None:
        rest.setdefault("nth", 1)
        super().__init__(syscall, errno, **rest)
        self.held = held

    def prepare(self, launch: Launch) -> None:
        supervisor = launch.notify_supervisor()
        for match in self.matches:
            launch.seccomp.add_notify(match)
            rule = SiteRule(match, self.error, self.nth, self.interface, held=self.held)
            self.rules.append(supervisor.add(rule))

    def features(self) -> tuple[str, ...]:
        """Never ``mrt``: discovery saw the router make this call on this kernel."""
        return ("seccomp", "seccomp-notify")

    @property
    def hits(self) -> list[tuple[float, str | None, int]]:
        return [hit for rule in self.rules for hit in getattr(rule, "hits", [])]


def explore_hits(faults: Iterable[Fault]) -> int:
    """How many calls the ``explore-fault`` among a session's ``faults`` failed (0: it never
    fired). Read from the faults the session (or its RouterError) carries."""
    return sum(len(fault.hits) for fault in faults if isinstance(fault, ExploreFault))
