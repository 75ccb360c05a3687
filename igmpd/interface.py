"""One configured interface and everything the router keeps about it: sockets, timers, the
querier, the last failure and the counters the state file shows."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from typing import Any

from igmpd import netif, packets
from igmpd.config import InterfaceConfig
from igmpd.membership import Membership
from igmpd.querier import Querier
from igmpd.timers import Timer

COUNTERS = (
    "received",
    "queries_sent",
    "send_errors",
    "receive_errors",
    "too_small",
    "bad_type",
    "corrupt",
    "ignored",
    "refused_by_caps",
)


@dataclass
class Interface:
    """One configured interface and everything the router keeps about it."""

    config: InterfaceConfig
    vif: int
    membership: Membership
    address: str = "0.0.0.0"
    network: ipaddress.IPv4Network | None = None
    subnet: packets.Subnet | None = None  # network, as the per-packet sender check reads it
    link: netif.Link | None = None
    sock: socket.socket | None = None  # the raw IGMP socket: sends (and, on mroute, receives)
    receiver: socket.socket | None = None  # what the loop reads: sock or the packet socket
    receive_path: str | None = None  # MROUTE or PACKET while the sockets are open
    active: bool = False
    failure: dict[str, Any] = field(default_factory=dict)
    querier: Querier | None = None
    query_timer: Timer | None = None
    expiry_timer: Timer | None = None
    retry_timer: Timer | None = None
    counters: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))

    @property
    def name(self) -> str:
        """The interface's name."""
        return self.config.name
