"""Booting a guest: KVM where it boots within its deadline, emulation otherwise; never hang.

A guest is vng (virtme-ng) run under the guard (guard.py), with the host's root file system
read-only, ``rwdirs`` writable and root inside. The guest's first words on the console are
``faultlab-guest: up`` (guest.py); until then the guest is *booting*, and a boot that does not
reach them within its deadline is stopped. With ``accel="auto"`` a failed KVM boot (this kind of
machine's nested PVM /dev/kvm hangs a stock kernel, or qemu aborts on an MSR) falls back to
emulation, once per process, and is remembered per host (kvmmemory.py: keyed by qemu's version,
the kernel image and the host's kernel), so a later run goes straight to emulation instead of
waiting for the same failure; a failed emulated boot raises GuestError (exit 3) with the
console's last lines. Each step of the console is read with a deadline, never a blocking read.

The guard and the processes below it are written to a run record (/run/faultlab/runs), so that
``faultlab sweep`` kills them if faultlab and the guard were both killed by SIGKILL.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import select
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from harness import caches
from harness.errors import EnvironmentProblem
from harness.kernellab import guard, kvmmemory
from harness.kernellab.kernels import Kernel

UP_MARKER = "faultlab-guest: up"
KVM_BOOT_DEADLINE = 30.0  # a KVM boot takes ~3 s; PVM hangs forever or qemu aborts at once
TCG_BOOT_DEADLINE = 240.0  # an emulated boot took 16-22 s here; a busy CI machine is slower
RUN_DEADLINE = float(os.environ.get("FAULTLAB_KERNEL_TIMEOUT", 3600))
STOP_DEADLINE = 15.0  # the guard stops qemu within its own 5 s grace; then SIGKILL
CONSOLE_LINES = 30
TMP_PREFIX = "faultlab-vm-"  # the guard's folder: the job file, and vng's TMPDIR
OWNER_NAME = "guard.json"  # [[pid, start time]] of the guard that removes the folder
ACCELS = ("auto", "kvm", "tcg")
PROJECT_ROOT = Path(__file__).resolve().parents[2]

#: Why KVM failed to boot a guest in this process (reason -> when): once it did, it is skipped.
KVM_FAILED: caches.Cache[str, float] = caches.cache(
    "kernellab.launcher.KVM_FAILED", "test", "KVM failed to boot a guest in this process"
)


class GuestError(EnvironmentProblem):
    """A guest did not boot or did not finish in time (exit 3); the message has its console."""


@dataclass
class Outcome:
    """How one guest went: its command's exit status, the accelerator, and timings."""

    returncode: int
    accel: str
    boot_seconds: float
    total_seconds: float
    console: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class GuestSpec:
    """What to boot and run: the kernel, the job for guest.py, the writable folders, the size.

    ``job`` is written as guest-spec.json into the guest's temporary folder (writable in the
    guest, removed by the guard); its ``dest`` defaults to a folder in there.
    """

    kernel: Kernel
    job: dict[str, object]
    rwdirs: tuple[Path, ...] = ()
    cpus: int = 2
    memory: str = "2G"
    cwd: Path = field(default_factory=Path.cwd)


def guest_command(spec_file: Path) -> str:
    """The shell command vng runs in the guest: guest.py with this checkout importable."""
    return (
        f"env PYTHONPATH={shlex.quote(str(PROJECT_ROOT))} {shlex.quote(sys.executable)} "
        f"-m harness.kernellab.guest {shlex.quote(str(spec_file))}"
    )


def find_vng() -> str:
    """The vng program: on PATH, or beside this Python (a venv with faultlab[vm])."""
    beside = Path(sys.executable).parent / "vng"
    found = shutil.which("vng") or (str(beside) if beside.exists() else None)
    if found is None:
        raise EnvironmentProblem(
            "vng (virtme-ng) is not installed: pip install 'faultlab[vm]', or "
            "sudo scripts/install-kernel-lab.sh (qemu, a Debian kernel and virtme-ng)"
        )
    return found


def needed_programs() -> list[str]:
    """What a guest needs on the host that is missing (empty when everything is here)."""
    missing = [name for name in ("qemu-system-x86_64", "busybox") if not shutil.which(name)]
    with contextlib.suppress(EnvironmentProblem):
        find_vng()
        return missing
    return [*missing, "vng"]


def kvm_usable() -> bool:
    """True when /dev/kvm can be opened read-write (whether it boots is another question)."""
    try:
        os.close(os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC))
    except OSError:
        return False
    return True


def accel_order(requested: str | None = None) -> list[str]:
    """The accelerators to try, in order (FAULTLAB_VM_ACCEL=auto|kvm|tcg; default auto)."""
    choice = requested or os.environ.get("FAULTLAB_VM_ACCEL", "auto")
    if choice not in ACCELS:
        raise EnvironmentProblem(f"FAULTLAB_VM_ACCEL={choice}: valid: {', '.join(ACCELS)}")
    if choice != "auto":
        return [choice]
    return ["tcg"] if KVM_FAILED or not kvm_usable() else ["kvm", "tcg"]


