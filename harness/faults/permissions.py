"""Permissions: the router started without CAP_NET_RAW (EPERM at socket creation)."""

from __future__ import annotations

import ctypes
from typing import ClassVar

from harness.catalog import Step
from harness.faults.base import Fault, Launch

CAP_NET_RAW = 13
PR_CAPBSET_DROP = 24
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
LINUX_CAPABILITY_VERSION_3 = 0x20080522


class _Header(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _Data(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


class DropNetRaw:
    """Preexec callable: drop CAP_NET_RAW from the bounding, inheritable and ambient sets.

    After exec the router has neither CAP_NET_RAW nor a way to regain it, even as root; every
    other capability (CAP_NET_ADMIN for MRT_INIT, ...) stays.
    """

    def __init__(self) -> None:
        self._libc = ctypes.CDLL(None, use_errno=True)
        self._header = _Header(LINUX_CAPABILITY_VERSION_3, 0)
        self._data = (_Data * 2)()

    def __call__(self) -> None:
        libc = self._libc
        if libc.prctl(PR_CAPBSET_DROP, CAP_NET_RAW, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP, CAP_NET_RAW)")
        libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
        if libc.capget(ctypes.byref(self._header), self._data) != 0:
            raise OSError(ctypes.get_errno(), "capget")
        bit = ~(1 << CAP_NET_RAW) & 0xFFFFFFFF
        for field in ("effective", "permitted", "inheritable"):
            setattr(self._data[0], field, getattr(self._data[0], field) & bit)
        if libc.capset(ctypes.byref(self._header), self._data) != 0:
            raise OSError(ctypes.get_errno(), "capset")


class NoCapNetRaw(Fault):
    """The router runs without CAP_NET_RAW: its raw IGMP socket is refused (EPERM)."""

    kind: ClassVar[str] = "no-cap-net-raw"
    steps: ClassVar[tuple[Step, ...]] = (Step.CREATE_SOCKET,)
    summary: ClassVar[str] = "the router was started without the raw-socket capability"

    def prepare(self, launch: Launch) -> None:
        launch.preexec.append(DropNetRaw())
