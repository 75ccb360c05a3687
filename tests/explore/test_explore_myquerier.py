"""Issue 20's acceptance, natively (the example querier needs no multicast routing): explore a
router faultlab has never seen, described only by its argv and patterns, with no timer in the
scenario. It finds both sloppy places of examples/myquerier (silent sendto, exit 1 when
IP_MULTICAST_IF fails), judges no cell `tolerated` where the queries stopped, sees the fixed
twin report and recover, and the pinned scenarios it writes fail against the sloppy build and
pass against the fixed one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness import cli, runner
from harness.explore.discover import discover
from harness.explore.plan import PlannedFault
from harness.explore.run import observe
from harness.scenario_loader import load
from tests.explore.helpers import myquerier_scenario, with_fixed_twin

pytestmark = [pytest.mark.netns, pytest.mark.slow]

# Both sloppy places, on e0: the queries (start-up and steady) and the multicast interface.
SELECT = ["-k", "sendto @e0,IP_MULTICAST_IF @e0", "--errnos", "ENOBUFS,EADDRNOTAVAIL"]


def explore(scenario: Path, out: Path, *extra: str) -> dict[str, Any]:
    """``faultlab explore`` as a user runs it; the observations of its one router by site."""
    code = cli.main(["explore", str(scenario), "--out", str(out), *SELECT, *extra])
    assert code == 0
    data = json.loads((out / "explore.json").read_text())
    (router,) = data["routers"]
    assert router["router"] == "myquerier", "labelled by its program, not 'command'"
    return router


def cells(router: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f"{o['site']} {o['errno']}": o for o in router["observations"]}


def test_explore_finds_each_sloppy_place_without_a_timer_and_the_pins_fail_until_fixed(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "pinned"
    sloppy = explore(myquerier_scenario(tmp_path), tmp_path / "x", "--write-scenarios", str(folder))
    baseline = sloppy["baseline"]
    assert baseline["interfaces"]["e0"]["queries"] >= 2, baseline
    assert 0.8 <= baseline["period"] <= 1.2, "its 1 s period, measured in the healthy run"
    found = cells(sloppy)
    sends = [o for key, o in found.items() if "sendto @e0" in key]
    assert len(sends) == 2 and len(found) == 3, sorted(found)
    for obs in sends:
        assert obs["outcome"] == "silent", obs
        assert "no general query on e0" in obs["broken"], obs
        assert "e0: queries" in obs["judged"], obs
    (mcast_if,) = [o for key, o in found.items() if "IP_MULTICAST_IF" in key]
    assert mcast_if["outcome"] == "exit 1", mcast_if
    assert "cannot set multicast interface on e0" in mcast_if["line"]
    assert not [o for o in found.values() if o["outcome"] == "tolerated"]

    pinned = sorted(folder.glob("myquerier-*.yaml"))
    assert len(pinned) == 3, pinned
    for path in pinned:
        against_sloppy = runner.run(load(path), runner.RunOptions(artifacts_dir=tmp_path / "a"))
        assert not against_sloppy.passed, f"{path.name} passed against the sloppy build"
        fixed = runner.run(load(with_fixed_twin(path)), runner.RunOptions(tmp_path / "b"))
        assert fixed.passed, (path.name, [(r.description, r.observed) for r in fixed.results])
        applied = [e.text for e in fixed.entries if e.kind == "fault"]
        assert applied, "the pinned fault was applied"


def test_the_fixed_twin_reports_and_recovers(tmp_path: Path) -> None:
    fixed = explore(myquerier_scenario(tmp_path, "--fixed"), tmp_path / "x")
    for key, obs in cells(fixed).items():
        assert obs["outcome"] == "reported", (key, obs)
        assert obs["recovered"] is True, (key, obs)


def test_a_cell_nothing_could_judge_is_unjudged_never_tolerated(tmp_path: Path) -> None:
    """Queries every 100 s: the healthy run shows one query per interface and no period, and
    the router reports no state; a silently lost first query cannot be judged."""
    base = load(myquerier_scenario(tmp_path, "--query-interval", "100"))
    found = discover(base, tmp_path / "discovery")
    assert found.baseline.period is None and found.baseline.interfaces["e0"].queries == 1
    site = next(s for s in found.sites if s.key.startswith("start-up sendto @e0"))
    result = observe(base, PlannedFault(site, "ENOBUFS"), tmp_path / "runs", 1.0, found.baseline)
    assert result.word == "unjudged", result
    assert "no query period" in result.line and result.recovered is None


def test_a_router_never_ready_shows_what_it_logged(tmp_path: Path) -> None:
    """socket() fails on both interfaces: one mapped line each, never ready."""
    base = load(myquerier_scenario(tmp_path))
    found = discover(base, tmp_path / "discovery")
    site = next(s for s in found.sites if "IPPROTO_IGMP @e0" in s.key)
    result = observe(base, PlannedFault(site, "ENOBUFS"), tmp_path / "runs", 1.0, found.baseline)
    assert result.broken and result.broken[0].startswith("never ready"), result
    lines = [event["line"] for event in result.events]
    assert any("cannot create socket on e0: [Errno 105]" in line for line in lines), result
    assert result.word == "reported" and "cannot create socket on e0" in result.line
    assert any("cannot create socket on e1" in line for line in result.log), result.log
