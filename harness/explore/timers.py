"""The router's own timers, as an exploration waits on them.

How long discovery watches steady state, how long the judge waits for a general query, a retry
or a steady-state call: all follow the router's timers, read from its adapter
(``RouterAdapter.query_period``: pimd's queries come at its 5 s tick at the earliest, FRR's in
whole seconds, smcroute's adverts at its mrdisc interval, igmpproxy's too rarely to wait for),
or, for a router whose adapter cannot tell (``kind: command``), measured in the healthy
discovery run (harness.explore.baseline).
On a slow machine only the work around a timer is stretched (harness.timing.timer_window):
the timers themselves run in real time, in an emulated guest too.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.routers import ADAPTERS
from harness.scenario import Scenario
from harness.timing import timer_window

DEFAULT_QUERY = 2.0  # seconds: a router whose period is unknown is watched this long per query


def query_period(scenario: Scenario) -> float | None:
    """Seconds between two of the router's general queries (None: not to be waited for)."""
    spec = scenario.router
    adapter = ADAPTERS.get(spec.kind)
    if adapter is None:
        interval = spec.timers.get("query_interval")
        return None if interval is None else float(interval)
    return adapter.for_spec(spec).query_period(spec)


def steady_window(scenario: Scenario) -> float:
    """How long steady state is watched: three query periods (at least 1 s, at most 10 s), so
    every periodic call of the router shows up at least once."""
    period = query_period(scenario)
    return min(10.0, max(1.0, 3 * (period if period is not None else DEFAULT_QUERY)))


@dataclass(frozen=True)
class Timing:
    """The windows of one exploration (seconds, already stretched for a slow machine)."""

    query: float | None  # between two general queries; None: queries are not judged
    retry: float
    steady: float

    @classmethod
    def of(cls, scenario: Scenario, slow: float, measured: float | None = None) -> Timing:
        """The windows for ``scenario``: the router's query period from its adapter (its
        timers), else ``measured``, the period the healthy discovery run showed
        (harness.explore.baseline), so that no scenario needs ``query_interval`` for explore
        to see queries stop."""
        period = query_period(scenario)
        if period is None:
            period = measured
        retry = float(scenario.router.timers.get("retry_interval", 5.0))
        return cls(
            None if period is None else timer_window(period, slow),
            timer_window(retry, slow),
            timer_window(steady_window(scenario), slow),
        )

    @property
    def query_window(self) -> float:
        return 2 * (self.query or 0.0) + 0.3

    @property
    def recovery_window(self) -> float:
        return self.retry + self.query_window + 0.5
