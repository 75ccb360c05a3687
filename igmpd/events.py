"""igmpd's event log: one JSON object per line, flushed at once (docs/architecture.md section 3).

The records carry the catalog's id, symbol, level and rendered message, igmpd's provider name,
the interface, the insertion strings, and for socket errors the errno, its name and the Winsock
code a Windows router would have logged. ``step`` and ``call`` say which socket step failed and
which system call or option did. A token bucket per (interface, event id) bounds what a flood of
bad packets or failing sends can write; what it holds back is counted and reported on the next
record of that kind as ``suppressed``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import UTC, datetime
from typing import IO, Any

import igmpcatalog as catalog

PROVIDER = "igmpd"


class EventLogError(OSError):
    """The event log cannot be opened or written."""


class RateLimiter:
    """Token buckets keyed by (interface, event id): a burst, then a steady rate."""

    def __init__(self, burst: int, rate: float, clock: Any = time.monotonic) -> None:
        self.burst = burst
        self.rate = rate
        self.clock = clock
        self._buckets: dict[tuple[str, int], list[float]] = {}  # key -> [tokens, last refill]
        self.suppressed: dict[tuple[str, int], int] = {}

    def allow(self, key: tuple[str, int]) -> bool:
        """Take a token for key; False (and counted) when the bucket is empty."""
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = [float(self.burst), now]
        bucket[0] = min(float(self.burst), bucket[0] + (now - bucket[1]) * self.rate)
        bucket[1] = now
        if bucket[0] >= 1.0:
            bucket[0] -= 1.0
            return True
        self.suppressed[key] = self.suppressed.get(key, 0) + 1
        return False

    def take_suppressed(self, key: tuple[str, int]) -> int:
        """How many records of key were held back since the last one written (and reset)."""
        return self.suppressed.pop(key, 0)


class EventLog:
    """Writes catalog events as JSON lines to a file or stdout."""

    def __init__(self, stream: IO[str], limiter: RateLimiter | None = None) -> None:
        self.stream = stream
        self.limiter = limiter or RateLimiter(10, 1.0)

    @classmethod
    def open(cls, path: str, limiter: RateLimiter | None = None) -> EventLog:
        """Open PATH for appending ('-' is stdout); EventLogError names the path."""
        if path == "-":
            return cls(sys.stdout, limiter)
        try:
            stream = open(path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
        except OSError as exc:
            raise EventLogError(
                exc.errno, f"cannot open event log {path}: {os.strerror(exc.errno or 0)}"
            ) from exc
        return cls(stream, limiter)

    def emit(
        self,
        event_id: int,
        interface: str | None = None,
        strings: list[str] | tuple[str, ...] = (),
        *,
        step: str | None = None,
        call: str | None = None,
        errno: int | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """Write one event record now and return it."""
        event = catalog.event(event_id)
        record: dict[str, Any] = {
            "time": datetime.now(UTC).isoformat(timespec="microseconds"),
            "id": event.id,
            "symbol": event.symbol,
            "level": str(event.level),
            "provider": PROVIDER,
            "interface": interface,
            "strings": [str(s) for s in strings],
            "message": event.render([str(s) for s in strings]),
        }
        if step is not None:
            record["step"] = step
        if errno is not None:
            record["errno"] = errno
            record["errno_name"] = catalog.errno_name(errno)
            record["winsock"] = catalog.winsock_code(errno)
        if call is not None:
            record["call"] = call
        record.update(extra)
        self._write(record)
        return record

    def emit_limited(
        self, event_id: int, interface: str, strings: list[str] | tuple[str, ...], **fields: Any
    ) -> bool:
        """Write an event unless its (interface, id) bucket is empty; True when written."""
        key = (interface, event_id)
        if not self.limiter.allow(key):
            return False
        suppressed = self.limiter.take_suppressed(key)
        if suppressed:
            fields["suppressed"] = suppressed
        self.emit(event_id, interface, strings, **fields)
        return True

    def _write(self, record: dict[str, Any]) -> None:
        try:
            self.stream.write(json.dumps(record) + "\n")
            self.stream.flush()
        except OSError:
            pass  # a full disk must not kill the router; the state file still counts

    def close(self) -> None:
        """Close the log unless it is stdout."""
        if self.stream is not sys.stdout:
            self.stream.close()
