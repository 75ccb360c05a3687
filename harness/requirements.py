"""What a scenario needs from the machine: the doctor's features, from its router and faults.

One function answers it for the runner (which skips a scenario whose features are missing) and
for the doctor (which says how many scenarios each missing feature costs), so the two can never
disagree. A scenario needs multicast routing only when something in it does: igmpd with
``multicast_routing: on``, another router, or a fault on the MRT socket.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from harness.faults import instantiate
from harness.faults.base import Fault
from harness.routers import RouterAdapter, adapter_for
from harness.scenario import Scenario

#: What every scenario needs: a lab of namespaces joined by veth pairs.
LAB_FEATURES: tuple[str, ...] = ("netns", "veth")


def scenario_faults(scenario: Scenario) -> list[Fault]:
    """The scenario's faults as Fault objects (their recipes were resolved when it was loaded)."""
    return [instantiate(spec) for spec in scenario.faults]


def features(
    scenario: Scenario,
    adapter: RouterAdapter | None = None,
    faults: Sequence[Fault] | None = None,
) -> set[str]:
    """The doctor's feature names this scenario needs (harness.features.Feature, router:<kind>,
    sysctl:<key>)."""
    adapter = adapter or adapter_for(scenario.router)
    needed = {*LAB_FEATURES, *adapter.features(scenario.router)}
    for fault in scenario_faults(scenario) if faults is None else faults:
        needed.update(fault.features())
    return needed


def costs(scenarios: Iterable[Scenario], short: Iterable[str]) -> dict[str, list[Scenario]]:
    """For each feature in ``short`` (missing or degraded here), the scenarios that need it."""
    wanted = set(short)
    cost: dict[str, list[Scenario]] = {name: [] for name in wanted}
    for scenario in scenarios:
        for name in features(scenario) & wanted:
            cost[name].append(scenario)
    return cost
