"""Packet handling: validate one received packet (IP header included), refuse a malformed one
(41013/41014/41015, counted), and act on reports (v1/v2, leaves, v3 records) and queries."""

from __future__ import annotations

import socket

from igmpd import packets
from igmpd.core import RouterCore
from igmpd.interface import Interface


class HandlingMixin(RouterCore):
    """The router's part that acts on each received packet."""

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
