"""The "did you mean" of every error message: the closest known word to a misspelt one.

One rule everywhere (difflib, one match, similarity at least 0.6), so a misspelt fault kind,
errno, step, symbol or scenario key is answered the same way wherever it is checked.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

CUTOFF = 0.6


def closest(word: object, choices: Iterable[object]) -> str | None:
    """The choice most like ``word`` (compared as text), or None when none is close enough."""
    words = [str(choice) for choice in choices if choice is not None]
    close = difflib.get_close_matches(str(word), words, n=1, cutoff=CUTOFF)
    return close[0] if close else None


def did_you_mean(word: object, choices: Iterable[object]) -> str:
    """``"; did you mean 'mrt-held'?"`` to append to a message, or ``""``."""
    close = closest(word, choices)
    return f"; did you mean {close!r}?" if close is not None else ""
