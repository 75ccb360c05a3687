"""Handles on a running lab's namespaces: query and change them, run code and programs inside.

A ``Node`` is what ``lab.node("r1")`` returns. Every method works on the namespace through the
lab's netlink channel for it (no setns, no fork), or by entering the namespace on this thread
and coming back (``call``, ``socket``, sysctls), or in a child that enters it (``popen``).
"""

from __future__ import annotations

import ipaddress
import os
import socket as _socket
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

from . import registry, rtnl
from .naming import RUN_ENV
from .nsenter import NETNS_DIR, call_in, remove_netns
from .plan import NamespacePlan, route_text
from .processes import LabProcess, Preexec, as_preexecs, kill_pids, pids_in_netns, preexec_entering
from .sysctl import read_sysctl, write_sysctl
from .topology import Interface

if TYPE_CHECKING:
    from .lab import Lab

T = TypeVar("T")
FileArg = int | IO[Any] | None


class _Namespace:
    """One namespace of a lab: its name, an fd to enter it, and its netlink channel."""

    def __init__(self, plan: NamespacePlan, fd: int, channel: rtnl.Channel) -> None:
        self.plan = plan
        self.name = plan.name
        self.fd = fd
        self.channel = channel
        self.started_processes = False

    def remove(self) -> None:
        """Kill what still runs inside, close our handles, unmount: the kernel frees the rest."""
        if self.started_processes:
            kill_pids(pids_in_netns(str(NETNS_DIR / self.name), exclude=os.getpid()))
        self.channel.close()
        os.close(self.fd)
        remove_netns(self.name)


