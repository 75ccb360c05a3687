"""Group membership of one interface: v1/v2/v3 reports in, groups with timers out.

A simplified RFC 3376 router state machine (section 6.4): a group is in EXCLUDE mode (any
source, or all but ``excluded``) with a group timer, or in INCLUDE mode with a timer per
source. v1/v2 reports put a group in EXCLUDE {} and start an older-host-present timer, which
lowers the group's compatibility version until it runs out.

Time is passed in (``now``), never read, so tests drive it with a fake clock. Expiry is lazy:
a refresh only moves a deadline later, and a heap holds one entry per group that is at or
before its real deadline, so a report costs no heap operation.

Memory is bounded per group (issue 3: well under 1 KiB with 10k groups): a group is one
slotted object with no address of its own (the dict key is the address), no sources dict
unless it has sources, one shared empty frozenset, and a heap entry that is a single int
(deadline in microseconds, then the 32-bit address) instead of a tuple and a float.
"""

from __future__ import annotations

import heapq
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from igmpd import packets
from igmpd.config import Limits, Timers

INCLUDE = "include"
EXCLUDE = "exclude"
EMPTY: frozenset[bytes] = frozenset()  # the one empty source set every group shares
ADDRESS_BITS = 32
ADDRESS_MASK = (1 << ADDRESS_BITS) - 1
TICKS_PER_SECOND = 1_000_000  # heap deadlines in microseconds, rounded up (never early)


class Group:
    """One group on one interface (its address is its key in Membership.groups).

    ``filed`` is the heap entry that currently stands for the group: other entries of it
    (left behind when a leave lowered its timer) are stale and skipped.
    """

    __slots__ = (
        "mode",
        "expires",
        "sources",
        "excluded",
        "last_reporter",
        "v1_host_until",
        "v2_host_until",
        "static",
        "filed",
    )

    def __init__(self) -> None:
        self.mode = INCLUDE
        self.expires = 0.0  # group timer (EXCLUDE mode)
        self.sources: dict[bytes, float] | None = None  # source -> its timer, when any
        self.excluded = EMPTY
        self.last_reporter = ""
        self.v1_host_until = 0.0
        self.v2_host_until = 0.0
        self.static = False
        self.filed = 0

    def deadline(self) -> float:
        """The earliest time at which this group's state changes by itself."""
        times = [t for t in (self.v1_host_until, self.v2_host_until) if t]
        if self.mode == EXCLUDE:
            times.append(self.expires)
        if self.sources:
            times.extend(self.sources.values())
        return min(times) if times else 0.0

    def version(self, router_version: int, now: float) -> int:
        """The compatibility version: the lowest of the router's and of hosts still present."""
        if self.v1_host_until > now:
            return 1
        if self.v2_host_until > now:
            return min(router_version, 2)
        return router_version


