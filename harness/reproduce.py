"""Field failures, both ways: a Windows event export becomes scenarios; a Linux run becomes events.

``faultlab reproduce EXPORT`` reads an export (harness.winevents), picks the RRAS IGMPv2
socket-operation events, and writes one scenario per distinct (event, interface address, error
code): the router's interfaces at the field addresses (or a documented private mapping), the fault
that yields the same errno at the same step (a real cause from the fault table when it has one,
else an exact syscall error), and the expectation of the same event with the same error. Events it
cannot map are listed with the reason, never dropped.

``faultlab events --format windows-xml ARTIFACTS_DIR`` goes the other way: it writes a run's event
log as Windows Event XML, so that a Linux run can be put beside the field export (and read back by
``reproduce``: the round trip keeps ID, level, insertion strings and the Winsock code).

See docs/reproduce.md for what each export format can carry and how addresses are mapped.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from ipaddress import IPv4Address, IPv4Interface, IPv4Network, ip_address
from pathlib import Path
from typing import Any

import yaml

from harness import catalog
from harness.artifacts import EVENT_LOG_NAME
from harness.catalog import Step
from harness.errors import ExitCode, InputError
from harness.faults import FAULT_KINDS
from harness.faults.table import FaultRow, rows
from harness.winevents import WinEvent, dword, events_xml, read_export, system_time

DEFAULT_OUTPUT = Path("reproduced")
DEFAULT_ARTIFACTS = Path("artifacts")
WITHIN = "2s"
ROUTER_NODE = "r1"
RUNTIME_STEPS: frozenset[Step] = frozenset({Step.SEND, Step.RECEIVE})
# Timers of a send/receive reproduction: queries (sends) and reports (receives) every half second.
RUNTIME_TIMERS: dict[str, float] = {
    "query_interval": 0.5,
    "query_response_interval": 0.2,
    "startup_query_interval": 0.25,
}

# Field addresses in these ranges are reused as they are; any other is mapped to MAPPED_RANGE.
SAFE_NETWORKS: tuple[IPv4Network, ...] = tuple(
    IPv4Network(net)
    for net in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "192.0.2.0/24",  # TEST-NET-1
        "198.51.100.0/24",  # TEST-NET-2
        "203.0.113.0/24",  # TEST-NET-3
    )
)
MAPPED_RANGE = IPv4Network("10.99.0.0/16")  # field address N -> 10.99.N.1/24

# The errno a step-error fault injects when the export does not say which error it was (CSV):
# the error a real cause gives at that step on Linux (shared/reference/linux-fault-facts.md).
TYPICAL_ERRNO: dict[Step, str] = {
    Step.CREATE_SOCKET: "EPERM",
    Step.BIND: "EADDRNOTAVAIL",
    Step.REQUEST_MULTICAST: "EADDRINUSE",
    Step.ROUTER_ALERT: "EADDRINUSE",
    Step.HEADER_INCLUDE: "ENOPROTOOPT",
    Step.EVENT_SELECT: "EBADF",
    Step.SEND: "ENETUNREACH",
    Step.RECEIVE: "EAGAIN",
}


# --------------------------------------------------------------------------------------------
# From exported events to field failures
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Addresses
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AddressPlan:
    """Where each field interface lives in the lab: its name, address and its peer host's address.

    ``mapped`` lists the field addresses that were not reused (not private or documentation-safe,
    not a host address of its /24, or a /24 another interface already has).
    """

    interfaces: dict[IPv4Address, str]
    lab: dict[IPv4Address, IPv4Interface]
    peers: dict[IPv4Address, IPv4Interface]
    mapped: dict[IPv4Address, IPv4Address] = field(default_factory=dict)

    def describe(self, address: IPv4Address) -> str:
        lab = self.lab[address].ip
        if address in self.mapped:
            return f"field {address} -> lab {lab} ({self.interfaces[address]}, mapped)"
        return f"field {address} = lab {lab} ({self.interfaces[address]})"


def plan_addresses(addresses: Iterable[IPv4Address]) -> AddressPlan:
    """Name the interfaces e0, e1 ... in order of appearance and give each a lab address."""
    distinct = list(dict.fromkeys(addresses))
    lab: dict[IPv4Address, IPv4Interface] = {}
    for address in distinct:
        candidate = IPv4Interface(f"{address}/24")
        if _reusable(candidate, lab.values()):
            lab[address] = candidate
    mapped = _map_the_rest([a for a in distinct if a not in lab], lab)
    lab.update({field_address: IPv4Interface(f"{new}/24") for field_address, new in mapped.items()})
    ordered = {address: lab[address] for address in distinct}
    return AddressPlan(
        interfaces={address: f"e{index}" for index, address in enumerate(distinct)},
        lab=ordered,
        peers={address: _peer(iface, ordered.values()) for address, iface in ordered.items()},
        mapped=mapped,
    )


def _reusable(candidate: IPv4Interface, taken: Iterable[IPv4Interface]) -> bool:
    network = candidate.network
    return (
        any(candidate.ip in safe for safe in SAFE_NETWORKS)
        and candidate.ip not in (network.network_address, network.broadcast_address)
        and not candidate.ip.is_loopback
        and all(other.network != network for other in taken)
    )


def _map_the_rest(
    addresses: list[IPv4Address], taken: Mapping[IPv4Address, IPv4Interface]
) -> dict[IPv4Address, IPv4Address]:
    used = {iface.network for iface in taken.values()}
    free = (net for net in MAPPED_RANGE.subnets(new_prefix=24) if net not in used)
    return {address: next(free).network_address + 1 for address in addresses}


def _peer(router: IPv4Interface, taken: Iterable[IPv4Interface]) -> IPv4Interface:
    """The first host address of the router interface's /24 that no router interface uses."""
    busy = {iface.ip for iface in taken}
    host = next(ip for ip in router.network.hosts() if ip not in busy)
    return IPv4Interface(f"{host}/{router.network.prefixlen}")


