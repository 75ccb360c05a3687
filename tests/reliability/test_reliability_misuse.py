"""Issue 6.6, router misuse: what tests/igmpd/test_igmpd_robustness.py does not cover already.

That file proves a missing interface, an event log in a missing folder, and a second igmpd in
one namespace each give one clear line and a non-zero exit. Here: the other ways an event-log
path is unwritable (a directory, a file the kernel refuses to open for writing), a missing
interface among good ones, a state file in a missing folder; and in each case igmpd leaves
nothing running and writes nothing where it was pointed.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.netns

PAIR = {"nodes": ["r1", "h1"], "links": [{"a": "r1:e0 10.0.1.1/24", "b": "h1:e0 10.0.1.2/24"}]}
EXIT_BAD_CONFIG = 2


@pytest.fixture(scope="module")
def router_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from netns import Lab, Topology

    with Lab(Topology.from_dict(PAIR), workdir=tmp_path_factory.mktemp("misuse")) as lab:
        yield lab.node("r1")


def _igmpd(node: Any, *args: str) -> subprocess.CompletedProcess[str]:
    proc = node.popen(
        [sys.executable, "-m", "igmpd", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"igmpd {' '.join(args)} kept running instead of refusing to start")
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


CASES = {
    "event log is a directory": (
        ["-i", "e0", "--event-log", "{tmp}"],
        "cannot open event log {tmp}: Is a directory",
    ),
    "event log the kernel refuses": (
        ["-i", "e0", "--event-log", "/sys/kernel/igmpd-events.log"],
        "cannot open event log /sys/kernel/igmpd-events.log: Permission denied",
    ),
    "one of two interfaces missing": (
        ["-i", "e0", "-i", "e7", "--event-log", "{tmp}/events.jsonl"],
        "interface e7 does not exist in this network namespace",
    ),
    "state file in a missing folder": (
        ["-i", "e0", "--event-log", "{tmp}/events.jsonl", "--state", "{tmp}/no/state.json"],
        "cannot write state file {tmp}/no/state.json: folder {tmp}/no does not exist",
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_misuse_is_one_clear_line_and_a_non_zero_exit(
    router_node: Any, tmp_path: Path, case: str
) -> None:
    template, words = CASES[case]
    args = [arg.format(tmp=tmp_path) for arg in template]
    result = _igmpd(router_node, *args)
    assert result.returncode == EXIT_BAD_CONFIG, result.stderr
    assert result.stderr.splitlines() == [f"igmpd: error: {words.format(tmp=tmp_path)}"]
    assert result.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no log, no state, no temp file
