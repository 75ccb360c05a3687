"""The split: one parser for both spellings, a deal that covers every cell once, balances the
expected cost, and is the same on every machine; explore, compare and run --kernel use it."""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import pytest

from harness.errors import InputError
from harness.shard import Shard, add_shard_options, deal, loads, parse_shard, shard_of


def parsed(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_shard_options(parser, "cells")
    return parser.parse_args(list(argv))


def test_one_based_and_zero_based_spellings_name_the_same_shard() -> None:
    assert shard_of(parsed("--shard", "1/4")) == Shard(1, 4)
    args = parsed("--shard-index0", "0", "--shard-count", "4")
    assert shard_of(args) == Shard(1, 4)
    assert args.shard == "1/4"  # rewritten: the one form forwarded to guests and pytest
    assert shard_of(parsed("--shard-index0", "3", "--shard-count", "4")) == Shard(4, 4)
    assert shard_of(parsed()) is None


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (("--shard", "0/4"), "--shard-index0 0 --shard-count 4"),  # 0 is not 1-based: says how
        (("--shard", "5/4"), "between 1 and N"),
        (("--shard", "2-4"), "expected I/N"),
        (("--shard-index0", "4", "--shard-count", "4"), "between 0 and N-1"),
        (("--shard-index0", "1"), "go together"),
        (("--shard", "1/4", "--shard-index0", "0", "--shard-count", "4"), "one of the two"),
        (("--shard-index0", "x", "--shard-count", "4"), "whole numbers"),
    ],
)
def test_bad_shard_options_are_input_errors_that_say_what_was_expected(
    argv: tuple[str, ...], words: str
) -> None:
    with pytest.raises(InputError, match=words):
        shard_of(parsed(*argv))


@pytest.mark.parametrize("total", [1, 2, 3, 4, 7])
def test_the_deal_gives_every_cell_to_exactly_one_shard(total: int) -> None:
    cells = [f"fault-{i}" for i in range(23)]
    costs = {cell: float(1 + (i * 7) % 5) for i, cell in enumerate(cells)}
    parts = [Shard(i, total).deal(cells, str, costs.__getitem__) for i in range(1, total + 1)]
    assert sorted(c for part in parts for c in part) == sorted(cells)


def test_the_deal_is_the_same_whatever_order_the_cells_come_in() -> None:
    """Every machine computes the same split from the same inputs (no coordination)."""
    cells = [f"site-{i}-errno" for i in range(40)]
    costs = {cell: float(i % 6) + 0.5 for i, cell in enumerate(cells)}
    shuffled = cells[:]
    random.Random(7).shuffle(shuffled)
    for index in (1, 2, 3):
        one = Shard(index, 3).deal(cells, str, costs.__getitem__)
        other = Shard(index, 3).deal(shuffled, str, costs.__getitem__)
        assert sorted(one) == sorted(other)


def test_expensive_cells_are_spread_so_shard_costs_stay_close() -> None:
    """Longest-processing-time: the heaviest shard is within one cell's cost of the lightest;
    a round-robin over the keys (equal costs) would put both 60 s faults on shard 1."""
    cells = ["a", "b", "c", "d", "e", "f", "g", "h"]
    costs = {"a": 60.0, "c": 60.0, "b": 5.0, "d": 5.0, "e": 5.0, "f": 5.0, "g": 5.0, "h": 5.0}
    sums = loads(cells, 2, str, costs.__getitem__)
    assert max(sums) - min(sums) <= 5.0
    unweighted = loads(cells, 2, str, lambda _c: 1.0)
    assert unweighted == [4.0, 4.0]
    round_robin = [sum(costs[c] for c in cells[i::2]) for i in range(2)]
    assert max(round_robin) - min(round_robin) > 100  # what the cost-blind deal would do


def test_equal_costs_deal_round_robin_over_the_sorted_keys() -> None:
    """The scenario suite's split (``faultlab run --shard``) is unchanged by the new deal."""
    names = ["d", "a", "c", "b", "e"]
    assert deal(names, 2, str) == [1, 0, 0, 1, 0]  # sorted a,b,c,d,e -> 0,1,0,1,0
    assert Shard(1, 2).select(names, str) == ["a", "c", "e"]  # in their original order


def test_owners_name_the_shard_of_every_cell() -> None:
    cells = ["x", "y", "z"]
    owners = Shard(2, 2).owners(cells, str)
    assert owners == {"x": "1/2", "y": "2/2", "z": "1/2"}


def test_parse_shard_keeps_its_one_based_contract() -> None:
    assert str(parse_shard(" 3/8 ")) == "3/8"
    assert parse_shard("1/1").index0 == 0


def test_an_explore_shard_is_the_same_whatever_stretch_its_guest_measured() -> None:
    """In a guest, explore's --slow is the stretch factor that guest measured at boot: it
    differs between shards, so the deal must not depend on it."""
    from harness.explore import shards
    from harness.scenario_loader import load
    from tests.explore.helpers import IGMPD
    from tests.shard import fabricate

    base, faults = load(IGMPD), fabricate.planned()
    for index in (1, 2, 3):
        native = argparse.Namespace(shard=f"{index}/3", slow=1.0, only=None)
        guest = argparse.Namespace(shard=f"{index}/3", slow=21.7, only=None)
        assert shards.select(faults, base, native) == shards.select(faults, base, guest)


def test_explore_costs_follow_the_judges_waits() -> None:
    """A steady-state site waits for its call, a held error for the retry: both cost more."""
    from harness.explore import shards
    from harness.scenario_loader import load
    from tests.explore.helpers import IGMPD
    from tests.shard import fabricate

    timing = shards.deal_timing(load(IGMPD))
    steady = fabricate.planned()[0].site
    startup = type(steady)(**{**steady.__dict__, "phase": "start-up"})
    from harness.explore.plan import PlannedFault

    costs = {
        (site.phase, errno): shards.expected_cost(PlannedFault(site, errno), timing)
        for site in (steady, startup)
        for errno in ("EINTR", "ENOBUFS")
    }
    assert costs["steady", "ENOBUFS"] > costs["start-up", "ENOBUFS"] > costs["start-up", "EINTR"]
    assert costs["steady", "ENOBUFS"] > costs["steady", "EINTR"]


def test_shards_given_the_plans_sites_plan_the_same_faults_without_a_discovery(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``explore --sites``: the call sites come from the plan's file (a shard.json, an
    explore.json or plan --sites-out's); nothing is discovered, so --list needs no lab."""
    from harness.cli import main
    from tests.explore.helpers import IGMPD
    from tests.shard import fabricate

    sites = [site.to_json() for site in fabricate.sites()]
    path = tmp_path / "sites.json"
    path.write_text(json.dumps({"version": 1, "routers": [{"router": "igmpd", "sites": sites}]}))
    counts = []
    for index in (1, 2):
        argv = ["explore", str(IGMPD), "--sites", str(path), "--list", "--shard", f"{index}/2"]
        assert main(argv) == 0
        counts.append(int(capsys.readouterr().out.splitlines()[-1].split()[1]))
    assert main(["explore", str(IGMPD), "--sites", str(path), "--list"]) == 0
    assert int(capsys.readouterr().out.splitlines()[-1].split()[1]) == sum(counts)
    assert main(["explore", str(IGMPD), "--sites", str(path), "--router", "pimd", "--list"]) == 2
    assert "no call sites of router pimd" in capsys.readouterr().err
