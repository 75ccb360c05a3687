"""Group membership of one interface: v1/v2/v3 reports in, groups with timers out.

A simplified RFC 3376 router state machine (section 6.4): a group is in EXCLUDE mode (any
source, or all but ``excluded``) with a group timer, or in INCLUDE mode with a timer per
source. v1/v2 reports put a group in EXCLUDE {} and start an older-host-present timer, which
lowers the group's compatibility version until it runs out.

Time is passed in (``now``), never read, so tests drive it with a fake clock. Expiry is lazy:
a refresh only moves a deadline later, and a heap holds one entry per group that is at or
before its real deadline, so a report costs no heap operation.
"""

from __future__ import annotations

import heapq
import socket
from dataclasses import dataclass, field
from typing import Any

from igmpd import packets
from igmpd.config import Limits, Timers

INCLUDE = "include"
EXCLUDE = "exclude"


@dataclass(slots=True)
class Group:
    """One group on one interface."""

    address: bytes
    mode: str = INCLUDE
    expires: float = 0.0  # group timer (EXCLUDE mode)
    sources: dict[bytes, float] = field(default_factory=dict)  # source -> its timer
    excluded: frozenset[bytes] = frozenset()  # immutable: one shared empty set, no 216 B each
    last_reporter: str = ""
    v1_host_until: float = 0.0
    v2_host_until: float = 0.0
    static: bool = False

    def deadline(self) -> float:
        """The earliest time at which this group's state changes by itself."""
        times = [t for t in (self.v1_host_until, self.v2_host_until) if t]
        if self.mode == EXCLUDE:
            times.append(self.expires)
        times.extend(self.sources.values())
        return min(times) if times else 0.0

    def version(self, router_version: int, now: float) -> int:
        """The compatibility version: the lowest of the router's and of hosts still present."""
        if self.v1_host_until > now:
            return 1
        if self.v2_host_until > now:
            return min(router_version, 2)
        return router_version


@dataclass
class Actions:
    """What the router must do after a report: queries to send (group, sources)."""

    queries: list[tuple[bytes, tuple[bytes, ...]]] = field(default_factory=list)
    changed: bool = False


