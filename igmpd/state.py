"""The state file: igmpd's view of its interfaces and groups, as JSON, replaced atomically.

Readers (the harness, a person) never see a half-written file: the new content goes to a
temporary file in the same folder, which then replaces the old one with os.replace.

A mapping that may be large (the groups of an interface: 10k of them or more) can be given as a
``Streamed`` value: it is encoded a chunk of entries at a time, with the C JSON encoder, so a
write never holds every group's dict, nor the whole text, in memory at once (that transient
peak would otherwise stay in the process's RSS).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import IO, Any

SEPARATORS = (",", ":")
CHUNK = 256  # entries of a Streamed mapping encoded in one json.dumps call


@dataclass(frozen=True)
class Streamed:
    """A JSON object whose entries come from ``items()`` as (key, value) pairs, in order."""

    items: Callable[[], Iterable[tuple[str, Any]]]


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
            write_json(stream, state)
            stream.write("\n")
        os.replace(temporary, self.path)
        self.writes += 1


def write_json(stream: IO[str], value: Any) -> None:
    """Write value as compact JSON; dicts are walked so that Streamed values inside stream."""
    if isinstance(value, Streamed):
        _write_streamed(stream, value)
    elif isinstance(value, dict):
        stream.write("{")
        for n, (key, item) in enumerate(value.items()):
            stream.write(("," if n else "") + json.dumps(str(key)) + ":")
            write_json(stream, item)
        stream.write("}")
    else:
        stream.write(json.dumps(value, separators=SEPARATORS))


def _write_streamed(stream: IO[str], value: Streamed) -> None:
    stream.write("{")
    entries = iter(value.items())
    first = True
    while chunk := dict(islice(entries, CHUNK)):
        stream.write(("" if first else ",") + json.dumps(chunk, separators=SEPARATORS)[1:-1])
        first = False
    stream.write("}")
