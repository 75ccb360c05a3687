"""--shard I/N: shards are disjoint, cover every scenario exactly once, and are balanced."""

from __future__ import annotations

import pytest

from harness.errors import InputError
from harness.shard import Shard, parse_shard

NAMES = [f"scenarios/{family}/s{n:02}.yaml" for family in ("bind", "send", "mem") for n in range(7)]


@pytest.mark.parametrize("total", [1, 2, 3, 4, 7, 25])
def test_shards_cover_every_scenario_exactly_once(total: int) -> None:
    shards = [Shard(index, total).select(NAMES, key=str) for index in range(1, total + 1)]
    chosen = [name for shard in shards for name in shard]
    assert sorted(chosen) == sorted(NAMES)
    sizes = [len(shard) for shard in shards]
    assert max(sizes) - min(sizes) <= 1


def test_the_split_does_not_depend_on_the_order_items_arrive_in() -> None:
    forward = Shard(2, 3).select(NAMES, key=str)
    backward = Shard(2, 3).select(list(reversed(NAMES)), key=str)
    assert sorted(forward) == sorted(backward)


def test_selection_keeps_the_original_order() -> None:
    chosen = Shard(1, 2).select(NAMES, key=str)
    assert chosen == [name for name in NAMES if name in chosen]


@pytest.mark.parametrize("text", ["1/4", " 4/4 "])
def test_parse_good(text: str) -> None:
    shard = parse_shard(text)
    assert 1 <= shard.index <= shard.total == 4


@pytest.mark.parametrize("text", ["0/4", "5/4", "1/0", "a/b", "2", "-1/3"])
def test_parse_bad(text: str) -> None:
    with pytest.raises(InputError, match="--shard"):
        parse_shard(text)
