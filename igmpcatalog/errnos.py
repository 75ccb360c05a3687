"""The socket error table: Linux errno names and numbers, and the Winsock codes Windows reports.

Every message shows an errno as ``describe_errno(n)``: ``ENOBUFS (No buffer space available)``.
"""

from __future__ import annotations

import errno as _errno
import os

# Linux errno -> Winsock code (10000 + the BSD number; never errno + 10000).
# One row per condition in the User Action text and the socket errors a router meets.
WINSOCK: dict[str, int] = {
    "ENOBUFS": 10055,
    "ENOMEM": 8,  # ERROR_NOT_ENOUGH_MEMORY
    "EINVAL": 10022,
    "ESOCKTNOSUPPORT": 10044,
    "EAFNOSUPPORT": 10047,
    "EADDRINUSE": 10048,
    "EISCONN": 10056,
    "EHOSTUNREACH": 10065,
    "ENETUNREACH": 10051,
    "EACCES": 10013,
    "EPERM": 10013,  # a raw socket without CAP_NET_RAW; Windows says access denied
    "EADDRNOTAVAIL": 10049,
    "ENETDOWN": 10050,
    "EMFILE": 10024,
    "ENFILE": 10024,
    "ENOPROTOOPT": 10042,
    "EAGAIN": 10035,
    "EPROTONOSUPPORT": 10043,
    "EOPNOTSUPP": 10045,
    "ENOTSOCK": 10038,
    "EBADF": 10009,
    "EFAULT": 10014,
    "EMSGSIZE": 10040,
    "ENODEV": 10051,  # no such device: Windows reports the network unreachable
    "ECONNREFUSED": 10061,
    "EINTR": 10004,
    "ENOSPC": 10055,
}

# Winsock code -> the Linux errno a reproduction uses (the first, most specific, name wins).
WINSOCK_TO_ERRNO: dict[int, str] = {}
for _name, _code in WINSOCK.items():
    WINSOCK_TO_ERRNO.setdefault(_code, _name)


class UnknownErrno(ValueError):
    """An errno given by name, number or Winsock code that this table does not know."""


def errno_number(value: int | str) -> int:
    """Resolve an error given by name ("EADDRINUSE"), errno number (98) or Winsock code (10048)."""
    if isinstance(value, str):
        text = value.strip()
        if text.upper().startswith("E") and hasattr(_errno, text.upper()):
            return int(getattr(_errno, text.upper()))
        if text.upper().startswith("WSAE"):
            name = "E" + text.upper()[4:]
            if hasattr(_errno, name):
                return int(getattr(_errno, name))
        if not text.isdigit():
            raise UnknownErrno(f"unknown error name {value!r}")
        value = int(text)
    if value >= 10000:
        if value not in WINSOCK_TO_ERRNO:
            raise UnknownErrno(
                f"Winsock code {value} has no Linux equivalent in the catalog's table"
            )
        return int(getattr(_errno, WINSOCK_TO_ERRNO[value]))
    if value not in _errno.errorcode:
        raise UnknownErrno(f"unknown errno number {value}")
    return value


def errno_from_winsock(code: int) -> int:
    """The Linux errno for a Winsock code read from a Windows event (10048 -> 98, 8 -> ENOMEM)."""
    if code not in WINSOCK_TO_ERRNO:
        raise UnknownErrno(f"Winsock code {code} has no Linux equivalent in the catalog's table")
    return int(getattr(_errno, WINSOCK_TO_ERRNO[code]))


def errno_name(number: int) -> str:
    """The symbolic name of a Linux errno (98 -> "EADDRINUSE")."""
    return _errno.errorcode.get(number, f"E{number}")


def winsock_code(number: int) -> int | None:
    """The Winsock code a Windows router would report for this Linux errno, if there is one."""
    return WINSOCK.get(errno_name(number))


def describe_errno(number: int) -> str:
    """Human form used in every message: "ENOBUFS (No buffer space available)"."""
    return f"{errno_name(number)} ({os.strerror(number)})"
