"""Batched rtnetlink requests over one socket per namespace, with pyroute2's message classes.

A lab keeps one netlink socket per namespace, opened while the thread was inside it (a socket
stays bound to the namespace it was born in, so no later request needs a setns or a fork). The
build sends all of a namespace's requests in one ``send`` and then checks one ACK per request:
that is what makes a 2-node lab come up in about 2 ms instead of the 6 ms of ``ip -batch``.
Messages are pyroute2's (``ifinfmsg``, ``ifaddrmsg``, ``rtmsg``) and replies are decoded by
pyroute2's ``MarshalRtnl``; each request carries a description so an error names what failed.
"""

from __future__ import annotations

import errno
import ipaddress
import itertools
import os
import select
import socket
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pyroute2.netlink import (
    NLM_F_ACK,
    NLM_F_CREATE,
    NLM_F_DUMP,
    NLM_F_EXCL,
    NLM_F_REQUEST,
    NLMSG_DONE,
    NLMSG_ERROR,
    nlmsg,
)
from pyroute2.netlink.rtnl import (
    RTM_DELADDR,
    RTM_DELLINK,
    RTM_DELROUTE,
    RTM_GETADDR,
    RTM_GETLINK,
    RTM_NEWADDR,
    RTM_NEWLINK,
    RTM_NEWROUTE,
)
from pyroute2.netlink.rtnl.ifaddrmsg import IFA_F_NODAD, ifaddrmsg
from pyroute2.netlink.rtnl.ifinfmsg import IFF_UP, ifinfmsg
from pyroute2.netlink.rtnl.marshal import MarshalRtnl
from pyroute2.netlink.rtnl.rtmsg import rtmsg

from .spec import Address, Interface, Network

NETLINK_ROUTE = 0
RT_TABLE_MAIN = 254
RTPROT_BOOT = 3
RT_SCOPE_UNIVERSE = 0
RT_SCOPE_LINK = 253
RTN_UNICAST = 1
RECV_SIZE = 1 << 17
RCVBUF = 1 << 22
SO_RCVBUFFORCE = 33
SOL_NETLINK = 270
NETLINK_ADD_MEMBERSHIP = 1
NETLINK_DROP_MEMBERSHIP = 2
RTNLGRP_LINK = 1
CREATE = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL
CHANGE = NLM_F_REQUEST | NLM_F_ACK


class NetlinkRequestError(OSError):
    """The kernel refused a request; the message names the namespace and the request."""


@dataclass
class Request:
    """One rtnetlink message and what it is for, in words (for error messages)."""

    msg: nlmsg
    what: str


def open_socket() -> socket.socket:
    """A NETLINK_ROUTE socket in the calling thread's namespace, joined to no groups.

    Its receive buffer is large (root may exceed net.core.rmem_max) because it hears every
    link notification of the build while the lab waits for links to become operational.
    """
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, NETLINK_ROUTE)
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, RCVBUF)
    except PermissionError:
        # Rootless: CAP_NET_ADMIN over the host's user namespace is missing; take what
        # net.core.rmem_max allows.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
    sock.bind((0, 0))
    return sock


