"""Each adapter maps its router's real log lines (recorded on Debian 12) to catalog events.

The lines are those the routers printed under the faults of docs/routers.md; a regex that stops
matching, or an errno read in the wrong style, fails here without any router installed.
"""

from __future__ import annotations

import pytest

from harness.routers import ADAPTERS
from harness.routers.external import ExternalAdapter, parse_subnet
from harness.routers.frr import parse_state as frr_state
from harness.routers.igmpproxy import parse_state as igmpproxy_state
from harness.routers.pimd import parse_state as pimd_state
from harness.routers.smcroute import parse_state as smcroute_state

IgmpproxyAdapter = ADAPTERS["igmpproxy"]  # the bundled profiles' adapter classes
SmcrouteAdapter = ADAPTERS["smcroute"]
PimdAdapter = ADAPTERS["pimd"]
FrrAdapter = ADAPTERS["frr"]

IGMPPROXY_PRELUDE = [
    "buildIfVc: Interface e0 Addr: 10.0.1.1, Flags: 0x1043, Network: 10.0.1/24",
    "buildIfVc: Interface e1 Addr: 10.0.2.1, Flags: 0x1043, Network: 10.0.2/24",
]
PIMD_PRELUDE = [
    "14:25:05.046 Installing e0 (10.0.1.1 on subnet 10.0.1/24) as vif #0-2 - rate 0",
    "14:25:05.046 Installing e1 (10.0.2.1 on subnet 10.0.2/24) as vif #1-3 - rate 0",
]

CASES: list[tuple[type[ExternalAdapter], list[str], str, tuple[int, int | None, str | None]]] = [
    (
        IgmpproxyAdapter,
        [],
        "MC-Router API already in use; Errno(98): Address already in use",
        (41028, 98, None),
    ),
    (IgmpproxyAdapter, [], "IGMP socket open; Errno(1): Operation not permitted", (41024, 1, None)),
    (
        IgmpproxyAdapter,
        [],
        "can't join group 224.0.0.2 on interface e1; Errno(105): No buffer space available",
        (41028, 105, "e1"),
    ),
    (
        IgmpproxyAdapter,
        IGMPPROXY_PRELUDE,
        "sendto to 224.0.0.1 on 10.0.2.1; Errno(1): Operation not permitted",
        (41019, 1, "e1"),
    ),
    (
        SmcrouteAdapter,
        [],
        "smcroute[7187]: IPv4 multicast routing API already in use: Address already in use",
        (41028, 98, None),
    ),
    (
        SmcrouteAdapter,
        [],
        "smcroute[1]: Failed initializing IPv4 multicast routing API: Operation not permitted",
        (41024, 1, None),
    ),
    (
        SmcrouteAdapter,
        [],
        "smcroute[10632]: Failed creating VIF for e0: Address already in use",
        (41028, 98, "e0"),
    ),
    (
        SmcrouteAdapter,
        [],
        "smcroute[1]: Failed joining group (*,239.1.1.1/32) on sd 11 ... 105: No buffer space available",
        (41028, 105, None),
    ),
    (
        SmcrouteAdapter,
        [],
        "smcroute[1]: Failed sending IGMP control message 0x30 on e1, error 1: Operation not permitted",
        (41019, 1, "e1"),
    ),
    (
        PimdAdapter,
        [],
        "14:28:00.001 Another multicast routing application is already running.",
        (41028, 98, None),  # logged only for EADDRINUSE (pimd's src/kern.c)
    ),
    (
        PimdAdapter,
        [],
        "14:28:00.001 Failed creating IGMP socket in init_igmp(): Operation not permitted",
        (41024, 1, None),
    ),
    (
        PimdAdapter,
        PIMD_PRELUDE,
        "14:28:30.903 Cannot join group 224.0.0.22 on interface 10.0.2.1 (ifindex 3): No buffer space available",
        (41028, 105, "e1"),
    ),
    (
        PimdAdapter,
        PIMD_PRELUDE,
        "14:28:00.1 Not allowed to send IGMP message from 10.0.1.1 to 224.0.0.1, possibly firewall, or SELinux policy violation, related problem.",
        (41019, 1, "e0"),  # EPERM (or EHOSTUNREACH): pimd's src/igmp.c
    ),
    (
        FrrAdapter,
        [],
        "2026/11/25 14:29:14 PIM: [X7TC8-XJ95M] ../pimd/pim_mroute.c pim_mroute_set: failure: setsockopt(fd=9,PIM_IPPROTO,MRT_INIT=1): errno=98: Address already in use",
        (41028, 98, None),
    ),
    (
        FrrAdapter,
        [],
        "2026/11/25 14:29:42 PIM: [YZ9CW-KEVKQ] Send IGMPv3 query failed due to 224.0.0.1 on e1: group=* msg_size=12: errno=1: Operation not permitted",
        (41019, 1, "e1"),
    ),
    (
        FrrAdapter,
        [],
        "2026/11/25 14:29:32 PIM: [T2HFW-M700R] Could not open IGMP socket for 10.0.2.1 on e1",
        (41055, None, "e1"),
    ),
    (
        FrrAdapter,
        [],
        "privs_init: initial cap_set_proc failed: Operation not permitted",
        (41024, 1, None),
    ),
]


