"""Sending: one IGMP message (41019 when it fails), the querier's tick, general and
group(-and-source)-specific queries, the last member queries after a leave."""

from __future__ import annotations

import errno as errnos
import socket

from igmpcatalog import Step
from igmpd import packets
from igmpd.core import RouterCore
from igmpd.interface import Interface


class SendingMixin(RouterCore):
    """The router's part that sends: queries on the querier's schedule and after leaves."""

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
