"""The router: its life cycle and the epoll loop. Its parts, one module each, are mixins on
igmpd.core.RouterCore: igmpd.recovery (activation, retries), igmpd.sending (queries),
igmpd.receiving (the receive paths), igmpd.handling (packets), igmpd.snapshot (state file).

One process, one thread. The loop waits in epoll until a socket is readable or the next timer
is due. Interface sockets are read in batches until EAGAIN; a failed or empty read (41012)
closes that interface's socket instead of reading it again, so nothing ever spins. Inactive
interfaces come back on a retry timer, or at once when netlink says their link or address
changed.

Each interface receives on one of two paths (igmpd.activation, --multicast-routing):

- mroute: IGMP without IP options to a routable group (an RFC 1112 host's v1 report) reaches
  only the multicast routing socket (igmpd.mroute); the loop reads it there, finds the arrival
  interface by its index, and hands the packet to the same ``handle`` as the interface sockets.
  Each packet is handled once: the interface sockets skip the copies of that class the kernel
  also gives them (groups this host joined), because the routing socket always gets those.
- packet: the interface's packet socket gets every IGMP frame of its link (igmpd.packetsock);
  nothing else is read for that interface, so there is nothing to skip.
"""

from __future__ import annotations

import signal
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime

from igmpd.activation import MulticastRouting
from igmpd.config import Config
from igmpd.events import EventLog
from igmpd.handling import HandlingMixin
from igmpd.interface import COUNTERS, Interface
from igmpd.membership import Membership
from igmpd.mroute import MrouteSocket
from igmpd.netlink import LinkWatcher
from igmpd.receiving import READ_BATCH, ReceivingMixin
from igmpd.recovery import RecoveryMixin
from igmpd.sending import SendingMixin
from igmpd.snapshot import STATE_MIN_INTERVAL, SnapshotMixin
from igmpd.sockets import Poller, StepFailed
from igmpd.state import StateFile
from igmpd.timers import Timer, TimerHeap

__all__ = ["COUNTERS", "READ_BATCH", "STATE_MIN_INTERVAL", "Interface", "Router"]


class _Interrupt(Exception):
    """Raised by a signal handler to end the idle wait at once."""


class Router(RecoveryMixin, SendingMixin, ReceivingMixin, HandlingMixin, SnapshotMixin):
    """igmpd itself: owns the sockets, timers, event log and state file. Its parts are mixins
    on igmpd.core.RouterCore: recovery (activation), sending, receiving, handling, snapshot."""

    def __init__(
        self,
        config: Config,
        log: EventLog,
        state: StateFile,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.timers_config = config.timers
        self.log = log
        self.state = state
        self.clock = clock
        self.timers = TimerHeap()
        self.poller = Poller()
        self.mroute = MrouteSocket()
        self.routing = MulticastRouting(config.multicast_routing)
        self.watcher: LinkWatcher | None = None
        self.by_fd: dict[int, Interface] = {}
        self.by_index: dict[int, Interface] = {}  # active interfaces by interface index
        self.mroute_timer: Timer | None = None  # re-watches the routing socket after a failure
        self.interfaces = [
            Interface(i, vif, Membership(i.version, config.timers, config.limits))
            for vif, i in enumerate(config.interfaces)
        ]
        self.started = datetime.now(UTC).isoformat(timespec="microseconds")
        self.stopping = False
        self.dump_requested = False
        self.waiting = False
        self.dirty = False
        self.state_timer: Timer | None = None
        self.last_state_write = 0.0
        self.last_state_cost = 0.0
        self.names: dict[bytes, str] = {}
        self.buffer = bytearray(65536)
        self.view = memoryview(self.buffer)

    # --- life cycle --------------------------------------------------------------------

    def run(self) -> int:
        """Start, serve until SIGTERM/SIGINT, stop; the process exit code."""
        self._install_signals()
        self.log.emit(41010)
        for interface in self.interfaces:
            for group in interface.config.static_groups:
                interface.membership.add_static(socket.inet_aton(group))
            self.activate(interface)
        self._watch_links()
        self.write_state()
        try:
            while not self.stopping:
                self._iterate()
        finally:
            self.shutdown()
        return 0

    def shutdown(self) -> None:
        """Close every socket, give MRT_INIT back, log 41042, write the final state."""
        for interface in self.interfaces:
            self._close(interface)
        self.mroute.close()
        if self.watcher is not None:
            self.watcher.close()
        self.log.emit(41042)
        self._write_state_now()

    def _install_signals(self) -> None:
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGUSR1, self._on_dump)

    def _on_stop(self, signum: int, frame: object) -> None:
        self.stopping = True
        if self.waiting:
            raise _Interrupt

    def _on_dump(self, signum: int, frame: object) -> None:
        self.dump_requested = True
        if self.waiting:
            raise _Interrupt

    def _watch_links(self) -> None:
        try:
            self.watcher = LinkWatcher()
            self.poller.register(self.watcher.fileno())
        except (OSError, StepFailed):
            if self.watcher is not None:
                self.watcher.close()
            self.watcher = None  # recovery then relies on the retry interval alone

    # --- the loop ----------------------------------------------------------------------

    def _iterate(self) -> None:
        now = self.clock()
        self.timers.run_due(now)
        if self.dump_requested:
            self.dump_requested = False
            self._write_state_now()
        if self.stopping:
            return
        deadline = self.timers.next_deadline()
        timeout = 1.0 if deadline is None else min(1.0, max(0.0, deadline - self.clock()))
        for fd in self._wait(timeout):
            interface = self.by_fd.get(fd)
            if interface is not None:
                self.on_readable(interface)
            elif fd == self.mroute.fileno():
                self.on_unalerted_readable()
            elif self.watcher is not None and fd == self.watcher.fileno():
                if self.watcher.drain():
                    self.on_links_changed()
        self._after_batch()

    def _wait(self, timeout: float) -> list[int]:
        self.waiting = True
        try:
            if self.stopping or self.dump_requested:
                return []
            if self.poller.epoll is None:
                time.sleep(min(timeout, 0.2))  # no epoll at all (a fault): timers only
                return []
            return [fd for fd, _ in self.poller.epoll.poll(timeout)]
        except _Interrupt:
            return []
        finally:
            self.waiting = False

    def _after_batch(self) -> None:
        for interface in self.interfaces:
            self._schedule_expiry(interface)
        if self.dirty:
            self._schedule_state()

    # --- timers for expiry ------------------------------------------------------------

    def _schedule_expiry(self, interface: Interface) -> None:
        deadline = interface.membership.next_deadline()
        if deadline is None:
            return
        timer = interface.expiry_timer
        if timer is not None and not timer.cancelled and timer.deadline <= deadline:
            return
        if timer is not None:
            timer.cancel()
        interface.expiry_timer = self.timers.call_at(deadline, lambda: self._expire(interface))

    def _expire(self, interface: Interface) -> None:
        interface.expiry_timer = None
        if interface.membership.expire(self.clock()):
            self.dirty = True
