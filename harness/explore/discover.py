"""Discovery: run the scenario with no fault, record every socket call, list the call sites.

A call site is one call of the router that a fault can single out: the syscall with the
arguments a seccomp filter can match (socket's family, type and protocol; setsockopt's level and
option; epoll_ctl's operation; an ioctl's request), the interface it concerns, its phase, and
its occurrence, counted the way the supervisor's rule counts (among the matching calls on that
interface; for calls that name no interface, among all matching calls).

Phases: start-up ends at the router's first wait for events (epoll_wait, poll, select ...), or,
for a router that never waits that way, when the harness saw it ready. Every start-up
occurrence is a site (up to ``MAX_STARTUP``: the same call repeated more is one code path);
in steady state the first occurrence after start-up stands for the call.

``socket()`` names no interface yet: its interface is the one of the next call of the same
process, which is the new socket's first use in every router seen so far (said in the report).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness.explore import names
from harness.explore.baseline import Baseline, Peers, add_log, measure
from harness.explore.sites import CallSite
from harness.explore.timers import steady_window
from harness.faults.explore import WAITS, Recorded, RecordFault
from harness.scenario import FaultSpec, Scenario
from harness.timing import timer_window

STARTUP, STEADY = "start-up", "steady"
MAX_STARTUP = 4
NO_INTERFACE = ("socket", "epoll_create1", "epoll_create")  # the supervisor cannot tell


@dataclass
class Discovery:
    """What the recording run saw: every call, where start-up ended, the call sites."""

    calls: list[Recorded]
    startup_end: float | None
    sites: list[CallSite] = field(default_factory=list)
    started_at: float = 0.0
    folder: Path | None = None
    baseline: Baseline = field(default_factory=Baseline)
    measured: bool = True  # False: sites read from a file that had no baseline

    def with_baseline(self, baseline: Baseline) -> Discovery:
        """These sites, judged against ``baseline`` (measured by another discovery run)."""
        return replace(self, baseline=baseline, measured=True)

    def to_json(self) -> dict[str, Any]:
        return {
            "calls": len(self.calls),
            "startup_end_ms": None
            if self.startup_end is None
            else round((self.startup_end - self.started_at) * 1000, 3),
            "sites": [site.to_json() for site in self.sites],
            "baseline": self.baseline.to_json(),
        }


def matched_args(call: Recorded) -> tuple[str, tuple[tuple[str, int], ...]]:
    """The call's detail words and the integer arguments a fault matches it by."""
    a = call.args
    if call.syscall == "socket":
        kind = a[1] & 0xFF
        detail = f"{names.name(names.FAMILIES, a[0])} {names.name(names.TYPES, kind)} "
        detail += names.name(names.PROTOCOLS, a[2]) if a[2] else "0"
        return detail, (("domain", a[0]), ("protocol", a[2]), ("type", kind))
    if call.syscall in ("setsockopt", "getsockopt"):
        level, optname = a[1] & 0xFFFFFFFF, a[2] & 0xFFFFFFFF
        detail = f"{names.name(names.LEVELS, level)} {names.option(level, optname)}"
        return detail, (("level", level), ("optname", optname))
    if call.syscall == "epoll_ctl":
        return names.name(names.EPOLL_OPS, a[1]), (("op", a[1] & 0xFFFFFFFF),)
    if call.syscall == "ioctl":
        return names.name(names.IOCTLS, a[1] & 0xFFFFFFFF), (("arg1", a[1] & 0xFFFFFFFF),)
    return "", ()


def startup_end(calls: Sequence[Recorded], ready_at: float | None) -> float | None:
    """The first wait for events, else the moment the router was seen ready."""
    first_wait = next((c.at for c in calls if c.syscall in WAITS), None)
    return first_wait if first_wait is not None else ready_at


def fd_of(call: Recorded) -> int | None:
    """The socket descriptor a call uses (None for socket() and epoll_create)."""
    if call.syscall == "epoll_ctl":
        return call.args[2]
    if call.syscall in NO_INTERFACE:
        return None
    return call.args[0]


