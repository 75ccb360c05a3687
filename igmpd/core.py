"""What every part of the router shares: the attributes ``Router.__init__`` sets, declared once
so each part (igmpd.recovery, sending, receiving, handling, snapshot) reads them typed."""

from __future__ import annotations

from collections.abc import Callable

from igmpd.activation import MulticastRouting
from igmpd.config import Config, Timers
from igmpd.events import EventLog
from igmpd.interface import Interface
from igmpd.mroute import MrouteSocket
from igmpd.netlink import LinkWatcher
from igmpd.sockets import Poller
from igmpd.state import StateFile
from igmpd.timers import Timer, TimerHeap


class RouterCore:
    """The router's shared state (set by ``Router.__init__``). Each part is a mixin of Router
    on this base: the parts call one another (a received leave sends queries, a failed send
    deactivates, an activation starts the query tick), so they share one object."""

    config: Config
    timers_config: Timers
    log: EventLog
    state: StateFile
    clock: Callable[[], float]
    timers: TimerHeap
    poller: Poller
    mroute: MrouteSocket
    routing: MulticastRouting
    watcher: LinkWatcher | None
    by_fd: dict[int, Interface]
    by_index: dict[int, Interface]
    mroute_timer: Timer | None
    interfaces: list[Interface]
    started: str
    dirty: bool
    state_timer: Timer | None
    last_state_write: float
    last_state_cost: float
    names: dict[bytes, str]
    buffer: bytearray
    view: memoryview