# --------------------------------------------------------------------------------------------
# Faults
# --------------------------------------------------------------------------------------------


def choose_fault(step: Step, errno: str | None) -> dict[str, Any]:
    """The fault that makes ``step`` fail with ``errno``: the fault table's first real cause for
    (step, errno) when it has one, else an exact syscall error (``step-error``, seccomp).

    With ``errno`` None (the export did not say), the step's first real cause, else a step-error
    with the errno a real cause typically gives there.
    """
    for row in fault_rows():
        if row.step is step and row.mechanism == "real" and errno in (None, row.errno):
            if step in RUNTIME_STEPS or can_apply_before_start(row.kind):
                return row.fault_spec()
    return {"kind": "step-error", "step": step.value, "errno": errno or TYPICAL_ERRNO[step]}


def fault_rows() -> tuple[FaultRow, ...]:
    """The fault table's rows (harness.faults.table.rows()): one place for every fault."""
    return rows()


def can_apply_before_start(kind: str) -> bool:
    """Whether fault ``kind`` applied before the router starts still yields its setup step's
    event (a reproduction of a setup step applies its fault then): the fault class says
    (``Fault.not_before_start``)."""
    return FAULT_KINDS[kind].can_apply_before_start()


def _fault_for(failure: FieldFailure, interface: str) -> tuple[dict[str, Any], str]:
    """The scenario's fault mapping for a field failure, and a phrase saying what it is."""
    fault = choose_fault(failure.step, failure.errno_name)
    real = fault["kind"] != "step-error"
    if not real:
        fault.update(_step_error_scope(failure.step, interface))
    elif "interface" in fault_parameters(fault["kind"]):
        fault.setdefault("interface", interface)
    if failure.step in RUNTIME_STEPS:
        fault["when"] = _Flow(after=_Flow(event=41052, interface=interface))
    what = "a real cause" if real else "an exact syscall error (seccomp)"
    return fault, f"{fault['kind']}: {what}"


def _step_error_scope(step: Step, interface: str) -> dict[str, Any]:
    """Which calls of the step a step-error fails, and from when.

    socket() has no interface yet: every interface's socket fails (the expectation still names
    the field interface). event_select fails epoll_ctl on the interface's socket only (epoll_create1
    has no socket). Send and receive are armed when the fault is applied, after 41052.
    """
    if step is Step.CREATE_SOCKET:
        return {}
    scope: dict[str, Any] = {"interface": interface}
    if step is Step.EVENT_SELECT:
        scope["call"] = "epoll_ctl"
    if step in RUNTIME_STEPS:
        scope["armed"] = "apply"
    return scope


