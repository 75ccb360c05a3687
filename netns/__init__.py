"""The namespace lab: topologies of network namespaces built and removed through netlink.

    from netns import Lab, Topology, sweep
    with Lab(Topology.from_dict(data)) as lab:
        r1 = lab.node("r1")

See docs/architecture.md sections 1 and 2 for the topology description and the Lab API.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .errors import HostUnsupported, LabError, TopologyError
from .naming import (
    RUN_ENV,
    bridge_ifname,
    bridge_port_ifname,
    check_run_id,
    lan_netns,
    new_run_id,
    node_netns,
    run_id_of,
    run_id_of_netns,
)
from .topology import (
    Endpoint,
    InvalidTopology,
    LanSpec,
    LinkSpec,
    NodeSpec,
    Problem,
    RouteSpec,
    Topology,
)

if TYPE_CHECKING:
    from .lab import Lab
    from .node import Node
    from .processes import LabProcessWarning
    from .rtnl import NetlinkRequestError
    from .signals import LabTerminated
    from .sweeper import SweepReport, sweep

# The lab needs pyroute2 (0.1 s to import); the topology model does not. Loading the lab on
# first use keeps `faultlab validate` and the router's imports fast.
_LAZY = {
    "Lab": "lab",
    "Node": "node",
    "LabProcessWarning": "processes",
    "NetlinkRequestError": "rtnl",
    "LabTerminated": "signals",
    "SweepReport": "sweeper",
    "sweep": "sweeper",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "RUN_ENV",
    "Endpoint",
    "HostUnsupported",
    "InvalidTopology",
    "Lab",
    "LabError",
    "LabProcessWarning",
    "LabTerminated",
    "LanSpec",
    "LinkSpec",
    "NetlinkRequestError",
    "Node",
    "NodeSpec",
    "Problem",
    "RouteSpec",
    "SweepReport",
    "Topology",
    "TopologyError",
    "bridge_ifname",
    "bridge_port_ifname",
    "check_run_id",
    "lan_netns",
    "new_run_id",
    "node_netns",
    "run_id_of",
    "run_id_of_netns",
    "sweep",
]
