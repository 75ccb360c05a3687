"""How much slower than usual this machine is: one factor for every deadline of a run.

``FAULTLAB_SLOW`` (set by ``--slow``, and by the kernel lab inside an emulated guest, which is
10-30x slower than its host) stretches the runner's waits, the routers' status commands and the
tests' own deadlines alike, so a slow machine is never mistaken for a broken router.
"""

from __future__ import annotations

import os

SLOW_ENV = "FAULTLAB_SLOW"


def slow_factor() -> float:
    """``FAULTLAB_SLOW`` as a factor (1 when unset or not a positive number)."""
    try:
        value = float(os.environ.get(SLOW_ENV, "") or 1)
    except ValueError:
        return 1.0
    return value if value > 0 else 1.0


ROUTER_WORK = 1.0  # seconds of a router's (and the harness's) own work inside one timer window


def timer_window(seconds: float, slow: float) -> float:
    """A wait set by a router's own timer (its query interval, say), on a machine ``slow`` times
    slower than usual.

    A router's timers run in real time even in an emulated guest: a query due every 5 s still
    comes every 5 s, only the work around it (noticing a fault, logging, the harness reading the
    packet) is slower. So only that work is stretched, ``seconds + ROUTER_WORK * (slow - 1)``,
    not the whole timer: at the guest's factor of 17, a 14 s window becomes 30 s, not 238 s.
    Natively (``slow`` 1) the window is the timer's.
    """
    return seconds + ROUTER_WORK * max(0.0, slow - 1.0)
