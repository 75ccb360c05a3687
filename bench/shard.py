"""igmpd's whole exploration as N shards (N processes, as N CI jobs), merged, against one run.

Runs, in the same run and on the same machine: ``faultlab plan explore --sites-out`` (one
discovery, whose call sites every run is given with ``--sites``, as the CI pipelines do), the
whole exploration of tests/explore/data/igmpd.yaml unsharded (``faultlab explore -n W``), then
the same as N shard processes started together (``--shard I/N -n S`` each, as N CI jobs would
run it), then ``faultlab merge`` of the shards. Prints each wall time, the sharded/unsharded ratio, each
shard's expected cost (what the deal balanced) beside its measured wall, whether the merged
result has the same set of (call site, errno, class, recovered) as the unsharded run (the
differences, when any, by name), whether the merge lost or changed anything (merged == the
union of the shards'), and each differing fault run alone again (``--recheck`` times): a
verdict that changes between two plain runs is the judge's variance on a loaded machine, not
the split's doing.

    python bench/shard.py [--shards 4] [--workers 2] [--shard-workers 1] [--out DIR]

On one 2-core machine the N shards share its cores (and the machine is shared with other
work), so the ratio here is a floor on what N machines gain; docs/ci.md has the figures.

Measured here (2-core VM, kernel without multicast routing, load average 8-11 from other test
suites): plan 1.9 s; unsharded -n 2: 238.0 s; 4 shards x 1 worker together: 163.8 s (walls
159.2-163.8 s, expected 160-162 s of faults each); merge 2.6 s; ratio 0.70. Merged == the
shards' union, 322 faults; 320 of 322 verdicts as unsharded: of the 2 others, one changed class
between two plain runs alone, the other (unreached in its shard under load) was reported both
times.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "tests" / "explore" / "data" / "igmpd.yaml"
CLI = [sys.executable, "-m", "harness.cli"]


def run(argv: list[str], log: Path) -> float:
    """Seconds one faultlab command took (its output in ``log``); exits when it fails."""
    begun = time.monotonic()
    with log.open("w") as stream:
        code = subprocess.call([*CLI, *argv], stdout=stream, stderr=subprocess.STDOUT, cwd=ROOT)
    if code not in (0, 1):
        raise SystemExit(f"{' '.join(argv)}: exit {code} (see {log})")
    return time.monotonic() - begun


def shards(count: int, workers: int, out: Path, sites: Path) -> tuple[float, list[float]]:
    """N shard processes started together: the wall until the last ends, and each one's."""
    begun = time.monotonic()
    procs = []
    for index in range(1, count + 1):
        argv = [str(SCENARIO), "-n", str(workers), "--shard", f"{index}/{count}", "--sites",
                str(sites)]  # fmt: skip
        log = (out / f"shard-{index}.log").open("w")
        folder = out / f"shard-{index}"
        procs.append(
            subprocess.Popen(
                [*CLI, "explore", *argv, "--out", str(folder)],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )
        )
    ended = [0.0] * count
    pending = set(range(count))
    while pending:
        pid, status = os.wait()
        for index in list(pending):
            if procs[index].pid == pid:
                procs[index].returncode = os.waitstatus_to_exitcode(status)
                ended[index] = time.monotonic() - begun
                pending.discard(index)
    for index, proc in enumerate(procs, 1):
        if proc.returncode != 0:
            raise SystemExit(f"shard {index}/{count}: exit {proc.returncode}")
    return time.monotonic() - begun, ended


def verdicts(path: Path) -> dict[str, tuple[str, str, str, object]]:
    """Fault id -> (call site, errno, class, recovered), from an explore.json."""
    data = json.loads(path.read_text())
    return {
        o["fault"]: (o["site"], o["errno"], (o["outcome"] or "").split(" ")[0], o["recovered"])
        for router in data["routers"]
        for o in router["observations"]
    }


def outcomes(path: Path) -> set[tuple[str, str, str, object]]:
    """(call site, errno, class, recovered) of every fault in an explore.json."""
    return set(verdicts(path).values())


