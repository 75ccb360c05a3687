"""An exploration split across machines: which faults a shard runs, and what it records.

``faultlab explore --shard I/N`` deals the planned faults (harness.explore.plan) by their id,
balanced by each fault's expected cost (``expected_cost``: the router's own timers, the same
windows the judge waits for, harness.explore.timers), with harness.shard's deal: every machine
that discovers the same sites computes the same split. ``--only ID,...`` keeps a list of fault
ids (what ``faultlab merge --rerun`` prints for the cells that errored or were never run).

Before it runs a fault, each shard writes ``shard.json`` in its router's folder (harness.shard
.Manifest): the full plan (sites and faults), its own faults, the versions, the kernel, and
the command that reruns a list of faults; ``faultlab merge`` joins the shards from it.
"""

from __future__ import annotations

import argparse
import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.errors import InputError
from harness.explore.plan import PlannedFault
from harness.explore.timers import Timing
from harness.scenario import Scenario
from harness.shard import Manifest, Shard, load_json, only_cells, shard_of

SETUP = 0.8  # seconds: a lab built and torn down around one fault, natively
REACTION = 0.3  # the judge's grace for the router's reaction (harness.explore.run.REACTION)
DEFAULT_QUERY = 2.0  # a router whose query period is unknown (harness.explore.timers)


def expected_cost(fault: PlannedFault, timing: Timing, slow: float = 1.0) -> float:
    """Seconds one fault is expected to take: the lab (stretched by ``slow``), the steady
    window before a steady-state call comes, the reaction, one query period for the health
    check, and for a held error half a retry interval more before it is cleared. Calibrated
    on igmpd's whole exploration (bench/shard.py): mean durations 1.35/1.7 s (start-up,
    transient/held) and 2.65/3.35 s (steady), against 1.5/1.9 and 2.7/3.1 s here."""
    wait = timing.steady if fault.site.phase == "steady" else 0.0
    query = timing.query if timing.query is not None else DEFAULT_QUERY
    cost = SETUP * slow + wait + REACTION + query
    return cost + (timing.retry / 2 if fault.held else 0.0)


def deal_timing(base: Scenario) -> Timing:
    """The windows the deal prices faults by: never stretched, because ``--slow`` in a guest
    is the stretch factor measured at its boot, which differs from one shard to the next, and
    every shard must compute the same deal."""
    return Timing.of(base, 1.0)


def plan_cost(faults: Sequence[PlannedFault], timing: Timing, slow: float = 1.0) -> float:
    return sum(expected_cost(fault, timing, slow) for fault in faults)


def select(
    faults: Sequence[PlannedFault], base: Scenario, args: argparse.Namespace
) -> list[PlannedFault]:
    """The planned faults this run keeps: ``--only``'s ids, then this shard's deal."""
    chosen = list(faults)
    wanted = only_cells(getattr(args, "only", None))
    if wanted is not None:
        known = {fault.id for fault in chosen}
        unknown = sorted(wanted - known)
        if unknown and not wanted & known:
            raise InputError(f"--only: no planned fault has the id(s) {', '.join(unknown)}")
        if unknown:
            print(f"--only: not in this plan (left out): {', '.join(unknown)}", flush=True)
        chosen = [fault for fault in chosen if fault.id in wanted]
    shard = shard_of(args)
    if shard is None:
        return chosen
    timing = deal_timing(base)
    return shard.deal(chosen, key=lambda f: f.id, cost=lambda f: expected_cost(f, timing))


def owners(
    faults: Sequence[PlannedFault], base: Scenario, args: argparse.Namespace
) -> dict[str, str]:
    """Fault id -> its shard, for every fault ``--only`` keeps (empty: not sharded)."""
    shard = shard_of(args)
    if shard is None:
        return {}
    wanted = only_cells(getattr(args, "only", None))
    kept = [f for f in faults if wanted is None or f.id in wanted]
    timing = deal_timing(base)
    return shard.owners(kept, key=lambda f: f.id, cost=lambda f: expected_cost(f, timing))


