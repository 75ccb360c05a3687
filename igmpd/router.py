"""The router: per-interface activation, the epoll loop, queries, reports, recovery.

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

import errno as errnos
import ipaddress
import os
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import igmpcatalog as catalog
from igmpcatalog import Step
from igmpd import netif, packets
from igmpd.activation import (
    MROUTE,
    PACKET,
    InterfaceSockets,
    MulticastRouting,
    Target,
    open_interface,
)
from igmpd.config import Config, InterfaceConfig
from igmpd.events import EventLog
from igmpd.membership import Membership
from igmpd.mroute import MrouteSocket
from igmpd.netlink import LinkWatcher
from igmpd.querier import Querier
from igmpd.sockets import Poller, StepFailed
from igmpd.state import StateFile, Streamed
from igmpd.timers import Timer, TimerHeap

READ_BATCH = 512  # packets read from one socket before the loop looks at the others
STATE_MIN_INTERVAL = 0.02  # state file writes are coalesced to at most one per this period
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


class _Interrupt(Exception):
    """Raised by a signal handler to end the idle wait at once."""


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


class Router:
    """igmpd itself: owns the sockets, timers, event log and state file."""

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

    # --- activation --------------------------------------------------------------------

    def activate(self, interface: Interface) -> bool:
        """Run the socket steps for interface; log 41052, or the step's event then 41055."""
        self._cancel(interface, "retry_timer")
        link = netif.read_link(interface.name)
        interface.link = link
        if link.address is not None:
            interface.address, interface.network = link.address, link.network
            interface.subnet = packets.Subnet.of(link.network)
        version = str(interface.config.version)
        if link.call is not None and not link.missing:
            self._lookup_failed(interface, link)
            return False
        target = Target(interface.name, link.index or 0, interface.vif, interface.config.mode)
        try:
            sockets = self._open(target)
        except StepFailed as failure:
            self._failed(interface, failure, None)
            return False
        interface.sock, interface.receiver = sockets.send, sockets.receive
        interface.receive_path = sockets.path
        interface.active = True
        interface.failure = {}
        self.by_fd[sockets.receive.fileno()] = interface
        if link.index is not None:
            self.by_index[link.index] = interface
        self.log.emit(41052, interface.name, [version, interface.name])
        interface.querier = Querier(interface.address, self.timers_config)
        interface.querier.start(self.clock())
        self._query_tick(interface)
        self.dirty = True
        return True

    def _open(self, target: Target) -> InterfaceSockets:
        """Open the interface on the path --multicast-routing gives; with auto, an MRT_INIT
        that says ENOPROTOOPT switches the router to packet sockets (41900, logged once) and
        the interface is opened again on that path at once."""
        try:
            sockets = open_interface(target, self.routing.path, self.mroute, self.poller)
        except StepFailed as failure:
            if not self.routing.fall_back(failure):
                raise
            self.log.emit(
                41900,
                None,
                [catalog.errno_name(failure.errno)],
                call="MRT_INIT",
                errno=failure.errno,
            )
            self.dirty = True
            sockets = open_interface(target, self.routing.path, self.mroute, self.poller)
        self.routing.succeeded(sockets.path)
        return sockets

    def _lookup_failed(self, interface: Interface, link: netif.Link) -> None:
        """An ioctl about the interface failed before any socket step: 41055 names the ioctl
        and its errno. Only EADDRNOTAVAIL means "no IPv4 address"; anything else (ENODEV as the
        interface vanishes between two ioctls, ENOMEM ...) is said as what it is. A missing
        interface (SIOCGIFINDEX, ENODEV) never comes here: its socket steps report it (41025)."""
        err = link.errno or 0
        if link.no_address:
            reason = "the interface has no IPv4 address"
        else:
            reason = f"{link.call} failed: {catalog.describe_errno(err)}"
        self._failed(interface, None, reason, {"call": link.call, "errno": err})

    def _failed(
        self,
        interface: Interface,
        failure: StepFailed | None,
        reason: str | None,
        fields: dict[str, Any] | None = None,
    ) -> None:
        """Log the failed step's event (if any) and 41055; retry after the retry interval.
        ``fields`` (call, errno) are 41055's own when no socket step failed."""
        interface.active = False
        fields = dict(fields or {})
        if failure is not None:
            event = catalog.BY_STEP[failure.step]
            self.log.emit(
                event.id,
                interface.name,
                [interface.address],
                step=str(failure.step),
                call=failure.call,
                errno=failure.errno,
            )
            fields = {"step": str(failure.step), "call": failure.call, "errno": failure.errno}
            reason = (
                f"{failure.step} failed at {failure.call}: {catalog.describe_errno(failure.errno)}"
            )
        interface.failure = {**fields, "reason": reason}
        version = str(interface.config.version)
        self.log.emit(41055, interface.name, [version, interface.name], reason=reason, **fields)
        self._schedule_retry(interface)
        self.dirty = True

    def deactivate(self, interface: Interface, step: Step, call: str, err: int | None) -> None:
        """Take an active interface down after a runtime failure; re-activate it later."""
        self._close(interface)
        interface.failure = {"step": str(step), "call": call, "errno": err}
        self._schedule_retry(interface)
        self.dirty = True

    def _close(self, interface: Interface) -> None:
        for name in ("query_timer", "retry_timer"):
            self._cancel(interface, name)
        if interface.sock is not None and interface.receiver is not None:
            fd = interface.receiver.fileno()
            self.by_fd.pop(fd, None)
            self.poller.unregister(fd)
            for index in [i for i, known in self.by_index.items() if known is interface]:
                del self.by_index[index]
            path = interface.receive_path or MROUTE
            InterfaceSockets(interface.sock, interface.receiver, path).close()
            interface.sock = interface.receiver = None
        if interface.active and interface.receive_path == MROUTE:
            try:
                self.mroute.del_vif(interface.vif)
            except OSError:
                pass
        interface.active = False
        interface.receive_path = None

    def _schedule_retry(self, interface: Interface) -> None:
        self._cancel(interface, "retry_timer")
        deadline = self.clock() + self.timers_config.retry_interval
        interface.retry_timer = self.timers.call_at(deadline, lambda: self.activate(interface))

    def on_links_changed(self) -> None:
        """Netlink said something changed: retry inactive interfaces whose link or address
        changed, restart active ones whose device or address went away, and query at once on
        an active one whose link just went down."""
        for interface in self.interfaces:
            link = netif.read_link(interface.name)
            if link == interface.link:
                continue
            if interface.active:
                before = interface.link
                if link.index == before.index and link.address == interface.address:
                    interface.link = link
                    if before.up and not link.up:
                        self._probe_with_query(interface)
                    continue
                self._close(interface)
            self.activate(interface)

    def _probe_with_query(self, interface: Interface) -> None:
        """The link of an active interface went down: send a general query now, off schedule,
        so a send failure (41019) is logged when the link fails, not a query interval later.
        The query schedule is left as it was."""
        querier = interface.querier
        if querier is not None and querier.is_querier:
            self.send_query(interface)

    @staticmethod
    def _cancel(interface: Interface, name: str) -> None:
        timer = getattr(interface, name)
        if timer is not None:
            timer.cancel()
            setattr(interface, name, None)

    # --- sending -----------------------------------------------------------------------

    def send(self, interface: Interface, destination: str, message: bytes) -> bool:
        """Send one IGMP message; a failure or short send logs 41019 and the router goes on."""
        sock = interface.sock
        if sock is None:
            return False
        if interface.config.mode == "internal":
            message = (
                packets.encode_ip_header(interface.address, destination, len(message)) + message
            )
        try:
            sent = sock.sendto(message, (destination, 0))
        except OSError as exc:
            self._send_failed(interface, destination, exc.errno or 0, None)
            return False
        if sent != len(message):
            self._send_failed(interface, destination, None, f"short send: {sent} of {len(message)}")
            return False
        return True

    def _send_failed(
        self, interface: Interface, destination: str, err: int | None, reason: str | None
    ) -> None:
        interface.counters["send_errors"] += 1
        self.log.emit_limited(
            41019,
            interface.name,
            [interface.address, destination],
            step=str(Step.SEND),
            call="sendto",
            **({"errno": err} if err is not None else {"reason": reason}),
        )
        if err in (errnos.ENODEV, errnos.ENXIO):
            self.deactivate(interface, Step.SEND, "sendto", err)  # the device is gone

    def _query_tick(self, interface: Interface) -> None:
        querier = interface.querier
        if querier is None or not interface.active:
            return
        now = self.clock()
        if querier.due(now):
            self.send_query(interface)
        if interface.active:
            interface.query_timer = self.timers.call_at(
                querier.wake_at(), lambda: self._query_tick(interface)
            )
        self.dirty = True

    def send_query(
        self, interface: Interface, group: bytes | None = None, sources: tuple[bytes, ...] = ()
    ) -> None:
        """A general query (to 224.0.0.1) or a group(-and-source)-specific one (to the group)."""
        timers = self.timers_config
        version = interface.config.version
        if group is None:
            destination, group_text = packets.ALL_HOSTS, "0.0.0.0"
            max_response = timers.query_response_interval
        else:
            destination = group_text = socket.inet_ntoa(group)
            max_response = timers.last_member_query_interval
        message = packets.encode_query(
            version,
            max_response,
            group_text,
            tuple(socket.inet_ntoa(s) for s in sources),
            qrv=timers.robustness,
            qqi=timers.query_interval,
        )
        if self.send(interface, destination, message):
            interface.counters["queries_sent"] += 1

    def last_member_queries(
        self, interface: Interface, group: bytes, sources: tuple[bytes, ...]
    ) -> None:
        """After a leave (or a v3 TO_IN/BLOCK): lower the timers and query LMQC times."""
        querier = interface.querier
        if querier is None or not querier.is_querier or interface.config.version == 1:
            return
        now = self.clock()
        interface.membership.lower(group, now, sources)
        self.send_query(interface, group, sources)
        for n in range(1, self.timers_config.last_member_count):
            deadline = now + n * self.timers_config.last_member_query_interval
            self.timers.call_at(deadline, lambda: self._repeat_query(interface, group, sources))

    def _repeat_query(self, interface: Interface, group: bytes, sources: tuple[bytes, ...]) -> None:
        if interface.active and group in interface.membership.groups:
            self.send_query(interface, group, sources)

    # --- receiving ---------------------------------------------------------------------

    def on_readable(self, interface: Interface) -> None:
        """Read the interface's socket until EAGAIN (or a batch), handling each packet."""
        if interface.receive_path == PACKET:
            self.on_packets_readable(interface)
            return
        sock = interface.sock
        if sock is None:
            return
        buffer, view = self.buffer, self.view
        now = self.clock()
        for _ in range(READ_BATCH):
            try:
                size = sock.recv_into(buffer)
            except BlockingIOError:
                return
            except InterruptedError:
                continue
            except OSError as exc:
                self._receive_failed(interface, exc.errno or 0)
                return
            if size == 0:
                self._receive_failed(interface, None)
                return
            packet = bytes(view[:size])
            if packets.unalerted_routable(packet):
                continue  # the routing socket has this one too (on_unalerted_readable)
            interface.counters["received"] += 1
            self.handle(interface, packet, now)

    def on_packets_readable(self, interface: Interface) -> None:
        """Read the interface's packet socket until EAGAIN (or a batch). Its filter kept only
        IGMP from the link; packets.ip_frame does what the kernel's IPv4 input does before a
        raw socket sees a packet (padding, lengths, header checksum, fragments).

        When the link goes down (or is down at bind), the kernel reports ENETDOWN on the packet
        socket once and resumes it by itself when the link comes back: that read is a notice,
        not a failure, so the interface stays active as on the mroute path (where a down link
        shows as 41019 on the next send). ENETDOWN twice in a row is a real failure (41012)."""
        sock = interface.receiver
        if sock is None:
            return
        buffer, view, counters = self.buffer, self.view, interface.counters
        now = self.clock()
        link_down_told = False
        for _ in range(READ_BATCH):
            try:
                size = sock.recv_into(buffer)
            except BlockingIOError:
                return
            except InterruptedError:
                continue
            except OSError as exc:
                if exc.errno == errnos.ENETDOWN and not link_down_told:
                    link_down_told = True  # the link went down: the kernel's one notice
                    continue
                self._receive_failed(interface, exc.errno or 0)
                return
            if size == 0:
                self._receive_failed(interface, None)
                return
            counters["received"] += 1
            packet = packets.ip_frame(view, size)
            if isinstance(packet, packets.Malformed):
                sender = socket.inet_ntoa(view[12:16]) if size >= 16 else "?"
                self.malformed(interface, packet, sender)
                continue
            self.handle(interface, packet, now)

    def on_unalerted_readable(self) -> None:
        """Read the multicast routing socket until EAGAIN (or a batch): IGMP without IP options
        to routable groups, which no interface socket gets. A packet from an interface igmpd
        does not run on, or not at the moment, is dropped uncounted."""
        mroute, by_index = self.mroute, self.by_index
        buffer, view = self.buffer, self.view
        now = self.clock()
        for _ in range(READ_BATCH):
            try:
                size, ifindex = mroute.receive(buffer)
            except BlockingIOError:
                return
            except InterruptedError:
                continue
            except OSError as exc:
                self._unalerted_receive_failed(exc.errno or 0)
                return
            if size == 0:
                self._unalerted_receive_failed(None)
                return
            interface = by_index.get(ifindex)
            if interface is None:
                continue
            interface.counters["received"] += 1
            self.handle(interface, bytes(view[:size]), now)

    def _unalerted_receive_failed(self, err: int | None) -> None:
        """A failed or empty read of the routing socket: 41012 on every active interface (each
        loses its unalerted reports), then the socket is left unread for the retry interval.
        It is not closed: that would give MRT_INIT back and take every VIF with it."""
        self.mroute.unwatch(self.poller)
        fields: dict[str, Any] = {"step": str(Step.RECEIVE), "call": "recvmsg", "socket": "mroute"}
        if err is None:
            fields["reason"] = "recvmsg on the multicast routing socket returned 0 bytes"
        else:
            fields["errno"] = err
        for interface in self.interfaces:
            if interface.active:
                interface.counters["receive_errors"] += 1
                self.log.emit_limited(41012, interface.name, [interface.address], **fields)
        self._schedule_rewatch()

    def _schedule_rewatch(self) -> None:
        if self.mroute_timer is not None:
            self.mroute_timer.cancel()
        deadline = self.clock() + self.timers_config.retry_interval
        self.mroute_timer = self.timers.call_at(deadline, self._rewatch)

    def _rewatch(self) -> None:
        self.mroute_timer = None
        try:
            self.mroute.watch(self.poller)
        except StepFailed:
            self._schedule_rewatch()  # epoll refused it: try again later, never in a loop

    def _receive_failed(self, interface: Interface, err: int | None) -> None:
        interface.counters["receive_errors"] += 1
        fields: dict[str, Any] = {"step": str(Step.RECEIVE), "call": "recvfrom"}
        if err is None:
            fields["reason"] = "recvfrom returned 0 bytes"
        else:
            fields["errno"] = err
        self.log.emit_limited(41012, interface.name, [interface.address], **fields)
        self.deactivate(interface, Step.RECEIVE, "recvfrom", err)

    def handle(self, interface: Interface, packet: bytes, now: float) -> None:
        """Validate one received packet (IP header included) and act on it."""
        length = packets.ip_header_length(packet)
        if not length:
            self.malformed(interface, packets.BAD_IP_HEADER, "?")
            return
        raw_source = packet[12:16]
        source = self.names.get(raw_source)
        if source is None:  # one str per sender, shared by all its groups
            source = socket.inet_ntoa(raw_source)
            if len(self.names) < 4096:
                self.names[raw_source] = source
        if source == interface.address:
            interface.counters["ignored"] += 1  # our own kernel's reports, looped back
            return
        message = packets.decode(packet[length:])
        if isinstance(message, packets.Malformed):
            self.malformed(interface, message, source)
            return
        problem = packets.ip_rule_broken(packet, length, message, source, interface.subnet)
        if problem is not None:
            self.malformed(interface, packets.Malformed(packets.CORRUPT, problem), source)
            return
        if isinstance(message, packets.Report):
            self._on_report(interface, message, source, now)
        elif isinstance(message, packets.V3Report):
            self._on_v3_report(interface, message, source, now)
        else:
            self._on_query(interface, message, source, now)

    def malformed(self, interface: Interface, bad: packets.Malformed, source: str) -> None:
        """Count a refused packet and log its event, rate-limited."""
        counter = {41013: "too_small", 41014: "bad_type", 41015: "corrupt"}.get(
            bad.event, "ignored"
        )
        interface.counters[counter] += 1
        if bad.event:
            self.log.emit_limited(
                bad.event, interface.name, [interface.address, source], reason=bad.reason
            )

    def _on_report(
        self, interface: Interface, report: packets.Report, source: str, now: float
    ) -> None:
        membership = interface.membership
        if report.type == packets.LEAVE:
            if membership.leave(report.group, now):
                self.last_member_queries(interface, report.group, ())
            return
        version = 1 if report.type == packets.V1_REPORT else 2
        before = membership.refused
        if membership.report_v1v2(report.group, source, version, now):
            self.dirty = True
        interface.counters["refused_by_caps"] += membership.refused - before

    def _on_v3_report(
        self, interface: Interface, report: packets.V3Report, source: str, now: float
    ) -> None:
        membership = interface.membership
        if interface.config.version < 3:
            interface.counters["ignored"] += 1  # RFC 3376 7.3: v1/v2 routers ignore v3 reports
            return
        before = membership.refused
        for record in report.records:
            actions = membership.record(record, source, now)
            self.dirty |= actions.changed
            for group, sources in actions.queries:
                self.last_member_queries(interface, group, sources)
        interface.counters["refused_by_caps"] += membership.refused - before

    def _on_query(
        self, interface: Interface, query: packets.Query, source: str, now: float
    ) -> None:
        querier = interface.querier
        if querier is None or source == interface.address:
            return
        if query.version != interface.config.version:
            version = str(interface.config.version)
            self.log.emit_limited(
                41017, interface.name, [version, interface.name, str(query.version), source]
            )
        if querier.heard_query(source, now):
            self.dirty = True
        if not querier.is_querier and query.group != "0.0.0.0" and not query.sources:
            interface.membership.lower(socket.inet_aton(query.group), now)

    # --- timers for expiry and the state file ------------------------------------------

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

    def _schedule_state(self) -> None:
        if self.state_timer is not None and not self.state_timer.cancelled:
            return
        # At most one write per STATE_MIN_INTERVAL, and never more than a third of the time
        # spent writing: a state file of 10k groups takes tens of milliseconds.
        gap = max(STATE_MIN_INTERVAL, 2 * self.last_state_cost)
        deadline = max(self.clock(), self.last_state_write + gap)
        self.state_timer = self.timers.call_at(deadline, self.write_state)

    def write_state(self) -> None:
        """Write the state file now if something changed since the last write."""
        self.state_timer = None
        if self.dirty:
            self._write_state_now()

    def _write_state_now(self) -> None:
        self.dirty = False
        start = self.clock()
        try:
            self.state.write(self.snapshot(streamed=True))
        except OSError:
            pass  # the state file is a report: failing to write it must not stop routing
        self.last_state_write = self.clock()
        self.last_state_cost = self.last_state_write - start

    def snapshot(self, streamed: bool = False) -> dict[str, Any]:
        """The state file's content; with streamed, each interface's groups are a Streamed
        mapping (for StateFile.write) instead of a dict."""
        now = self.clock()
        return {
            "pid": os.getpid(),
            "started": self.started,
            "multicast_routing": self.routing.snapshot(),
            "interfaces": {
                i.name: self._interface_state(i, now, streamed) for i in self.interfaces
            },
        }

    def _interface_state(self, interface: Interface, now: float, streamed: bool) -> dict[str, Any]:
        membership = interface.membership
        groups: dict[str, Any] | Streamed = (
            Streamed(lambda: membership.snapshot_items(now))
            if streamed
            else membership.snapshot(now)
        )
        failure = interface.failure
        err = failure.get("errno")
        return {
            "address": interface.address,
            "mode": interface.config.mode,
            "version": interface.config.version,
            "status": "active" if interface.active else "inactive",
            "receive_path": interface.receive_path if interface.active else self.routing.planned,
            "failed_step": failure.get("step"),
            "call": failure.get("call"),
            "errno": err,
            "errno_name": catalog.errno_name(err) if err else None,
            "reason": failure.get("reason"),
            "querier": interface.querier.snapshot() if interface.querier else None,
            "groups": groups,
            "counters": dict(interface.counters),
        }
