"""Shards on real namespaces, as CI jobs run them: separate ``faultlab`` processes.

A small exploration of igmpd in two shards (the second, and the rerun, given the first's call
sites with ``--sites``, as CI gives every shard the plan's), the second SIGKILLed once it
judged its first fault: ``faultlab merge`` names the faults it never ran, ``--rerun`` prints the command that
runs only those (run here as printed), and the second merge is complete. Then ``faultlab run
--kernel host --shard I/2`` natively, merged into one results.json and one JUnit file.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.explore.helpers import IGMPD

pytestmark = [pytest.mark.netns, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "harness.cli"]
SELECT = ["-k", "sendto", "--errnos", "ENOBUFS,EPERM", "-n", "1"]
DEADLINE = 240.0


def faultlab(*argv: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *(str(a) for a in argv)], cwd=REPO, capture_output=True,
                          text=True, timeout=DEADLINE)  # fmt: skip


def kill_after_first_result(folder: Path, sites: Path) -> None:
    """Start a shard and SIGKILL it (its whole process group) once one result is on disk."""
    proc = subprocess.Popen(
        [*CLI, "explore", IGMPD, *SELECT, "--sites", sites, "--shard", "2/2", "--out", folder],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    results = folder / "igmpd" / "results"
    deadline = time.monotonic() + DEADLINE
    try:
        while not any(results.glob("*.json")):
            assert proc.poll() is None, "the shard ended before it judged a fault"
            assert time.monotonic() < deadline, "no result within the deadline"
            time.sleep(0.1)  # polling a folder another process writes: no event to wait on
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def observed(explore_json: Path) -> set[str]:
    data = json.loads(explore_json.read_text())
    return {o["fault"] for r in data["routers"] for o in r["observations"] if not o["error"]}


def test_a_killed_explore_shard_is_rerun_from_the_merges_command(
    tmp_path: Path, exclusive_sweep: None
) -> None:
    from netns import sweep

    first = faultlab("explore", IGMPD, *SELECT, "--shard", "1/2", "--out", tmp_path / "s1")
    assert first.returncode == 0, first.stdout + first.stderr
    sites = tmp_path / "s1" / "igmpd" / "shard.json"  # one discovery for both (as plan's)
    try:
        kill_after_first_result(tmp_path / "s2", sites)
    finally:
        sweep()  # the killed shard's lab: what `faultlab sweep` removes
    manifest = json.loads((tmp_path / "s2" / "igmpd" / "shard.json").read_text())
    ran = {p.stem for p in (tmp_path / "s2" / "igmpd" / "results").glob("*.json")}
    lost = set(manifest["mine"]) - ran
    assert lost, "the shard finished before it was killed: nothing to test"

    merged = faultlab("merge", tmp_path / "s1", tmp_path / "s2", "--out", tmp_path / "m1",
                      "--rerun")  # fmt: skip
    assert merged.returncode == 1, merged.stdout + merged.stderr
    named = {line.split()[3] for line in merged.stdout.splitlines() if line.startswith("missing:")}
    assert named == lost
    command = [line for line in merged.stdout.splitlines() if line.startswith("faultlab ")]
    argv = shlex.split(command[0])[1:]
    assert argv[argv.index("--sites") + 1] == str(sites)  # the rerun plans as shard 2 did
    rerun = faultlab(*argv, "-n", "1")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    out = Path(argv[argv.index("--out") + 1])
    assert observed(out / "explore.json") == lost  # only those

    again = faultlab("merge", tmp_path / "s1", tmp_path / "s2", out, "--out", tmp_path / "m2")
    assert again.returncode == 0, again.stdout + again.stderr
    assert observed(tmp_path / "m2" / "explore.json") == set(manifest["planned"])
    assert (tmp_path / "m2" / "report.html").is_file()


def test_run_kernel_host_shards_merge_into_one_run(tmp_path: Path) -> None:
    suite = REPO / "scenarios" / "protocol"
    for index in (1, 2):
        folder = tmp_path / f"r{index}"
        done = faultlab("run", suite, "--kernel", "host", "--shard", f"{index}/2", "--artifacts",
                        folder, "--junit-xml", folder / "junit.xml", "--no-progress")  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
    merged = faultlab("merge", tmp_path / "r1", tmp_path / "r2", "--out", tmp_path / "m")
    assert merged.returncode == 0, merged.stdout + merged.stderr
    rows = json.loads((tmp_path / "m" / "results.json").read_text())
    names = sorted(r["name"] for r in rows)
    assert len(names) == len(list(suite.glob("*.yaml"))) == len(set(names))
    assert {r["kernel"] for r in rows} == {os.uname().release}
    junit = (tmp_path / "m" / "junit.xml").read_text()
    assert junit.count("<testcase") == len(names)


def test_compare_shards_merge_into_one_robustness_table(tmp_path: Path) -> None:
    """igmpd on two comparison scenarios that need no multicast routing (the other routers
    need it: their shards are merged the same way in the kernel lab, and by hand in
    test_shard_merge.py)."""
    scenarios = [REPO / "scenarios" / "compare" / name
                 for name in ("nft-drop-igmp.yaml", "address-removed.yaml")]  # fmt: skip
    for index in (1, 2):
        done = faultlab("compare", *scenarios, "--routers", "igmpd", "--shard", f"{index}/2",
                        "--out", tmp_path / f"c{index}")  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.count("[1/1] igmpd") == 1  # one cell each
    merged = faultlab("merge", tmp_path / "c1", tmp_path / "c2", "--out", tmp_path / "m")
    assert merged.returncode == 0, merged.stdout + merged.stderr
    rows = json.loads((tmp_path / "m" / "robustness.json").read_text())
    assert len(rows) == 2 and {r["router"] for r in rows} == {"igmpd"}
    assert (tmp_path / "m" / "report.html").is_file()
