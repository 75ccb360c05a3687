"""``faultlab explore`` against igmpd: call sites, faults, wall time, per-fault median.

Runs the whole exploration of tests/explore/data/igmpd.yaml (every call site in start-up and
steady state, every applicable errno) with N workers into a fresh folder, after a baseline
measured in the same run: the same scenario run once, with no fault, through the runner.
Prints the figures and each as a ratio to that baseline.

    python bench/explore.py [--workers 2] [--budget N] [--out DIR]

Measured here (2-core Debian 12 VM, kernel without multicast routing, igmpd on its packet
receive path, 2 workers): 112 calls recorded, 74 call sites (70 start-up, 4 steady state),
322 faults, 189.6 s wall for the whole exploration, 1.11 s median per fault (one healthy run
of the scenario: about 1 s). Outcomes: 274 reported (all recovered), 28 tolerated, 0 vague,
20 exit (the once-per-process start-up calls, each a one-line message naming the call and the
errno), 0 silent, 0 crash (docs/explore.md names each exception).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "tests" / "explore" / "data" / "igmpd.yaml"


def baseline_run(out: Path) -> float:
    """Seconds for one healthy run of the scenario (the unit every figure is compared to)."""
    from harness import runner
    from harness.scenario_loader import load

    begun = time.monotonic()
    verdict = runner.run(load(SCENARIO), runner.RunOptions(artifacts_dir=out, keep=False))
    if not verdict.passed:
        raise SystemExit(f"the baseline scenario failed:\n{verdict.explain()}")
    return time.monotonic() - begun


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--budget", type=int, default=None, help="at most N faults")
    parser.add_argument("--out", type=Path, default=None, help="default: a temporary folder")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from harness.explore.discover import STARTUP, discover
    from harness.explore.plan import Selection, plan
    from harness.explore.run import Batch, load_base, run_all

    out = args.out or Path(tempfile.mkdtemp(prefix="faultlab-bench-explore-"))
    unit = baseline_run(out / "baseline")
    base = load_base(str(SCENARIO), None)
    begun = time.monotonic()
    found = discover(base, out / "discovery")
    discovery = time.monotonic() - begun
    faults = plan(found.sites, Selection(budget=args.budget))
    results = run_all(Batch(base, None, faults, out / "igmpd", args.workers))
    wall = time.monotonic() - begun
    median = statistics.median(o.duration for o in results) if results else 0.0
    startup = sum(1 for s in found.sites if s.phase == STARTUP)
    print(f"baseline (one healthy run of the scenario): {unit:.2f} s")
    print(
        f"calls recorded: {len(found.calls)}; discovery {discovery:.2f} s ({discovery / unit:.1f}x)"
    )
    print(
        f"call sites: {len(found.sites)} ({startup} start-up, {len(found.sites) - startup} steady)"
    )
    print(f"faults: {len(faults)} ({len(results)} judged) with {args.workers} workers")
    print(f"wall: {wall:.1f} s ({wall / unit:.0f}x the baseline run)")
    print(f"per fault: median {median:.2f} s ({median / unit:.2f}x the baseline run)")
    print(f"artifacts: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
