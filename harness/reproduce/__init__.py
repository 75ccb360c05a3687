"""Field failures, both ways: a router's pasted log lines or a Windows event export become
scenarios; a Linux run becomes events.

``faultlab reproduce LOGFILE|-`` reads the log lines a user pasted (igmpproxy, smcroute, pimd,
FRR, igmpd; syslog, journal, docker logs, plain stderr): ``logtext`` takes the noise off,
``routerlogs`` is the one place the router's patterns are reached (the same a run maps its log
with) and the identification table, ``platforms`` reads FreeBSD's errno numbers, ``fieldlog``
turns lines into failures (router, call, errno, interface or role, count) and lists the lines it
cannot map, ``causes`` chooses the cause (the fault table's, with its evidence; never one the
router does not meet), ``logwrite`` writes the scenarios, ``run`` runs them (in the kernel lab
when this host lacks multicast routing).

``faultlab reproduce EXPORT`` reads an export (harness.winevents), picks the RRAS IGMPv2
socket-operation events, and writes one scenario per distinct (event, interface address, error
code): the router's interfaces at the field addresses (or a documented private mapping), the fault
that yields the same errno at the same step (a real cause from the fault table when it has one,
else an exact syscall error), and the expectation of the same event with the same error. Events it
cannot map are listed with the reason, never dropped.

``faultlab events --format windows-xml ARTIFACTS_DIR`` goes the other way: it writes a run's event
log as Windows Event XML, so that a Linux run can be put beside the field export (and read back by
``reproduce``: the round trip keeps ID, level, insertion strings and the Winsock code).

One job per module, in the order data flows:

- ``classify``: exported events -> field failures (and the events left out, with why);
- ``plan``: field addresses -> lab interfaces and addresses;
- ``choose``: a field failure -> the fault that reproduces it (read from the fault table/classes);
- ``write``: the scenario document and its YAML file; the whole export (``reproduce_export``);
- ``run``: ``--run``, one written scenario's verdict;
- ``export``: ``faultlab events``, a run's event log as Windows Event XML, JSON lines or text;
- ``cli``: both subcommands' arguments and output (``register``, harness.cli.EXTENSIONS).

See docs/reproduce.md for what each export format can carry and how addresses are mapped.
"""

from __future__ import annotations

from harness.reproduce.causes import FIELD_CAUSES, NEVER_MEETS, Choice, choose
from harness.reproduce.choose import (
    TYPICAL_ERRNO,
    can_apply_before_start,
    choose_fault,
    fault_for,
    fault_parameters,
    fault_rows,
)
from harness.reproduce.classify import (
    RUNTIME_STEPS,
    FieldFailure,
    Unmapped,
    classify,
    field_failure,
    router_version,
    winsock_name,
)
from harness.reproduce.cli import cmd_events, cmd_reproduce, format_result, register
from harness.reproduce.export import (
    EVENT_LOG_NAMES,
    FORMATS,
    find_event_log,
    read_event_records,
    render_events,
    win_event,
)
from harness.reproduce.fieldlog import FieldLog, LogFailure, read_log
from harness.reproduce.logwrite import LogReproduction, reproduce_log
from harness.reproduce.plan import (
    MAPPED_RANGE,
    ROUTER_NODE,
    SAFE_NETWORKS,
    AddressPlan,
    plan_addresses,
)
from harness.reproduce.routerlogs import line_mapper
from harness.reproduce.run import DEFAULT_ARTIFACTS, RunOutcome, run_all, run_reproduction
from harness.reproduce.write import (
    DEFAULT_OUTPUT,
    RUNTIME_TIMERS,
    WITHIN,
    ReproduceResult,
    Reproduction,
    dump_scenario,
    file_name,
    reproduce_export,
    scenario_for,
    scenario_name,
)

__all__ = [
    "FIELD_CAUSES",
    "NEVER_MEETS",
    "Choice",
    "FieldLog",
    "LogFailure",
    "LogReproduction",
    "RunOutcome",
    "choose",
    "line_mapper",
    "read_log",
    "reproduce_log",
    "run_all",
    "DEFAULT_ARTIFACTS",
    "DEFAULT_OUTPUT",
    "EVENT_LOG_NAMES",
    "FORMATS",
    "MAPPED_RANGE",
    "ROUTER_NODE",
    "RUNTIME_STEPS",
    "RUNTIME_TIMERS",
    "SAFE_NETWORKS",
    "TYPICAL_ERRNO",
    "WITHIN",
    "AddressPlan",
    "FieldFailure",
    "ReproduceResult",
    "Reproduction",
    "Unmapped",
    "can_apply_before_start",
    "choose_fault",
    "classify",
    "cmd_events",
    "cmd_reproduce",
    "dump_scenario",
    "fault_for",
    "fault_parameters",
    "fault_rows",
    "field_failure",
    "file_name",
    "find_event_log",
    "format_result",
    "plan_addresses",
    "read_event_records",
    "register",
    "render_events",
    "reproduce_export",
    "router_version",
    "run_reproduction",
    "scenario_for",
    "scenario_name",
    "win_event",
    "winsock_name",
]
