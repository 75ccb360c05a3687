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
