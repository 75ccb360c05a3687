"""Causes a router's design never meets: a fault-table row (fault kind at a step) that a given
router cannot show, and why (docs/matrix.md, "Fault-table rows left out", is this table for
igmpd). ``faultlab reproduce`` never chooses one of them, since its scenario could not pass.

Data, in one place; both ways of choosing a cause read it (harness.reproduce.causes for logs,
harness.reproduce.choose for exports).
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.catalog import Step


@dataclass(frozen=True)
class NotMet:
    """A real cause (fault kind at a step) that a router's design never meets, and why."""

    router: str
    fault: str
    step: Step
    reason: str


NEVER_MEETS: tuple[NotMet, ...] = (
    NotMet(
        "igmpproxy",
        "route-removed",
        Step.SEND,
        "igmpproxy sets IP_MULTICAST_IF to the interface's address before each send (k_set_if), "
        "so no route is looked up for 224.0.0.0/4",
    ),
    NotMet(
        "igmpd",
        "address-gone",
        Step.BIND,
        "igmpd never calls bind((addr, 0)) (it would stop multicast reception); it uses "
        "SO_BINDTODEVICE",
    ),
    NotMet(
        "igmpd",
        "address-gone",
        Step.REQUEST_MULTICAST,
        "igmpd names the interface by index (ip_mreqn), not by address, and checks for an "
        "address first (41055 only)",
    ),
    NotMet(
        "igmpd",
        "address-removed",
        Step.REQUEST_MULTICAST,
        "igmpd checks for an address before its socket steps (41055 only)",
    ),
    NotMet(
        "igmpd",
        "link-deleted",
        Step.REQUEST_MULTICAST,
        "a deleted link fails earlier, at SO_BINDTODEVICE (41025)",
    ),
    NotMet(
        "igmpd",
        "route-removed",
        Step.SEND,
        "igmpd sends with IP_MULTICAST_IF and SO_BINDTODEVICE set, so no route is looked up "
        "for 224.0.0.0/4",
    ),
    NotMet(
        "igmpd",
        "address-removed",
        Step.SEND,
        "igmpd learns of the deletion by netlink before its next query and re-activates the "
        "interface: 41055 (no address), never a failed send",
    ),
    NotMet(
        "igmpd",
        "link-deleted",
        Step.SEND,
        "netlink first, so the failure shows at SO_BINDTODEVICE (41025)",
    ),
    NotMet(
        "igmpd",
        "egress-full",
        Step.SEND,
        "igmpd does not set IP_RECVERR, so queue drops are silent",
    ),
)


def never_meets(router: str, fault: str, step: Step) -> NotMet | None:
    """The NEVER_MEETS row for (router, fault, step), None when the router can meet it."""
    for row in NEVER_MEETS:
        if (row.router, row.fault, row.step) == (router, fault, step):
            return row
    return None
