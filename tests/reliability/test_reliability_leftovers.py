"""Issue 6.1, leftovers: whatever way a run ends, `faultlab sweep` leaves nothing of it behind.

Each test drives `faultlab run` as a subprocess on a small scenario (igmpd, and a step-error
fault answered by the harness's seccomp supervisor) and ends it one way: it passes, it fails, SIGINT mid-run,
SIGKILL mid-run. Then `faultlab sweep`. Afterwards none of the run's namespaces, root-namespace links, run
records, processes (router, any helper, the runner itself) or files outside its artifacts folder
remain. A run ended by SIGKILL is the sweep's job; one running next to it is left untouched
and still passes.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from reliability_helpers import (
    NETNS_DIR,
    FaultlabRun,
    leftovers,
    scenario_text,
    sweep,
)

#: The machine-wide sweep lock, as in tests/netns/test_netns_sweep.py: no other test's sweep
#: removes a SIGKILLed lab between the kill and the look at what it left.
pytestmark = [pytest.mark.netns, pytest.mark.usefixtures("exclusive_sweep")]

EXIT_PASSED, EXIT_FAILED = 0, 1


@pytest.fixture
def runs() -> Iterator[list[FaultlabRun]]:
    """Runs a test started; any still alive at the end is killed and swept."""
    started: list[FaultlabRun] = []
    yield started
    alive = [run for run in started if run.proc.poll() is None]
    for run in alive:
        run.kill()
    if alive:
        sweep()


def start(runs: list[FaultlabRun], folder: Path, name: str, **scenario: object) -> FaultlabRun:
    """`faultlab run` on one scenario file written into ``folder``."""
    folder.mkdir()
    (folder / "leftovers.yaml").write_text(scenario_text(name, **scenario))  # type: ignore[arg-type]
    run = FaultlabRun(folder, "run", "leftovers.yaml", "--artifacts", "artifacts", "--no-progress")
    runs.append(run)
    return run


ALLOWED = ("leftovers.yaml", "artifacts")


def _clean_after_sweep(run: FaultlabRun) -> str:
    """Run `faultlab sweep`, check nothing of ``run`` remains; the sweep's output."""
    swept = sweep()
    assert swept.returncode == 0, swept.stdout + swept.stderr
    assert run.run_ids, f"the run's records were never seen:\n{run.log}"
    assert leftovers(run, ALLOWED) == []
    return swept.stdout


def test_a_passing_run_leaves_nothing(runs: list[FaultlabRun], tmp_path: Path) -> None:
    run = start(runs, tmp_path / "pass", "leftovers after a pass")
    assert run.wait() == EXIT_PASSED, run.log
    assert leftovers(run, ALLOWED) == []  # before any sweep: the run cleaned up itself
    swept = _clean_after_sweep(run)
    assert not any(rid in swept for rid in run.run_ids)


def test_a_failing_run_leaves_nothing(runs: list[FaultlabRun], tmp_path: Path) -> None:
    run = start(runs, tmp_path / "fail", "leftovers after a failure", failing=True)
    assert run.wait() == EXIT_FAILED, run.log
    assert leftovers(run, ALLOWED) == []
    swept = _clean_after_sweep(run)
    assert not any(rid in swept for rid in run.run_ids)
    assert list((tmp_path / "fail" / "artifacts").rglob("verdict.json"))  # the failure's evidence


def test_sigint_mid_run_leaves_nothing(runs: list[FaultlabRun], tmp_path: Path) -> None:
    run = start(runs, tmp_path / "sigint", "leftovers after sigint", hold="20s")
    run.mid_run()
    run.signal(signal.SIGINT)
    code = run.wait(timeout=15)
    assert code not in (EXIT_PASSED, EXIT_FAILED), f"exit {code} after SIGINT:\n{run.log}"
    assert "Traceback" not in run.log
    assert leftovers(run, ALLOWED) == []  # the interrupted run tore its lab down itself
    swept = _clean_after_sweep(run)
    assert not any(rid in swept for rid in run.run_ids)


def test_sigkill_mid_run_is_swept_and_a_concurrent_run_untouched(
    runs: list[FaultlabRun], tmp_path: Path
) -> None:
    neighbour = start(runs, tmp_path / "neighbour", "leftovers neighbour", hold="8s")
    neighbour.mid_run()
    victim = start(runs, tmp_path / "victim", "leftovers after sigkill", hold="20s")
    victim.mid_run()
    victim.signal(signal.SIGKILL)
    assert victim.wait(timeout=10) == -signal.SIGKILL
    left = leftovers(victim, ALLOWED)
    # SIGKILL: no teardown ran, so the lab is still there (whoever sweeps first removes it:
    # another test's sweep may run at the same time under pytest-xdist).
    evidence = (
        f"{left}\nrun ids {sorted(victim.run_ids)}, namespaces seen {sorted(victim.namespaces)}"
        f"\n/run/netns now: {sorted(os.listdir(NETNS_DIR))}\nvictim log:\n{victim.log}"
    )
    assert any(item.startswith("namespace ") for item in left), evidence
    assert any(item.startswith("process ") for item in left), evidence
    swept = sweep()
    assert swept.returncode == 0, swept.stdout + swept.stderr
    assert leftovers(victim, ALLOWED) == []
    # The neighbour was alive during the sweep: its lab is intact and it still passes.
    assert neighbour.proc.poll() is None, "the neighbour ended before the sweep: hold it longer"
    assert all((NETNS_DIR / name).exists() for name in neighbour.namespaces)
    touched = [
        line
        for line in swept.stdout.splitlines()
        if any(rid in line for rid in neighbour.run_ids) and not line.startswith("left alone")
    ]
    assert touched == []
    assert neighbour.wait(timeout=30) == EXIT_PASSED, neighbour.log
    assert leftovers(neighbour, ALLOWED) == []
