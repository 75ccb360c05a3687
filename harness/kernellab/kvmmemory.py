"""KVM that cannot boot here, remembered: no guest waits for it to fail twice.

On some machines /dev/kvm opens but cannot run a stock kernel (a nested "PVM" host: qemu aborts
on an MSR, or the guest hangs until the boot deadline). The launcher then falls back to
emulation, and every later boot would pay the same failed attempt again (10-30 s each). So a
failed KVM boot is written to a small JSON file, keyed by what decides whether KVM can boot:

- the host (its machine id, else its host name: a home folder may be shared between hosts),
- qemu's version (``qemu-system-x86_64 --version``),
- the kernel image (its SHA-256),
- the host's kernel (release and build).

While a record matches, ``auto`` goes straight to emulation and says why, naming the file; when
any of the four changes (qemu upgraded, another kernel, the host rebooted into a new kernel),
KVM is tried again. ``FAULTLAB_VM_ACCEL=kvm`` tries it regardless, and a KVM boot that succeeds
removes its record. The file is ``$FAULTLAB_KVM_MEMORY``, else
``$XDG_CACHE_HOME/faultlab/kvm-boot.json`` (``~/.cache/...``).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import socket
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from harness import caches

MEMORY_ENV = "FAULTLAB_KVM_MEMORY"
MEMORY_NAME = "kvm-boot.json"
QEMU = "qemu-system-x86_64"
MACHINE_ID = Path("/etc/machine-id")


@dataclass(frozen=True)
class BootKey:
    """What decides whether KVM can boot a kernel here."""

    host: str
    qemu: str
    image_sha256: str
    host_kernel: str


@dataclass(frozen=True)
class Failure:
    """A remembered failed KVM boot: its key, why it failed, and when (UTC, ISO 8601)."""

    key: BootKey
    reason: str
    when: str
    image: str

    def note(self, path: Path) -> str:
        """The line a run prints instead of trying KVM again."""
        return (
            f"KVM not tried: it did not boot {self.image} on this host on {self.when} "
            f"({self.reason}); remembered in {path}, tried again when qemu, the kernel image "
            "or the host's kernel changes (FAULTLAB_VM_ACCEL=kvm tries it now)"
        )


def memory_path() -> Path:
    """Where the failures are kept (FAULTLAB_KVM_MEMORY, else the user's cache folder)."""
    explicit = os.environ.get(MEMORY_ENV)
    if explicit:
        return Path(explicit)
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "faultlab" / MEMORY_NAME


def host_id() -> str:
    """This machine: /etc/machine-id when it has one, else its host name."""
    with contextlib.suppress(OSError):
        text = MACHINE_ID.read_text().strip()
        if text:
            return text
    return socket.gethostname()


@functools.cache
def qemu_version(program: str = QEMU) -> str:
    """qemu's first ``--version`` line, or why there is none (a key, never an error)."""
    try:
        out = subprocess.run(
            [program, "--version"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        return f"unknown ({type(exc).__name__})"
    return (out.splitlines() or ["unknown"])[0].strip()


caches.register("kernellab.kvmmemory.qemu_version", qemu_version.cache_clear, "run")


@functools.cache
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


caches.register("kernellab.kvmmemory.sha256", _sha256.cache_clear, "run")


def image_sha256(image: Path) -> str:
    """The image's SHA-256 (computed once per file version in a process)."""
    try:
        info = image.stat()
        return _sha256(str(image.resolve()), info.st_size, info.st_mtime_ns)
    except OSError as exc:
        return f"unreadable ({exc.strerror})"


def host_kernel() -> str:
    """The running kernel: release and build (a new build of the same release counts)."""
    uname = os.uname()
    return f"{uname.release} {uname.version}"


def key_for(image: Path) -> BootKey:
    """The key of booting ``image`` under KVM on this host, now."""
    return BootKey(host_id(), qemu_version(), image_sha256(image), host_kernel())


def _load(path: Path) -> list[Failure]:
    try:
        rows = json.loads(path.read_text())
        return [
            Failure(BootKey(**row["key"]), row["reason"], row["when"], row.get("image", "?"))
            for row in rows
        ]
    except (OSError, ValueError, TypeError, KeyError):
        return []  # no file, or one this version cannot read: nothing remembered


def _save(path: Path, failures: list[Failure]) -> None:
    """Write atomically (a rename), so two runs never leave half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps([asdict(item) for item in failures], indent=1) + "\n"
    fd, temporary = tempfile.mkstemp(prefix=".kvm-boot-", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def recall(image: Path, path: Path | None = None) -> Failure | None:
    """The remembered failure of KVM booting ``image`` here, when nothing changed since."""
    path = path or memory_path()
    key = key_for(image)
    return next((item for item in _load(path) if item.key == key), None)


def remember(image: Path, reason: str, path: Path | None = None) -> Failure | None:
    """Record that KVM did not boot ``image`` here, and why. A file that cannot be written
    (a read-only home) costs the next run the same attempt, nothing else: None then."""
    path = path or memory_path()
    key = key_for(image)
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    failure = Failure(key, reason, when, str(image))
    kept = [item for item in _load(path) if item.key != key]
    try:
        _save(path, [*kept, failure])
    except OSError:
        return None
    return failure


def forget(image: Path, path: Path | None = None) -> None:
    """KVM booted ``image``: drop its record (if any)."""
    path = path or memory_path()
    key = key_for(image)
    failures = _load(path)
    kept = [item for item in failures if item.key != key]
    if len(kept) != len(failures):
        with contextlib.suppress(OSError):
            _save(path, kept)
