"""Kernel lab benchmark: boot time, the suite's wall time in a guest vs natively, the stretch.

Runs ``faultlab run --kernel host --kernel <Debian's newest> SUITE`` once, so both figures come
from the same run on the same machine, and prints them from ``kernels.json``: the guest's boot
time and accelerator (KVM or emulation), the suite's wall time natively and in the guest, their
ratio, and the stretch factor chosen at boot (with the Python slowdown it came from).

    python bench/kernels.py [--out DIR] [SUITE ...]   (default: scenarios -m "not compare" -n 2)

With ``--out DIR`` the run's artifacts are kept there (the kernel x scenario table, each
kernel's verdicts); without it they go to a temporary folder that is removed.

Needs root and the lab (sudo scripts/install-kernel-lab.sh); prints why and exits 0 without it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from harness.kernellab import launcher
from harness.kernellab.ci import cannot_have_lab
from harness.kernellab.kernels import newest_debian

DEFAULT_SUITE = ["scenarios", "-m", "not compare", "-n", "2"]


def run(suite: list[str], out: Path) -> list[dict]:
    image = str(newest_debian().image)
    argv = [sys.executable, "-m", "harness.cli", "run", "--kernel", "host", "--kernel", image]
    argv += [*suite, "--artifacts", str(out), "--no-progress"]
    subprocess.call(argv, cwd=launcher.PROJECT_ROOT, stdout=subprocess.DEVNULL)
    return json.loads((out / "kernels.json").read_text())


def report(facts: list[dict]) -> None:
    native = next(f for f in facts if f.get("accel") == "native")
    for fact in facts:
        if fact is native:
            print(f"{fact['release']:<22} natively        suite {fact['seconds']:7.1f} s  1.0x")
            continue
        ratio = fact["seconds"] / native["seconds"]
        print(
            f"{fact['release']:<22} guest ({fact['accel']})   suite {fact['seconds']:7.1f} s "
            f"{ratio:4.1f}x the native run; boot {fact['boot_seconds']} s, stretch factor "
            f"{fact['stretch']:g} (Python {fact['ratio']}x slower, process start "
            f"{fact['spawn_ratio']}x); notes: {'; '.join(fact['notes']) or '-'}"
        )


def main() -> int:
    reason = cannot_have_lab() or (", ".join(launcher.needed_programs()) or None)
    if reason is not None:
        print(f"bench/kernels.py: skipped: {reason}")
        return 0
    args = sys.argv[1:]
    if args[:1] == ["--out"] and len(args) > 1:
        out = Path(args[1]).resolve()
        report(run(args[2:] or DEFAULT_SUITE, out))
        print(f"artifacts: {out} (kernel x scenario table: {out / 'kernel-matrix.md'})")
        return 0
    with tempfile.TemporaryDirectory(prefix="faultlab-bench-") as folder:
        report(run(args or DEFAULT_SUITE, Path(folder)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