def accels_for(image: Path | None) -> tuple[list[str], list[str]]:
    """The accelerators to try for ``image`` and the notes to print: under ``auto``, KVM that
    did not boot this image on this host before (nothing changed since) is not tried again."""
    order = accel_order()
    if len(order) < 2 or image is None:
        return order, []
    failure = kvmmemory.recall(image)
    if failure is None:
        return order, []
    return ["tcg"], [failure.note(kvmmemory.memory_path())]


def _unique_rwdirs(rwdirs: tuple[Path, ...]) -> list[Path]:
    """Writable folders without one nested in another (vng would mount both)."""
    resolved = sorted({path.resolve() for path in rwdirs}, key=lambda path: len(path.parts))
    kept: list[Path] = []
    for path in resolved:
        if not any(path.is_relative_to(parent) for parent in kept):
            kept.append(path)
    return kept


def vng_argv(spec: GuestSpec, accel: str, tmpdir: Path) -> list[str]:
    """The vng command line of one boot (``tmpdir`` holds the job and is writable inside)."""
    assert spec.kernel.image is not None, "a native kernel has no guest"
    argv = [find_vng(), "--run", str(spec.kernel.image), "--user", "root"]
    argv += ["--cpus", str(spec.cpus), "--memory", spec.memory, "--cwd", str(spec.cwd)]
    if accel == "tcg":
        argv.append("--disable-kvm")
    for path in _unique_rwdirs((*spec.rwdirs, tmpdir)):
        argv += ["--rwdir", str(path)]
    return [*argv, "--exec", guest_command(tmpdir / "guest-spec.json")]


def boot_deadline(accel: str) -> float:
    return KVM_BOOT_DEADLINE if accel == "kvm" else TCG_BOOT_DEADLINE


def run(spec: GuestSpec, echo: Callable[[str], None] | None = None) -> Outcome:
    """Boot the guest and run its command, trying each accelerator in turn."""
    order, notes = accels_for(spec.kernel.image)
    for note in notes:
        _say(echo, f"faultlab: {note}")
    for index, accel in enumerate(order):
        boot = _Boot(spec, accel, echo)
        outcome = boot.run()
        if outcome is not None:
            if accel == "kvm" and kvmmemory.memory_path().exists():
                assert spec.kernel.image is not None
                kvmmemory.forget(spec.kernel.image)
            outcome.notes = notes + outcome.notes
            return outcome
        last = index == len(order) - 1
        reason = f"{accel.upper()} did not boot {spec.kernel.release}: {boot.why}"
        if accel == "kvm" and spec.kernel.image is not None:
            kvmmemory.remember(spec.kernel.image, boot.why)
        if not last:
            KVM_FAILED[reason] = time.monotonic()
            notes.append(f"{reason}; falling back to emulation (TCG)")
            _say(echo, f"faultlab: {notes[-1]}")
            continue
        raise GuestError(f"{reason}; its console's last lines:\n" + "\n".join(boot.console))
    raise AssertionError("unreachable: accel_order() is never empty")


def _say(echo: Callable[[str], None] | None, line: str) -> None:
    if echo is not None:
        echo(line)


