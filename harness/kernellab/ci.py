"""``tox -e kernels`` / ``tox -e kernels-full``: install the lab, then one guest boot.

Every ``tox`` run covers two kernels: the host's, natively (the other envs), and Debian's stable
kernel, in a guest, here. The default lane (``tox -e kernels``, in the default env list) runs in
the guest only what the host's run cannot tell: the scenarios needing a feature whose status
differs between the two kernels and the tests of the features only the guest has (``mrt`` on a
host without multicast routing), computed by harness/kernellab/lane.py from the doctor's
answers on both. ``--everything`` (``tox -e kernels-full``, a CI matrix job: ``--shard I/N``)
runs the whole suite there instead.

1. Where this machine cannot have the lab (not x86_64, not root, no apt-get), say so and exit 0:
   the env is skipped, never failed.
2. scripts/install-kernel-lab.sh (idempotent; exit 77 = cannot, skipped the same way).
3. The host's feature statuses, for the suite's features, and the test files of the features
   short here (collected here, in seconds), to ``<out>/host-features.json``.
4. ONE guest of Debian's newest kernel under /boot runs ``python -m harness.kernellab.lane``:
   the guest's doctor, the plan (``<out>/<release>/lane.json``), ``faultlab run --strict`` on
   the chosen scenarios (``<out>/<release>/scenarios``) and ``pytest -m`` on the chosen tests
   (``<out>/<release>/tests``). KVM that cannot boot here was tried once and is remembered
   (kvmmemory.py), so this boot does not wait for it again.

Exit status: 0 when everything passed (or was skipped as above), else the first failure's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

from harness.kernellab import commands, lane, launcher, stamp, stretch
from harness.kernellab.kernels import newest_debian

SKIP = 77
INSTALLER = launcher.PROJECT_ROOT / "scripts" / "install-kernel-lab.sh"
# The scenarios env's selection (the lane keeps only what differs, or all with --everything).
SUITE = ["scenarios"]
MARKEXPR = "not compare"


def cannot_have_lab() -> str | None:
    """Why this machine cannot have the kernel lab, or None when it can."""
    if platform.machine() != "x86_64":
        return f"not x86_64 ({platform.machine()})"
    if os.geteuid() != 0:
        return "not root (apt-get and the guests need root)"
    if shutil.which("apt-get") is None:
        return "no apt-get (the lab uses Debian's qemu-system-x86 and linux-image-amd64)"
    return None


def install() -> int:
    env = {**os.environ, "PYTHON": sys.executable}
    return subprocess.call(["sh", str(INSTALLER)], env=env)


def lane_argv(args: argparse.Namespace, host_features: Path) -> list[str]:
    """The guest's command: the lane, told the host's statuses (guest.py fills in @OUT@)."""
    argv = [sys.executable, "-m", "harness.kernellab.lane", "--host", str(host_features)]
    workers = args.workers or ("2" if args.everything else "0")
    argv += ["--out", "@OUT@", "-n", workers, "--tests", str(launcher.PROJECT_ROOT / "tests")]
    if args.everything:
        argv.append("--everything")
    if args.shard:
        argv += ["--shard", args.shard]
    return argv


def run_lane(args: argparse.Namespace, out: Path) -> int:
    """The lane in one guest; its outputs stamped with the release; its plan printed."""
    kernel = newest_debian()
    tests = launcher.PROJECT_ROOT / "tests"
    host_features = lane.write_host_features(args.paths, args.markexpr, tests, out)
    dest = out / kernel.release
    argv = lane_argv(args, host_features)
    print(f"kernels: {' '.join(argv[1:])} on {kernel.release}", flush=True)
    code, facts = commands._guest(kernel, argv, dest, None, (out,), stretch.measure())
    for folder in ("scenarios", "tests"):
        stamp.stamp_run(dest / folder, kernel.release, dest / folder / "junit.xml")
    (dest / "kernel.json").write_text(json.dumps(facts, indent=1, default=str) + "\n")
    commands._say_facts(facts)
    if (dest / lane.LANE_NAME).is_file():
        chosen = json.loads((dest / lane.LANE_NAME).read_text())
        print(f"kernels: {len(chosen['scenarios'])} of {chosen['total']} scenarios in the guest")
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.kernellab.ci", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("artifacts/kernels"))
    parser.add_argument(
        "--everything",
        action="store_true",
        help="the whole suite in the guest (tox -e kernels-full), not only what differs",
    )
    parser.add_argument("-m", dest="markexpr", default=MARKEXPR, help="scenario markers")
    parser.add_argument(
        "-n",
        dest="workers",
        help="faultlab run's workers in the guest (default: 0 for the lane, which runs beside "
        "the tests; 2 with --everything)",
    )
    parser.add_argument(
        "--shard",
        metavar="I/N",
        help="only shard I of N of the lane's scenarios (faultlab run --shard; a CI matrix "
        "job each); the lane's tests run in shard 1 only",
    )
    parser.add_argument("paths", nargs="*", default=SUITE, help="scenario files or folders")
    args = parser.parse_args(argv)
    reason = cannot_have_lab()
    if reason is None:
        code = install()
        if code == SKIP:
            reason = "the installer says it cannot (above)"
        elif code != 0:
            print(f"kernels: scripts/install-kernel-lab.sh failed (exit {code})", file=sys.stderr)
            return code
    if reason is not None:
        print(f"kernels: skipped: this machine cannot have the kernel lab: {reason}")
        return 0
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    code = run_lane(args, out)
    print(f"kernels: exit {code}")
    return code


if __name__ == "__main__":
    sys.exit(main())
