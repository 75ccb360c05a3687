"""Captured frames carry the kernel's receive time, not the time the capture thread read them."""

from __future__ import annotations

import socket
import struct
import time

from harness.capture import SO_TIMESTAMPNS, Capture


def _capture(now: float) -> Capture:
    return Capture(node="h1", ifname="e0", clock=lambda: now)


def test_a_frame_read_late_is_dated_when_the_kernel_received_it() -> None:
    capture = _capture(now=100.0)
    wall_ns = time.time_ns() - 300_000_000  # on the wire 300 ms before the thread read it
    stamp = struct.pack("qq", wall_ns // 1_000_000_000, wall_ns % 1_000_000_000)
    seen, wall = capture._when([(socket.SOL_SOCKET, SO_TIMESTAMPNS, stamp)])
    assert wall == wall_ns
    assert 99.69 < seen < 99.71


def test_without_a_kernel_stamp_the_read_time_is_used() -> None:
    capture = _capture(now=100.0)
    seen, _ = capture._when([])
    assert seen == 100.0
