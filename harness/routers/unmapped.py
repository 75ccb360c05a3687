"""Error-looking log lines that no pattern maps: what a router said that no event stands for.

A router that writes an error line nobody's pattern knows looks silent to a judge that reads
only events. Runs, explorations, ``faultlab profile check`` and ``faultlab reproduce`` list such
lines, so "silent" never hides a line the router did write. One vocabulary of error words lives
here (``ERROR_WORDS``); the strerror texts come from the C library (``os.strerror``), so the
list is not typed twice.
"""

from __future__ import annotations

import errno as _errno
import os
import re
from collections.abc import Callable, Iterable

_STRERROR_TEXTS = sorted(
    {
        os.strerror(number)
        for number in _errno.errorcode
        if not os.strerror(number).startswith("Unknown")
    },
    key=len,
    reverse=True,
)
#: Words that make a log line look like a report of a problem (case-insensitive).
ERROR_WORDS = re.compile(
    r"\b(?:error|err|fail(?:ed|ure|s)?|can'?t|cannot|could not|unable|denied|abort(?:ed)?|"
    r"not permitted|not allowed|already in use|already running|errno\b|errno=|\[errno)"
    r"|" + "|".join(re.escape(text) for text in _STRERROR_TEXTS),
    re.IGNORECASE,
)

LineMapped = Callable[[str], bool]


def looks_like_error(line: str) -> bool:
    """Whether ``line`` reads as a report of a problem (an error word or a strerror text)."""
    return ERROR_WORDS.search(line) is not None


def unmapped_error_lines(
    lines: Iterable[str], mapped: LineMapped, ignore: re.Pattern[str] | None = None
) -> list[str]:
    """The error-looking lines of ``lines`` that ``mapped`` says no pattern turns into an event.

    ``ignore`` names known harmless lines (a router's own noise), which are never listed.
    """
    found: list[str] = []
    for raw in lines:
        line = raw.strip()
        if not line or not looks_like_error(line):
            continue
        if ignore is not None and ignore.search(line):
            continue
        if not mapped(line):
            found.append(line)
    return found
