"""The RRAS IGMPv2 event catalog and the socket error table: data, in one place.

Everything that names an event (the router that logs it, the scenario that expects it, the
report that shows it, the Windows export that carries it) reads it from here. The package uses
the standard library only and imports nothing from faultlab's other packages, so that the router
(``igmpd``) and the harness (``harness``) both depend on it and never on each other.

    igmpcatalog.events   Step, Level, Event, EVENTS, BY_ID, BY_SYMBOL, BY_STEP, event() ...
    igmpcatalog.errnos   the errno <-> Winsock table, errno_number(), describe_errno() ...
"""

from .errnos import (
    WINSOCK,
    WINSOCK_TO_ERRNO,
    UnknownErrno,
    describe_errno,
    errno_from_winsock,
    errno_name,
    errno_number,
    winsock_code,
)
from .events import (
    BY_ID,
    BY_STEP,
    BY_SYMBOL,
    EVENTS,
    FAILURE_IDS,
    LEGACY_SOURCE,
    PROVIDER,
    SETUP_ORDER,
    SOCKET_OPERATION_IDS,
    Event,
    Level,
    Step,
    event,
)

__all__ = [
    "BY_ID",
    "BY_STEP",
    "BY_SYMBOL",
    "EVENTS",
    "FAILURE_IDS",
    "LEGACY_SOURCE",
    "PROVIDER",
    "SETUP_ORDER",
    "SOCKET_OPERATION_IDS",
    "WINSOCK",
    "WINSOCK_TO_ERRNO",
    "Event",
    "Level",
    "Step",
    "UnknownErrno",
    "describe_errno",
    "errno_from_winsock",
    "errno_name",
    "errno_number",
    "event",
    "winsock_code",
]