def fault_parameters(kind: str) -> dict[str, Any]:
    """The parameters a fault kind accepts (empty when the fault engine does not know it)."""
    from harness.faults import FAULT_KINDS

    fault_class = FAULT_KINDS.get(kind)
    return dict(fault_class.params) if fault_class is not None else {}


# --------------------------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------------------------


class _Flow(dict):  # type: ignore[type-arg]
    """A mapping written in YAML flow style ({id: 41028, errno: EADDRINUSE}), as the docs do."""


class _FlowList(list):  # type: ignore[type-arg]
    """A short list written in YAML flow style ([r1, h1, h2])."""


class _Dumper(yaml.SafeDumper):
    """Block style overall; _Flow/_FlowList inline; multi-line strings as literal blocks."""


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(
    _Flow, lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data, True)
)
_Dumper.add_representer(
    _FlowList, lambda dumper, data: dumper.represent_sequence("tag:yaml.org,2002:seq", data, True)
)
_Dumper.add_representer(str, _represent_str)


@dataclass(frozen=True)
class Reproduction:
    """A scenario written for a field failure: where, what it injects, what it expects."""

    failure: FieldFailure
    path: Path
    name: str
    interface: str
    fault: str


def scenario_for(
    failure: FieldFailure, plan: AddressPlan, version: int | None = None
) -> tuple[dict[str, Any], str]:
    """The scenario document (plain data) that reproduces one field failure, and its fault phrase."""
    interface = plan.interfaces[failure.address]
    fault, fault_phrase = _fault_for(failure, interface)
    router: dict[str, Any] = {
        "kind": "igmpd",
        "node": ROUTER_NODE,
        "interfaces": _router_interfaces(failure, plan),
    }
    if version is not None:
        router["version"] = version
    if failure.step in RUNTIME_STEPS:
        router.update(RUNTIME_TIMERS)
    document: dict[str, Any] = {
        "name": scenario_name(failure),
        "description": _description(failure, plan, fault_phrase),
        "tags": ["reproduced", failure.step.value.replace("_", "-")],
        "topology": _topology(plan),
        "router": router,
        "faults": [fault],
    }
    if failure.step is Step.RECEIVE:
        host = _host_of(plan, failure.address)
        document["traffic"] = [_Flow(node=host, join="239.1.1.1", ifname="e0", at="0.5s")]
    document["expect"] = _expectations(failure, plan)
    return document, fault_phrase


def scenario_name(failure: FieldFailure) -> str:
    """'field 41028 EADDRINUSE on 10.0.1.1': unique per (event, address, error code)."""
    error = failure.errno_name or (
        "error unknown" if failure.error_code is None else f"code {failure.error_code}"
    )
    return f"field {failure.event.id} {error} on {failure.address}"


def file_name(failure: FieldFailure, plan: AddressPlan) -> str:
    """'41028-e0-EADDRINUSE.yaml': one file per (event, interface, error)."""
    error = failure.errno_name or (
        "unknown-error" if failure.error_code is None else f"code-{failure.error_code}"
    )
    return f"{failure.event.id}-{plan.interfaces[failure.address]}-{error}.yaml"


def _router_interfaces(failure: FieldFailure, plan: AddressPlan) -> list[Any]:
    """Every field interface; IP_HDRINCL (41030) only happens on the internal (RAS) interface."""
    internal = plan.interfaces[failure.address] if failure.step is Step.HEADER_INCLUDE else None
    return [
        _Flow(name=name, mode="internal") if name == internal else name
        for name in plan.interfaces.values()
    ]


def _topology(plan: AddressPlan) -> dict[str, Any]:
    hosts = [_host_of(plan, address) for address in plan.interfaces]
    links = [
        _Flow(
            a=f"{ROUTER_NODE}:{name} {plan.lab[address]}",
            b=f"{_host_of(plan, address)}:e0 {plan.peers[address]}",
        )
        for address, name in plan.interfaces.items()
    ]
    return {"nodes": _FlowList([ROUTER_NODE, *hosts]), "links": links}


def _host_of(plan: AddressPlan, address: IPv4Address) -> str:
    """The peer host of a router interface: e0 -> h1, e1 -> h2 ..."""
    return f"h{int(plan.interfaces[address][1:]) + 1}"


