"""Helpers of the kernel lab's tests: a fake vng's lab, and a driver process.

The fake (fake_vng.py) has vng's process shape (vng -> a "qemu" grandchild) without booting
anything, so the launcher's deadlines, fallback and cleanup are tested in seconds on any machine.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from harness.kernellab.kernels import Kernel

FAKE_VNG = Path(__file__).with_name("fake_vng.py")


@dataclass
class FakeLab:
    """What a test needs to drive and then check a fake guest."""

    tag: str
    tmp: Path
    kernel: Kernel
    env: dict[str, str]

    def tagged_pids(self) -> list[int]:
        """Processes whose environment carries this test's tag (the fake vng and qemu)."""
        needle = f"FAKE_QEMU_TAG={self.tag}".encode()
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit() and int(entry) != os.getpid():
                try:
                    if needle in Path(f"/proc/{entry}/environ").read_bytes().split(b"\0"):
                        found.append(int(entry))
                except OSError:
                    continue
        return found

    def leftovers(self) -> list[str]:
        return [str(path) for path in self.tmp.iterdir()]

    def wait_clean(self, seconds: float = 20.0) -> None:
        """Wait (with a deadline) until no tagged process and no temporary folder is left."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if not self.tagged_pids() and not self.leftovers():
                return
            time.sleep(0.05)  # polling the process table for the kernel to finish a kill
        pids, folders = self.tagged_pids(), self.leftovers()
        for pid in pids:  # the test's own fake processes: never leave them to the next test
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)
        raise AssertionError(f"left after {seconds} s: pids {pids}, folders {folders}")


def driver_script(lab: FakeLab) -> list[str]:
    """A separate 'faultlab' process that boots the fake guest (for SIGKILL and Ctrl-C tests)."""
    code = (
        "import sys; from pathlib import Path\n"
        "from harness.kernellab import launcher, kernels\n"
        f"kernel = kernels.Kernel('k', '9.9.9-fake', Path({str(lab.kernel.image)!r}))\n"
        "spec = launcher.GuestSpec(kernel, {'argv': []})\n"
        "try:\n"
        "    print(launcher.run(spec, echo=lambda line: print(line, flush=True)).returncode)\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', flush=True); sys.exit(130)\n"
    )
    return [sys.executable, "-c", code]
