"""A seccomp user-notification supervisor: decides, call by call, which calls of a router fail.

RET_ERRNO fails every matching call for the process's whole life. The supervisor does what it
cannot: fail only the Nth call, only the calls on one interface's socket, only inside a time
window, or only while a switch is on (so a recovery scenario can clear the fault while the
router runs). Every call it lets through proceeds unchanged (SECCOMP_USER_NOTIF_FLAG_CONTINUE).

The router's child installs a filter with a listener (filters.py) and sends the listener fd over
a socketpair before ``exec``. A thread in the harness receives it and serves notifications with
the raw ioctls; it stops when the router exits (POLLHUP) or when ``close()`` is called. The
filter only notifies the targeted syscalls with their integer arguments, so all other calls of
the router never wait for the harness.

To learn which interface a call concerns, the supervisor reads the option value or sockaddr from
``/proc/PID/mem`` (SO_BINDTODEVICE, bind, IP_ADD_MEMBERSHIP, IP_MULTICAST_IF), or duplicates the
socket from the router with pidfd_getfd(2) and asks it (SO_BINDTODEVICE, then getsockname); the
duplicated socket lives in the router's namespace, so ioctls on it name the router's interfaces.
"""

from __future__ import annotations

import ctypes
import errno as errno_mod
import fcntl
import os
import select
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from harness import caches
from harness.faults.filters import SyscallMatch, syscall_number

SECCOMP_IOCTL_NOTIF_RECV = 0xC0502100
SECCOMP_IOCTL_NOTIF_SEND = 0xC0182101
SECCOMP_IOCTL_NOTIF_ID_VALID = 0x40082102
SECCOMP_IOCTL_NOTIF_SET_FLAGS = 0x40082104  # Linux 6.6: flags of the listener, by value
SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP = 1
SECCOMP_USER_NOTIF_FLAG_CONTINUE = 1
SIOCGIFNAME = 0x8910
SIOCGIFCONF = 0x8912
SIOC_BASE = 0x8900  # socket ioctls (linux/sockios.h); the SIOCGIF* ones take a struct ifreq
IFNAMSIZ = 16
POLL_TICK_MS = 100

_libc = ctypes.CDLL(None, use_errno=True)


class Call(NamedTuple):
    """One notified syscall: its number, arguments and the id to answer it with (a named tuple:
    one is made per supervised call, and a frozen dataclass costs 2-3 us more to build)."""

    id: int
    pid: int
    nr: int
    args: tuple[int, ...]


Recorder = Callable[[Call, Callable[[Call], "str | None"]], None]


@dataclass
class NotifyRule:
    """Which matching calls fail, and with which errno; everything else continues.

    ``nth`` lists 1-based positions among the calls that match (syscall, arguments and, when
    given, interface). ``window`` is (start, end) in seconds since the rule was armed; end None
    means open. ``enabled`` is the runtime switch that ``apply``/``clear`` turn.
    """

    match: SyscallMatch
    errno: int
    nth: tuple[int, ...] = ()
    interface: str | None = None
    window: tuple[float, float | None] | None = None
    enabled: bool = True
    armed_at: float = field(default_factory=time.monotonic)
    seen: int = 0
    failed: list[int] = field(default_factory=list)

    def arm(self, enabled: bool) -> None:
        """Switch the rule on (restarting its window clock) or off."""
        if enabled:
            self.armed_at = time.monotonic()
        self.enabled = enabled

    def decide(self, call: Call, interface_of: Callable[[Call], str | None]) -> int | None:
        """The errno to fail ``call`` with, or None to let it through."""
        if not self.match.matches(call.nr, call.args):
            return None
        if self.interface is not None and interface_of(call) != self.interface:
            return None
        self.seen += 1
        if not self.enabled or (self.nth and self.seen not in self.nth):
            return None
        if not self._in_window():
            return None
        self.failed.append(self.seen)
        return self.errno

    def _in_window(self) -> bool:
        if self.window is None:
            return True
        elapsed = time.monotonic() - self.armed_at
        start, end = self.window
        return elapsed >= start and (end is None or elapsed < end)


