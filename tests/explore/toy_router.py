"""A tiny IGMP querier built to show one outcome class of ``faultlab explore`` (tests only).

    toy_router.py --interfaces e0,e1 --on-error report|vague|ignore|exit|crash

It opens a raw IGMP socket per interface, says ``started on IF``, then sends a general query
on each every 0.2 s (waiting in poll(2), which marks the end of its start-up). What it does
when a sendto fails is the whole point: report it with the errno, say something vague, ignore
it, exit 3, or abort (SIGABRT).
"""

from __future__ import annotations

import argparse
import os
import select
import socket
import struct
import sys

QUERY = b"\x11\x64\xee\x9b\x00\x00\x00\x00"  # IGMPv2 general query, max resp 10 s, checksum


def open_socket(name: str) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_IGMP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, name.encode())
    index = socket.if_nametoindex(name)
    mreqn = struct.pack("4s4si", bytes(4), bytes(4), index)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, mreqn)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
    return sock


def on_error(mode: str, name: str, exc: OSError) -> None:
    if mode == "report":
        print(f"sendto failed on {name}: errno={exc.errno}", flush=True)
    elif mode == "vague":
        print("something went wrong while sending", flush=True)
    elif mode == "exit":
        sys.exit(3)
    elif mode == "crash":
        os.abort()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--interfaces", required=True)
    parser.add_argument("--on-error", default="report")
    args = parser.parse_args()
    sockets = {name: open_socket(name) for name in args.interfaces.split(",")}
    for name in sockets:
        print(f"started on {name}", flush=True)
    waiter = select.poll()
    while True:
        for name, sock in sockets.items():
            try:
                sock.sendto(QUERY, ("224.0.0.1", 0))
            except OSError as exc:
                on_error(args.on_error, name, exc)
        waiter.poll(200)


if __name__ == "__main__":
    sys.exit(main())