class Channel:
    """Sends requests to one namespace's kernel and checks every answer."""

    def __init__(self, sock: socket.socket, label: str) -> None:
        self.sock = sock
        self.label = label
        self._seq = itertools.count(1)
        self._lock = threading.Lock()
        self._marshal = MarshalRtnl()

    def close(self) -> None:
        self.sock.close()

    def request(self, requests: Sequence[Request]) -> None:
        """Send ``requests`` in one go; raise for the first one the kernel refused."""
        if not requests:
            return
        with self._lock:
            by_seq = {self._stamp(req.msg, CHANGE): req for req in requests}
            self.sock.send(b"".join(bytes(req.msg.data) for req in requests))
            failures = self._collect_acks(by_seq)
        if failures:
            raise failures[0]

    def dump(self, msg: nlmsg) -> list[nlmsg]:
        """Every message of a dump request (e.g. all links or all addresses)."""
        with self._lock:
            seq = self._stamp(msg, NLM_F_REQUEST | NLM_F_DUMP)
            self.sock.send(bytes(msg.data))
            return self._collect_dump(seq)

    def _stamp(self, msg: nlmsg, default_flags: int) -> int:
        seq = next(self._seq)
        header = msg["header"]
        header["flags"] = header.get("flags") or default_flags
        header["sequence_number"] = seq
        header["pid"] = 0
        msg.encode()
        return seq

    def watch_links(self, on: bool) -> None:
        """Start (or stop) hearing link notifications, for ``wait_operational``."""
        option = NETLINK_ADD_MEMBERSHIP if on else NETLINK_DROP_MEMBERSHIP
        self.sock.setsockopt(SOL_NETLINK, option, RTNLGRP_LINK)

    def wait_operational(self, ifnames: set[str], deadline: float) -> set[str]:
        """Wait until each of ``ifnames`` has reported operstate UP; return those that did not.

        Needs ``watch_links(True)`` from before the links were brought up. A dump gives the
        current states and notifications the changes; an interface counts once any message
        said UP (a dump may be a little older than a notification read before it).
        """
        pending = set(ifnames)
        with self._lock:
            msg = get_links()
            self._stamp(msg, NLM_F_REQUEST | NLM_F_DUMP)
            self.sock.send(bytes(msg.data))
            while (
                pending
                and select.select([self.sock], [], [], max(0.0, deadline - time.monotonic()))[0]
            ):
                for reply in self._replies():
                    if (
                        reply["header"]["type"] == RTM_NEWLINK
                        and reply.get_attr("IFLA_OPERSTATE") == "UP"
                    ):
                        pending.discard(reply.get_attr("IFLA_IFNAME"))
        return pending

    def _replies(self) -> Iterable[nlmsg]:
        try:
            return self._marshal.parse(self.sock.recv(RECV_SIZE))
        except OSError as exc:
            if exc.errno != errno.ENOBUFS:  # notifications were dropped: replies still come
                raise
            return ()

    def _collect_acks(self, by_seq: dict[int, Request]) -> list[NetlinkRequestError]:
        failures = []
        pending = set(by_seq)
        while pending:
            for reply in self._replies():
                seq = reply["header"]["sequence_number"]
                if reply["header"]["type"] != NLMSG_ERROR or seq not in pending:
                    continue
                pending.discard(seq)
                if reply["error"]:
                    failures.append(self._error(-reply["error"], by_seq[seq].what))
        return failures

    def _collect_dump(self, seq: int) -> list[nlmsg]:
        result: list[nlmsg] = []
        while True:
            for reply in self._replies():
                kind = reply["header"]["type"]
                if reply["header"]["sequence_number"] != seq:
                    continue
                if kind == NLMSG_DONE:
                    return result
                if kind == NLMSG_ERROR:
                    raise self._error(-reply["error"], "dump")
                result.append(reply)

    def _error(self, code: int, what: str) -> NetlinkRequestError:
        name = errno.errorcode.get(code, str(code))
        return NetlinkRequestError(code, f"{self.label}: {what}: {name} ({os.strerror(code)})")


# -- message builders: one function per kind of request --------------------------------------


def _link_msg(index: int, msg_type: int, flags: int) -> ifinfmsg:
    msg = ifinfmsg()
    msg["index"] = index
    msg["header"]["type"] = msg_type
    msg["header"]["flags"] = flags
    return msg


def set_link_up(index: int, ifname: str, up: bool = True) -> Request:
    """Bring link ``index`` up (or down)."""
    msg = _link_msg(index, RTM_NEWLINK, CHANGE)
    msg["flags"] = IFF_UP if up else 0
    msg["change"] = IFF_UP
    return Request(msg, f"set link {ifname} {'up' if up else 'down'}")


def add_veth(
    index: int,
    ifname: str,
    peer_index: int,
    peer_ifname: str,
    peer_netns_fd: int,
    peer_ns: str,
    up: bool,
    master: int | None = None,
) -> Request:
    """Create a veth pair here whose peer is born directly in the namespace ``peer_netns_fd``.

    Both ifindexes are chosen by the caller (the namespaces are fresh), so later requests can
    name the interfaces without asking the kernel. Only this side can be brought up here: the
    kernel refuses to open the peer before the pair is linked (ENOTCONN).
    """
    msg = _link_msg(index, RTM_NEWLINK, CREATE)
    msg["flags"] = IFF_UP if up else 0
    msg["change"] = IFF_UP
    peer = {
        "index": peer_index,
        "attrs": [("IFLA_IFNAME", peer_ifname), ("IFLA_NET_NS_FD", peer_netns_fd)],
    }
    info = {
        "attrs": [
            ("IFLA_INFO_KIND", "veth"),
            ("IFLA_INFO_DATA", {"attrs": [("VETH_INFO_PEER", peer)]}),
        ]
    }
    msg["attrs"] = [("IFLA_IFNAME", ifname), ("IFLA_LINKINFO", info)]
    if master is not None:
        msg["attrs"].append(("IFLA_MASTER", master))
    return Request(msg, f"add veth {ifname} (peer {peer_ns}:{peer_ifname})")