class Supervisor:
    """Serves one router's notify fd in a harness thread, by a list of NotifyRules."""

    def __init__(self, rules: list[NotifyRule] | None = None) -> None:
        self.rules: list[NotifyRule] = list(rules or [])
        self.parent_end, self.child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.errors: list[str] = []
        self.handled = 0
        self.recorders: list[Recorder] = []
        self._stop = threading.Event()
        self._listener: int | None = None
        self._thread = threading.Thread(target=self._run, name="faultlab-supervisor", daemon=True)
        self._started = False
        self.want_sync_wakeup = True  # ask for it (bench/faults.py times it off too)
        self.sync_wakeup = False  # the kernel hands each call over on one CPU (Linux 6.6+)
        self.cpu_seconds = 0.0  # the serving thread's CPU time: its cost per call is this/handled

    def add(self, rule: NotifyRule) -> NotifyRule:
        self.rules.append(rule)
        return rule

    def record(self, recorder: Recorder) -> Recorder:
        """Record-only mode (faultlab explore): ``recorder(call, interface_of)`` sees every
        notified call before the rules; with no rule each call continues unchanged
        (SECCOMP_USER_NOTIF_FLAG_CONTINUE), so the router runs as it would unsupervised."""
        self.recorders.append(recorder)
        return recorder

    def start(self) -> None:
        """Start serving; the thread first waits for the child to send its listener fd."""
        if not self._started:
            self._started = True
            self._thread.start()

    def close(self, timeout: float = 2.0) -> None:
        """Stop the thread and close every fd; pending calls of a live router then get ENOSYS."""
        self._stop.set()
        if self._started:
            self._thread.join(timeout)
        for sock in (self.parent_end, self.child_end):
            sock.close()
        if self._listener is not None:
            os.close(self._listener)
            self._listener = None

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def wait_attached(self, timeout: float) -> bool:
        """True once the listener fd arrived from the child (within ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        while self._listener is None and time.monotonic() < deadline and self.running:
            self._stop.wait(0.005)
        return self._listener is not None

    def _run(self) -> None:
        listener = self._receive_listener()
        if listener is None:
            return
        self.child_end.close()
        self.sync_wakeup = self.want_sync_wakeup and _sync_wakeup(listener)
        started = time.thread_time()
        try:
            self._serve(listener)
        finally:
            self.cpu_seconds = time.thread_time() - started

    def _serve(self, listener: int) -> None:
        ready = select.poll()
        ready.register(listener, select.POLLIN)
        while not self._stop.is_set():
            events = ready.poll(POLL_TICK_MS)
            if any(mask & (select.POLLHUP | select.POLLERR) for _, mask in events):
                return
            if events:
                self._serve_one(listener)

    def _receive_listener(self) -> int | None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self.parent_end], [], [], POLL_TICK_MS / 1000)
            if not ready:
                continue
            announcement = self.parent_end.recv(64)
            listener = _take_listener(announcement)
            if listener is None:
                return None
            self._listener = listener
            self.parent_end.send(b"K")
            return listener
        return None

    def _serve_one(self, listener: int) -> None:
        call = _receive(listener)
        if call is None:
            return
        self.handled += 1
        error = None
        try:
            error = self._decide(call)
        except Exception as exc:  # the router must never hang on a harness bug: let it through
            self.errors.append(f"{type(exc).__name__}: {exc}")
        _respond(listener, call.id, error)

    def _decide(self, call: Call) -> int | None:
        if not self.recorders and all(rule.interface is None for rule in self.rules):
            for rule in self.rules:  # no interface to learn: no resolver to build and close
                error = rule.decide(call, _no_interface)
                if error is not None:
                    return error
            return None
        resolver = _InterfaceResolver()
        try:
            for recorder in self.recorders:
                recorder(call, resolver)
            for rule in self.rules:
                error = rule.decide(call, resolver)
                if error is not None:
                    return error
            return None
        finally:
            resolver.close()


def _no_interface(_call: Call) -> str | None:
    return None


def _sync_wakeup(listener: int) -> bool:
    """Ask for SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (Linux 6.6): the kernel then wakes this thread
    on the router's CPU when a call arrives, and the router on this thread's CPU when it is
    answered, instead of waking an idle CPU each way (an inter-processor interrupt, which costs
    tens of microseconds in a virtual machine). False on an older kernel: it works without."""
    try:
        fcntl.ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP)
    except OSError:
        return False
    return True


def _take_listener(announcement: bytes) -> int | None:
    """Copy the child's listener fd, announced as b"PID FD", into this process."""
    try:
        pid, fd = (int(part) for part in announcement.split())
        pidfd = os.pidfd_open(pid)
    except (ValueError, OSError):
        return None
    try:
        dup = _libc.syscall(syscall_number("pidfd_getfd"), pidfd, fd, 0)
    finally:
        os.close(pidfd)
    return dup if dup >= 0 else None


