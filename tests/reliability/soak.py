"""The soak: run the scenario suite many times and report every scenario whose verdict changed.

    python tests/reliability/soak.py --rounds 20 --workers 2 scenarios/

Each round is ``faultlab run PATHS -n WORKERS --junit-xml ROUND.xml`` (the command users run,
with its pytest-xdist workers), in its own artifacts folder. A scenario is *flaky* when its
verdict (passed, failed, error, skipped) is not the same in every round; the report names each
one with its verdict per round, where the failing rounds' artifacts are, and the spread of its
durations. A snapshot of the host's network (harness.hostcheck) is taken before the first
round and compared after the last one.

Exit status: 0 every scenario had one verdict in every round and the host is unchanged;
1 a verdict changed, a scenario failed in every round, or the host changed; 2 a round
produced no JUnit report (the suite could not run at all).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

PASSED, FAILED, ERROR, SKIPPED = "passed", "failed", "error", "skipped"


@dataclass
class History:
    """One scenario's verdict and duration in each round (None: not run in that round)."""

    key: str
    verdicts: list[str | None] = field(default_factory=list)
    durations: list[float] = field(default_factory=list)

    @property
    def flaky(self) -> bool:
        return len(set(self.verdicts)) > 1

    @property
    def always_failed(self) -> bool:
        return set(self.verdicts) <= {FAILED, ERROR}

    def describe(self) -> str:
        counts = {v: self.verdicts.count(v) for v in dict.fromkeys(self.verdicts)}
        rounds = " ".join(_short(v) for v in self.verdicts)
        spread = f"{min(self.durations):.2f}-{max(self.durations):.2f}s" if self.durations else "-"
        tally = ", ".join(f"{v} {n}x" for v, n in counts.items())
        return f"{self.key}\n    {tally}; per round: {rounds}; duration {spread}"


def _short(verdict: str | None) -> str:
    return {PASSED: ".", FAILED: "F", ERROR: "E", SKIPPED: "s", None: "-"}[verdict]


def junit_verdicts(path: Path) -> dict[str, tuple[str, float]]:
    """scenario id (classname::name) -> (verdict, seconds), from a pytest JUnit XML file."""
    tree = ElementTree.parse(path)
    result = {}
    for case in tree.iter("testcase"):
        key = f"{case.get('classname')}::{case.get('name')}"
        verdict = PASSED
        for child in case:
            if child.tag in ("failure", ERROR, SKIPPED):
                verdict = FAILED if child.tag == "failure" else child.tag
        result[key] = (verdict, float(case.get("time") or 0.0))
    return result


def histories(rounds: Sequence[Mapping[str, tuple[str, float]]]) -> list[History]:
    """Every scenario seen in any round, with its verdict in each round."""
    keys = sorted({key for verdicts in rounds for key in verdicts})
    found = []
    for key in keys:
        history = History(key)
        for verdicts in rounds:
            verdict, seconds = verdicts.get(key, (None, 0.0))
            history.verdicts.append(verdict)
            if verdict is not None:
                history.durations.append(seconds)
        found.append(history)
    return found


def run_round(
    index: int, paths: Sequence[str], workers: str, folder: Path, slow: str | None
) -> Path:
    """One `faultlab run` of the suite; the path of its JUnit report."""
    report = folder / f"round-{index:02d}.xml"
    argv = [sys.executable, "-m", "harness.cli", "run", *paths, "-n", workers, "--no-progress"]
    argv += ["--junit-xml", str(report), "--artifacts", str(folder / f"round-{index:02d}")]
    if slow:
        argv += ["--slow", slow]
    env = {key: value for key, value in os.environ.items() if not key.startswith("FAULTLAB_RUN")}
    with (folder / f"round-{index:02d}.log").open("wb") as log:
        subprocess.run(argv, stdout=log, stderr=subprocess.STDOUT, env=env, check=False)
    return report


def report(found: Sequence[History], host_changes: Sequence[str], folder: Path) -> int:
    """Print the soak's findings; the exit status."""
    flaky = [h for h in found if h.flaky]
    broken = [h for h in found if not h.flaky and h.always_failed]
    print(f"soak: {len(found)} scenario(s), {len(found[0].verdicts) if found else 0} round(s)")
    for title, items in (("verdict changed", flaky), ("failed in every round", broken)):
        if items:
            print(f"\n{title} ({len(items)}):")
            for history in items:
                print(f"  {history.describe()}")
    if host_changes:
        print(f"\nthe host's network changed ({len(host_changes)}):")
        for line in host_changes:
            print(f"  {line}")
    if not (flaky or broken or host_changes):
        print("no verdict changed; the host's network is unchanged")
        return 0
    print(f"\nartifacts and logs of every round: {folder}")
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="soak", description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="*", default=["scenarios"], metavar="PATH")
    parser.add_argument("--rounds", type=int, default=20, help="how many runs (default 20)")
    parser.add_argument("--workers", "-n", default="2", help="pytest-xdist workers (default 2)")
    parser.add_argument("--slow", help="stretch every deadline (faultlab run --slow)")
    parser.add_argument(
        "--out", type=Path, default=Path("soak"), help="folder for the reports (default ./soak)"
    )
    parser.add_argument("--no-hostcheck", action="store_true", help="skip the host snapshot")
    args = parser.parse_args(argv)
    from harness import hostcheck

    args.out.mkdir(parents=True, exist_ok=True)
    before = None if args.no_hostcheck else hostcheck.snapshot()
    rounds = []
    for index in range(1, args.rounds + 1):
        begun = time.monotonic()
        xml = run_round(index, args.paths, args.workers, args.out, args.slow)
        if not xml.exists():
            print(f"soak: round {index} wrote no JUnit report; see {xml.with_suffix('.log')}")
            return 2
        rounds.append(junit_verdicts(xml))
        verdicts = list(rounds[-1].values())
        failed = sum(1 for verdict, _ in verdicts if verdict in (FAILED, ERROR))
        print(
            f"round {index}/{args.rounds}: {len(verdicts)} scenario(s), {failed} failed,"
            f" {time.monotonic() - begun:.1f}s",
            flush=True,
        )
    changes = [] if before is None else hostcheck.diff(before, hostcheck.snapshot())
    return report(histories(rounds), changes, args.out)


if __name__ == "__main__":
    sys.exit(main())