def socket_interfaces(calls: Sequence[Recorded]) -> dict[int, str | None]:
    """For each socket() call (by position), the interface its socket was bound to.

    The new descriptor is the one the same process's next call uses (a socket's first use
    follows its creation in every router seen so far); the interface is that of the first
    SO_BINDTODEVICE or bind on it, before the descriptor shows up after another socket()."""
    found: dict[int, str | None] = {}
    for index, call in enumerate(calls):
        if call.syscall != "socket":
            continue
        later = [c for c in calls[index + 1 :] if c.pid == call.pid and c.syscall not in WAITS]
        fd = fd_of(later[0]) if later else None
        found[index] = _bound_interface(later, fd)
    return found


def _bound_interface(later: Sequence[Recorded], fd: int | None) -> str | None:
    for position, call in enumerate(later):
        if call.syscall == "socket" and position + 1 < len(later):
            if fd_of(later[position + 1]) == fd:
                return None  # the descriptor was closed and reused
        binds = call.syscall == "bind" or (
            call.syscall == "setsockopt" and call.args[2] == 25  # SO_BINDTODEVICE
        )
        if binds and fd_of(call) == fd:
            return call.interface
    return None


def sites_of(calls: Sequence[Recorded], end: float | None) -> list[CallSite]:
    """The distinct call sites of a recording (module docstring), in call order."""
    guessed = socket_interfaces(calls)
    counts: dict[tuple[Any, ...], list[int]] = {}
    sites: list[CallSite] = []
    for index, call in enumerate(calls):
        if call.syscall in WAITS:
            continue
        detail, args = matched_args(call)
        by_interface = call.syscall not in NO_INTERFACE and call.interface is not None
        interface = guessed.get(index) if call.syscall == "socket" else call.interface
        group = (call.syscall, args, call.interface if by_interface else None)
        seen = counts.setdefault(group, [0, 0])  # all, start-up
        seen[0] += 1
        steady = end is not None and call.at >= end
        if not steady:
            seen[1] += 1
            if seen[1] > MAX_STARTUP:
                continue
        elif seen[0] != seen[1] + 1:
            continue  # only the first steady-state occurrence
        family = None if call.family is None else names.name(names.FAMILIES, call.family)
        site = CallSite(
            call.syscall,
            detail,
            args,
            interface,
            by_interface,
            STEADY if steady else STARTUP,
            seen[0],
            family if call.syscall != "socket" else None,
        )
        sites.append(site)
    return sites


def recording_scenario(base: Scenario) -> Scenario:
    """The scenario with its faults replaced by the record-only supervisor."""
    spec = FaultSpec("explore-record", base.router.node)
    return dataclasses.replace(
        base,
        faults=(spec,),
        path=base.path.with_name(f"{base.path.stem}-discovery.yaml"),
        name=f"{base.name} [discovery]",
    )


def discover(base: Scenario, artifacts: Path, slow: float = 1.0) -> Discovery:
    """Run ``base`` with the recorder and return its call sites and the healthy run's baseline
    (harness.explore.baseline: queries per interface and their period, joins, log)."""
    from harness import runner

    scenario = recording_scenario(base)
    options = runner.RunOptions(artifacts_dir=artifacts, slow=slow, capture=True)
    with runner.session(scenario, options) as live:
        ready_at = live.stream.clock()
        fault = live.faults[0].fault
        assert isinstance(fault, RecordFault)
        live.stream.wait_until(
            lambda: live.process.poll() is not None,
            ready_at + timer_window(steady_window(base), slow),
        )
        calls = fault.log.snapshot()
        end = startup_end(calls, ready_at)
        found = Discovery(calls, end, sites_of(calls, end), live.started_at or 0.0, live.folder)
        found.baseline = measure(live, Peers.of(base))
        adapter = live.adapter
    add_log(found.baseline, adapter, found.folder or artifacts)
    return found


def describe_call(call: Recorded) -> str:
    """One line per recorded call (``faultlab explore --list -v``)."""
    detail, _ = matched_args(call)
    family = "" if call.family is None else f" [{names.name(names.FAMILIES, call.family)}]"
    return f"{call.syscall} {detail} @{call.interface or '-'}{family}".replace("  ", " ")