def _expectations(failure: FieldFailure, plan: AddressPlan) -> dict[str, Any]:
    interface = plan.interfaces[failure.address]
    expected = _Flow(id=failure.event.id)
    if failure.errno_name is not None:
        expected["errno"] = failure.errno_name
    expected.update(interface=interface, strings=_strings(failure, plan), within=WITHIN)
    events: list[Any] = [expected]
    expect: dict[str, Any] = {"events": events}
    if failure.step not in RUNTIME_STEPS:
        events.append(_Flow(id=41055, interface=interface, within=WITHIN))
        expect["order"] = _FlowList([failure.event.id, 41055])
    return expect


def _strings(failure: FieldFailure, plan: AddressPlan) -> list[str]:
    """The insertion strings igmpd must log: the lab address, and 224.0.0.1 for a general query."""
    strings = [str(plan.lab[failure.address].ip)]
    if failure.destination == "224.0.0.1":
        strings.append(failure.destination)
    return strings


def _description(failure: FieldFailure, plan: AddressPlan, fault_phrase: str) -> str:
    first = failure.occurrences[0] if failure.occurrences else None
    seen = f" at {first.time_created}" if first and first.time_created else ""
    host = f" on {first.computer}" if first and first.computer else ""
    places = _places(failure.occurrences)
    lines = [
        f"Reproduces field event {failure.event.id} {failure.event.symbol}{host}{seen}, "
        f"seen {len(failure.occurrences)}x ({places}).",
        f"Error: {winsock_name(failure.error_code)} -> "
        f"{catalog.describe_errno(failure.errno) if failure.errno else 'no errno'}.",
        f"Address: {plan.describe(failure.address)}.",
        f"Fault: {fault_phrase} at step {failure.step.value}.",
    ]
    if failure.destination:
        lines.append(f"The field send went to {failure.destination}.")
    if failure.note:
        lines.append(f"Note: {failure.note}.")
    return "\n".join(lines) + "\n"


def _places(occurrences: Sequence[WinEvent], shown: int = 5) -> str:
    """'several.xml lines 3, 5, 6': where in the export a failure was seen (the first few)."""
    if not occurrences or occurrences[0].source is None:
        return "export"
    name = Path(str(occurrences[0].source.file)).name
    lines = [str(e.source.line) for e in occurrences[:shown] if e.source and e.source.line]
    more = f" and {len(occurrences) - shown} more" if len(occurrences) > shown else ""
    return f"{name} line{'s' if len(lines) > 1 else ''} {', '.join(lines)}{more}"


def dump_scenario(document: Mapping[str, Any], header: str) -> str:
    """YAML text of a scenario: block style, event items and links in flow style."""
    body = yaml.dump(dict(document), Dumper=_Dumper, sort_keys=False, width=100)
    return "".join(f"# {line}\n" for line in header.splitlines()) + body


# --------------------------------------------------------------------------------------------
# The whole export
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReproduceResult:
    """What ``reproduce`` did with one export: the scenarios written, the events left out."""

    export: Path
    written: list[Reproduction]
    unmapped: list[Unmapped]
    plan: AddressPlan


def reproduce_export(export: str | Path, output: str | Path = DEFAULT_OUTPUT) -> ReproduceResult:
    """Read an export and write one scenario per distinct field failure into ``output``."""
    export = Path(export)
    events = read_export(export)
    failures, unmapped = classify(events)
    plan = plan_addresses(failure.address for failure in failures)
    version = router_version(events)
    written = [_write(failure, plan, version, Path(output), export) for failure in failures]
    return ReproduceResult(export, written, unmapped, plan)


def router_version(events: Iterable[WinEvent]) -> int | None:
    """The router version a 41052/41055 in the export names (their %1), if any."""
    for exported in events:
        if exported.is_igmp and exported.id in (41052, 41055) and exported.strings:
            text = exported.strings[0].strip()
            if text in {"1", "2", "3"}:
                return int(text)
    return None


