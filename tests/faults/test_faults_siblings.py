"""The link-deleted fault finds the peer's namespace among the run's: node names may hold '-'."""

from __future__ import annotations

import pytest

from harness.faults import netops
from netns import lan_netns, node_netns


def test_sibling_namespaces_of_a_node_whose_name_contains_a_dash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    own = node_netns("k3x9a0", "core-r1")
    names = [
        own,
        node_netns("k3x9a0", "h-1"),
        lan_netns("k3x9a0", "lan0"),
        node_netns("k3x9a1", "h-1"),  # another run
        "fl",
        "other",
    ]
    monkeypatch.setattr("netns.nsenter.netns_names", lambda: sorted(names))
    assert netops.sibling_namespaces(own) == sorted(
        [node_netns("k3x9a0", "h-1"), lan_netns("k3x9a0", "lan0")]
    )
    assert netops.sibling_namespaces("not-a-lab-namespace") == []