_NOTIF = struct.Struct("QIIiIQ6Q")  # struct seccomp_notif: id, pid, flags, seccomp_data


def _receive(listener: int) -> Call | None:
    buf = bytearray(80)
    try:
        fcntl.ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, buf, True)
    except OSError as exc:
        if exc.errno in (errno_mod.ENOENT, errno_mod.EINTR):
            return None  # the calling thread was killed or interrupted before we read it
        raise
    ident, pid, _flags, nr, _arch, _ip, *args = _NOTIF.unpack_from(buf)
    return Call(ident, pid, nr, tuple(args))


def _respond(listener: int, ident: int, error: int | None) -> None:
    if error is None:
        resp = struct.pack("QqiI", ident, 0, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE)
    else:
        resp = struct.pack("QqiI", ident, 0, -error, 0)
    try:
        fcntl.ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, bytearray(resp), True)
    except OSError as exc:
        if exc.errno != errno_mod.ENOENT:
            raise


class _InterfaceResolver:
    """Works out which interface one notified call concerns (memoised for that call)."""

    def __init__(self) -> None:
        self._cache: dict[int, str | None] = {}
        self._socks: list[socket.socket] = []

    def __call__(self, call: Call) -> str | None:
        if call.id not in self._cache:
            self._cache[call.id] = self._resolve(call)
        return self._cache[call.id]

    def close(self) -> None:
        for sock in self._socks:
            sock.close()

    def _resolve(self, call: Call) -> str | None:
        name = SYSCALL_NAMES.get(call.nr) or _load_names().get(call.nr)
        if name == "setsockopt":
            return self._from_setsockopt(call)
        if name == "bind":
            return self._from_sockaddr(call, call.args[1])
        if name == "epoll_ctl":
            return self._from_socket(call, call.args[2])
        if name in {"sendto", "sendmsg", "recvfrom", "recvmsg", "getsockopt", "connect"}:
            return self._from_socket(call, call.args[0])
        if name == "ioctl" and _takes_ifreq(call.args[1]):  # struct ifreq: its name
            raw = _read_memory(call.pid, call.args[2], IFNAMSIZ)
            return raw.split(b"\0", 1)[0].decode(errors="replace") or None
        return None

    def _from_setsockopt(self, call: Call) -> str | None:
        level, optname, optval, optlen = call.args[1], call.args[2], call.args[3], call.args[4]
        if level == socket.SOL_SOCKET and optname == socket.SO_BINDTODEVICE:
            raw = _read_memory(call.pid, optval, min(optlen, IFNAMSIZ))
            return raw.split(b"\0", 1)[0].decode(errors="replace")
        if level == socket.IPPROTO_IP and optname in _MREQ_OPTIONS:
            found = self._from_mreq(call, optval, optlen)
            if found:
                return found
        return self._from_socket(call, call.args[0])

    def _from_mreq(self, call: Call, optval: int, optlen: int) -> str | None:
        raw = _read_memory(call.pid, optval, min(optlen, 12))
        sock = self._target_socket(call, call.args[0])
        if sock is None:
            return None
        if call.args[2] == socket.IP_MULTICAST_IF and len(raw) == 4:
            return _name_of_address(sock, raw)
        if len(raw) >= 12 and struct.unpack_from("i", raw, 8)[0] > 0:
            return _name_of_index(sock, struct.unpack_from("i", raw, 8)[0])
        offset = 4 if call.args[2] == socket.IP_ADD_MEMBERSHIP else 0
        return _name_of_address(sock, raw[offset : offset + 4]) if len(raw) >= 8 else None

    def _from_sockaddr(self, call: Call, address: int) -> str | None:
        """The interface a bind(2) address names: an IPv4 address's holder, or for a packet
        socket (sockaddr_ll: family, protocol, ifindex) the interface by index."""
        raw = _read_memory(call.pid, address, 8)
        sock = self._target_socket(call, call.args[0])
        if sock is None or len(raw) < 8:
            return None
        if struct.unpack_from("H", raw)[0] == socket.AF_PACKET:
            return _name_of_index(sock, struct.unpack_from("i", raw, 4)[0])
        return _name_of_address(sock, raw[4:8])

    def _from_socket(self, call: Call, fd: int) -> str | None:
        sock = self._target_socket(call, fd)
        if sock is None:
            return None
        try:
            bound = sock.getsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, IFNAMSIZ)
        except OSError:
            return None
        name = bound.split(b"\0", 1)[0].decode()
        if name:
            return name
        if sock.family == socket.AF_PACKET:  # getsockname: (ifname, protocol, ...)
            try:
                return str(sock.getsockname()[0]) or None
            except OSError:
                return None
        try:
            address = socket.inet_aton(sock.getsockname()[0])
        except OSError:
            return None
        return _name_of_address(sock, address)

    def _target_socket(self, call: Call, fd: int) -> socket.socket | None:
        try:
            pidfd = os.pidfd_open(call.pid)
        except OSError:
            return None
        try:
            dup = _libc.syscall(syscall_number("pidfd_getfd"), pidfd, int(fd), 0)
        finally:
            os.close(pidfd)
        if dup < 0:
            return None
        try:
            sock = socket.socket(fileno=dup)
        except OSError:
            os.close(dup)
            return None
        self._socks.append(sock)
        return sock


