"""faultlab explore on real namespaces: discovery of igmpd's calls, a fault that hits its site
only, and each outcome class shown by the toy router built for it (tests/explore/toy_router.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.explore.discover import Discovery, discover
from harness.explore.plan import PlannedFault
from harness.explore.run import observe
from harness.scenario_loader import load
from tests.explore.helpers import IGMPD, toy_scenario

pytestmark = pytest.mark.netns


@pytest.fixture(scope="module")
def igmpd_discovery(tmp_path_factory: pytest.TempPathFactory) -> Discovery:
    return discover(load(IGMPD), tmp_path_factory.mktemp("discovery"))


def calls_on(found: Discovery, interface: str) -> set[str]:
    return {f"{s.phase} {s.call}" for s in found.sites if s.interface == interface}


def test_discovery_finds_every_call_igmpd_makes_for_one_interface(
    igmpd_discovery: Discovery,
) -> None:
    """docs/igmpd.md's activation steps for e0, on whichever receive path this kernel gives."""
    e0 = calls_on(igmpd_discovery, "e0")
    shared = {
        "start-up ioctl SIOCGIFINDEX",
        "start-up ioctl SIOCGIFFLAGS",
        "start-up ioctl SIOCGIFADDR",
        "start-up ioctl SIOCGIFNETMASK",
        "start-up socket AF_INET SOCK_RAW IPPROTO_IGMP",
        "start-up setsockopt SO_BINDTODEVICE",
        "start-up setsockopt IP_MULTICAST_TTL",
        "start-up setsockopt IP_MULTICAST_LOOP",
        "start-up setsockopt IP_MULTICAST_IF",
        "start-up setsockopt IP_ADD_MEMBERSHIP",
        "start-up setsockopt IP_ROUTER_ALERT",
        "start-up setsockopt IP_OPTIONS",
        "start-up epoll_ctl ADD",
        "start-up sendto",
        "steady sendto",
        "steady recvfrom",
    }
    assert shared <= e0, sorted(shared - e0)
    packet_path = "start-up bind" in e0
    path_calls = (
        {"start-up socket AF_PACKET SOCK_DGRAM 0", "start-up setsockopt PACKET_ADD_MEMBERSHIP",
         "start-up setsockopt SO_ATTACH_FILTER"}
        if packet_path
        else {"start-up setsockopt MRT_ADD_VIF"}
    )  # fmt: skip
    assert path_calls <= e0, sorted(path_calls - e0)
    joins = [s for s in igmpd_discovery.sites if s.call.endswith("IP_ADD_MEMBERSHIP")]
    assert {s.occurrence for s in joins if s.interface == "e0"} >= {1, 2}


def test_every_recorded_call_on_the_interface_is_a_site(igmpd_discovery: Discovery) -> None:
    from harness.explore.discover import matched_args

    sites = {(s.syscall, s.args) for s in igmpd_discovery.sites if s.interface == "e0"}
    for call in igmpd_discovery.calls:
        if call.interface == "e0" and call.syscall != "socket":
            assert (call.syscall, matched_args(call)[1]) in sites, call


def test_a_planned_fault_hits_its_site_only(igmpd_discovery: Discovery, tmp_path: Path) -> None:
    """The second join on e0 (224.0.0.22) fails; the first join and e1 are untouched."""
    site = next(
        s
        for s in igmpd_discovery.sites
        if s.call.endswith("IP_ADD_MEMBERSHIP") and s.interface == "e0" and s.occurrence == 2
    )
    result = observe(load(IGMPD), PlannedFault(site, "ENOBUFS"), tmp_path)
    assert result.outcome == "reported", result
    assert result.failed_positions and result.failed_positions[0] == 2
    assert result.collateral == [] and result.recovered is True
    first = next(e for e in result.events if e["errno"] is not None)
    assert first["interface"] == "e0" and "224.0.0.22" in (first["call"] or "")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("mode", "errno", "expected", "recovered"),
    [
        ("report", "EPERM", "reported", True),
        ("vague", "EPERM", "vague", True),
        ("ignore", "EPERM", "silent", True),
        ("ignore", "EINTR", "tolerated", True),
        ("exit", "EPERM", "exit 3", False),
        ("crash", "EPERM", "crash (SIGABRT)", False),
    ],
)
def test_each_outcome_class_from_a_router_built_to_show_it(
    tmp_path: Path, mode: str, errno: str, expected: str, recovered: bool
) -> None:
    base = load(toy_scenario(tmp_path, mode))
    found = discover(base, tmp_path / "discovery")
    site = next(s for s in found.sites if s.key.startswith("steady sendto @e0"))
    result = observe(base, PlannedFault(site, errno), tmp_path / "runs")
    assert result.outcome == expected, result
    assert result.recovered is recovered, result
