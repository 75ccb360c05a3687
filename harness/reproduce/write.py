"""Scenario files for field failures: the scenario document of each (topology from the address
plan, router, fault, expectations), written as YAML in the style of the docs; and the whole
export turned into one file per distinct field failure (``reproduce_export``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

from harness import catalog
from harness.catalog import Step
from harness.errors import InputError
from harness.reproduce.causes import alternatives
from harness.reproduce.choose import fault_for
from harness.reproduce.classify import (
    RUNTIME_STEPS,
    FieldFailure,
    Unmapped,
    classify,
    router_version,
    winsock_name,
)
from harness.reproduce.plan import DEFAULT_OUTPUT, ROUTER_NODE, AddressPlan, plan_addresses
from harness.reproduce.yamlout import Flow, FlowList, dump_scenario, inline
from harness.winevents import WinEvent, read_export

WITHIN = "2s"
# Timers of a send/receive reproduction: queries (sends) and reports (receives) every half second.
RUNTIME_TIMERS: dict[str, float] = {
    "query_interval": 0.5,
    "query_response_interval": 0.2,
    "startup_query_interval": 0.25,
}


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
    fault, fault_phrase = fault_for(failure, interface)
    if "when" in fault:
        fault["when"] = inline(fault["when"])
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
        document["traffic"] = [Flow(node=host, join="239.1.1.1", ifname="e0", at="0.5s")]
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
        Flow(name=name, mode="internal") if name == internal else name
        for name in plan.interfaces.values()
    ]


def _topology(plan: AddressPlan) -> dict[str, Any]:
    hosts = [_host_of(plan, address) for address in plan.interfaces]
    links = [
        Flow(
            a=f"{ROUTER_NODE}:{name} {plan.lab[address]}",
            b=f"{_host_of(plan, address)}:e0 {plan.peers[address]}",
        )
        for address, name in plan.interfaces.items()
    ]
    return {"nodes": FlowList([ROUTER_NODE, *hosts]), "links": links}


def _host_of(plan: AddressPlan, address: IPv4Address) -> str:
    """The peer host of a router interface: e0 -> h1, e1 -> h2 ..."""
    return f"h{int(plan.interfaces[address][1:]) + 1}"


def _expectations(failure: FieldFailure, plan: AddressPlan) -> dict[str, Any]:
    interface = plan.interfaces[failure.address]
    expected = Flow(id=failure.event.id)
    if failure.errno_name is not None:
        expected["errno"] = failure.errno_name
    expected.update(interface=interface, strings=_strings(failure, plan), within=WITHIN)
    events: list[Any] = [expected]
    expect: dict[str, Any] = {"events": events}
    if failure.step not in RUNTIME_STEPS:
        events.append(Flow(id=41055, interface=interface, within=WITHIN))
        expect["order"] = FlowList([failure.event.id, 41055])
    return expect


def _strings(failure: FieldFailure, plan: AddressPlan) -> list[str]:
    """The insertion strings igmpd must log: the lab address, and 224.0.0.1 for a general query."""
    strings = [str(plan.lab[failure.address].ip)]
    if failure.destination == "224.0.0.1":
        strings.append(failure.destination)
    return strings


def _description(failure: FieldFailure, plan: AddressPlan, fault_phrase: str) -> str:
    fault_kind = fault_phrase.split(":", 1)[0]
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
    others, not_met = alternatives("igmpd", failure.step, failure.errno_name, fault_kind)
    if others:
        lines.append("Other causes that give the same event: " + "; ".join(others) + ".")
    if not_met:
        lines.append("Not chosen: " + "; ".join(not_met) + ".")
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
    return reproduce_events(read_export(export), export, output)


def reproduce_events(
    events: list[WinEvent], export: Path, output: str | Path = DEFAULT_OUTPUT
) -> ReproduceResult:
    """Write one scenario per distinct field failure of exported events (read already)."""
    failures, unmapped = classify(events)
    plan = plan_addresses(failure.address for failure in failures)
    version = router_version(events)
    written = [_write(failure, plan, version, Path(output), export) for failure in failures]
    return ReproduceResult(export, written, unmapped, plan)


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
