"""The RRAS IGMPv2 event catalog and the socket error table: data, in one place.

Everything that names an event (the router that logs it, the scenario that expects it, the
report that shows it, the Windows export that carries it) reads it from here. The module uses
the standard library only, so that the router can import it without paying for the harness.

The event IDs are derived, not quoted: the Windows Server 2008 page "RRAS IGMP Socket Operation"
lost its Event ID column, and the IDs follow the IGMPv2 message-table numbering (41000 + n),
confirmed by sibling event pages (41013, 41026, 41036). See docs/events.md.
"""

from __future__ import annotations

import errno as _errno
import os
from dataclasses import dataclass
from enum import StrEnum

PROVIDER = "Microsoft-Windows-RasRoutingProtocols-IGMPv2"
LEGACY_SOURCE = "IGMPv2"


class Step(StrEnum):
    """A socket step of an IGMP router, in the catalog's order of interface activation."""

    CREATE_SOCKET = "create_socket"
    BIND = "bind"
    REQUEST_MULTICAST = "request_multicast"
    ROUTER_ALERT = "router_alert"
    HEADER_INCLUDE = "header_include"
    EVENT_SELECT = "event_select"
    SEND = "send"
    RECEIVE = "receive"


class Level(StrEnum):
    ERROR = "Error"
    WARNING = "Warning"
    INFORMATION = "Information"


@dataclass(frozen=True)
class Event:
    """One catalog event: its stable ID, symbol, level, message template and failed step."""

    id: int
    symbol: str
    level: Level
    template: str
    step: Step | None = None

    def render(self, strings: list[str] | tuple[str, ...]) -> str:
        """The message with %1, %2 ... replaced by the insertion strings."""
        text = self.template
        for index in range(len(strings), 0, -1):
            text = text.replace(f"%{index}", str(strings[index - 1]))
        return text


_DATA = " The data is the error code."