class Node:
    """A handle on one namespace of a running lab: query and change it, run code inside it."""

    def __init__(self, lab: Lab, ns: _Namespace) -> None:
        self._lab = lab
        self._ns = ns
        self.name = ns.plan.node or ns.plan.lan or ns.name

    def __repr__(self) -> str:
        return f"<Node {self.name} in {self.netns}>"

    @property
    def netns(self) -> str:
        """The namespace's full name, e.g. ``fl1x2y3z-r1``."""
        return self._ns.name

    @property
    def netns_path(self) -> Path:
        """The namespace file, for tools that take a path (``nsenter --net=PATH``)."""
        return NETNS_DIR / self._ns.name

    # -- running code inside ---------------------------------------------------------------

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(*args, **kwargs)`` inside the namespace, in this thread, and come back."""
        self._lab.check_alive()
        return call_in(self._ns.fd, fn, *args, **kwargs)

    def socket(
        self, family: int = _socket.AF_INET, type: int = _socket.SOCK_DGRAM, proto: int = 0
    ) -> _socket.socket:
        """A socket opened inside the namespace; the lab closes it at teardown if you did not."""
        sock = self.call(_socket.socket, family, type, proto)
        self._lab.adopt_socket(sock)
        return sock

    def popen(
        self,
        argv: Sequence[str],
        stdout: FileArg = None,
        stderr: FileArg = None,
        env: Mapping[str, str] | None = None,
        preexec: Preexec | Sequence[Preexec] | None = None,
        pass_fds: Sequence[int] = (),
        **kwargs: Any,
    ) -> subprocess.Popen:
        """Start ``argv`` inside the namespace; the lab stops it at teardown.

        ``preexec`` (one callable or several) runs in the child after it entered the namespace
        and before exec. The child's environment carries FAULTLAB_RUN=<runid>.
        """
        self._lab.check_alive()
        child_env = dict(os.environ if env is None else env)
        child_env[RUN_ENV] = self._lab.run_id or ""
        popen = subprocess.Popen(
            list(argv),
            stdout=stdout,
            stderr=stderr,
            env=child_env,
            pass_fds=tuple(pass_fds),
            preexec_fn=preexec_entering(self._ns.fd, as_preexecs(preexec)),
            **kwargs,
        )
        self._ns.started_processes = True
        start_time = registry.process_start_time(popen.pid) or 0
        self._lab.adopt_process(LabProcess(popen, self.netns, start_time), self.name)
        return popen

    # -- links and addresses ---------------------------------------------------------------

    def interfaces(self) -> dict[str, int]:
        """Every interface of the namespace: name -> ifindex."""
        links = self._dump(rtnl.get_links())
        return {link.get_attr("IFLA_IFNAME"): link["index"] for link in links}

    def ifindex(self, ifname: str) -> int:
        """The ifindex of ``ifname``; LookupError naming the interfaces there if it is absent."""
        interfaces = self.interfaces()
        try:
            return interfaces[ifname]
        except KeyError:
            raise LookupError(
                f"{self.netns}: no interface {ifname!r} (interfaces: {', '.join(interfaces)})"
            ) from None

    def is_up(self, ifname: str) -> bool:
        """True if ``ifname`` is administratively up (IFF_UP)."""
        for link in self._dump(rtnl.get_links()):
            if link.get_attr("IFLA_IFNAME") == ifname:
                return bool(link["flags"] & rtnl.IFF_UP)
        raise LookupError(f"{self.netns}: no interface {ifname!r}")

    def addresses(self, ifname: str, family: int = _socket.AF_INET) -> list[Interface]:
        """The addresses on ``ifname`` (IPv4 by default; AF_INET6, or AF_UNSPEC for both)."""
        index = self.ifindex(ifname)
        msgs = self._dump(rtnl.get_addresses(family))
        return [rtnl.interface_of(msg) for msg in msgs if msg["index"] == index]

    def add_address(self, ifname: str, address: str | Interface) -> None:
        """Add ``address`` (ADDRESS/PREFIX) to ``ifname``."""
        self._request(
            rtnl.add_address(self.ifindex(ifname), ifname, ipaddress.ip_interface(address))
        )

    def del_address(self, ifname: str, address: str | Interface) -> None:
        """Remove ``address`` (ADDRESS/PREFIX) from ``ifname``."""
        self._request(
            rtnl.delete_address(self.ifindex(ifname), ifname, ipaddress.ip_interface(address))
        )

    def set_link(self, ifname: str, up: bool) -> None:
        """Bring ``ifname`` up or down."""
        self._request(rtnl.set_link_up(self.ifindex(ifname), ifname, up))

    def del_link(self, ifname: str) -> None:
        """Delete ``ifname`` (a veth's peer in the other namespace goes with it)."""
        self._request(rtnl.delete_link(self.ifindex(ifname), ifname))

    # -- routes ----------------------------------------------------------------------------

    def add_route(self, dst: str, via: str | None = None, dev: str | None = None) -> None:
        """Add a route to ``dst`` ("default" or NETWORK/PREFIX) via a gateway and/or a device."""
        if via is None and dev is None:
            raise ValueError(f"route to {dst}: give via= (a gateway), dev= (an interface), or both")
        gateway = ipaddress.ip_address(via) if via is not None else None
        network = _network(dst, 6 if gateway is not None and gateway.version == 6 else 4)
        oif = self.ifindex(dev) if dev is not None else None
        self._request(rtnl.add_route(network, gateway, oif, route_text(network, gateway, dev)))

    def del_route(self, dst: str) -> None:
        """Delete the route to ``dst`` ("default" or NETWORK/PREFIX)."""
        self._request(rtnl.delete_route(_network(dst, 4)))

    # -- sysctls ---------------------------------------------------------------------------

    def set_sysctl(self, key: str, value: str | int) -> None:
        """Set sysctl ``key`` (under ``net.``) inside this namespace only."""
        self.call(write_sysctl, key, value)

    def get_sysctl(self, key: str) -> str:
        """The value of sysctl ``key`` inside this namespace."""
        return self.call(read_sysctl, key)

    def _dump(self, msg: Any) -> list[Any]:
        self._lab.check_alive()
        return self._ns.channel.dump(msg)

    def _request(self, request: rtnl.Request) -> None:
        self._lab.check_alive()
        self._ns.channel.request([request])


def _network(dst: str, version: int) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    if dst == "default":
        return ipaddress.ip_network("::/0" if version == 6 else "0.0.0.0/0")
    return ipaddress.ip_network(dst)
