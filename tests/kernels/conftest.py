"""Fixtures of the kernel lab's tests: a fake vng on PATH (kernels_helpers.py), leak checks."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kernels_helpers import FAKE_VNG, FakeLab

from harness import caches
from harness.kernellab import launcher
from harness.kernellab.kernels import Kernel


@pytest.fixture
def fake_lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeLab]:
    bindir, scratch = tmp_path / "bin", tmp_path / "scratch"
    bindir.mkdir()
    scratch.mkdir()
    (bindir / "vng").symlink_to(FAKE_VNG)
    image = tmp_path / "vmlinuz-9.9.9-fake"
    image.write_bytes(b"not a kernel")
    tag = uuid.uuid4().hex
    env = {
        "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}",
        "FAKE_QEMU_TAG": tag,
        "TMPDIR": str(scratch),
        "FAULTLAB_GUARD_GRACE": "0.5",
        "PYTHONPATH": str(launcher.PROJECT_ROOT),
        "FAULTLAB_KVM_MEMORY": str(tmp_path / "kvm-boot.json"),  # never the user's own
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    caches.reset("test")  # KVM_FAILED among them
    monkeypatch.setattr(launcher, "kvm_usable", lambda: True)
    lab = FakeLab(tag, scratch, Kernel(str(image), "9.9.9-fake", image), {**os.environ, **env})
    yield lab
    lab.wait_clean()
