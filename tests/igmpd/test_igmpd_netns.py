"""igmpd on real namespaces: kernel hosts join and leave, queries on the wire, the election.

Each behaviour runs with the default (auto: the mroute path where the kernel has multicast
routing, packet sockets where it has not) and with --multicast-routing off (packet sockets on
every kernel)."""

from __future__ import annotations

import pytest
from igmpd_testlib import capture, igmp_frames, join, wait_for
from scapy.layers.igmp import IGMP, IGMPv3_MQ
from scapy.layers.inet import IP

from igmpd import packets

pytestmark = pytest.mark.netns

PAIR = {"nodes": ["r1", "h1"], "links": [{"a": "r1:e0 10.0.1.1/24", "b": "h1:e0 10.0.1.2/24"}]}
ROUTING = pytest.mark.parametrize("routing", ["auto", "off"])


@ROUTING
@pytest.mark.parametrize("host_version", [2, 3])
def test_kernel_host_join_and_leave_are_followed(
    make_lab, start_igmpd, host_version: int, routing: str
) -> None:
    lab = make_lab(PAIR)
    host = lab.node("h1")
    host.set_sysctl("net.ipv4.conf.e0.force_igmp_version", host_version)
    router = start_igmpd(lab.node("r1"), ["e0"], "--multicast-routing", routing)
    member = join(host, "e0", "239.1.2.3")
    group = wait_for(
        "the group in igmpd's state", lambda: router.groups("e0").get("239.1.2.3"), 0.5 + 0.3
    )
    assert group["version"] == host_version and group["last_reporter"] == "10.0.1.2"
    member.close()  # the kernel sends a leave (v2) or a TO_IN {} record (v3)
    wait_for("the group to go", lambda: "239.1.2.3" not in router.groups("e0"), 1.0)
    assert router.stop() == 0
    assert router.find(id=41042)


@pytest.mark.parametrize("mode", ["router", "internal"])
@pytest.mark.parametrize("version", [2, 3])
def test_queries_on_the_wire(make_lab, start_igmpd, mode: str, version: int) -> None:
    lab = make_lab(PAIR)
    wire = capture(lab.node("h1"), "e0")
    start_igmpd(lab.node("r1"), [f"e0:{mode}"], "--version", str(version), wait=False)
    frames = igmp_frames(wire, 3.0, lambda p: p[24] == packets.QUERY)
    queries = [IP(p) for p in frames if p[24] == packets.QUERY]
    assert queries, f"no query captured; IGMP seen: {frames!r}"
    query = queries[0]
    assert query.src == "10.0.1.1" and query.dst == "224.0.0.1" and query.ttl == 1
    assert [o.option for o in query.options] == [20]  # Router Alert
    igmp = bytes(query.payload)
    assert packets.checksum_ok(igmp)
    assert isinstance(IGMP(igmp), IGMPv3_MQ) == (version == 3)


@ROUTING
def test_two_routers_elect_the_lower_address(make_lab, start_igmpd, routing: str) -> None:
    lab = make_lab(
        {
            "nodes": ["r1", "r2", "h1"],
            "lans": [
                {
                    "name": "lan0",
                    "members": ["r1:e0 10.0.3.1/24", "r2:e0 10.0.3.2/24", "h1:e0 10.0.3.9/24"],
                }
            ],
        }
    )
    high = start_igmpd(lab.node("r2"), ["e0"], "--multicast-routing", routing)
    low = start_igmpd(lab.node("r1"), ["e0"], "--multicast-routing", routing)
    querier = lambda d: d.state().get("interfaces", {}).get("e0", {}).get("querier")  # noqa: E731
    wait_for("r2 to yield to 10.0.3.1", lambda: querier(high) == "10.0.3.1", 2.0)
    wait_for("r1 to report itself querier", lambda: querier(low) == "self", 2.0)
    wire = capture(lab.node("h1"), "e0")
    frames = igmp_frames(wire, 1.2, lambda p: False)  # more than two query intervals
    sources = {IP(p).src for p in frames if p[24] == packets.QUERY}
    assert sources == {"10.0.3.1"}