def _write(
    failure: FieldFailure, plan: AddressPlan, version: int | None, output: Path, export: Path
) -> Reproduction:
    document, fault_phrase = scenario_for(failure, plan, version)
    path = output / file_name(failure, plan)
    header = f"Generated by `faultlab reproduce {export.name}`: a field failure, on Linux."
    try:
        output.mkdir(parents=True, exist_ok=True)
        path.write_text(dump_scenario(document, header), encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot write the scenario: {exc.strerror}") from exc
    interface = plan.interfaces[failure.address]
    return Reproduction(failure, path, document["name"], interface, fault_phrase)


def format_result(result: ReproduceResult) -> str:
    """The table ``reproduce`` prints: scenarios written, then events not mapped with reasons."""
    lines = [f"{result.export}: {len(result.written)} scenario(s) written"]
    for item in result.written:
        failure = item.failure
        errno = failure.errno_name or "no errno (event only)"
        lines.append(
            f"  wrote {item.path}  {failure.event.id} {failure.event.symbol}"
            f"  {failure.address} -> {item.interface}  {winsock_name(failure.error_code)}"
            f" -> {errno}  x{len(failure.occurrences)}  [{item.fault}]"
        )
    if result.unmapped:
        lines.append(f"{len(result.unmapped)} event(s) not mapped:")
        lines.extend(
            f"  {item.event.where}  {item.event.id} {item.event.provider}: {item.reason}"
            for item in result.unmapped
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Running a reproduction (--run)
# --------------------------------------------------------------------------------------------


def run_reproduction(
    path: Path, artifacts: Path = DEFAULT_ARTIFACTS, slow: float = 1.0
) -> tuple[bool, str]:
    """Run one written scenario: (reproduced?, why, in one line).

    Reproduced means the scenario passed: igmpd on Linux logged the field event with the same
    error at the same step. A skipped scenario (this host lacks a feature) is not reproduced.
    """
    from harness import runner
    from harness import scenario_loader as scenario

    verdict = runner.run(scenario.load(path), runner.RunOptions(artifacts_dir=artifacts, slow=slow))
    return verdict.passed, _verdict_summary(verdict)


def _verdict_summary(verdict: Any) -> str:
    if verdict.skipped:
        return f"skipped: {verdict.skipped_reason}"
    if verdict.error:
        return f"error: {verdict.error}"
    if verdict.passed:
        latency = verdict.fault_latency
        return "passed" + (f", event {latency * 1000:.0f} ms after the fault" if latency else "")
    failed = "; ".join(f"{r.expected}, observed {r.observed}" for r in verdict.failures)
    return f"failed: {failed}"


# --------------------------------------------------------------------------------------------
# A Linux run as Windows events (faultlab events)
# --------------------------------------------------------------------------------------------

EVENT_LOG_NAMES: tuple[str, ...] = (EVENT_LOG_NAME,)
FORMATS: tuple[str, ...] = ("windows-xml", "json", "text")


def find_event_log(artifacts: str | Path) -> Path:
    """The run's event log in an artifacts directory (events.jsonl, searched below it too)."""
    root = Path(artifacts)
    if root.is_file():
        return root
    if not root.is_dir():
        raise InputError(
            f"{root}: no such artifacts directory (a run's folder, or an events.jsonl)"
        )
    for name in EVENT_LOG_NAMES:
        found = sorted(root.rglob(name))
        if found:
            return found[0]
    raise InputError(f"{root}: no event log ({', '.join(EVENT_LOG_NAMES)}) in this directory")


def read_event_records(path: Path) -> list[dict[str, Any]]:
    """The event records (docs/architecture.md section 3) of a JSON-lines event log."""
    records: list[dict[str, Any]] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the event log: {exc.strerror}") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{number}: not a JSON event record: {exc.msg}") from exc
        if not isinstance(record, dict) or not isinstance(record.get("id"), int):
            raise InputError(f"{path}:{number}: an event record needs an integer 'id'")
        records.append(record)
    return records


def win_event(record: Mapping[str, Any], computer: str = ROUTER_NODE) -> WinEvent:
    """An event record as the Windows router would have logged it (Winsock code as binary data)."""
    known = catalog.BY_ID.get(int(record["id"]))
    winsock = record.get("winsock")
    if winsock is None and isinstance(record.get("errno"), int):
        winsock = catalog.winsock_code(record["errno"])
    return WinEvent(
        provider=catalog.PROVIDER,
        id=int(record["id"]),
        level=str(record.get("level") or (known.level.value if known else "Information")),
        strings=tuple(str(text) for text in record.get("strings") or ()),
        binary=dword(int(winsock)) if winsock is not None else None,
        error_code=int(winsock) if winsock is not None else None,
        time_created=_system_time(record.get("time")),
        computer=computer,
    )


def _system_time(text: Any) -> str:
    try:
        return system_time(datetime.fromisoformat(str(text)))
    except ValueError:
        return ""


def render_events(
    records: Sequence[Mapping[str, Any]], fmt: str, computer: str = ROUTER_NODE
) -> str:
    """A run's events as Windows Event XML, JSON lines, or one line of text each."""
    if fmt == "windows-xml":
        return events_xml(win_event(record, computer) for record in records)
    if fmt == "json":
        return "".join(json.dumps(dict(record)) + "\n" for record in records)
    if fmt == "text":
        return "".join(_text_line(record) + "\n" for record in records)
    raise InputError(f"unknown format {fmt!r}; valid: {', '.join(FORMATS)}")


def _text_line(record: Mapping[str, Any]) -> str:
    known = catalog.BY_ID.get(int(record["id"]))
    message = record.get("message") or (known.render(record.get("strings") or []) if known else "")
    error = ""
    if isinstance(record.get("errno"), int):
        winsock = record.get("winsock") or catalog.winsock_code(record["errno"])
        error = f" [{catalog.describe_errno(record['errno'])}, Winsock {winsock}]"
    where = f" {record['interface']}" if record.get("interface") else ""
    return (
        f"{record.get('time', '')} {record.get('level', '')} {record['id']} "
        f"{record.get('symbol', '')}{where}: {message}{error}"
    )


# --------------------------------------------------------------------------------------------
# Command line (wired into harness.cli by register())
# --------------------------------------------------------------------------------------------


def register(subparsers: Any) -> None:
    """Add the ``reproduce`` and ``events`` subcommands to the faultlab CLI's subparsers."""
    _reproduce_parser(subparsers)
    _events_parser(subparsers)


def _reproduce_parser(subparsers: Any) -> None:
    reproduce = subparsers.add_parser(
        "reproduce",
        help="turn a Windows event export into scenarios that reproduce it",
        description="Read exported Windows events (Event XML or Event Viewer CSV) and write one "
        "scenario per distinct (event, interface, error) of the IGMPv2 router.",
    )
    reproduce.add_argument("export", type=Path, help="the exported events (.xml or .csv)")
    reproduce.add_argument(
        "-o", "--output", type=Path, default=DEFAULT_OUTPUT, help="where to write (./reproduced/)"
    )
    reproduce.add_argument(
        "--run", action="store_true", help="run the scenarios at once; exit 1 if not reproduced"
    )
    reproduce.add_argument(
        "--artifacts", type=Path, default=DEFAULT_ARTIFACTS, help="with --run: run folders"
    )
    reproduce.add_argument(
        "--slow", type=float, default=1.0, help="with --run: stretch every deadline by FACTOR"
    )
    reproduce.set_defaults(handler=cmd_reproduce)


def _events_parser(subparsers: Any) -> None:
    events = subparsers.add_parser(
        "events",
        help="show a run's router events (as Windows Event XML to compare with a field export)",
    )
    events.add_argument("artifacts", type=Path, help="a run's artifacts directory or events.jsonl")
    events.add_argument("--format", choices=FORMATS, default="text", help="output form (text)")
    events.add_argument("-o", "--output", type=Path, help="write to this file instead of stdout")
    events.add_argument(
        "--computer", default=ROUTER_NODE, help="the <Computer> of Windows XML (default r1)"
    )
    events.set_defaults(handler=cmd_events)


def cmd_reproduce(args: argparse.Namespace) -> int:
    """``faultlab reproduce``: write the scenarios, print the table, optionally run them."""
    result = reproduce_export(args.export, args.output)
    print(format_result(result))
    if not args.run:
        return ExitCode.OK
    if not result.written:
        print("nothing to run: no event of the export could be mapped")
        return ExitCode.FAILED
    outcomes = [
        (item, *run_reproduction(item.path, args.artifacts, args.slow)) for item in result.written
    ]
    for item, passed, summary in outcomes:
        print(f"{'reproduced' if passed else 'NOT reproduced'}: {item.name} ({summary})")
    return ExitCode.OK if all(passed for _, passed, _ in outcomes) else ExitCode.FAILED


def cmd_events(args: argparse.Namespace) -> int:
    """``faultlab events``: a run's events as text, JSON lines or Windows Event XML."""
    records = read_event_records(find_event_log(args.artifacts))
    text = render_events(records, args.format, args.computer)
    if args.output is None:
        sys.stdout.write(text)
        return ExitCode.OK
    try:
        args.output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{args.output}: cannot write: {exc.strerror}") from exc
    return ExitCode.OK
