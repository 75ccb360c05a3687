"""Which fault reproduces a field failure: read from the fault table (harness.faults.table) and
the fault classes (harness.faults.FAULT_KINDS); this module knows no fault of its own.

A real cause from the table when one gives the same errno at the same step (and, for a setup
step, can be applied before the router starts), else an exact syscall error (``step-error``).
"""

from __future__ import annotations

from typing import Any

from harness.catalog import Step
from harness.faults import FAULT_KINDS
from harness.faults.table import FaultRow, rows
from harness.reproduce.classify import RUNTIME_STEPS, FieldFailure
from harness.reproduce.nevermeets import never_meets

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


def choose_fault(step: Step, errno: str | None, router: str = "igmpd") -> dict[str, Any]:
    """The fault that makes ``step`` fail with ``errno``: the fault table's first real cause for
    (step, errno) that ``router`` meets, else an exact syscall error (``step-error``, seccomp).

    A cause the router is known never to meet (harness.reproduce.causes.NEVER_MEETS, e.g.
    ``route-removed`` for igmpd, which sends with IP_MULTICAST_IF) is never chosen: its scenario
    could not pass. With ``errno`` None (the export did not say), the step's first real cause,
    else a step-error with the errno a real cause typically gives there.
    """
    for row in fault_rows():
        if row.step is step and row.mechanism == "real" and errno in (None, row.errno):
            if never_meets(router, row.kind, step) is not None:
                continue
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


def fault_for(failure: FieldFailure, interface: str) -> tuple[dict[str, Any], str]:
    """The scenario's fault mapping for a field failure, and a phrase saying what it is.

    A send or receive failure is applied once the interface is up (``when: {after: 41052}``).
    """
    fault = choose_fault(failure.step, failure.errno_name)
    real = fault["kind"] != "step-error"
    if not real:
        fault.update(_step_error_scope(failure.step, interface))
    elif "interface" in fault_parameters(fault["kind"]):
        fault.setdefault("interface", interface)
    if failure.step in RUNTIME_STEPS:
        fault["when"] = {"after": {"event": 41052, "interface": interface}}
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
    fault_class = FAULT_KINDS.get(kind)
    return dict(fault_class.params) if fault_class is not None else {}
