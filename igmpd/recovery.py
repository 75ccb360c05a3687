"""Activation, deactivation and recovery of interfaces: run the socket steps (igmpd.activation),
log 41052 or the failed step's event and 41055, close an interface after a runtime failure,
retry it on a timer or when netlink says its link or address changed."""

from __future__ import annotations

from typing import Any

import igmpcatalog as catalog
from igmpcatalog import Step
from igmpd import netif, packets
from igmpd.activation import MROUTE, InterfaceSockets, Target, open_interface
from igmpd.core import RouterCore
from igmpd.interface import Interface
from igmpd.querier import Querier
from igmpd.sockets import StepFailed


class RecoveryMixin(RouterCore):
    """The router's part that opens, closes and re-opens interfaces."""

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
