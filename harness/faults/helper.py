"""Helper processes a real-cause fault starts in the router's namespace.

    python -m harness.faults.helper hold-mrt READY_FD        # MRT_INIT, then hold it until killed
    python -m harness.faults.helper add-vif VIFI IFINDEX     # leave a static VIF, then exit
    python -m harness.faults.helper del-vif VIFI             # remove that VIF, then exit

``hold-mrt`` is "another multicast router" (mrouted, pimd, smcroute) holding the namespace's
multicast-routing socket; it writes "ready" to READY_FD once it holds it. ``add-vif`` adds the VIF
from a socket that is *not* the multicast-routing socket, so the kernel marks it VIFF_STATIC and
it outlives the process, as a VIF left by a crashed router does.
"""

from __future__ import annotations

import os
import signal
import socket
import struct
import sys

from harness.faults.constants import MRT_ADD_VIF, MRT_DEL_VIF, MRT_INIT, VIFF_USE_IFINDEX


def igmp_socket() -> socket.socket:
    return socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_IGMP)


def vifctl(vifi: int, ifindex: int) -> bytes:
    """struct vifctl with VIFF_USE_IFINDEX (vifi, flags, threshold, rate, ifindex, remote)."""
    return struct.pack("HBBIi4s", vifi, VIFF_USE_IFINDEX, 1, 0, ifindex, b"\0" * 4)


def hold_mrt(ready_fd: int) -> int:
    sock = igmp_socket()
    sock.setsockopt(socket.IPPROTO_IP, MRT_INIT, struct.pack("i", 1))
    os.write(ready_fd, b"ready\n")
    os.close(ready_fd)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    sock.close()
    return 0


def add_vif(vifi: int, ifindex: int) -> int:
    with igmp_socket() as sock:
        sock.setsockopt(socket.IPPROTO_IP, MRT_ADD_VIF, vifctl(vifi, ifindex))
    return 0


def del_vif(vifi: int) -> int:
    with igmp_socket() as sock:
        sock.setsockopt(socket.IPPROTO_IP, MRT_DEL_VIF, vifctl(vifi, 0))
    return 0


def main(argv: list[str]) -> int:
    verb, args = argv[0], [int(a) for a in argv[1:]]
    if verb == "hold-mrt":
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
        return hold_mrt(args[0])
    if verb == "add-vif":
        return add_vif(*args)
    if verb == "del-vif":
        return del_vif(*args)
    print(f"unknown helper command {verb!r}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