class Membership:
    """The groups of one interface, with the timers RFC 2236/3376 give them."""

    def __init__(self, version: int, timers: Timers, limits: Limits) -> None:
        self.version = version
        self.timers = timers
        self.limits = limits
        self.groups: dict[bytes, Group] = {}
        self._heap: list[tuple[float, bytes]] = []
        self.refused = 0  # reports dropped by the group or source caps
        self.gmi = timers.group_membership_interval

    # --- reports -----------------------------------------------------------------------

    def _group(self, address: bytes, now: float) -> Group | None:
        group = self.groups.get(address)
        if group is None:
            if len(self.groups) >= self.limits.max_groups:
                self.refused += 1
                return None
            group = self.groups[address] = Group(address)
            heapq.heappush(self._heap, (now, address))
        return group

    def report_v1v2(self, address: bytes, reporter: str, version: int, now: float) -> bool:
        """A v1 or v2 membership report; True when the set of groups changed."""
        new = address not in self.groups
        group = self._group(address, now)
        if group is None:
            return False
        group.mode = EXCLUDE
        if group.excluded:
            group.excluded = frozenset()
        group.expires = now + self.gmi
        group.last_reporter = reporter
        if version == 1:
            group.v1_host_until = now + self.timers.older_host_present_interval
        else:
            group.v2_host_until = now + self.timers.older_host_present_interval
        return new

    def leave(self, address: bytes, now: float) -> bool:
        """A v2 leave: True when the router must run the last-member queries for the group."""
        group = self.groups.get(address)
        if group is None or group.static or group.mode != EXCLUDE:
            return False
        if group.version(self.version, now) == 1:
            return False  # RFC 3376 7.3.2: leaves are ignored while v1 hosts are present
        self.lower(address, now)
        return True

    def lower(self, address: bytes, now: float, sources: tuple[bytes, ...] = ()) -> None:
        """Set the group timer (or these sources' timers) to the last member query time."""
        group = self.groups.get(address)
        if group is None or group.static:
            return
        deadline = now + self.timers.last_member_query_time
        if sources:
            for source in sources:
                if source in group.sources and group.sources[source] > deadline:
                    group.sources[source] = deadline
        elif group.expires > deadline:
            group.expires = deadline
        heapq.heappush(self._heap, (deadline, address))

    def record(self, record: packets.GroupRecord, reporter: str, now: float) -> Actions:
        """Apply one IGMPv3 group record (RFC 3376 6.4, simplified)."""
        actions = Actions()
        group = self.groups.get(record.group)
        if group is None and record.type in (
            packets.MODE_IS_INCLUDE,
            packets.ALLOW_NEW_SOURCES,
            packets.CHANGE_TO_INCLUDE,
            packets.BLOCK_OLD_SOURCES,
        ):
            if not record.sources:
                return actions  # nothing to include: no state (a leave of an unknown group)
            if record.type == packets.BLOCK_OLD_SOURCES:
                return actions
        if group is None:
            group = self._group(record.group, now)
            if group is None:
                return actions
            actions.changed = True
        if group.version(self.version, now) < 3:
            return self._record_in_compat(group, record, reporter, now, actions)
        group.last_reporter = reporter
        gmi = now + self.timers.group_membership_interval
        sources = record.sources
        kind = record.type
        if kind in (packets.MODE_IS_INCLUDE, packets.ALLOW_NEW_SOURCES):
            self._add_sources(group, sources, gmi, actions)
            group.excluded = group.excluded.difference(sources)
        elif kind == packets.CHANGE_TO_INCLUDE:
            old = tuple(s for s in group.sources if s not in sources)
            self._add_sources(group, sources, gmi, actions)
            group.excluded = group.excluded.difference(sources)
            if group.mode == EXCLUDE:
                actions.queries.append((group.address, ()))
            elif old:
                actions.queries.append((group.address, old))
        elif kind in (packets.MODE_IS_EXCLUDE, packets.CHANGE_TO_EXCLUDE):
            if group.mode != EXCLUDE or set(sources) != group.excluded:
                actions.changed = True
            group.mode = EXCLUDE
            group.expires = gmi
            group.excluded = frozenset(sources[: self.limits.max_sources])
            for source in group.excluded:
                group.sources.pop(source, None)
        elif kind == packets.BLOCK_OLD_SOURCES and group.mode == INCLUDE:
            blocked = tuple(s for s in sources if s in group.sources)
            if blocked:
                actions.queries.append((group.address, blocked))
        return actions

    def _record_in_compat(
        self, group: Group, record: packets.GroupRecord, reporter: str, now: float, actions: Actions
    ) -> Actions:
        """RFC 3376 7.3.2: in v1/v2 compatibility, BLOCK is ignored, TO_EX({}) acts as a
        report, TO_IN({}) as a leave, and source lists are ignored."""
        kind = record.type
        if kind == packets.BLOCK_OLD_SOURCES:
            return actions
        if kind == packets.CHANGE_TO_INCLUDE and not record.sources:
            if self.leave(group.address, now):
                actions.queries.append((group.address, ()))
            return actions
        group.mode = EXCLUDE
        group.excluded = frozenset()
        group.sources.clear()
        group.expires = now + self.timers.group_membership_interval
        group.last_reporter = reporter
        return actions

    def _add_sources(
        self, group: Group, sources: tuple[bytes, ...], deadline: float, actions: Actions
    ) -> None:
        for source in sources:
            if source not in group.sources:
                if len(group.sources) >= self.limits.max_sources:
                    self.refused += 1
                    continue
                actions.changed = True
            group.sources[source] = deadline

    def add_static(self, address: bytes) -> None:
        """A configured static group: EXCLUDE {}, never expires."""
        group = self.groups.setdefault(address, Group(address))
        group.static = True
        group.mode = EXCLUDE
        group.expires = float("inf")
        group.last_reporter = "static"

    # --- expiry ----------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        """When expire() may next have something to do (possibly early), or None."""
        return self._heap[0][0] if self._heap else None

    def expire(self, now: float) -> bool:
        """Run every timer due by now; True when the set of groups changed."""
        changed = False
        heap = self._heap
        while heap and heap[0][0] <= now:
            _, address = heapq.heappop(heap)
            group = self.groups.get(address)
            if group is None or group.static:
                continue
            changed |= self._expire_group(group, now)
            if address in self.groups:
                deadline = group.deadline()
                heapq.heappush(heap, (deadline if deadline > now else now + 0.001, address))
        return changed

    def _expire_group(self, group: Group, now: float) -> bool:
        changed = False
        for source, deadline in list(group.sources.items()):
            if deadline <= now:
                del group.sources[source]
                changed = True
        if group.mode == EXCLUDE and group.expires <= now:
            group.mode = INCLUDE
            group.excluded = frozenset()
            changed = True
        if group.mode == INCLUDE and not group.sources:
            del self.groups[group.address]
            return True
        return changed

    # --- reporting -------------------------------------------------------------------

    def snapshot(self, now: float) -> dict[str, Any]:
        """The groups as the state file shows them."""
        return {
            socket.inet_ntoa(address): _group_state(group, self.version, now)
            for address, group in sorted(self.groups.items())
        }


def _group_state(group: Group, router_version: int, now: float) -> dict[str, Any]:
    if group.static:
        expires_in = None
    elif group.mode == EXCLUDE:
        expires_in = round(max(0.0, group.expires - now), 3)
    else:
        expires_in = round(max(0.0, max(group.sources.values(), default=now) - now), 3)
    return {
        "version": group.version(router_version, now),
        "mode": group.mode,
        "last_reporter": group.last_reporter,
        "sources": sorted(socket.inet_ntoa(s) for s in group.sources),
        "excluded": sorted(socket.inet_ntoa(s) for s in group.excluded),
        "expires_in": expires_in,
        "static": group.static,
    }
