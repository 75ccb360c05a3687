"""The RRAS IGMPv2 events: their IDs, symbols, levels, messages and the socket step each reports.

The event IDs are derived, not quoted: the Windows Server 2008 page "RRAS IGMP Socket Operation"
lost its Event ID column, and the IDs follow the IGMPv2 message-table numbering (41000 + n),
confirmed by sibling event pages (41013, 41026, 41036). See docs/events.md.
"""

from __future__ import annotations

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

#: The "Socket Operation" events: one per socket step (derived from the steps above).
SOCKET_OPERATION_IDS: tuple[int, ...] = tuple(sorted(event.id for event in BY_STEP.values()))
#: What a router reporting a failure looks like to a judge (compare, explore): a socket step's
#: event, or an interface that could not be activated.
FAILURE_IDS: frozenset[int] = frozenset(SOCKET_OPERATION_IDS) | {
    BY_SYMBOL["IGMPLOG_ACTIVATION_FAILURE_RTR"].id
}

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