def _takes_ifreq(request: int) -> bool:
    """A socket ioctl whose argument is a struct ifreq (every SIOC*IF* but SIOCGIFCONF)."""
    return request & 0xFF00 == SIOC_BASE and request != SIOCGIFCONF


_MREQ_OPTIONS = {socket.IP_ADD_MEMBERSHIP, socket.IP_DROP_MEMBERSHIP, socket.IP_MULTICAST_IF}
#: syscall number -> name, for the calls the supervisor resolves an interface for (run scope).
SYSCALL_NAMES: caches.Cache[int, str] = caches.cache(
    "faults.supervisor.SYSCALL_NAMES", "run", "numbers of the calls the supervisor reads"
)


def _load_names() -> caches.Cache[int, str]:
    if not SYSCALL_NAMES:
        for name in (
            "setsockopt",
            "getsockopt",
            "bind",
            "epoll_ctl",
            "sendto",
            "sendmsg",
            "recvfrom",
            "recvmsg",
            "socket",
            "epoll_create1",
            "epoll_create",
            "ioctl",
            "connect",
        ):
            SYSCALL_NAMES[syscall_number(name)] = name
    return SYSCALL_NAMES


def _read_memory(pid: int, address: int, length: int) -> bytes:
    try:
        fd = os.open(f"/proc/{pid}/mem", os.O_RDONLY)
    except OSError:
        return b""
    try:
        return os.pread(fd, length, address)
    except OSError:
        return b""
    finally:
        os.close(fd)


def _name_of_index(sock: socket.socket, index: int) -> str | None:
    request = struct.pack("16si20x", b"", index)
    try:
        answer = fcntl.ioctl(sock.fileno(), SIOCGIFNAME, request)
    except OSError:
        return None
    return answer[:IFNAMSIZ].split(b"\0", 1)[0].decode()


def _name_of_address(sock: socket.socket, address: bytes) -> str | None:
    """The interface (in the socket's namespace) that holds IPv4 ``address``."""
    buf = ctypes.create_string_buffer(40 * 128)
    request = struct.pack("i4xQ", len(buf), ctypes.addressof(buf))
    try:
        answer = fcntl.ioctl(sock.fileno(), SIOCGIFCONF, request)
    except OSError:
        return None
    length = struct.unpack("i4xQ", answer)[0]
    for offset in range(0, length, 40):
        entry = buf.raw[offset : offset + 40]
        if entry[20:24] == address:
            return entry[:IFNAMSIZ].split(b"\0", 1)[0].decode()
    return None