def recheck(out: Path, faults: list[str], rounds: int) -> dict[str, set[tuple[str, object]]]:
    """The faults whose verdicts differ, run again alone (unsharded, ``--only``) ``rounds``
    times: the (class, recovered) each got, to tell the judge's run-to-run variance on this
    machine from a difference the split would make."""
    seen: dict[str, set[tuple[str, object]]] = {fault: set() for fault in faults}
    for round_ in range(1, rounds + 1):
        folder = out / f"again-{round_}"
        argv = ["explore", str(SCENARIO), "--only", ",".join(faults), "--out", str(folder)]
        run(argv, out / f"again-{round_}.log")
        for fault, verdict in verdicts(folder / "explore.json").items():
            seen[fault].add(verdict[2:])
    return seen


def expected(out: Path, count: int) -> list[float]:
    """Each shard's expected cost (seconds, one worker) from its manifest."""
    sums = []
    for index in range(1, count + 1):
        data = json.loads((out / f"shard-{index}" / "igmpd" / "shard.json").read_text())
        mine = set(data["mine"])
        sums.append(sum(f["expected_s"] for f in data["faults"] if f["id"] in mine))
    return sums


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="the unsharded run's workers")
    parser.add_argument("--shard-workers", type=int, default=1, help="each shard's workers")
    parser.add_argument("--out", type=Path, default=None, help="default: a temporary folder")
    parser.add_argument(
        "--recheck", type=int, default=2, help="run each differing fault alone this many times"
    )
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="faultlab-bench-shard-"))
    out.mkdir(parents=True, exist_ok=True)
    sites = out / "sites.json"  # the plan's discovery, given to every run (as CI does)
    planned = run(["plan", "explore", str(SCENARIO), "--sites-out", str(sites)], out / "plan.log")
    whole = run(
        ["explore", str(SCENARIO), "-n", str(args.workers), "--sites", str(sites), "--out",
         str(out / "whole")],
        out / "whole.log",
    )  # fmt: skip
    sharded, each = shards(args.shards, args.shard_workers, out, sites)
    merge = run(
        [
            "merge",
            *(str(out / f"shard-{i}") for i in range(1, args.shards + 1)),
            "--out",
            str(out / "merged"),
        ],
        out / "merge.log",
    )
    one, joined = (
        outcomes(out / "whole" / "explore.json"),
        outcomes(out / "merged" / "explore.json"),
    )
    print(f"plan (one discovery, the sites every run is given): {planned:.1f} s")
    print(f"unsharded, {args.workers} workers: {whole:.1f} s ({len(one)} faults)")
    print(
        f"{args.shards} shards x {args.shard_workers} worker(s), together: {sharded:.1f} s; "
        f"merge {merge:.1f} s; ratio (shards + merge) / unsharded: "
        f"{(sharded + merge) / whole:.2f}"
    )
    for index, (cost, wall) in enumerate(zip(expected(out, args.shards), each, strict=True), 1):
        print(f"  shard {index}/{args.shards}: expected {cost:.0f} s of faults, wall {wall:.1f} s")
    print(
        f"merged: {len(joined)} faults; same (site, errno, class, recovered) set: {one == joined}"
    )
    for item in sorted(one - joined, key=str):
        print(f"  only unsharded: {item}")
    for item in sorted(joined - one, key=str):
        print(f"  only merged:    {item}")
    parts: set[tuple[str, str, str, object]] = set()
    for index in range(1, args.shards + 1):
        parts |= outcomes(out / f"shard-{index}" / "explore.json")
    print(f"merge lossless (merged == the shards' union): {joined == parts}")
    before = verdicts(out / "whole" / "explore.json")
    after = verdicts(out / "merged" / "explore.json")
    differing = sorted(f for f in before if before[f] != after.get(f))
    if differing and args.recheck:
        print(f"the {len(differing)} differing fault(s) alone, {args.recheck} times, unsharded:")
        for fault, seen in recheck(out, differing, args.recheck).items():
            mine = after[fault][2:] if fault in after else ("not run",)
            both = sorted({before[fault][2:], mine}, key=str)
            print(f"  {fault}: unsharded/merged {both}; alone: {sorted(seen, key=str)}")
    print(f"artifacts: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
