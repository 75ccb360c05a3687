"""The state file: igmpd's view of its interfaces and groups, as JSON, replaced atomically.

Readers (the harness, a person) never see a half-written file: the new content goes to a
temporary file in the same folder, which then replaces the old one with os.replace.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


class StateFile:
    """Writes the router's state to PATH atomically (no-op when no path was given)."""

    def __init__(self, path: str | None) -> None:
        self.path = Path(path) if path else None
        self.writes = 0

    def write(self, state: dict[str, Any]) -> None:
        """Replace the file's content with state; an error is left to the caller."""
        if self.path is None:
            return
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        with open(temporary, "w", encoding="utf-8") as stream:
            json.dump(state, stream, separators=(",", ":"))
            stream.write("\n")
        os.replace(temporary, self.path)
        self.writes += 1
