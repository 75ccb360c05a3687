#!/usr/bin/env python3
"""myquerier: a small IGMPv2 querier, as a QA team might write one (stdlib only).

    myquerier.py [--fixed] [--query-interval SECONDS] [--retry-interval SECONDS] IFACE [IFACE ...]

Per interface it opens a raw IGMP socket, binds it to the device, points multicast at it
(IP_MULTICAST_IF), sets TTL 1, loopback off and the Router Alert option, joins 224.0.0.2
(all routers), then sends an IGMPv2 general query on every interface each query interval and
reads the hosts' reports. It logs in its own words to stderr::

    INFO: myquerier 1.0 starting on e0,e1 (query interval 1s)
    ERROR: cannot create socket on e0: [Errno 105] No buffer space available
    WARNING: cannot join 224.0.0.2 on e1: [Errno 105] No buffer space available
    INFO: e1: querying as 10.0.2.1
    INFO: querier up on e1

It is sloppy on purpose, for faultlab's examples and tests: it ignores sendto errors (the
queries just stop, nothing is logged), and it exits 1 when IP_MULTICAST_IF fails; an interface
whose set-up failed otherwise stays down. ``--fixed`` is the twin that fixed both: a sendto
error is logged with its errno and the next query is sent as usual, an IP_MULTICAST_IF failure
is logged and retried, and so is every interface whose set-up failed.
"""

from __future__ import annotations

import argparse
import fcntl
import select
import signal
import socket
import struct
import sys
import time

VERSION = "1.0"
ALL_HOSTS, ALL_ROUTERS = "224.0.0.1", "224.0.0.2"
ROUTER_ALERT = b"\x94\x04\x00\x00"
SIOCGIFADDR = 0x8915


def log(level: str, text: str) -> None:
    print(f"{level}: {text}", file=sys.stderr, flush=True)


def checksum(data: bytes) -> int:
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    return ~(total + (total >> 16)) & 0xFFFF


def general_query(max_response_ds: int = 100) -> bytes:
    """An IGMPv2 general query (type 0x11, group 0.0.0.0)."""
    body = struct.pack("!BBH4s", 0x11, max_response_ds, 0, bytes(4))
    return struct.pack("!BBH4s", 0x11, max_response_ds, checksum(body), bytes(4))


class Interface:
    """One interface the querier serves: its socket once set up, its address."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.sock: socket.socket | None = None
        self.address = "?"
        self.next_try = 0.0

    def address_of(self) -> str:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            request = struct.pack("16s16x", self.name.encode())
            reply = fcntl.ioctl(probe.fileno(), SIOCGIFADDR, request)
        return socket.inet_ntoa(reply[20:24])


class Querier:
    def __init__(self, names: list[str], interval: float, retry: float, fixed: bool) -> None:
        self.interfaces = [Interface(name) for name in names]
        self.interval, self.retry, self.fixed = interval, retry, fixed
        self.poller = select.poll()
        self.by_fd: dict[int, Interface] = {}

    def set_up(self, item: Interface) -> bool:
        """Open and configure ``item``'s socket; False (logged) when a step failed."""
        try:
            sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_IGMP)
        except OSError as exc:
            log("ERROR", f"cannot create socket on {item.name}: {exc}")
            return False
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, item.name.encode())
        except OSError as exc:
            log("ERROR", f"cannot bind socket to {item.name}: {exc}")
            sock.close()
            return False
        try:
            index = socket.if_nametoindex(item.name)
            mreqn = struct.pack("4s4si", bytes(4), bytes(4), index)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, mreqn)
        except OSError as exc:
            log("ERROR", f"cannot set multicast interface on {item.name}: {exc}")
            sock.close()
            if not self.fixed:
                sys.exit(1)  # the sloppy build gives up on everything
            return False
        try:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_OPTIONS, ROUTER_ALERT)
        except OSError as exc:
            log("ERROR", f"cannot set socket options on {item.name}: {exc}")
            sock.close()
            return False
        try:
            mreqn = struct.pack("4s4si", socket.inet_aton(ALL_ROUTERS), bytes(4), index)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreqn)
        except OSError as exc:
            log("WARNING", f"cannot join {ALL_ROUTERS} on {item.name}: {exc}")
        try:
            item.address = item.address_of()
        except OSError as exc:
            log("WARNING", f"cannot read the address of {item.name}: {exc}")
        item.sock = sock
        self.by_fd[sock.fileno()] = item
        self.poller.register(sock, select.POLLIN)
        log("INFO", f"{item.name}: querying as {item.address}")
        return True

    def query(self, item: Interface) -> None:
        assert item.sock is not None
        try:
            item.sock.sendto(general_query(), (ALL_HOSTS, 0))
        except OSError as exc:
            if self.fixed:
                log("ERROR", f"cannot send query on {item.name}: {exc}")
            # the sloppy build ignores it: the query is simply lost

    def receive(self, item: Interface) -> None:
        assert item.sock is not None
        try:
            data, (source, _port) = item.sock.recvfrom(2048)
        except OSError as exc:
            log("ERROR", f"cannot read on {item.name}: {exc}")
            return
        header = (data[0] & 0x0F) * 4 if data else 0
        if len(data) >= header + 8 and data[header] in (0x12, 0x16):
            group = socket.inet_ntoa(data[header + 4 : header + 8])
            log("INFO", f"{item.name}: report for {group} from {source}")

    def start(self) -> None:
        names = ",".join(i.name for i in self.interfaces)
        log("INFO", f"myquerier {VERSION} starting on {names} (query interval {self.interval:g}s)")
        up = [item.name for item in self.interfaces if self.set_up(item)]
        for item in self.interfaces:
            item.next_try = time.monotonic() + self.retry
        if up:
            log("INFO", f"querier up on {','.join(up)}")
        else:
            log("ERROR", "no interface could be set up")

    def retry_down(self, now: float) -> None:
        """The fixed build tries a failed interface again every retry interval."""
        for item in self.interfaces:
            if item.sock is None and now >= item.next_try:
                item.next_try = now + self.retry
                if self.set_up(item):
                    log("INFO", f"querier up on {item.name} again")

    def run(self) -> None:
        self.start()
        next_query = time.monotonic()
        while True:
            now = time.monotonic()
            if self.fixed:
                self.retry_down(now)
            if now >= next_query:
                for item in self.interfaces:
                    if item.sock is not None:
                        self.query(item)
                next_query = now + self.interval
            timeout = max(0.0, next_query - time.monotonic())
            for fd, _mask in self.poller.poll(timeout * 1000):
                self.receive(self.by_fd[fd])


def main() -> int:
    parser = argparse.ArgumentParser(description="a small IGMPv2 querier")
    parser.add_argument("interfaces", nargs="+", help="the interfaces to query on")
    parser.add_argument("--query-interval", type=float, default=1.0, help="seconds (1)")
    parser.add_argument("--retry-interval", type=float, default=1.0, help="seconds (1, --fixed)")
    parser.add_argument("--fixed", action="store_true", help="the build that fixed its bugs")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    querier = Querier(args.interfaces, args.query_interval, args.retry_interval, args.fixed)
    try:
        querier.run()
    except KeyboardInterrupt:
        pass
    log("INFO", "stopping")
    return 0


if __name__ == "__main__":
    sys.exit(main())
