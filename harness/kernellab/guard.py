"""The guard: the one host process that owns a guest's vng, virtme-run and qemu processes.

Why a process of its own: vng forks virtme-run, which forks qemu; when faultlab dies by
SIGKILL, nothing of faultlab runs any more to stop them. The guard is started by faultlab with
``PR_SET_PDEATHSIG`` (the kernel sends it SIGTERM when faultlab dies, however it dies) and is a
child subreaper (qemu, orphaned, is re-parented to it, never to init). On SIGTERM, SIGINT, or
when its command ends, it stops every descendant (SIGTERM, a bounded wait, SIGKILL, reap) and
removes the temporary folder given to vng as TMPDIR (virtme leaves files there when killed).

    python -m harness.kernellab.guard TMPDIR -- vng --run ...

It prints ``faultlab-guard: pid N`` with the command's pid, then passes the command's output
through; its exit status is the command's (128+signal when it was stopped).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
#: Seconds between SIGTERM and SIGKILL (qemu stops at once on SIGTERM; tests shorten it).
STOP_GRACE = float(os.environ.get("FAULTLAB_GUARD_GRACE", "5"))


def prctl(option: int, value: int) -> None:
    """prctl(2); OSError on failure."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(option, value, 0, 0, 0) != 0:
        error = ctypes.get_errno()
        raise OSError(error, os.strerror(error))


def die_with_parent(sig: int = signal.SIGTERM) -> None:
    """A preexec step: the kernel sends ``sig`` to this child when its parent dies."""
    parent = os.getppid()
    prctl(PR_SET_PDEATHSIG, sig)
    if os.getppid() != parent:  # the parent died before the prctl: act as if it just did
        os.kill(os.getpid(), sig)


def children_map() -> dict[int, list[int]]:
    """ppid -> pids, from one /proc scan."""
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_bytes()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children first, then theirs)."""
    tree, found, todo = children_map(), [], [pid]
    while todo:
        kids = tree.get(todo.pop(), [])
        found += kids
        todo += kids
    return found


def _signal_all(pids: list[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def _reap_children() -> None:
    """Reap whatever exited below us (we are a subreaper: orphans end up here)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def stop_descendants(grace: float = STOP_GRACE) -> None:
    """SIGTERM every descendant, wait up to ``grace`` s, SIGKILL the rest, reap them all."""
    me = os.getpid()
    _signal_all(descendants(me), signal.SIGTERM)
    deadline = time.monotonic() + grace
    while descendants(me) and time.monotonic() < deadline:
        _reap_children()
        time.sleep(0.05)  # polling a process table, not synchronising a test
    left = descendants(me)
    if left:
        _log(f"faultlab-guard: SIGKILL {left} (still running {grace:g} s after SIGTERM)")
        _signal_all(left, signal.SIGKILL)
    while descendants(me):
        _reap_children()
        time.sleep(0.02)
    _reap_children()


def _log(line: str) -> None:
    """A line on the console; never fails (faultlab, reading it, may be dead: EPIPE)."""
    with contextlib.suppress(OSError):
        print(line, flush=True)


class _Stop(Exception):
    """Raised in the guard by SIGTERM/SIGINT/SIGHUP: stop the guest."""


def _raise_stop(signum: int, _frame: object) -> None:
    raise _Stop(signum)


def run(tmpdir: Path, argv: list[str]) -> int:
    """Run ``argv`` with TMPDIR=tmpdir; always stop every descendant and remove ``tmpdir``."""
    prctl(PR_SET_CHILD_SUBREAPER, 1)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, _raise_stop)
    try:
        env = {**os.environ, "TMPDIR": str(tmpdir)}
        child = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL)
        _log(f"faultlab-guard: pid {child.pid}")
        return child.wait()
    except _Stop as stop:
        return 128 + int(stop.args[0])
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stop_descendants()
        shutil.rmtree(tmpdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 3 or args[1] != "--":
        print("usage: python -m harness.kernellab.guard TMPDIR -- COMMAND ...", file=sys.stderr)
        return 2
    return run(Path(args[0]), args[2:])


if __name__ == "__main__":
    sys.exit(main())
