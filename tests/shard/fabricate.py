"""Shard outputs made by hand, as the commands write them: manifests, per-fault results,
explore.json, robustness.json, results.json (the merge's pure logic, no lab needed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.explore.classify import Observation
from harness.explore.plan import PlannedFault
from harness.explore.sites import CallSite
from harness.shard import Manifest, Shard

SCENARIO = "tests/explore/data/igmpd.yaml"
ERRNOS = ("ENOBUFS", "EPERM", "EINTR")
OUTCOMES = {"ENOBUFS": ("reported", True), "EPERM": ("silent", False), "EINTR": ("tolerated", True)}


def sites() -> list[CallSite]:
    return [
        CallSite("sendto", "", (), iface, True, "steady", n, "AF_INET")
        for iface in ("e0", "e1")
        for n in (1, 2)
    ]


def planned() -> list[PlannedFault]:
    return [PlannedFault(site, errno) for site in sites() for errno in ERRNOS]


def identity(**changes: Any) -> dict[str, Any]:
    data = {
        "scenario": SCENARIO,
        "scenario_digest": "aaaa",
        "router": "igmpd",
        "router_digest": "bbbb",
        "judge": "4",
        "kernel": "6.1.0-test",
    }
    return {**data, **changes}


def observation(fault: PlannedFault, error: str | None = None) -> Observation:
    word, recovered = OUTCOMES[fault.errno]
    obs = Observation(fault.id, fault.site.key, fault.errno, fault.site.interface, "igmpd")
    obs.hit, obs.outcome, obs.recovered, obs.duration = True, word, recovered, 1.0
    obs.folder = f"runs/{fault.id}"
    if error:
        obs.error, obs.outcome, obs.recovered = error, "error", None
    return obs


def explore_shard(
    folder: Path,
    shard: Shard | None,
    *,
    ran: int | None = None,
    finished: bool = True,
    only: list[str] | None = None,
    errors: dict[str, str] | None = None,
    faultlab: str | None = None,
    **changes: Any,
) -> list[PlannedFault]:
    """One explore shard's output in ``folder``: its manifest, the first ``ran`` of its faults'
    results (all by default), and explore.json when it ``finished``. Returns its faults."""
    faults = planned()
    mine = [f for f in faults if only is None or f.id in only]
    if shard is not None:
        mine = shard.deal(mine, key=lambda f: f.id)
    router = folder / "igmpd"
    extra = {
        "sites": [s.to_json() for s in sites()],
        "faults": [{**f.to_json(), "expected_s": 2.0} for f in faults],
        "calls": 12,
        "owners": shard.owners(faults, key=lambda f: f.id) if shard else {},
    }
    rerun = ["faultlab", "explore", SCENARIO, "--router", "igmpd", "--only", "{cells}"]
    manifest = Manifest(
        "explore",
        None if shard is None else str(shard),
        identity(**changes),
        [f.id for f in faults],
        [f.id for f in mine],
        rerun,
        extra,
    )
    manifest.write(router)
    if faultlab is not None:
        data = json.loads((router / "shard.json").read_text())
        data["identity"]["faultlab"] = faultlab
        (router / "shard.json").write_text(json.dumps(data))
    done = mine if ran is None else mine[:ran]
    observations = [observation(f, (errors or {}).get(f.id)) for f in done]
    for obs in observations:
        (router / "runs" / obs.fault).mkdir(parents=True, exist_ok=True)
        if obs.error is None:
            path = router / "results" / f"{obs.fault}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"fingerprint": "x", "observation": obs.to_json()}))
    if finished:
        entry = {"router": "igmpd", "observations": [o.to_json() for o in observations]}
        entry["wall_s"] = 10.0
        (folder / "explore.json").write_text(json.dumps({"version": 1, "routers": [entry]}))
    return mine
