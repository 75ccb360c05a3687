"""Entering network namespaces in-process: create, enter and leave, remove.

Python 3.11 has no ``os.setns``/``os.unshare``, so these call libc through ctypes. A network
namespace is a property of the calling *thread*: ``entered(fd)`` moves this thread into a
namespace and always moves it back, so no other thread (and no code after the ``with``) ever
runs in the wrong namespace. Creating a namespace in-process (unshare on this thread, bind-mount
``/proc/thread-self/ns/net`` to ``/run/netns/NAME``, step back) costs about 0.5 ms, against a
forked helper per namespace in ``pyroute2.netns.create``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import fcntl
import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

NETNS_DIR = Path("/run/netns")
CLONE_NEWNET = 0x40000000
MS_BIND = 0x1000
MS_REC = 0x4000
MS_SHARED = 1 << 20
MNT_DETACH = 0x2
THIS_THREAD_NETNS = "/proc/thread-self/ns/net"
RUNDIR_LOCK = Path("/run/faultlab/netns-mount.lock")

T = TypeVar("T")

_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
_rundir_lock = threading.Lock()
_rundir_ready = False


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")


def setns(fd: int) -> None:
    """Move the calling thread into the network namespace open as ``fd``."""
    _check(_libc.setns(fd, CLONE_NEWNET), "setns")


def open_netns(name: str) -> int:
    """An O_CLOEXEC file descriptor of namespace ``name`` (in /run/netns)."""
    return os.open(NETNS_DIR / name, os.O_RDONLY | os.O_CLOEXEC)


def current_netns_fd() -> int:
    """A file descriptor of the calling thread's network namespace."""
    return os.open(THIS_THREAD_NETNS, os.O_RDONLY | os.O_CLOEXEC)


@contextmanager
def entered(fd: int) -> Iterator[None]:
    """Run the ``with`` body on this thread inside namespace ``fd``, then come back."""
    home = current_netns_fd()
    try:
        setns(fd)
        try:
            yield
        finally:
            setns(home)
    finally:
        os.close(home)


def call_in(fd: int, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
    """Call ``fn`` inside namespace ``fd`` on this thread and return its result."""
    with entered(fd):
        return fn(*args, **kwargs)


def socket_in(fd: int, family: int, type: int, proto: int = 0) -> socket.socket:
    """A socket that lives in namespace ``fd`` (sockets keep the namespace they were born in)."""
    return call_in(fd, socket.socket, family, type, proto)


def _prepare_rundir() -> None:
    """Make /run/netns a shared mount point once per process, as ``ip netns add`` does.

    The first time on a host it is not a mount point yet; then it is bind-mounted on itself
    under a file lock, so two processes starting at once (pytest-xdist workers) never stack
    two mounts there (which would hide the namespaces made under the lower one).
    """
    global _rundir_ready
    with _rundir_lock:
        if _rundir_ready:
            return
        NETNS_DIR.mkdir(parents=True, exist_ok=True)
        if not _make_shared():
            RUNDIR_LOCK.parent.mkdir(parents=True, exist_ok=True)
            with open(RUNDIR_LOCK, "a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                if not _make_shared():
                    path = bytes(NETNS_DIR)
                    _check(
                        _libc.mount(path, path, b"none", MS_BIND | MS_REC, None), "bind /run/netns"
                    )
                    _check(
                        _libc.mount(b"", path, b"none", MS_SHARED | MS_REC, None),
                        "share /run/netns",
                    )
        _rundir_ready = True


def _make_shared() -> bool:
    """Mark /run/netns shared; False if it is not a mount point yet."""
    return _libc.mount(b"", bytes(NETNS_DIR), b"none", MS_SHARED | MS_REC, None) == 0


def create_netns(name: str, inside: Callable[[], T]) -> tuple[int, T]:
    """Create namespace ``name``; return its fd and what ``inside()`` returned, run in it.

    ``inside`` is where the caller opens what must be born in the namespace (its netlink
    socket) and writes its first sysctls. FileExistsError if the name is taken. On failure the
    half-made namespace is removed again.
    """
    _prepare_rundir()
    path = NETNS_DIR / name
    os.close(os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0))
    try:
        return _populate(path, inside)
    except BaseException:
        remove_netns(name)
        raise


def _populate(path: Path, inside: Callable[[], T]) -> tuple[int, T]:
    home = current_netns_fd()
    try:
        _check(_libc.unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)")
        try:
            _check(
                _libc.mount(THIS_THREAD_NETNS.encode(), bytes(path), b"none", MS_BIND, None),
                f"bind-mount {path}",
            )
            fd = current_netns_fd()
            try:
                return fd, inside()
            except BaseException:
                os.close(fd)
                raise
        finally:
            setns(home)
    finally:
        os.close(home)


def remove_netns(name: str) -> None:
    """Unmount and delete /run/netns/NAME; the kernel frees it once nothing holds it open."""
    path = NETNS_DIR / name
    if _libc.umount2(bytes(path), MNT_DETACH) != 0:
        code = ctypes.get_errno()
        if code not in (errno.EINVAL, errno.ENOENT):  # not mounted (half made) or gone
            raise OSError(code, f"umount {path}: {os.strerror(code)}")
    path.unlink(missing_ok=True)


def netns_names() -> list[str]:
    """The names in /run/netns."""
    try:
        return sorted(os.listdir(NETNS_DIR))
    except FileNotFoundError:
        return []


def netns_identity(path: str | Path) -> tuple[int, int] | None:
    """(st_dev, st_ino) of a namespace file: equal identities mean the same namespace."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return st.st_dev, st.st_ino
