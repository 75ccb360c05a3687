"""The host snapshot (harness.hostcheck): stable on an idle host, blind to lab namespaces,
and it does see a change in the namespace it is taken in."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kernel_probe import kernel_has_mrt

from harness import hostcheck

pytestmark = pytest.mark.netns

PAIR = {"nodes": ["r1", "h1"], "links": [{"a": "r1:e0 10.0.1.1/24", "b": "h1:e0 10.0.1.2/24"}]}


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Any]:
    from netns import Lab, Topology

    with Lab(Topology.from_dict(PAIR), workdir=tmp_path) as built:
        yield built


def _change_everything(node: Any) -> None:
    """One change per snapshot section, inside ``node``'s namespace only (a VIF only where the
    kernel has multicast routing)."""
    node.add_address("e0", "10.0.1.9/24")
    node.add_route("10.9.0.0/16", via="10.0.1.2")
    node.set_sysctl("net.ipv4.igmp_max_memberships", 7)
    node.call(_add_nft_table, "flcheck")
    if kernel_has_mrt():
        node.call(_hold_mrt)


def _add_nft_table(name: str) -> None:
    from pyroute2.nftables.main import NFTables

    nft = NFTables(nfgen_family=socket.AF_INET)
    try:
        nft.table("add", name=name)
    finally:
        nft.close()


_HELD: list[socket.socket] = []


def _hold_mrt() -> None:
    """MRT_INIT plus one VIF on e0: /proc/net/ip_mr_vif of this namespace gets a line."""
    import struct

    from harness.faults.constants import MRT_ADD_VIF, MRT_INIT, VIFF_USE_IFINDEX

    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_IGMP)
    sock.setsockopt(socket.IPPROTO_IP, MRT_INIT, struct.pack("i", 1))
    vif = struct.pack("HBBIi4s", 0, VIFF_USE_IFINDEX, 1, 0, socket.if_nametoindex("e0"), bytes(4))
    sock.setsockopt(socket.IPPROTO_IP, MRT_ADD_VIF, vif)
    _HELD.append(sock)


def test_two_snapshots_of_an_idle_host_are_identical() -> None:
    first = hostcheck.snapshot()
    assert hostcheck.diff(first, hostcheck.snapshot()) == []
    assert first["links"] and first["routes"] and first["sysctls"]  # not an empty snapshot
    assert any(name.startswith("name=lo ") for name in first["links"])


def test_changes_inside_a_lab_namespace_do_not_show_in_the_host(lab: Any) -> None:
    router = lab.node("r1")
    host_before = hostcheck.snapshot()
    node_before = router.call(hostcheck.snapshot)
    try:
        _change_everything(router)
        node_after = router.call(hostcheck.snapshot)
    finally:
        for sock in _HELD:
            sock.close()
        _HELD.clear()
    assert hostcheck.diff(host_before, hostcheck.snapshot()) == []
    # The same snapshot taken inside the node sees every change: it is not blind.
    changed = {line.split(":")[0] for line in hostcheck.diff(node_before, node_after)}
    expected = {"addresses", "routes", "sysctls", "nftables"}
    assert changed >= expected | ({"ip_mr_vif"} if kernel_has_mrt() else set()), changed


def test_diff_names_each_difference() -> None:
    before = {"routes": ["a", "b"], "sysctls": {"net.x": "1", "net.gone": "0"}}
    after = {"routes": ["b", "c"], "sysctls": {"net.x": "2", "net.new": "5"}}
    assert hostcheck.diff(before, after) == [
        "routes: - a",
        "routes: + c",
        "sysctls: - net.gone = '0'",
        "sysctls: net.x: '1' -> '2'",
    ]
    # A sysctl that appeared is a loaded module, not a changed setting: a note only.
    assert hostcheck.appeared(before, after) == ["sysctls: new net.new = '5'"]


def test_mroute_counters_are_not_compared() -> None:
    header = "Interface      BytesIn  PktsIn  BytesOut PktsOut Flags Local    Remote"
    line = " 0 e0              100       2         0       0 00008 0100010A 00000000"
    busier = " 0 e0             9100      92         0       0 00008 0100010A 00000000"
    strip = hostcheck._without_counters
    assert strip("ip_mr_vif", line) == strip("ip_mr_vif", busier) == "0 e0 00008 0100010A 00000000"
    assert strip("ip_mr_vif", header) == " ".join(header.split())


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness.hostcheck", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_compare_exits_1_listing_the_differences(tmp_path: Path) -> None:
    saved = tmp_path / "host.json"
    assert _cli("save", str(saved)).returncode == 0
    same = _cli("compare", str(saved))
    assert same.returncode == 0, same.stdout + same.stderr
    data = json.loads(saved.read_text())
    data["sysctls"]["net.ipv4.ip_forward"] = "was-something-else"
    data["links"].append("name=fl000000-ghost kind=veth")
    saved.write_text(json.dumps(data))
    changed = _cli("compare", str(saved))
    assert changed.returncode == 1
    assert "net.ipv4.ip_forward: 'was-something-else' -> " in changed.stdout
    assert "links: - name=fl000000-ghost kind=veth" in changed.stdout