def read_sites(path: Path, router: str) -> tuple[list[Any], int, dict[str, Any] | None] | None:
    """A router's call sites, its recorded call count and the healthy run's baseline (None when
    the file has none) from a sites file: what ``faultlab plan --sites-out`` writes, an
    explore.json (``routers[].sites``) or a shard.json (``sites``, of ``identity.router``);
    None when the file has no sites for ``router``."""
    from harness.explore.sites import CallSite

    data = load_json(path, "--sites")
    entries = data.get("routers", []) if isinstance(data, dict) else []
    if isinstance(data, dict) and "sites" in data:
        entries = [{**data, "router": (data.get("identity") or {}).get("router")}]
    for entry in entries:
        if entry.get("router") == router and entry.get("sites"):
            sites = [CallSite.from_json(item) for item in entry["sites"]]
            return sites, int(entry.get("calls") or 0), entry.get("baseline")
    return None


def given_sites(args: argparse.Namespace, router: str) -> Any:
    """``--sites``: the router's discovery from a file (every shard then plans the same
    faults: a discovery under load can see an extra call and number the sites otherwise), with
    the healthy run's baseline the faults are judged against (``measured`` False when the file
    has none: the caller then measures it). None without ``--sites``; InputError when the file has no
    sites for ``router``."""
    path = getattr(args, "sites", None)
    if path is None:
        return None
    from harness.explore.baseline import Baseline
    from harness.explore.discover import Discovery

    found = read_sites(Path(path), router)
    if found is None:
        raise InputError(f"--sites {path}: no call sites of router {router} in it")
    sites, _calls, baseline = found
    given = Discovery([], None, sites)  # no call recorded here: the count says 0
    given.baseline = Baseline.from_json(baseline) or given.baseline
    given.measured = baseline is not None
    return given


def scenario_digest(base: Scenario) -> str:
    """The scenario file's text."""
    text = base.path.read_text() if base.path.exists() else base.name
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def router_digest(base: Scenario) -> str:
    """The router section in use (a profile travels with the shards)."""
    return hashlib.sha256(repr(base.router).encode()).hexdigest()[:16]


def rerun_argv(args: argparse.Namespace, router: str) -> list[str]:
    """``faultlab explore`` with the options that shaped the plan, for a list of fault ids
    (``{cells}``): no budget, no shard (merge adds ``--out``)."""
    from harness.kernellab.commands import forward

    argv = ["faultlab", "explore", str(args.scenario), "--router", router]
    argv += forward(
        args,
        values=(("--only-phase", "only_phase"), ("--errnos", "errnos"), ("-k", "keyword")),
    )
    if getattr(args, "slow", 1.0) not in (None, 1.0):
        argv += ["--slow", str(args.slow)]
    if getattr(args, "sites", None) is not None:
        argv += ["--sites", str(args.sites)]  # the same plan as the shards'
    return [*argv, "--only", "{cells}"]


def write_manifest(
    folder: Path,
    args: argparse.Namespace,
    base: Scenario,
    router: str,
    found: Any,
    planned: Sequence[PlannedFault],
    mine: Sequence[PlannedFault],
) -> None:
    """``shard.json`` in the router's folder (module docstring)."""
    from harness.explore.run import VERSION

    shard: Shard | None = shard_of(args)
    timing = deal_timing(base)
    identity = {
        "scenario": str(args.scenario),
        "scenario_digest": scenario_digest(base),
        "router": router,
        "router_digest": router_digest(base),
        "judge": VERSION,
        "kernel": os.uname().release,
    }
    Manifest(
        "explore",
        None if shard is None else str(shard),
        identity,
        [fault.id for fault in planned],
        [fault.id for fault in mine],
        rerun_argv(args, router),
        extra={
            "sites": [site.to_json() for site in found.sites],
            "baseline": found.baseline.to_json(),
            "faults": [
                {**fault.to_json(), "expected_s": round(expected_cost(fault, timing), 2)}
                for fault in planned
            ],
            "calls": len(found.calls),
            "owners": owners(planned, base, args),
        },
    ).write(folder)