@pytest.mark.parametrize(("adapter", "prelude", "line", "expected"), CASES)
def test_log_line_maps_to_event_with_errno_in_routers_style(
    adapter: type[ExternalAdapter],
    prelude: list[str],
    line: str,
    expected: tuple[int, int | None, str | None],
) -> None:
    mapper = adapter().mapper()
    mapper.map_lines(prelude)
    record = mapper(line)
    assert record is not None, f"{adapter.name} did not map {line!r}"
    assert (record["id"], record.get("errno"), record.get("interface")) == expected


def test_frr_start_noise_is_not_an_event_nor_a_notable_line() -> None:
    noise = "2026/11/25 PIM: [RRBDT-6NWPY] pim_msg_send_frame: sendto() failure to 224.0.0.13: iface=e0 fd=-1 msg_size=54: Bad file descriptor"
    assert FrrAdapter().mapper()(noise) is None
    assert FrrAdapter.ignore is not None and FrrAdapter.ignore.search(noise)


def test_igmpproxy_state_follows_its_routing_table_log() -> None:
    lines = [
        "adding VIF, Ix 0 Fl 0x0 IP 0x0101000a e0, Threshold: 1, Ratelimit: 0",
        "adding VIF, Ix 1 Fl 0x0 IP 0x0102000a e1, Threshold: 1, Ratelimit: 0",
        "Inserted route table entry for 239.1.1.1 on VIF #1",
        "Inserted route table entry for 239.3.3.3 on VIF #1",
        "quickleave is enabled and this was the last downstream host, leaving group 239.3.3.3 now",
    ]
    state = igmpproxy_state(lines, ("e0", "e1"))
    assert state.interfaces["e1"].groups == ("239.1.1.1",)
    assert state.interfaces["e0"].groups == ()


def test_pimd_state_puts_a_join_on_the_interface_of_its_source_subnet() -> None:
    lines = [
        *PIMD_PRELUDE,
        "14:25:05.046 Interface e0 comes up; vif #0 now in service",
        "14:28:06.203 SM group order from  10.0.2.2 (*,239.1.1.1)",
        "14:28:06.203 SM group order from  10.0.2.1 (*,224.0.0.22)",
    ]
    state = pimd_state(lines, ("e0", "e1"), PimdAdapter.address_lines)
    assert state.interfaces["e1"].groups == ("239.1.1.1",)
    assert state.interfaces["e0"].active and not state.interfaces["e1"].active


def test_smcroute_state_from_its_show_output() -> None:
    interfaces = (
        "=====\n INDEX PHYINT  VIF  MIF\n=====\n     1 lo      N/A  N/A\n     2 e0        0    0\n"
    )
    groups = "GROUP (S,G)   IIF\n=====\n(*, 239.1.1.1)                             e0\n"
    state = smcroute_state(interfaces, groups, ("e0", "e1"))
    assert state.interfaces["e0"].active and not state.interfaces["e1"].active
    assert state.interfaces["e0"].groups == ("239.1.1.1",)


def test_frr_state_from_vtysh_json() -> None:
    interfaces = {"e0": {"state": "up"}, "e1": {"state": "down"}}
    groups = {"totalGroups": 1, "e1": {"groups": [{"group": "239.1.1.1"}]}}
    state = frr_state(interfaces, groups, ("e0", "e1"))
    assert state.interfaces["e1"].groups == ("239.1.1.1",)
    assert state.interfaces["e0"].active and not state.interfaces["e1"].active


def test_mrouted_style_subnets_are_padded() -> None:
    assert str(parse_subnet("10.0.1/24")) == "10.0.1.0/24"


def test_frr_s_pimd_is_never_taken_for_standalone_pimd(monkeypatch: pytest.MonkeyPatch) -> None:
    """/usr/lib/frr is FRR's own folder: only the FRR adapter (its program_dirs) looks there."""
    from harness.routers import base

    searched: list[str | None] = []

    def which(name: str, path: str | None = None) -> None:
        searched.append(path)

    monkeypatch.setattr(base.shutil, "which", which)
    assert base.find_program("pimd") is None
    assert searched and not any("/usr/lib/frr" in (path or "") for path in searched)
