"""The state file: the router's snapshot (pid, interfaces, groups, counters, failures) and its
writes, coalesced so a busy router spends at most a third of its time writing."""

from __future__ import annotations

import os
from typing import Any

import igmpcatalog as catalog
from igmpd.core import RouterCore
from igmpd.interface import Interface
from igmpd.state import Streamed

STATE_MIN_INTERVAL = 0.02  # state file writes are coalesced to at most one per this period


class SnapshotMixin(RouterCore):
    """The router's part that writes the state file."""

    def _schedule_state(self) -> None:
        if self.state_timer is not None and not self.state_timer.cancelled:
            return
        # At most one write per STATE_MIN_INTERVAL, and never more than a third of the time
        # spent writing: a state file of 10k groups takes tens of milliseconds.
        gap = max(STATE_MIN_INTERVAL, 2 * self.last_state_cost)
        deadline = max(self.clock(), self.last_state_write + gap)
        self.state_timer = self.timers.call_at(deadline, self.write_state)

    def write_state(self) -> None:
        """Write the state file now if something changed since the last write."""
        self.state_timer = None
        if self.dirty:
            self._write_state_now()

    def _write_state_now(self) -> None:
        self.dirty = False
        start = self.clock()
        try:
            self.state.write(self.snapshot(streamed=True))
        except OSError:
            pass  # the state file is a report: failing to write it must not stop routing
        self.last_state_write = self.clock()
        self.last_state_cost = self.last_state_write - start

    def snapshot(self, streamed: bool = False) -> dict[str, Any]:
        """The state file's content; with streamed, each interface's groups are a Streamed
        mapping (for StateFile.write) instead of a dict."""
        now = self.clock()
        return {
            "pid": os.getpid(),
            "started": self.started,
            "multicast_routing": self.routing.snapshot(),
            "interfaces": {
                i.name: self._interface_state(i, now, streamed) for i in self.interfaces
            },
        }

    def _interface_state(self, interface: Interface, now: float, streamed: bool) -> dict[str, Any]:
        membership = interface.membership
        groups: dict[str, Any] | Streamed = (
            Streamed(lambda: membership.snapshot_items(now))
            if streamed
            else membership.snapshot(now)
        )
        failure = interface.failure
        err = failure.get("errno")
        return {
            "address": interface.address,
            "mode": interface.config.mode,
            "version": interface.config.version,
            "status": "active" if interface.active else "inactive",
            "receive_path": interface.receive_path if interface.active else self.routing.planned,
            "failed_step": failure.get("step"),
            "call": failure.get("call"),
            "errno": err,
            "errno_name": catalog.errno_name(err) if err else None,
            "reason": failure.get("reason"),
            "querier": interface.querier.snapshot() if interface.querier else None,
            "groups": groups,
            "counters": dict(interface.counters),
        }