@dataclass(slots=True)
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
        self._heap: list[int] = []  # (deadline tick << 32) | address, see _file()
        self.refused = 0  # reports dropped by the group or source caps
        self.gmi = timers.group_membership_interval
        self.ohpi = timers.older_host_present_interval
        self.shared_host_timer = self.ohpi == self.gmi  # the default: one float for both timers

    # --- reports -----------------------------------------------------------------------

    def _new_group(self, address: bytes) -> Group | None:
        """A new group for address (filed by the caller once its timers are set), or None
        (counted as refused) when the interface holds max_groups already."""
        if len(self.groups) >= self.limits.max_groups:
            self.refused += 1
            return None
        group = self.groups[address] = Group()
        return group

    def _file(self, address: bytes, group: Group, deadline: float) -> None:
        """Put the group on the heap at deadline (rounded up to the next microsecond)."""
        entry = (int(deadline * TICKS_PER_SECOND) + 1) << ADDRESS_BITS | int.from_bytes(address)
        group.filed = entry
        heapq.heappush(self._heap, entry)

    def report_v1v2(self, address: bytes, reporter: str, version: int, now: float) -> bool:
        """A v1 or v2 membership report; True when the set of groups changed."""
        group = self.groups.get(address)
        new = group is None
        if group is None:
            group = self._new_group(address)
            if group is None:
                return False
        group.mode = EXCLUDE
        if group.excluded:
            group.excluded = EMPTY
        expires = group.expires = now + self.gmi
        group.last_reporter = reporter
        host_until = expires if self.shared_host_timer else now + self.ohpi
        if version == 1:
            group.v1_host_until = host_until
        else:
            group.v2_host_until = host_until
        if new:
            self._file(address, group, min(expires, host_until))
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
            timers = group.sources or {}
            for source in sources:
                if source in timers and timers[source] > deadline:
                    timers[source] = deadline
        elif group.expires > deadline:
            group.expires = deadline
        if deadline * TICKS_PER_SECOND < group.filed >> ADDRESS_BITS:
            self._file(address, group, deadline)

    def record(self, record: packets.GroupRecord, reporter: str, now: float) -> Actions:
        """Apply one IGMPv3 group record (RFC 3376 6.4, simplified)."""
        actions = Actions()
        address = record.group
        group = self.groups.get(address)
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
            group = self._new_group(address)
            if group is None:
                return actions
            actions.changed = True
            self._apply_record(address, group, record, reporter, now, actions)
            self._file(address, group, group.deadline())
            return actions
        return self._apply_record(address, group, record, reporter, now, actions)

    def _apply_record(
        self,
        address: bytes,
        group: Group,
        record: packets.GroupRecord,
        reporter: str,
        now: float,
        actions: Actions,
    ) -> Actions:
        if group.version(self.version, now) < 3:
            return self._record_in_compat(address, group, record, reporter, now, actions)
        group.last_reporter = reporter
        gmi = now + self.timers.group_membership_interval
        sources = record.sources
        kind = record.type
        if kind in (packets.MODE_IS_INCLUDE, packets.ALLOW_NEW_SOURCES):
            self._add_sources(group, sources, gmi, actions)
            _unexclude(group, sources)
        elif kind == packets.CHANGE_TO_INCLUDE:
            old = tuple(s for s in group.sources or () if s not in sources)
            self._add_sources(group, sources, gmi, actions)
            _unexclude(group, sources)
            if group.mode == EXCLUDE:
                actions.queries.append((address, ()))
            elif old:
                actions.queries.append((address, old))
        elif kind in (packets.MODE_IS_EXCLUDE, packets.CHANGE_TO_EXCLUDE):
            if (
                group.mode != EXCLUDE
                or (sources or group.excluded)
                and set(sources) != group.excluded
            ):
                actions.changed = True
            group.mode = EXCLUDE
            group.expires = gmi
            group.excluded = frozenset(sources[: self.limits.max_sources]) if sources else EMPTY
            if group.sources:
                for source in group.excluded:
                    group.sources.pop(source, None)
        elif kind == packets.BLOCK_OLD_SOURCES and group.mode == INCLUDE:
            blocked = tuple(s for s in sources if s in (group.sources or ()))
            if blocked:
                actions.queries.append((address, blocked))
        return actions

    def _record_in_compat(
        self,
        address: bytes,
        group: Group,
        record: packets.GroupRecord,
        reporter: str,
        now: float,
        actions: Actions,
    ) -> Actions:
        """RFC 3376 7.3.2: in v1/v2 compatibility, BLOCK is ignored, TO_EX({}) acts as a
        report, TO_IN({}) as a leave, and source lists are ignored."""
        kind = record.type
        if kind == packets.BLOCK_OLD_SOURCES:
            return actions
        if kind == packets.CHANGE_TO_INCLUDE and not record.sources:
            if self.leave(address, now):
                actions.queries.append((address, ()))
            return actions
        group.mode = EXCLUDE
        group.excluded = EMPTY
        group.sources = None
        group.expires = now + self.timers.group_membership_interval
        group.last_reporter = reporter
        return actions

    def _add_sources(
        self, group: Group, sources: tuple[bytes, ...], deadline: float, actions: Actions
    ) -> None:
        timers = group.sources
        if timers is None:
            timers = group.sources = {}
        for source in sources:
            if source not in timers:
                if len(timers) >= self.limits.max_sources:
                    self.refused += 1
                    continue
                actions.changed = True
            timers[source] = deadline
        if not timers:
            group.sources = None  # every source refused by the cap: no empty dict kept

    def add_static(self, address: bytes) -> None:
        """A configured static group: EXCLUDE {}, never expires."""
        group = self.groups.get(address)
        if group is None:
            group = self.groups[address] = Group()
        group.static = True
        group.mode = EXCLUDE
        group.expires = float("inf")
        group.last_reporter = "static"

    # --- expiry ----------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        """When expire() may next have something to do (possibly early), or None."""
        return (self._heap[0] >> ADDRESS_BITS) / TICKS_PER_SECOND if self._heap else None

    def expire(self, now: float) -> bool:
        """Run every timer due by now; True when the set of groups changed."""
        changed = False
        heap = self._heap
        due = int(now * TICKS_PER_SECOND)
        while heap and heap[0] >> ADDRESS_BITS <= due:
            entry = heapq.heappop(heap)
            address = (entry & ADDRESS_MASK).to_bytes(4)
            group = self.groups.get(address)
            if group is None or group.static or group.filed != entry:
                continue  # gone, never expires, or a stale entry of a lowered timer
            changed |= self._expire_group(address, group, now)
            if address in self.groups:
                self._file(address, group, max(group.deadline(), now))
        return changed

    def _expire_group(self, address: bytes, group: Group, now: float) -> bool:
        changed = False
        if group.sources:
            for source, deadline in list(group.sources.items()):
                if deadline <= now:
                    del group.sources[source]
                    changed = True
            if not group.sources:
                group.sources = None
        if group.v1_host_until and group.v1_host_until <= now:
            group.v1_host_until = 0.0  # gone by: no longer a deadline of the group
        if group.v2_host_until and group.v2_host_until <= now:
            group.v2_host_until = 0.0
        if group.mode == EXCLUDE and group.expires <= now:
            group.mode = INCLUDE
            group.excluded = EMPTY
            changed = True
        if group.mode == INCLUDE and not group.sources:
            del self.groups[address]
            return True
        return changed

    # --- reporting -------------------------------------------------------------------

    def snapshot(self, now: float) -> dict[str, Any]:
        """The groups as the state file shows them."""
        return dict(self.snapshot_items(now))

    def snapshot_items(self, now: float) -> Iterator[tuple[str, dict[str, Any]]]:
        """The groups as the state file shows them, one at a time, in address order (the
        state file streams them instead of holding 10k small dicts at once)."""
        groups = self.groups
        for address in sorted(groups):
            group = groups.get(address)
            if group is not None:
                yield socket.inet_ntoa(address), _group_state(group, self.version, now)


def _unexclude(group: Group, sources: tuple[bytes, ...]) -> None:
    """Take sources out of the group's excluded set (no new set when there is nothing to do)."""
    if group.excluded and sources:
        group.excluded = group.excluded.difference(sources) or EMPTY


def _group_state(group: Group, router_version: int, now: float) -> dict[str, Any]:
    if group.static:
        expires_in = None
    elif group.mode == EXCLUDE:
        expires_in = round(max(0.0, group.expires - now), 3)
    else:
        timers = group.sources or {}
        expires_in = round(max(0.0, max(timers.values(), default=now) - now), 3)
    return {
        "version": group.version(router_version, now),
        "mode": group.mode,
        "last_reporter": group.last_reporter,
        "sources": sorted(socket.inet_ntoa(s) for s in group.sources or ()),
        "excluded": sorted(socket.inet_ntoa(s) for s in group.excluded),
        "expires_in": expires_in,
        "static": group.static,
    }