EVENTS: tuple[Event, ...] = (
    # The eight socket-operation events.
    Event(
        41012,
        "IGMPLOG_RECVFROM_FAILED",
        Level.ERROR,
        "IGMP was unable to receive an incoming message on the local interface with IP address: %1."
        + _DATA,
        Step.RECEIVE,
    ),
    Event(
        41019,
        "IGMPLOG_SENDTO_FAILED",
        Level.WARNING,
        "IGMP was unable to send a packet from the interface with IP address: %1 to the IP address: %2."
        + _DATA,
        Step.SEND,
    ),
    Event(
        41023,
        "IGMPLOG_EVENTSELECT_FAILED",
        Level.ERROR,
        "IGMPv2 was unable to request notification of events on the socket for the local interface with IP address: %1."
        + _DATA,
        Step.EVENT_SELECT,
    ),
    Event(
        41024,
        "IGMPLOG_CREATE_SOCKET_FAILED_2",
        Level.ERROR,
        "IGMP was unable to create a socket for the local interface with IP address: %1." + _DATA,
        Step.CREATE_SOCKET,
    ),
    Event(
        41025,
        "IGMPLOG_BIND_FAILED",
        Level.ERROR,
        "IGMP could not bind to port 520 on the socket for the local interface with IP address: %1.The data is the error code.",
        Step.BIND,
    ),
    Event(
        41028,
        "IGMPLOG_SET_MCAST_IF_FAILED",
        Level.ERROR,
        "IGMP could not request multicasting on the local interface with IP address: %1." + _DATA,
        Step.REQUEST_MULTICAST,
    ),
    Event(
        41029,
        "IGMPLOG_SET_ROUTER_ALERT_FAILED",
        Level.ERROR,
        "IGMP could not set router alert option on the local interface with IP address: %1."
        + _DATA,
        Step.ROUTER_ALERT,
    ),
    Event(
        41030,
        "IGMPLOG_SET_HDRINCL_FAILED",
        Level.ERROR,
        "IGMP could not set the IP header include option on the interface with IP address: %1."
        + _DATA,
        Step.HEADER_INCLUDE,
    ),
    # Lifecycle and packet events that the socket-operation events travel with.
    Event(41010, "IGMPLOG_IGMP_STARTED", Level.INFORMATION, "IGMP has started."),
    Event(41042, "IGMPLOG_IGMP_STOPPED", Level.INFORMATION, "IGMP has stopped."),
    Event(
        41052,
        "IGMPLOG_INTERFACE_RTR_ACTIVATED",
        Level.INFORMATION,
        "IGMP router version %1 is activated on interface %2.",
    ),
    Event(
        41055,
        "IGMPLOG_ACTIVATION_FAILURE_RTR",
        Level.ERROR,
        "IGMP router version %1 could not be installed on interface %2.",
    ),
    Event(
        41013,
        "IGMPLOG_PACKET_TOO_SMALL",
        Level.WARNING,
        "IGMP received a packet which was too small on the local interface with IP address: %1. The packet was sent by %2.",
    ),
    Event(
        41014,
        "IGMPLOG_PACKET_VERSION_INVALID",
        Level.WARNING,
        "IGMP received a packet with an invalid version or type on the local interface with IP address: %1. The packet was sent by %2.",
    ),
    Event(
        41015,
        "IGMPLOG_PACKET_HEADER_CORRUPT",
        Level.WARNING,
        "IGMP received a packet with a corrupt header (checksum or length) on the local interface with IP address: %1. The packet was sent by %2.",
    ),
    Event(
        41017,
        "IGMPLOG_VERSION_QUERY",
        Level.WARNING,
        "IGMP router version %1 on interface %2 heard a query of version %3 from %4.",
    ),
    Event(
        41047,
        "IGMPLOG_INVALID_STATIC_GROUP",
        Level.ERROR,
        "The static group %1 configured on interface %2 is not a multicast address.",
    ),
    Event(
        41050,
        "IGMPLOG_INVALID_ROBUSTNESS",
        Level.ERROR,
        "The robustness variable %1 configured on interface %2 is invalid: it must be between 1 and 7.",
    ),
    Event(
        41051,
        "IGMPLOG_INVALID_STARTUPQUERYCOUNT",
        Level.ERROR,
        "The startup query count %1 configured on interface %2 is invalid: it must be between 1 and 7.",
    ),
    # igmpd's own extension (not an RRAS event, not a socket-operation failure): with
    # --multicast-routing auto on a kernel without CONFIG_IP_MROUTE, igmpd receives IGMP
    # through packet sockets instead (docs/igmpd.md). Logged once per process.
    Event(
        41900,
        "IGMPD_MULTICAST_ROUTING_UNAVAILABLE",
        Level.INFORMATION,
        "Multicast routing is not available in this kernel (MRT_INIT: %1); IGMP is received through packet sockets.",
    ),
)

BY_ID: dict[int, Event] = {event.id: event for event in EVENTS}
BY_SYMBOL: dict[str, Event] = {event.symbol: event for event in EVENTS}
BY_STEP: dict[Step, Event] = {event.step: event for event in EVENTS if event.step is not None}

SOCKET_OPERATION_IDS: tuple[int, ...] = (41012, 41019, 41023, 41024, 41025, 41028, 41029, 41030)

# Setup steps in the order a router interface activates (send and receive are runtime steps).
SETUP_ORDER: tuple[Step, ...] = (
    Step.CREATE_SOCKET,
    Step.BIND,
    Step.REQUEST_MULTICAST,
    Step.ROUTER_ALERT,
    Step.HEADER_INCLUDE,
    Step.EVENT_SELECT,
)


def event(key: int | str) -> Event:
    """Look an event up by ID (41028, "41028") or symbol ("IGMPLOG_SET_MCAST_IF_FAILED")."""
    if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
        return BY_ID[int(key)]
    return BY_SYMBOL[key]


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
