"""Splitting a scenario suite across CI machines: ``--shard I/N``.

Shards are deterministic and cover every scenario exactly once: the scenarios are sorted by a
stable key (their path relative to the suite's root, then their name) and dealt round-robin, so
shard sizes differ by at most one and every machine computes the same split from the same
checkout, with no coordination.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from harness.errors import InputError

T = TypeVar("T")


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (1-based) of ``total``."""

    index: int
    total: int

    def __str__(self) -> str:
        return f"{self.index}/{self.total}"

    def select(self, items: Sequence[T], key: Callable[[T], str]) -> list[T]:
        """The items of this shard, in their original order."""
        ranked = sorted(range(len(items)), key=lambda position: key(items[position]))
        mine = {
            position for rank, position in enumerate(ranked) if rank % self.total == self.index - 1
        }
        return [item for position, item in enumerate(items) if position in mine]


def parse_shard(text: str) -> Shard:
    """``"2/4"`` -> Shard(2, 4). InputError naming the flag when it is malformed."""
    index_text, slash, total_text = text.strip().partition("/")
    if not slash or not index_text.isdigit() or not total_text.isdigit():
        raise InputError(f"--shard {text!r}: expected I/N, e.g. --shard 1/4")
    index, total = int(index_text), int(total_text)
    if total < 1 or not 1 <= index <= total:
        raise InputError(
            f"--shard {text!r}: I must be between 1 and N (N >= 1), e.g. --shard 1/{max(total, 1)}"
        )
    return Shard(index, total)
