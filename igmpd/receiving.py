"""The receive paths: the interface's raw IGMP socket (mroute path), its packet socket (packet
path) and the multicast routing socket's unalerted IGMP; reads in batches until EAGAIN, and a
failed or empty read (41012) stops reading that socket instead of spinning on it."""

from __future__ import annotations

import errno as errnos
import socket
from typing import Any

from igmpcatalog import Step
from igmpd import packets
from igmpd.activation import PACKET
from igmpd.core import RouterCore
from igmpd.interface import Interface
from igmpd.sockets import StepFailed

READ_BATCH = 512  # packets read from one socket before the loop looks at the others


class ReceivingMixin(RouterCore):
    """The router's part that reads sockets and hands each packet to ``handle``."""

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
