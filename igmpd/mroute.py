"""The namespace's multicast routing socket: MRT_INIT once per router, one VIF per interface.

Linux delivers IGMPv2 reports (sent to the group address) to a raw socket only when a
multicast router holds MRT_INIT and the interface is a VIF (IN_DEV_MFORWARD); the reports then
travel the Router Alert chain to every IGMP socket with IP_ROUTER_ALERT bound to that device.
This socket itself is never read: a classic BPF filter that drops everything keeps its queue
empty, so it needs no draining. Closing it (or the process exiting) removes the VIFs.
"""

from __future__ import annotations

import ctypes
import errno
import socket
import struct

from harness.catalog import Step
from igmpd.sockets import StepFailed

MRT_INIT = 200
MRT_ADD_VIF = 202
MRT_DEL_VIF = 203
VIFF_USE_IFINDEX = 0x8
SO_ATTACH_FILTER = 26
_DROP_ALL = struct.pack("HBBI", 0x06, 0, 0, 0)  # BPF_RET | BPF_K, 0: accept no bytes


class MrouteSocket:
    """The router's MRT socket; failures raise StepFailed for the request-multicast step."""

    def __init__(self) -> None:
        self.sock: socket.socket | None = None
        self.vifs: dict[int, int] = {}  # vif index -> ifindex
        self._filter = ctypes.create_string_buffer(_DROP_ALL)

    def ensure(self) -> None:
        """Open the socket and take MRT_INIT if not done yet (EADDRINUSE: held elsewhere)."""
        if self.sock is not None:
            return
        try:
            sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_IGMP)
        except OSError as exc:
            raise StepFailed(Step.REQUEST_MULTICAST, "MRT_INIT", exc.errno or 0) from exc
        try:
            program = struct.pack("HxxxxxxP", 1, ctypes.addressof(self._filter))
            sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, program)
            sock.setsockopt(socket.IPPROTO_IP, MRT_INIT, 1)
        except OSError as exc:
            sock.close()
            raise StepFailed(Step.REQUEST_MULTICAST, "MRT_INIT", exc.errno or 0) from exc
        self.sock = sock

    def add_vif(self, vif: int, ifindex: int) -> None:
        """Make ifindex VIF number vif (EADDRINUSE when a stale VIF holds that number)."""
        self.ensure()
        assert self.sock is not None
        self.del_vif(vif)
        control = struct.pack("HBBIi4s", vif, VIFF_USE_IFINDEX, 1, 0, ifindex, bytes(4))
        try:
            self.sock.setsockopt(socket.IPPROTO_IP, MRT_ADD_VIF, control)
        except OSError as exc:
            raise StepFailed(Step.REQUEST_MULTICAST, "MRT_ADD_VIF", exc.errno or 0) from exc
        self.vifs[vif] = ifindex

    def del_vif(self, vif: int) -> None:
        """Remove VIF vif if this router added it; errors are ignored (the device may be gone)."""
        if self.sock is None or self.vifs.pop(vif, None) is None:
            return
        control = struct.pack("HBBIi4s", vif, 0, 0, 0, 0, bytes(4))
        try:
            self.sock.setsockopt(socket.IPPROTO_IP, MRT_DEL_VIF, control)
        except OSError as exc:
            if exc.errno not in (errno.EADDRNOTAVAIL, errno.ENODEV):
                raise

    def close(self) -> None:
        """Give MRT_INIT back (the kernel removes this socket's VIFs)."""
        if self.sock is not None:
            self.sock.close()
            self.sock = None
            self.vifs.clear()
