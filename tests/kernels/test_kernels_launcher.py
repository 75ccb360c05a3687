"""The launcher: KVM first with a deadline, emulation as the fallback, never a hang, no leak.

Driven by a fake vng (fake_vng.py) whose "qemu" ignores SIGTERM and lives in a session of its
own: the cleanup must still find and stop it, on every exit path.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from kernels_helpers import FakeLab, driver_script

from harness import cli
from harness.errors import ExitCode
from harness.kernellab import launcher
from netns import registry, sweep


@pytest.fixture(autouse=True)
def short_deadlines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(launcher, "KVM_BOOT_DEADLINE", 2.0)
    monkeypatch.setattr(launcher, "TCG_BOOT_DEADLINE", 3.0)
    monkeypatch.setattr(launcher, "STOP_DEADLINE", 10.0)


def _spec(lab: FakeLab) -> launcher.GuestSpec:
    return launcher.GuestSpec(lab.kernel, {"argv": []})


def test_a_kvm_boot_is_used_when_it_comes_up(fake_lab: FakeLab) -> None:
    outcome = launcher.run(_spec(fake_lab))
    assert (outcome.returncode, outcome.accel, outcome.notes) == (0, "kvm", [])
    assert "fake-guest: done" in outcome.console


@pytest.mark.parametrize("kvm", ["hang", "abort"])
def test_a_kvm_boot_that_hangs_or_aborts_falls_back_to_emulation(
    fake_lab: FakeLab, monkeypatch: pytest.MonkeyPatch, kvm: str
) -> None:
    monkeypatch.setenv("FAKE_VNG_KVM", kvm)
    started = time.monotonic()
    outcome = launcher.run(_spec(fake_lab))
    assert (outcome.returncode, outcome.accel) == (0, "tcg")
    assert "falling back to emulation" in outcome.notes[0]
    why = {"hang": "not up within 2 s", "abort": "qemu ended after"}[kvm]
    assert why in outcome.notes[0], "the note says why: a deadline, or qemu gave up at once"
    assert time.monotonic() - started < 2.0 + 3.0 + 10.0
    fake_lab.wait_clean()
    assert launcher.accel_order() == ["tcg"], "KVM is not tried again in the same process"


def test_no_boot_at_all_is_exit_3_with_the_console(
    fake_lab: FakeLab, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_VNG_KVM", "hang")
    monkeypatch.setenv("FAKE_VNG_TCG", "hang")
    with pytest.raises(launcher.GuestError) as caught:
        launcher.run(_spec(fake_lab))
    assert caught.value.exit_code == ExitCode.ENVIRONMENT
    assert "TCG did not boot 9.9.9-fake: not up within 3 s" in str(caught.value)
    assert "fake-qemu: booting" in str(caught.value)


def test_a_guest_that_never_finishes_is_stopped_at_its_deadline(
    fake_lab: FakeLab, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_VNG_KVM", "stall")
    monkeypatch.setattr(launcher, "RUN_DEADLINE", 1.0)
    with pytest.raises(launcher.GuestError, match="did not finish within 1 s"):
        launcher.run(_spec(fake_lab))


def test_accel_can_be_forced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAULTLAB_VM_ACCEL", "tcg")
    assert launcher.accel_order() == ["tcg"]
    monkeypatch.setenv("FAULTLAB_VM_ACCEL", "fast")
    with pytest.raises(launcher.EnvironmentProblem, match="valid: auto, kvm, tcg"):
        launcher.accel_order()


def test_vng_gets_root_the_writable_folders_once_and_no_kvm_under_tcg(fake_lab: FakeLab) -> None:
    spec = launcher.GuestSpec(
        fake_lab.kernel, {}, rwdirs=(fake_lab.tmp, fake_lab.tmp / "sub", launcher.PROJECT_ROOT)
    )
    argv = launcher.vng_argv(spec, "tcg", fake_lab.tmp / "job")
    assert argv[argv.index("--user") + 1] == "root"
    assert "--disable-kvm" in argv
    rwdirs = [argv[i + 1] for i, arg in enumerate(argv) if arg == "--rwdir"]
    assert sorted(rwdirs) == sorted({str(fake_lab.tmp), str(launcher.PROJECT_ROOT)})
    assert "--disable-kvm" not in launcher.vng_argv(spec, "kvm", fake_lab.tmp / "job")


def _start_driver(lab: FakeLab) -> subprocess.Popen[str]:
    """A 'faultlab' process with a guest that came up and stalls; returns once it is up."""
    os.environ["FAKE_VNG_KVM"] = "stall"
    try:
        driver = subprocess.Popen(
            driver_script(lab),
            stdout=subprocess.PIPE,
            text=True,
            env={**lab.env, "FAKE_VNG_KVM": "stall"},
        )
    finally:
        del os.environ["FAKE_VNG_KVM"]
    assert driver.stdout is not None
    for line in driver.stdout:  # the guest's console, echoed: wait for its up marker
        if line.startswith(launcher.UP_MARKER):
            break
    assert lab.tagged_pids(), "the fake qemu runs"
    return driver


def test_ctrl_c_stops_the_guest_and_removes_everything(fake_lab: FakeLab) -> None:
    driver = _start_driver(fake_lab)
    driver.send_signal(signal.SIGINT)
    assert driver.wait(timeout=30) == 130
    fake_lab.wait_clean()


def test_sigkill_of_faultlab_stops_the_guest_through_the_guard(fake_lab: FakeLab) -> None:
    driver = _start_driver(fake_lab)
    driver.kill()
    driver.wait()
    fake_lab.wait_clean()


def _parent_of(pid: int) -> int | None:
    """The parent pid of ``pid`` (/proc/PID/stat field 4), None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def _record_of(owner: int, processes: int) -> registry.RunRecord:
    """The run record owned by ``owner`` once it lists ``processes`` processes (10 s deadline)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for run_id in registry.run_ids():
            record = registry.load(run_id)
            if record and record.owner_pid == owner and len(record.processes) >= processes:
                return record
        time.sleep(0.05)  # polling a file another process rewrites
    raise AssertionError(f"no run record owned by {owner} with {processes} processes")


@pytest.mark.skipif(os.geteuid() != 0, reason="run records live in /run/faultlab (root)")
def test_sigkill_of_faultlab_and_its_guard_then_sweep_leaves_nothing(
    fake_lab: FakeLab, exclusive_sweep: None
) -> None:
    driver = _start_driver(fake_lab)
    record = _record_of(driver.pid, processes=3)  # the guard, vng and qemu
    recorded = {entry.pid for entry in record.processes}
    assert set(fake_lab.tagged_pids()) - {driver.pid} <= recorded
    guards = [pid for pid in recorded if _parent_of(pid) == driver.pid]
    assert len(guards) == 1, f"one guard, the child of faultlab: {guards}"
    for pid in (driver.pid, *guards):  # faultlab and its guard; vng and qemu are left running
        os.kill(pid, signal.SIGKILL)
    driver.wait(timeout=30)
    deadline = time.monotonic() + 10
    while registry.process_alive(record.owner_pid, record.owner_start_time):
        assert time.monotonic() < deadline
    report = sweep()
    assert set(fake_lab.tagged_pids()) - set(report.killed_pids) == set()
    assert record.run_id in report.removed_records
    assert fake_lab.leftovers(), "the guard died too: its folder is the sweep's job"
    assert cli.main(["sweep"]) == 0
    assert fake_lab.leftovers() == []
