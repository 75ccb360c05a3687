"""Teardown as a stack of undo steps that always runs every step.

Each thing a lab builds pushes the step that removes it, right after it exists; teardown pops
them all in reverse order, whatever fails, and raises the failures together as one
ExceptionGroup (as pytest's ``SetupState.teardown_exact`` does). So a build that failed
half-way undoes exactly what it had made, and no cleanup error hides another.

Catching ``BaseException`` is deliberate: a Ctrl-C (KeyboardInterrupt) or a SIGTERM turned into
an exception while one step runs must not skip the steps after it. It is raised after them, in
the group (a ``BaseExceptionGroup`` then, since it is not an ``Exception``).

The lab uses one; so does the harness's runner for everything it builds around the lab (with
its own wording: ``UndoStack("scenario", note="while tearing down", message="teardown failed")``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class UndoStack:
    """Undo steps, each with a description naming what it removes.

    ``note`` prefixes the note added to each failure (``"while undoing: remove namespace x"``);
    ``message`` is the group's message (by default ``teardown of LABEL: N step(s) failed``).
    """

    label: str
    note: str = "while undoing"
    message: str | None = None
    _steps: list[tuple[str, Callable[[], None]]] = field(default_factory=list)

    def push(self, what: str, undo: Callable[[], None]) -> None:
        """Remember how to remove something that now exists."""
        self._steps.append((what, undo))

    def __len__(self) -> int:
        return len(self._steps)

    def unwind(self) -> None:
        """Run every step, last first; raise ExceptionGroup of the failures after all ran."""
        errors: list[BaseException] = []
        while self._steps:
            what, undo = self._steps.pop()
            try:
                undo()
            except BaseException as exc:  # a Ctrl-C in one step must not skip the others
                exc.add_note(f"{self.note}: {what}")
                errors.append(exc)
        if errors:
            # An ExceptionGroup when every error is an Exception, else a BaseExceptionGroup.
            message = self.message or f"teardown of {self.label}: {len(errors)} step(s) failed"
            raise BaseExceptionGroup(message, errors)
