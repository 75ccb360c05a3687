"""SIGTERM as an exception while a lab is alive, so the lab's teardown runs on the way out.

A CI runner or a user stopping a run sends SIGTERM; Python's default would exit without any
``finally``. While a lab lives in the main thread its guard raises LabTerminated (a
KeyboardInterrupt, so pytest stops the session cleanly and still runs fixture teardowns);
during teardown a further SIGTERM is only noted, so it cannot cut the cleanup short.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any


class LabTerminated(KeyboardInterrupt):
    """SIGTERM arrived while a lab was alive; raised so the lab tears down on the way out."""


class SigtermGuard:
    """Turns SIGTERM into LabTerminated while a lab lives, deferring it during teardown."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.installed = False
        self.deferring = False
        self.pending = False
        self.previous: Any = None

    def install(self) -> None:
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGTERM, self._handle)
            self.installed = True

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.deferring:
            self.pending = True
            return
        raise LabTerminated(f"SIGTERM while lab {self.label} was alive")

    def restore(self) -> None:
        if self.installed:
            signal.signal(signal.SIGTERM, self.previous)
            self.installed = False
