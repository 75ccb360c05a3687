"""Seccomp filters for a router process: compiled in the harness, installed in the child.

A filter is built from ``SyscallMatch`` rules with libseccomp (through pyseccomp) in the harness
process and exported as a BPF program. The child, after it entered the router's namespace and
just before ``exec``, installs that ready program with one ``seccomp(2)`` call: nothing is
allocated or compiled between ``fork`` and ``exec``. The filter survives ``exec``, so it breaks a
C daemon exactly as it breaks a Python one (no LD_PRELOAD, no ptrace).

Rules act as ``SECCOMP_RET_ERRNO`` (the kernel fails the matching call, no per-call cost) or
``SECCOMP_RET_USER_NOTIF`` (the call waits for the supervisor, see supervisor.py, which decides).
All rules of one launch go into one filter, so at most one notify fd exists per router.
"""

from __future__ import annotations

import ctypes
import os
import socket
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field

from harness import caches
from harness.errors import FaultConfigError, MissingCapability

SECCOMP_SET_MODE_FILTER = 1
SECCOMP_FILTER_FLAG_NEW_LISTENER = 1 << 3
PR_SET_NO_NEW_PRIVS = 38
FULL_INT = 0xFFFFFFFF


@dataclass(frozen=True)
class ArgMatch:
    """Argument ``index`` of a syscall, masked with ``mask``, must equal ``value``."""

    index: int
    value: int
    mask: int = FULL_INT

    def matches(self, args: tuple[int, ...] | list[int]) -> bool:
        return (args[self.index] & self.mask) == (self.value & self.mask)


@dataclass(frozen=True)
class SyscallMatch:
    """A syscall by name with integer-argument matches, e.g. setsockopt level 0 optname 3."""

    syscall: str
    args: tuple[ArgMatch, ...] = ()
    label: str = ""

    def matches(self, nr: int, args: tuple[int, ...] | list[int]) -> bool:
        return nr == syscall_number(self.syscall) and all(a.matches(args) for a in self.args)

    def describe(self) -> str:
        if self.label:
            return self.label
        parts = [f"arg{a.index}={a.value:#x}" for a in self.args]
        return " ".join([self.syscall, *parts])


def _pyseccomp():  # type: ignore[no-untyped-def]
    try:
        import pyseccomp
    except (ImportError, RuntimeError) as exc:
        raise MissingCapability(f"seccomp faults need libseccomp and pyseccomp: {exc}") from exc
    return pyseccomp


def syscall_number(name: str) -> int:
    """The native syscall number of ``name``; FaultConfigError for a name libseccomp lacks."""
    return _syscall_numbers(name)


#: syscall name -> this architecture's number (libseccomp's table: the same for the whole run).
SYSCALL_NUMBERS: caches.Cache[str, int] = caches.cache(
    "faults.filters.SYSCALL_NUMBERS", "run", "libseccomp's syscall numbers"
)


def _syscall_numbers(name: str) -> int:
    if name not in SYSCALL_NUMBERS:
        sc = _pyseccomp()
        number = sc._libseccomp.seccomp_syscall_resolve_name(name.encode())
        if number < 0:
            raise FaultConfigError(f"syscall {name!r} is unknown on this architecture")
        SYSCALL_NUMBERS[name] = int(number)
    return SYSCALL_NUMBERS[name]


def _setup_resolver() -> None:
    sc = _pyseccomp()
    sc._libseccomp.seccomp_syscall_resolve_name.argtypes = (ctypes.c_char_p,)
    sc._libseccomp.seccomp_syscall_resolve_name.restype = ctypes.c_int


@dataclass
class SeccompPlan:
    """Every seccomp rule of one router launch, compiled into one filter."""

    errno_rules: list[tuple[SyscallMatch, int]] = field(default_factory=list)
    notify_rules: list[SyscallMatch] = field(default_factory=list)

    def add_errno(self, match: SyscallMatch, errno_value: int) -> None:
        self.errno_rules.append((match, errno_value))

    def add_notify(self, match: SyscallMatch) -> None:
        if match not in self.notify_rules:
            self.notify_rules.append(match)

    def __bool__(self) -> bool:
        return bool(self.errno_rules or self.notify_rules)

    def compile(self) -> bytes:
        """The BPF program (struct sock_filter array) for these rules; default action ALLOW."""
        sc = _pyseccomp()
        _setup_resolver()
        flt = sc.SyscallFilter(sc.ALLOW)
        try:
            for match, errno_value in self.errno_rules:
                flt.add_rule(sc.ERRNO(errno_value), match.syscall, *_libseccomp_args(sc, match))
            for match in self.notify_rules:
                flt.add_rule(sc.NOTIFY, match.syscall, *_libseccomp_args(sc, match))
        except OSError as exc:
            raise FaultConfigError(
                f"seccomp rules conflict or are invalid ({exc.strerror}): "
                + "; ".join(m.describe() for m, _ in self.errno_rules)
                + "; ".join(m.describe() for m in self.notify_rules)
            ) from exc
        with tempfile.TemporaryFile() as out:
            flt.export_bpf(out)
            out.seek(0)
            return out.read()

    def installer(self, send_listener: socket.socket | None = None) -> Callable[[], None]:
        """A preexec callable that installs the compiled filter in the child.

        With notify rules, the child sends the listener fd over ``send_listener`` (one end of a
        socketpair whose other end the supervisor holds) and closes its copies before ``exec``.
        """
        return FilterInstaller(self.compile(), bool(self.notify_rules), send_listener)


def _libseccomp_args(sc, match: SyscallMatch) -> list:  # type: ignore[no-untyped-def]
    return [sc.Arg(a.index, sc.MASKED_EQ, a.mask, a.value) for a in match.args]


class FilterInstaller:
    """Installs a precompiled BPF filter with seccomp(2); runs between fork and exec."""

    def __init__(self, bpf: bytes, listener: bool, channel: socket.socket | None) -> None:
        self._buffer = ctypes.create_string_buffer(bpf, len(bpf))
        self._prog = _SockFprog(len(bpf) // 8, ctypes.addressof(self._buffer))
        self._flags = SECCOMP_FILTER_FLAG_NEW_LISTENER if listener else 0
        self._channel = channel
        self._libc = ctypes.CDLL(None, use_errno=True)
        self._nr = syscall_number("seccomp")

    def __call__(self) -> None:
        fd = self._install()
        if self._channel is not None and fd >= 0:
            self._hand_over(fd)

    def _hand_over(self, fd: int) -> None:
        """Let the supervisor take the listener, using only write(2) and read(2).

        The filter is already active here, so sendmsg/sendto may themselves be supervised calls:
        passing the fd with SCM_RIGHTS would wait forever for a supervisor that has no listener
        yet. The child announces "PID FD" instead, the supervisor copies the fd with
        pidfd_getfd(2), and the child waits for its acknowledgement before exec closes the
        (close-on-exec) listener.
        """
        channel = self._channel.fileno()
        os.write(channel, f"{os.getpid()} {fd}".encode())
        os.read(channel, 1)
        os.close(fd)
        self._channel.close()

    def _install(self) -> int:
        result = self._seccomp()
        if result < 0 and ctypes.get_errno() == 13:  # EACCES: no CAP_SYS_ADMIN, needs NNP
            self._libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
            result = self._seccomp()
        if result < 0:
            code = ctypes.get_errno()
            raise OSError(code, f"seccomp filter install failed: {os.strerror(code)}")
        return result

    def _seccomp(self) -> int:
        return int(
            self._libc.syscall(
                self._nr, SECCOMP_SET_MODE_FILTER, self._flags, ctypes.byref(self._prog)
            )
        )


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