class _Boot:
    """One attempt: the guard started, the console read with deadlines, the guard stopped."""

    def __init__(self, spec: GuestSpec, accel: str, echo: Callable[[str], None] | None) -> None:
        self.spec, self.accel, self.echo = spec, accel, echo
        self.console: collections.deque[str] = collections.deque(maxlen=CONSOLE_LINES)
        self.process: subprocess.Popen[bytes] | None = None
        self.record = ProcessRecord()
        self._buffer = b""
        self.why = ""  # why the guest did not come up, once run() returned None

    def run(self) -> Outcome | None:
        """The outcome, or None when the guest did not come up in time (already stopped)."""
        started = time.monotonic()
        try:
            self._start()
            if not self._wait_for(
                lambda line: line.startswith(UP_MARKER), boot_deadline(self.accel)
            ):
                self.why = self._not_up(time.monotonic() - started)
                return None
            booted = time.monotonic()
            self.record.add_descendants(self.process.pid)
            if self._wait_for(lambda _line: False, RUN_DEADLINE):
                raise AssertionError("unreachable")
            if self.process.poll() is None:
                raise GuestError(
                    f"the guest on {self.spec.kernel.release} did not finish within "
                    f"{RUN_DEADLINE:.0f} s (FAULTLAB_KERNEL_TIMEOUT); its console's last "
                    "lines:\n" + "\n".join(self.console)
                )
            return Outcome(
                self.process.returncode,
                self.accel,
                booted - started,
                time.monotonic() - started,
                list(self.console),
            )
        finally:
            self.stop()

    def _not_up(self, seconds: float) -> str:
        """Why the guest is not up: qemu gave up by itself (KVM refused it), or the deadline."""
        assert self.process is not None
        code = self.process.poll()
        if code is None:
            return f"not up within {boot_deadline(self.accel):.0f} s"
        return f"qemu ended after {seconds:.0f} s (status {code}) before the guest was up"

    def _start(self) -> None:
        tmpdir = Path(tempfile.mkdtemp(prefix=TMP_PREFIX))
        job = {"dest": str(tmpdir / "out"), "cwd": str(self.spec.cwd), **self.spec.job}
        (tmpdir / "guest-spec.json").write_text(json.dumps(job, indent=1))
        argv = [
            sys.executable,
            "-m",
            "harness.kernellab.guard",
            str(tmpdir),
            "--",
            *vng_argv(self.spec, self.accel, tmpdir),
        ]
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])
            ),
            # vng runs virtme-run (and friends) from PATH: the folder vng itself came from
            # first, so a venv's faultlab[vm] works without activating the venv
            "PATH": os.pathsep.join(
                filter(None, [str(Path(find_vng()).parent), os.environ.get("PATH")])
            ),
        }
        try:
            self.process = subprocess.Popen(
                argv,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
                preexec_fn=guard.die_with_parent,
            )
        except BaseException:
            shutil.rmtree(tmpdir, ignore_errors=True)
            raise
        self.record.open(self.process.pid)
        (tmpdir / OWNER_NAME).write_text(json.dumps(self.record.entries[:1]))

    def _wait_for(self, wanted: Callable[[str], bool], seconds: float) -> bool:
        """Read console lines until one is ``wanted`` (True), EOF or the deadline (False)."""
        assert self.process is not None and self.process.stdout is not None
        stream = self.process.stdout.fileno()
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([stream], [], [], min(left, 0.5))
            if not ready:
                if self.process.poll() is not None:  # the guard is gone: no boot is coming
                    return False
                continue
            chunk = os.read(stream, 65536)
            if not chunk:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=STOP_DEADLINE)
                return False
            for line in self._lines(chunk):
                if wanted(line):
                    return True
        return False

    def _lines(self, chunk: bytes) -> list[str]:
        self._buffer += chunk
        *complete, self._buffer = self._buffer.split(b"\n")
        lines = [raw.decode("utf-8", "replace").rstrip("\r") for raw in complete]
        for line in lines:
            self.console.append(line)
            _say(self.echo, line)
        return lines

    def stop(self) -> None:
        """Stop the guard (it stops qemu and removes its folder); SIGKILL all if it hangs."""
        process = self.process
        if process is None:
            return
        try:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=STOP_DEADLINE)
                except subprocess.TimeoutExpired:
                    self.record.kill_all()
                    process.wait()
        finally:
            if process.stdout is not None:
                process.stdout.close()
            self.record.close()


def sweep_folders(tmp: Path | None = None) -> list[Path]:
    """Remove the temporary folders of guards that are gone (both killed by SIGKILL).

    A guard removes its folder itself on every other exit path; ``faultlab sweep`` calls this.
    A folder whose guard is alive is left alone, and so is one without an owner file that is
    younger than a minute (its guard is being started).
    """
    from netns import registry

    removed = []
    for folder in Path(tmp or tempfile.gettempdir()).glob(f"{TMP_PREFIX}*"):
        try:
            owner = json.loads((folder / OWNER_NAME).read_text())
            alive = any(registry.process_alive(pid, start) for pid, start in owner)
        except (OSError, ValueError, TypeError):
            alive = time.time() - folder.stat().st_mtime < 60
        if not alive:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


class ProcessRecord:
    """The guest's host processes in a run record, so ``faultlab sweep`` finds them."""

    def __init__(self) -> None:
        self.run_id: str | None = None
        self.entries: list[tuple[int, int]] = []

    def open(self, guard_pid: int) -> None:
        from netns import registry
        from netns.naming import new_run_id

        self.run_id = new_run_id()
        record = registry.RunRecord.for_this_process(self.run_id, [], None)
        with contextlib.suppress(OSError):
            registry.claim(record)
        self._add([guard_pid])

    def add_descendants(self, pid: int) -> None:
        self._add(guard.descendants(pid))

    def _add(self, pids: list[int]) -> None:
        from netns import registry

        for pid in pids:
            start = registry.process_start_time(pid)
            if start is not None:
                self.entries.append((pid, start))
        record = self._load()
        if record is None:
            return
        record.processes = [
            registry.ProcessEntry(pid, start, "kernel-lab", _argv0(pid))
            for pid, start in self.entries
        ]
        with contextlib.suppress(OSError):
            registry.save(record)

    def _load(self):  # type: ignore[no-untyped-def]
        from netns import registry

        return registry.load(self.run_id) if self.run_id else None

    def kill_all(self) -> None:
        """SIGKILL every recorded process that is still the one recorded."""
        from netns.processes import kill_recorded

        for pid, start in reversed(self.entries):
            kill_recorded(pid, start)

    def close(self) -> None:
        from netns import registry

        if self.run_id is not None:
            registry.delete(self.run_id)
            self.run_id = None


def _argv0(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode() or "?"
    except OSError:
        return "?"
