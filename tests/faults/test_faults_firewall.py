"""nftables faults per interface: an ``oifname`` rule breaks one interface's sends, not the other's.

The probe stands in for the router (a raw IGMP socket per interface with IP_MULTICAST_IF set),
in a real namespace with e0 and e1; the rule is added over netlink as in a scenario.
"""

from __future__ import annotations

import pytest

from harness.errors import FaultConfigError
from harness.faults import make_fault

pytestmark = pytest.mark.netns

KINDS = ("nft-drop-igmp", "nft-reject-igmp")
BOTH_READY = ("socket e0", "multicast_if e0", "socket e1", "multicast_if e1")


def _ready_probe(start_probe, *faults):
    for fault in faults:
        missing = fault.requires()
        if missing:
            pytest.skip(f"{fault.kind} needs: {'; '.join(missing)}")
    probe = start_probe(*faults)
    for command in BOTH_READY:
        assert probe.errno(command) is None, f"setup {command!r} failed before the fault"
    return probe


@pytest.mark.parametrize("kind", KINDS)
def test_interface_rule_fails_e0_sends_with_eperm_and_e1_still_sends(kind, start_probe, fault_ctx):
    fault = make_fault({"kind": kind, "interface": "e0"})
    probe = _ready_probe(start_probe, fault)
    ctx = fault_ctx(probe)
    fault.apply(ctx)
    assert probe.errno("send e0") == "EPERM"
    assert probe.errno("send e1") is None, "a rule on e0 must not touch e1's sends"
    fault.clear(ctx)
    assert probe.errno("send e0") is None, "e0 still fails after clear"


def test_without_interface_the_rule_still_covers_every_interface(start_probe, fault_ctx):
    fault = make_fault({"kind": "nft-drop-igmp"})
    probe = _ready_probe(start_probe, fault)
    ctx = fault_ctx(probe)
    fault.apply(ctx)
    assert probe.errno("send e0") == "EPERM"
    assert probe.errno("send e1") == "EPERM"
    fault.clear(ctx)
    assert probe.errno("send e1") is None


def test_rules_on_two_interfaces_are_cleared_independently(start_probe, fault_ctx):
    on_e0 = make_fault({"kind": "nft-drop-igmp", "interface": "e0"})
    on_e1 = make_fault({"kind": "nft-reject-igmp", "interface": "e1"})
    probe = _ready_probe(start_probe, on_e0, on_e1)
    ctx = fault_ctx(probe)
    on_e0.apply(ctx)
    on_e1.apply(ctx)
    assert [probe.errno("send e0"), probe.errno("send e1")] == ["EPERM", "EPERM"]
    on_e0.clear(ctx)
    assert [probe.errno("send e0"), probe.errno("send e1")] == [None, "EPERM"]
    on_e1.clear(ctx)
    assert probe.errno("send e1") is None


@pytest.mark.parametrize("name", ["", "a-name-too-long-for-linux"])
def test_an_impossible_interface_name_is_refused_naming_the_kind(name):
    with pytest.raises(FaultConfigError, match="nft-drop-igmp: interface"):
        make_fault({"kind": "nft-drop-igmp", "interface": name})