def add_bridge(index: int, ifname: str) -> Request:
    """Create an up bridge without multicast snooping: every member hears all multicast."""
    msg = _link_msg(index, RTM_NEWLINK, CREATE)
    msg["flags"] = IFF_UP
    msg["change"] = IFF_UP
    data = {"attrs": [("IFLA_BR_MCAST_SNOOPING", 0)]}
    info = {"attrs": [("IFLA_INFO_KIND", "bridge"), ("IFLA_INFO_DATA", data)]}
    msg["attrs"] = [("IFLA_IFNAME", ifname), ("IFLA_LINKINFO", info)]
    return Request(msg, f"add bridge {ifname}")


def delete_link(index: int, ifname: str) -> Request:
    """Delete link ``index`` (a veth takes its peer with it)."""
    return Request(_link_msg(index, RTM_DELLINK, CHANGE), f"delete link {ifname}")


def get_links() -> nlmsg:
    """A dump request for every link."""
    msg = ifinfmsg()
    msg["header"]["type"] = RTM_GETLINK
    return msg


def _addr_msg(index: int, address: Interface, msg_type: int, flags: int) -> ifaddrmsg:
    msg = ifaddrmsg()
    msg["header"]["type"] = msg_type
    msg["header"]["flags"] = flags
    msg["index"] = index
    msg["family"] = socket.AF_INET if address.version == 4 else socket.AF_INET6
    msg["prefixlen"] = address.network.prefixlen
    ip = str(address.ip)
    msg["attrs"] = [("IFA_LOCAL", ip), ("IFA_ADDRESS", ip)]
    return msg


def add_address(index: int, ifname: str, address: Interface) -> Request:
    """Add ``address`` to link ``index``: IPv4 with its broadcast, IPv6 without DAD (usable at once)."""
    msg = _addr_msg(index, address, RTM_NEWADDR, CREATE)
    if address.version == 4 and address.network.prefixlen <= 30:
        msg["attrs"].append(("IFA_BROADCAST", str(address.network.broadcast_address)))
    if address.version == 6:
        msg["flags"] = IFA_F_NODAD
    return Request(msg, f"add address {address} on {ifname}")


def delete_address(index: int, ifname: str, address: Interface) -> Request:
    """Remove ``address`` from link ``index``."""
    return Request(
        _addr_msg(index, address, RTM_DELADDR, CHANGE), f"delete address {address} from {ifname}"
    )


def get_addresses(family: int = socket.AF_UNSPEC) -> nlmsg:
    """A dump request for every address (of one family, or all)."""
    msg = ifaddrmsg()
    msg["header"]["type"] = RTM_GETADDR
    msg["family"] = family
    return msg


def _route_msg(dst: Network, msg_type: int, flags: int) -> rtmsg:
    msg = rtmsg()
    msg["header"]["type"] = msg_type
    msg["header"]["flags"] = flags
    msg["family"] = socket.AF_INET if dst.version == 4 else socket.AF_INET6
    msg["dst_len"] = dst.prefixlen
    msg["table"] = RT_TABLE_MAIN
    msg["attrs"] = [("RTA_TABLE", RT_TABLE_MAIN)]
    if dst.prefixlen:
        msg["attrs"].append(("RTA_DST", str(dst.network_address)))
    return msg


def add_route(dst: Network, via: Address | None, oif: int | None, text: str) -> Request:
    """Add a unicast route to ``dst`` via a gateway and/or out of interface ``oif``."""
    msg = _route_msg(dst, RTM_NEWROUTE, CREATE)
    msg["proto"] = RTPROT_BOOT
    msg["type"] = RTN_UNICAST
    msg["scope"] = RT_SCOPE_UNIVERSE if via is not None else RT_SCOPE_LINK
    if via is not None:
        msg["attrs"].append(("RTA_GATEWAY", str(via)))
    if oif is not None:
        msg["attrs"].append(("RTA_OIF", oif))
    return Request(msg, f"add route {text}")


def delete_route(dst: Network) -> Request:
    """Delete the main-table route to ``dst``."""
    msg = _route_msg(dst, RTM_DELROUTE, CHANGE)
    return Request(msg, f"delete route {dst}")


def interface_of(msg: nlmsg) -> Interface:
    """The address of an RTM_NEWADDR message, as an IPv4Interface or IPv6Interface."""
    ip = msg.get_attr("IFA_LOCAL") or msg.get_attr("IFA_ADDRESS")
    return ipaddress.ip_interface(f"{ip}/{msg['prefixlen']}")
