"""Starting and stopping the helper processes of real-cause faults, in the router's node."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from typing import Any

from harness.errors import HarnessBug
from harness.faults.base import NodeLike

HELPER = [sys.executable, "-m", "harness.faults.helper"]


def run_helper(node: NodeLike, *args: Any, timeout: float = 10.0) -> None:
    """Run a one-shot helper in ``node``; an error names the helper and shows its stderr."""
    proc = node.popen([*HELPER, *map(str, args)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, err = proc.communicate(timeout=timeout)
    if proc.returncode != 0:
        raise OSError(
            f"helper {' '.join(map(str, args))} in {node.netns} failed: "
            f"{err.decode(errors='replace').strip()}"
        )


def start_holder(node: NodeLike, verb: str, timeout: float = 10.0) -> Any:
    """Start a long-lived helper and wait (with a deadline) until it reports ready."""
    read_end, write_end = os.pipe()
    try:
        proc = node.popen(
            [*HELPER, verb, str(write_end)],
            pass_fds=(write_end,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
    finally:
        os.close(write_end)
    try:
        ready, _, _ = select.select([read_end], [], [], timeout)
        line = os.read(read_end, 64) if ready else b""
    finally:
        os.close(read_end)
    if line.strip() != b"ready":
        stop(proc)
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        raise HarnessBug(f"helper {verb} in {node.netns} not ready within {timeout}s: {err}")
    return proc


def stop(proc: Any, timeout: float = 5.0) -> None:
    """SIGTERM, a bounded wait, then SIGKILL; always reaped."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        try:
            proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.stderr:
        proc.stderr.close()
