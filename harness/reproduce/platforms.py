"""Errno numbers in the numbering of the platform that logged them, told in Linux terms.

A log from FreeBSD (pfSense, OPNsense run igmpproxy, smcroute, pimd and FRR on it) numbers its
errors the BSD way: ``Errno(48)`` there is EADDRINUSE, which Linux numbers 98 (48 on Linux is
ELNRNG, nothing a router meets). ``FREEBSD_ERRNO`` is FreeBSD's sys/sys/errno.h; a log is
taken for FreeBSD when its lines say so (``HINTS``), or when a number and the text beside it
agree only in FreeBSD's numbering; ``--platform`` says it outright.
"""

from __future__ import annotations

import errno as _errno
import os
import re
from collections.abc import Iterable

PLATFORMS: tuple[str, ...] = ("linux", "freebsd")

#: FreeBSD's errno numbers (sys/sys/errno.h, FreeBSD 13/14).
FREEBSD_ERRNO: dict[int, str] = dict(
    enumerate(
        (
            "EPERM ENOENT ESRCH EINTR EIO ENXIO E2BIG ENOEXEC EBADF ECHILD EDEADLK ENOMEM EACCES "
            "EFAULT ENOTBLK EBUSY EEXIST EXDEV ENODEV ENOTDIR EISDIR EINVAL ENFILE EMFILE ENOTTY "
            "ETXTBSY EFBIG ENOSPC ESPIPE EROFS EMLINK EPIPE EDOM ERANGE EAGAIN EINPROGRESS "
            "EALREADY ENOTSOCK EDESTADDRREQ EMSGSIZE EPROTOTYPE ENOPROTOOPT EPROTONOSUPPORT "
            "ESOCKTNOSUPPORT EOPNOTSUPP EPFNOSUPPORT EAFNOSUPPORT EADDRINUSE EADDRNOTAVAIL "
            "ENETDOWN ENETUNREACH ENETRESET ECONNABORTED ECONNRESET ENOBUFS EISCONN ENOTCONN "
            "ESHUTDOWN ETOOMANYREFS ETIMEDOUT ECONNREFUSED ELOOP ENAMETOOLONG EHOSTDOWN "
            "EHOSTUNREACH ENOTEMPTY EPROCLIM EUSERS EDQUOT ESTALE EREMOTE EBADRPC ERPCMISMATCH "
            "EPROGUNAVAIL EPROGMISMATCH EPROCUNAVAIL ENOLCK ENOSYS EFTYPE EAUTH ENEEDAUTH EIDRM "
            "ENOMSG EOVERFLOW ECANCELED EILSEQ ENOATTR EDOOFUS EBADMSG EMULTIHOP ENOLINK EPROTO "
            "ENOTCAPABLE ECAPMODE ENOTRECOVERABLE EOWNERDEAD EINTEGRITY"
        ).split(),
        start=1,
    )
)
#: FreeBSD's strerror texts where they differ from the C library's here.
FREEBSD_TEXTS: dict[str, str] = {
    "can't assign requested address": "EADDRNOTAVAIL",
    "operation not supported": "EOPNOTSUPP",
    "no buffer space available": "ENOBUFS",
    "address already in use": "EADDRINUSE",
    "protocol not available": "ENOPROTOOPT",
    "socket is not connected": "ENOTCONN",
    "resource temporarily unavailable": "EAGAIN",
}
#: musl's strerror texts (OpenWrt, Alpine) where they differ from glibc's.
MUSL_TEXTS: dict[str, str] = {
    "address in use": "EADDRINUSE",
    "address not available": "EADDRNOTAVAIL",
    "no buffer space": "ENOBUFS",
    "network unreachable": "ENETUNREACH",
    "operation not supported": "EOPNOTSUPP",
    "protocol not supported": "EPROTONOSUPPORT",
    "resource temporarily unavailable": "EAGAIN",
    "no error information": "",
}
#: Words in a log that say it came from FreeBSD.
HINTS = re.compile(
    r"\bpfSense\b|\bOPNsense\b|\bFreeBSD\b|\bHardenedBSD\b|/usr/local/etc/|/var/etc/igmpproxy|"
    r"\bkernel: (?:ix|igb|em|vtnet|re|bge|lagg|vlan)\d+:",
    re.IGNORECASE,
)
# A number and the text beside it: "Errno(48): Address already in use", "errno=48: ...".
NUMBER_TEXT = re.compile(
    r"(?:errno[ =(:]*|error\s+)(?P<number>\d+)\)?:?\s*(?P<text>[A-Za-z'][A-Za-z' ]+[a-z])",
    re.IGNORECASE,
)
ERRNO_NUMBER = re.compile(r"(?:errno[ =(:]*|error\s+)(?P<number>\d+)\b", re.IGNORECASE)
#: Numbers that are socket errors on FreeBSD (ENOPROTOOPT 42 .. EHOSTUNREACH 65) but name
#: nothing a socket call returns on Linux (ENOMSG 42 .. ENOPKG 65): a bare one means FreeBSD.
BSD_ONLY: frozenset[int] = frozenset(range(42, 66))
NUMBER = re.compile(r"(?:errno[ =(:]*|error\s+|^\s*)(?P<number>\d+)\b", re.IGNORECASE)
_LINUX_TEXTS: dict[str, str] = {
    os.strerror(number).lower(): name for number, name in sorted(_errno.errorcode.items())
}


