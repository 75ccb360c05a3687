"""KVM that cannot boot here is remembered: keyed by host, qemu, kernel image and host kernel."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from kernels_helpers import FakeLab

from harness.kernellab import kvmmemory, launcher


@pytest.fixture
def memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cache" / "kvm-boot.json"
    monkeypatch.setenv(kvmmemory.MEMORY_ENV, str(path))
    monkeypatch.setattr(kvmmemory, "qemu_version", lambda: "QEMU emulator version 7.2.0")
    monkeypatch.setattr(kvmmemory, "host_kernel", lambda: "6.18.0 #1 SMP")
    return path


@pytest.fixture
def image(tmp_path: Path) -> Path:
    path = tmp_path / "vmlinuz-6.1.0-57-amd64"
    path.write_bytes(b"kernel one")
    return path


def test_a_failure_is_recalled_with_its_reason_until_something_changes(
    memory: Path, image: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert kvmmemory.recall(image) is None
    kvmmemory.remember(image, "qemu ended after 1 s (status 134) before the guest was up")
    failure = kvmmemory.recall(image)
    assert failure is not None and "status 134" in failure.reason
    note = failure.note(memory)
    assert str(memory) in note and "status 134" in note and "FAULTLAB_VM_ACCEL=kvm" in note
    monkeypatch.setattr(kvmmemory, "qemu_version", lambda: "QEMU emulator version 8.2.0")
    assert kvmmemory.recall(image) is None, "a new qemu is tried again"


def test_another_host_kernel_or_image_is_tried_again(
    memory: Path, image: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kvmmemory.remember(image, "not up within 30 s")
    monkeypatch.setattr(kvmmemory, "host_kernel", lambda: "6.19.0 #1 SMP")
    assert kvmmemory.recall(image) is None
    monkeypatch.setattr(kvmmemory, "host_kernel", lambda: "6.18.0 #1 SMP")
    assert kvmmemory.recall(image) is not None
    before = image.stat().st_mtime_ns
    image.write_bytes(b"kernel two, upgraded in place")
    # a different mtime as well as different bytes (the digest is memoised by path and mtime)
    os.utime(image, ns=(before + 10**9, before + 10**9))
    assert kvmmemory.recall(image) is None


def test_the_file_holds_one_record_per_key_and_forget_removes_it(
    memory: Path, image: Path, tmp_path: Path
) -> None:
    other = tmp_path / "vmlinuz-other"
    other.write_bytes(b"another kernel")
    kvmmemory.remember(image, "first")
    kvmmemory.remember(image, "second")
    kvmmemory.remember(other, "other")
    rows = json.loads(memory.read_text())
    assert sorted(row["reason"] for row in rows) == ["other", "second"]
    assert {"host", "qemu", "image_sha256", "host_kernel"} == set(rows[0]["key"])
    kvmmemory.forget(image)
    assert kvmmemory.recall(image) is None and kvmmemory.recall(other) is not None


def test_an_unreadable_or_unwritable_memory_costs_only_the_attempt(
    memory: Path, image: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    memory.parent.mkdir(parents=True)
    memory.write_text("{not json")
    assert kvmmemory.recall(image) is None
    blocked = memory.parent / "a-file"
    blocked.write_text("")
    monkeypatch.setenv(kvmmemory.MEMORY_ENV, str(blocked / "kvm-boot.json"))  # even root fails
    assert kvmmemory.remember(image, "x") is None
    assert kvmmemory.recall(image) is None


def test_the_default_file_is_in_the_user_s_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(kvmmemory.MEMORY_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", "/somewhere/cache")
    assert kvmmemory.memory_path() == Path("/somewhere/cache/faultlab/kvm-boot.json")


# -- with the launcher and a fake vng -----------------------------------------------------------


@pytest.fixture(autouse=False)
def short(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(launcher, "KVM_BOOT_DEADLINE", 2.0)
    monkeypatch.setattr(launcher, "TCG_BOOT_DEADLINE", 5.0)


def test_the_second_run_does_not_wait_for_kvm_again(
    fake_lab: FakeLab, monkeypatch: pytest.MonkeyPatch, short: None
) -> None:
    monkeypatch.setenv("FAKE_VNG_KVM", "hang")
    spec = launcher.GuestSpec(fake_lab.kernel, {"argv": []})
    first = launcher.run(spec)
    assert first.accel == "tcg" and "falling back to emulation" in first.notes[0]
    launcher.KVM_FAILED.clear()  # a new process: only the file remembers
    assert launcher.accel_order() == ["kvm", "tcg"]
    started = time.monotonic()
    second = launcher.run(spec)
    assert second.accel == "tcg"
    assert second.notes[0].startswith("KVM not tried: it did not boot")
    assert "not up within 2 s" in second.notes[0]
    assert time.monotonic() - started < 2.0, "no KVM deadline was waited for"


def test_kvm_forced_is_tried_and_a_success_forgets_the_failure(
    fake_lab: FakeLab, monkeypatch: pytest.MonkeyPatch, short: None
) -> None:
    assert fake_lab.kernel.image is not None
    kvmmemory.remember(fake_lab.kernel.image, "qemu ended after 1 s")
    spec = launcher.GuestSpec(fake_lab.kernel, {"argv": []})
    assert launcher.run(spec).accel == "tcg"
    monkeypatch.setenv("FAULTLAB_VM_ACCEL", "kvm")
    assert launcher.run(spec).accel == "kvm"
    assert kvmmemory.recall(fake_lab.kernel.image) is None
