"""The stretch factor: how much slower the guest is than the host, measured at boot.

Under emulation (TCG) everything is 10-50x slower, and the scenarios' deadlines (an event
within 2 s) are written for real hardware. Before the guest starts, the host times a small
benchmark, a pure-Python loop (the harness and igmpd are Python); the guest times the same one,
and every deadline in the guest is stretched by ``SAFETY x`` that ratio, rounded up (1 when the
guest is about as fast as the host, as under KVM). ``--slow`` multiplies on top. Spawning the
interpreter is timed too, for the report only: its first runs in a guest read every file over
9p and vary 3-fold from one boot to the next, so it would make the factor noisy.
Measured here under TCG: the loop 10-15x slower, hence factors of 12-18; the whole suite was
found by hand to need ``--slow 15``.
"""

from __future__ import annotations

import math
import subprocess
import sys
import time
from dataclasses import asdict, dataclass

SAFETY = 1.2  # headroom over the measured ratio: timer and scheduling noise in the guest
LOOP_ROUNDS = 300_000
REPEATS = 5


@dataclass(frozen=True)
class Timing:
    """Seconds of one benchmark run (the best of ``REPEATS``)."""

    loop: float
    spawn: float

    def to_json(self) -> dict[str, float]:
        return asdict(self)


def _loop() -> float:
    started = time.perf_counter()
    total = 0
    for number in range(LOOP_ROUNDS):
        total += number * number % 7
    return time.perf_counter() - started


def _spawn() -> float:
    subprocess.run([sys.executable, "-c", "pass"], check=True)  # warm the page cache first
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - started


def measure() -> Timing:
    """Time the benchmark here (about 0.3 s on the host, 3 s under emulation)."""
    return Timing(loop=min(_loop() for _ in range(REPEATS)), spawn=min(_spawn() for _ in range(2)))


def ratio(host: Timing, guest: Timing) -> float:
    """How many times slower the guest runs Python than the host."""
    return guest.loop / host.loop


def spawn_ratio(host: Timing, guest: Timing) -> float:
    """How many times slower the guest starts the interpreter (reported, not used)."""
    return guest.spawn / host.spawn


def factor(host: Timing, guest: Timing) -> float:
    """The deadline stretch for the guest: 1 when it is about as fast as the host."""
    measured = ratio(host, guest)
    if measured < 1.5:
        return 1.0
    return float(math.ceil(SAFETY * measured))
