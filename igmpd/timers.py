"""A heap of one-shot timers for the router's event loop (monotonic seconds)."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable


class Timer:
    """A scheduled callback; cancel() makes the heap skip it."""

    __slots__ = ("deadline", "callback", "cancelled")

    def __init__(self, deadline: float, callback: Callable[[], None]) -> None:
        self.deadline = deadline
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        """Never run this timer."""
        self.cancelled = True


class TimerHeap:
    """Timers ordered by deadline; run_due() runs those whose time has come."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Timer]] = []
        self._sequence = itertools.count()

    def call_at(self, deadline: float, callback: Callable[[], None]) -> Timer:
        """Run callback at deadline (or as soon after as the loop gets to it)."""
        timer = Timer(deadline, callback)
        heapq.heappush(self._heap, (deadline, next(self._sequence), timer))
        return timer

    def next_deadline(self) -> float | None:
        """The earliest deadline of a live timer, or None."""
        heap = self._heap
        while heap and heap[0][2].cancelled:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def run_due(self, now: float) -> int:
        """Run every live timer due by now, in deadline order; how many ran."""
        ran = 0
        heap = self._heap
        while heap and heap[0][0] <= now:
            _, _, timer = heapq.heappop(heap)
            if not timer.cancelled:
                timer.cancelled = True
                timer.callback()
                ran += 1
        return ran
