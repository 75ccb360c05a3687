"""From exported Windows events to field failures: one per distinct (event, interface address,
error code), with the Linux errno its Winsock code maps to; every other event listed with why."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Address, ip_address

from harness import catalog
from harness.catalog import Step
from harness.winevents import WinEvent

#: Steps igmpd takes after start-up (queries sent, reports read), the others are setup steps.
RUNTIME_STEPS: frozenset[Step] = frozenset({Step.SEND, Step.RECEIVE})


@dataclass(frozen=True)
class FieldFailure:
    """One distinct (event, interface address, error code) of an export, with its occurrences.

    ``errno`` is the Linux errno the Winsock code maps to, or None when the export does not carry
    the code (CSV) or it is 0; ``note`` then says why, and the scenario expects the event only.
    """

    event: catalog.Event
    address: IPv4Address
    error_code: int | None
    errno: int | None
    note: str = ""
    destination: str | None = None
    occurrences: tuple[WinEvent, ...] = ()

    @property
    def step(self) -> Step:
        assert self.event.step is not None  # socket-operation events all have a step
        return self.event.step

    @property
    def errno_name(self) -> str | None:
        return catalog.errno_name(self.errno) if self.errno is not None else None

    @property
    def key(self) -> tuple[int, IPv4Address, int | None]:
        return (self.event.id, self.address, self.error_code)


@dataclass(frozen=True)
class Unmapped:
    """An exported event that no scenario reproduces, and why."""

    event: WinEvent
    reason: str


def classify(events: Iterable[WinEvent]) -> tuple[list[FieldFailure], list[Unmapped]]:
    """Group the export's events into distinct field failures; list the rest with a reason."""
    failures: dict[tuple[int, IPv4Address, int | None], FieldFailure] = {}
    unmapped: list[Unmapped] = []
    for exported in events:
        result = field_failure(exported)
        if isinstance(result, str):
            unmapped.append(Unmapped(exported, result))
            continue
        seen = failures.get(result.key)
        occurrences = (seen.occurrences if seen else ()) + (exported,)
        failures[result.key] = _with_occurrences(seen or result, occurrences)
    return list(failures.values()), unmapped


def _with_occurrences(failure: FieldFailure, occurrences: tuple[WinEvent, ...]) -> FieldFailure:
    return FieldFailure(
        failure.event,
        failure.address,
        failure.error_code,
        failure.errno,
        failure.note,
        failure.destination,
        occurrences,
    )


def field_failure(exported: WinEvent) -> FieldFailure | str:
    """The field failure one exported event shows, or the reason it cannot be reproduced."""
    reason = _not_a_socket_event(exported)
    if reason:
        return reason
    event = catalog.BY_ID[exported.id]
    address = _interface_address(exported, event)
    if isinstance(address, str):
        return address
    errno = _linux_errno(exported)
    if isinstance(errno, str):
        return errno
    number, note = errno
    destination = (
        exported.strings[1] if event.step is Step.SEND and len(exported.strings) > 1 else None
    )
    return FieldFailure(event, address, exported.error_code, number, note, destination)


def _not_a_socket_event(exported: WinEvent) -> str:
    if not exported.is_igmp:
        return (
            f"provider {exported.provider or '(none)'!r} is not the IGMPv2 router "
            f"({catalog.PROVIDER} or {catalog.LEGACY_SOURCE})"
        )
    if exported.id not in catalog.BY_ID:
        return f"event ID {exported.id} is not in the IGMPv2 catalog (faultlab catalog)"
    if exported.id not in catalog.SOCKET_OPERATION_IDS:
        symbol = catalog.BY_ID[exported.id].symbol
        ids = ", ".join(map(str, catalog.SOCKET_OPERATION_IDS))
        return f"{exported.id} {symbol} is not a socket-operation event ({ids})"
    return ""


def _interface_address(exported: WinEvent, event: catalog.Event) -> IPv4Address | str:
    if not exported.strings:
        if exported.format == "csv":
            return (
                f"the message does not match the catalog template of {event.id}: {event.template!r}"
            )
        return f"{event.id} has no insertion string %1 (the interface address)"
    text = exported.strings[0]
    try:
        address = ip_address(text)
    except ValueError:
        return f"insertion string %1 {text!r} is not an IPv4 address"
    if not isinstance(address, IPv4Address):
        return f"insertion string %1 {text!r} is an IPv6 address; the IGMP router is IPv4 only"
    return address


def _linux_errno(exported: WinEvent) -> tuple[int | None, str] | str:
    """(errno, note) for the event's error code, or the reason it has no Linux equivalent."""
    code = exported.error_code
    if code is None:
        return (
            None,
            f"error code unknown: {exported.error_note}; the scenario expects the event only",
        )
    if code == 0:
        return None, (
            "the error code is 0 (the original logs 0 for 41023, and for an empty receive or a "
            "short send); the scenario expects the event only"
        )
    if code not in catalog.WINSOCK_TO_ERRNO:
        return f"error code {code} (0x{code:X}) has no Linux equivalent in the catalog's table"
    return catalog.errno_from_winsock(code), ""


def winsock_name(code: int | None) -> str:
    """WSAEADDRINUSE (10048) for a Winsock code, the number alone when it has no name here."""
    if code is None:
        return "unknown"
    name = catalog.WINSOCK_TO_ERRNO.get(code)
    if name is None:
        return str(code)
    return f"WSA{name} ({code})" if code >= 10000 else f"{name} ({code})"


def router_version(events: Iterable[WinEvent]) -> int | None:
    """The router version a 41052/41055 in the export names (their %1), if any."""
    for exported in events:
        if exported.is_igmp and exported.id in (41052, 41055) and exported.strings:
            text = exported.strings[0].strip()
            if text in {"1", "2", "3"}:
                return int(text)
    return None
