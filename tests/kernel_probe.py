"""The running kernel's facts, probed independently of the doctor (so tests can check it).

Each probe runs in a forked child that enters a network namespace of its own (unshare), so it
sees what a lab sees and leaves nothing behind.
"""

from __future__ import annotations

import ctypes
import functools
import os
import socket
import struct

MRT_INIT = 200


def _unshare_netns() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(0x40000000) != 0:  # CLONE_NEWNET
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNET)")


def _in_new_netns(probe: str) -> int:
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            _unshare_netns()
            code = _PROBES[probe]()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _mrt_init() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_IGMP) as sock:
        try:
            sock.setsockopt(socket.IPPROTO_IP, MRT_INIT, struct.pack("i", 1))
        except OSError as exc:
            return 10 if exc.errno else 11
    return 0


_PROBES = {"mrt": _mrt_init}


@functools.cache
def kernel_has_mrt() -> bool:
    """True when MRT_INIT works in a fresh network namespace (CONFIG_IP_MROUTE)."""
    return _in_new_netns("mrt") == 0