def linux_number(name: str) -> int | None:
    """Linux's number for an errno name (EADDRINUSE -> 98), None when Linux has no such name."""
    value = getattr(_errno, name, None)
    return value if isinstance(value, int) else None


def name_of(number: int, platform: str) -> str | None:
    """The errno name of ``number`` in ``platform``'s numbering."""
    if platform == "freebsd":
        return FREEBSD_ERRNO.get(number)
    return _errno.errorcode.get(number)


def text_name(text: str) -> str | None:
    """The errno name a strerror text stands for (glibc's, FreeBSD's or musl's), else None."""
    lowered = text.strip().lower().rstrip(".").replace(" the ", " ")  # "assign the requested"
    return (
        _LINUX_TEXTS.get(lowered) or FREEBSD_TEXTS.get(lowered) or MUSL_TEXTS.get(lowered) or None
    )


def number_in(message: str) -> int | None:
    """The errno number a log message carries (``Errno(98)``, ``errno=98``, ``error 1``)."""
    found = NUMBER.search(message)
    return int(found["number"]) if found else None


def detect(lines: Iterable[str]) -> tuple[str, str]:
    """(platform, why): FreeBSD when a hint names it or a number/text pair fits only there."""
    texts = list(lines)
    for line in texts:
        hint = HINTS.search(line)
        if hint:
            return "freebsd", f"the log names {hint.group(0)!r}"
    for line in texts:
        for found in NUMBER_TEXT.finditer(line):
            number, name = int(found["number"]), text_name(found["text"])
            if name is None:
                continue
            if _errno.errorcode.get(number) != name and FREEBSD_ERRNO.get(number) == name:
                return "freebsd", (
                    f"errno {number} is written beside {found['text'].strip()!r}: {name} is "
                    f"{number} in FreeBSD's numbering only (Linux: {linux_number(name)})"
                )
    for line in texts:
        for found in ERRNO_NUMBER.finditer(line):
            number = int(found["number"])
            if number in BSD_ONLY:
                return "freebsd", (
                    f"errno {number} is {_errno.errorcode.get(number, 'unused')} on Linux, which "
                    f"no socket call returns; on FreeBSD it is {FREEBSD_ERRNO[number]}"
                )
    return "linux", "no line names FreeBSD, pfSense or OPNsense"


def to_linux(number: int, platform: str) -> tuple[int | None, str]:
    """Linux's errno for ``number`` as ``platform`` numbers it, and a note when they differ."""
    name = name_of(number, platform)
    if name is None:
        return None, f"errno {number} has no name in {platform}'s numbering"
    linux = linux_number(name)
    if platform == "linux":
        return linux, ""
    if linux is None:
        return None, f"errno {number} is {name} on FreeBSD; Linux has no {name}"
    note = f"errno {number} is {name} on FreeBSD" + (
        f", {linux} on Linux" if linux != number else ""
    )
    return linux, note
