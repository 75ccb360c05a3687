"""Querier election and general-query scheduling for one interface (RFC 2236 3, RFC 3376 6.6).

The router with the lowest address on a LAN is the querier. A router that hears a query from a
lower address stops querying until the other-querier-present timer runs out. Time is passed in,
so the election is tested with a fake clock.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from igmpd.config import Timers


@dataclass
class Querier:
    """Who queries on one interface, and when the next general query is due."""

    address: str
    timers: Timers
    other: str | None = None  # the other querier's address while it is present
    other_until: float = 0.0
    startup_left: int = 0
    next_query: float = 0.0

    def start(self, now: float) -> None:
        """Become querier at activation: startup queries, the first one now."""
        self.other = None
        self.startup_left = self.timers.startup_count
        self.next_query = now

    @property
    def is_querier(self) -> bool:
        """True while igmpd itself is the querier."""
        return self.other is None

    def heard_query(self, source: str, now: float) -> bool:
        """A query from source: True when igmpd just lost the election to it."""
        if source == self.address or not _lower(source, self.address):
            return False
        lost = self.other is None
        self.other = source if lost or _lower(source, self.other or source) else self.other
        self.other_until = now + self.timers.other_querier_present_interval
        return lost

    def due(self, now: float) -> bool:
        """True when a general query must go out now; advances the schedule when it does."""
        if self.other is not None:
            if now < self.other_until:
                return False
            self.other = None  # the other querier went silent: take over and query now
            self.next_query = now
        if now < self.next_query:
            return False
        if self.startup_left > 0:
            self.startup_left -= 1
            interval = self.timers.startup_interval if self.startup_left else None
        else:
            interval = None
        self.next_query = now + (interval or self.timers.query_interval)
        return True

    def wake_at(self) -> float:
        """The next time due() may return True."""
        return self.other_until if self.other is not None else self.next_query

    def snapshot(self) -> str:
        """'self' or the other querier's address, for the state file."""
        return "self" if self.other is None else self.other


def _lower(a: str, b: str) -> bool:
    return ipaddress.IPv4Address(a) < ipaddress.IPv4Address(b)
