"""Link and address change notifications, from a raw AF_NETLINK socket (standard library only).

igmpd does not parse the messages: any notification means "look again at the interfaces", and
the router compares each interface's fingerprint (igmpd.netif.Link) with the one it had.
"""

from __future__ import annotations

import errno
import socket

NETLINK_ROUTE = 0
RTMGRP_LINK = 0x1
RTMGRP_IPV4_IFADDR = 0x10


class LinkWatcher:
    """A netlink socket subscribed to link and IPv4 address changes."""

    def __init__(self) -> None:
        self.sock = socket.socket(
            socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_NONBLOCK, NETLINK_ROUTE
        )
        self.sock.bind((0, RTMGRP_LINK | RTMGRP_IPV4_IFADDR))

    def fileno(self) -> int:
        """The socket's descriptor, for epoll."""
        return self.sock.fileno()

    def drain(self) -> int:
        """Read every pending notification; the count (an overrun counts as one)."""
        count = 0
        while True:
            try:
                self.sock.recv(65536)
            except BlockingIOError:
                return count
            except OSError as exc:
                if exc.errno != errno.ENOBUFS:
                    return count + 1
            count += 1

    def close(self) -> None:
        """Close the socket."""
        self.sock.close()
