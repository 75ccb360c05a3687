"""Scenario files for the failures of a pasted router log: the same router kind, the cause
(harness.reproduce.causes), and the same call, errno and interface role expected, with the
router's reactions the log showed (its exit, its retries).

The lab is the standard two-interface one (docs/matrix.md): r1's e0 faces h1, e1 faces h2. A
failure on a named interface is put on e0, or on e1 where its role says so (igmpproxy queries
only downstream, and its first interface is upstream).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import catalog
from harness.errors import InputError
from harness.faults import FAULT_KINDS
from harness.reproduce.causes import Choice, choose
from harness.reproduce.fieldlog import FieldLog, LogFailure
from harness.reproduce.routerlogs import ready_id
from harness.reproduce.yamlout import Flow, FlowList, dump_scenario

LINKS: tuple[tuple[str, str], ...] = (
    ("r1:e0 10.0.1.1/24", "h1:e0 10.0.1.2/24"),
    ("r1:e1 10.0.2.1/24", "h2:e0 10.0.2.2/24"),
)
INTERFACES: tuple[str, ...] = ("e0", "e1")
ROLE_INTERFACE: dict[str, str] = {"downstream": "e1", "upstream": "e0"}
# Other routers start in about a second natively, and run 10-30x slower in an emulated guest
# (the kernel lab stretches every deadline by its measured factor on top of this).
WITHIN = "10s"
DEFAULT_TIMERS: dict[str, str] = {"query_interval": "2s", "query_response_interval": "1s"}
RETRY_WINDOW = 10.0  # seconds: a field retry faster than this is expected in the run too


@dataclass(frozen=True)
class LogReproduction:
    """A field failure of a log and what ``reproduce`` did with it (``path`` None: nothing
    written, ``choice.why`` says why)."""

    failure: LogFailure
    choice: Choice
    path: Path | None
    name: str
    interface: str | None


def lab_interface(failure: LogFailure) -> str | None:
    """The lab interface that stands for the field one (None when the call has none)."""
    if failure.interface is None and failure.role not in ROLE_INTERFACE:
        return None
    return ROLE_INTERFACE.get(failure.role, "e0")


def scenario_name(failure: LogFailure) -> str:
    """'field igmpproxy MRT_INIT EADDRINUSE' (+ ' on eth0' when it names an interface)."""
    where = f" on {failure.interface}" if failure.interface else ""
    return f"field {failure.router} {failure.call} {failure.errno_name or 'no errno'}{where}"


def file_name(failure: LogFailure) -> str:
    """'igmpproxy-MRT_INIT-EADDRINUSE.yaml': one file per distinct failure."""
    parts = [failure.router, failure.call, failure.errno_name or "no-errno"]
    if failure.interface:
        parts.append(failure.interface)
    return re.sub(r"[^\w.-]+", "_", "-".join(parts)) + ".yaml"


def scenario_for(log: FieldLog, failure: LogFailure, choice: Choice) -> dict[str, Any]:
    """The scenario document (plain data) for one failure whose cause has a fault."""
    assert choice.fault is not None
    interface = lab_interface(failure)
    fault = _fault(log, failure, choice, interface)
    router: dict[str, Any] = {
        "kind": failure.router,
        "node": "r1",
        "interfaces": FlowList(INTERFACES),
        **_timers(log),
    }
    return {
        "name": scenario_name(failure),
        "description": describe(log, failure, choice, interface),
        "tags": ["reproduced", "field-log", failure.router],
        "topology": {
            "nodes": FlowList(["r1", "h1", "h2"]),
            "links": [Flow(a=a, b=b) for a, b in LINKS],
        },
        "router": router,
        "faults": [fault],
        "expect": _expectations(log, failure, fault, interface),
    }


def _fault(
    log: FieldLog, failure: LogFailure, choice: Choice, interface: str | None
) -> dict[str, Any]:
    assert choice.fault is not None
    fault = dict(choice.fault)
    kind = fault["kind"]
    params = FAULT_KINDS[kind].params if kind in FAULT_KINDS else {}
    if choice.real and interface is not None and "interface" in params:
        fault.setdefault("interface", interface)
    if choice.real and not FAULT_KINDS[kind].can_apply_before_start():
        ready = ready_id(failure.router)
        trigger: dict[str, Any] = {"event": ready} if ready else {"event": 41052, "interface": "e0"}
        fault["when"] = Flow(after=Flow(trigger))
    return fault


def _timers(log: FieldLog) -> dict[str, str]:
    timers = dict(DEFAULT_TIMERS)
    for name, value in log.timers.items():
        timers[name] = f"{value:g}s"
    return timers


def _expectations(
    log: FieldLog, failure: LogFailure, fault: dict[str, Any], interface: str | None
) -> dict[str, Any]:
    expected = Flow(id=failure.event.id)
    if failure.errno_name is not None:
        expected["errno"] = failure.errno_name
    if interface is not None and fault.get("interface") == interface:
        expected["interface"] = interface
    if retries_expected(log, failure):
        gap = failure.repeat_seconds() or 0.0
        expected["at_least"] = 2
        expected["within"] = f"{max(10.0, 3 * gap):g}s"
    else:
        expected["within"] = WITHIN
    expect: dict[str, Any] = {"events": [expected]}
    status = log.exit_status(failure)
    if status is not None:
        expect["router"] = Flow(exit=status, within=WITHIN)
    return expect


def retries_expected(log: FieldLog, failure: LogFailure) -> bool:
    """Whether the run should see the failure again: the field line repeated, seconds apart
    (not in the same instant, not minutes apart), and the router did not exit."""
    gap = failure.repeat_seconds()
    return (
        failure.count > 1
        and log.exit_status(failure) is None
        and gap is not None
        and 0 < gap <= RETRY_WINDOW
    )


def describe(log: FieldLog, failure: LogFailure, choice: Choice, interface: str | None) -> str:
    """What the scenario reproduces and why this cause: its description and header comment."""
    version = f" {log.version}" if log.version else ""
    places = ", ".join(str(line.number) for line in failure.lines[:5])
    more = f" and {failure.count - 5} more" if failure.count > 5 else ""
    errno = catalog.describe_errno(failure.errno) if failure.errno is not None else "no errno"
    lines = [
        f"Reproduces a field failure of {failure.router}{version} ({log.source} line"
        f"{'s' if failure.count > 1 else ''} {places}{more}): {failure.call} failed with "
        f"{errno}, seen {failure.count}x.",
        f"Field line: {failure.lines[0].text}",
    ]
    if failure.errno_note:
        lines.append(f"Platform: {log.platform} ({log.platform_why}); {failure.errno_note}.")
    if failure.arguments:
        lines.append(f"About: {', '.join(failure.arguments)}.")
    if failure.interface:
        lab = interface or "-"
        lines.append(f"Interface: field {failure.interface} ({failure.role}) -> lab {lab}.")
    lines.append(f"Cause chosen: {choice.cause} [{choice.phrase}], because {choice.why}.")
    if choice.evidence:
        lines.append(f"Evidence: {choice.evidence}.")
    if choice.others:
        lines.append("Other causes that give the same line: " + "; ".join(choice.others) + ".")
    if choice.not_met:
        lines.append("Not chosen: " + "; ".join(choice.not_met) + ".")
    lines.extend(_reactions_text(log, failure))
    return "\n".join(lines) + "\n"


def _reactions_text(log: FieldLog, failure: LogFailure) -> list[str]:
    said = []
    status = log.exit_status(failure)
    if status is not None:
        said.append(f"Reaction expected: the router exits with status {status}.")
    gap = failure.repeat_seconds()
    if retries_expected(log, failure):
        said.append(f"Reaction expected: it retries (the field line came every {gap:g}s).")
    elif failure.count > 1:
        every = f" every {gap:g}s" if gap is not None else ""
        said.append(
            f"The field line repeated {failure.count}x{every}: too slow to wait for, "
            "one occurrence is expected."
        )
    return said


def reproduce_log(log: FieldLog, output: Path) -> list[LogReproduction]:
    """One scenario file per distinct failure that faultlab can break; the others listed."""
    done = []
    for failure in log.failures:
        choice = choose(failure.router, failure.call, failure.errno_name)
        interface = lab_interface(failure)
        if choice.fault is None:
            done.append(LogReproduction(failure, choice, None, scenario_name(failure), interface))
            continue
        document = scenario_for(log, failure, choice)
        path = output / file_name(failure)
        header = f"Generated by `faultlab reproduce {log.source}` from a field log.\n" + str(
            document["description"]
        )
        try:
            output.mkdir(parents=True, exist_ok=True)
            path.write_text(dump_scenario(document, header), encoding="utf-8")
        except OSError as exc:
            raise InputError(f"{path}: cannot write the scenario: {exc.strerror}") from exc
        done.append(LogReproduction(failure, choice, path, document["name"], interface))
    return done
