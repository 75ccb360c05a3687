"""Cost per syscall under the fault engine's mechanisms, measured in one run.

A child process calls getsockopt(SOL_SOCKET, SO_TYPE) on a UDP socket N times and reports the
median ns per call over several rounds, in five set-ups: no filter (the baseline), a RET_ERRNO
rule on another syscall, a RET_ERRNO rule on setsockopt (getsockopt still allowed), and the
user-notify supervisor with the measured call supervised (let through each time) or unsupervised
(the supervisor watches setsockopt only). Ratios are to the baseline of the same run.

    python bench/faults.py [--calls N] [--rounds R]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from harness.faults.base import Launch
from harness.faults.filters import ArgMatch, SyscallMatch
from harness.faults.supervisor import NotifyRule

CHILD = r"""
import json, socket, statistics, sys, time
calls, rounds = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
get = s.getsockopt
per = []
for _ in range(rounds):
    t = time.perf_counter_ns()
    for _ in range(calls):
        get(1, 3)
    per.append((time.perf_counter_ns() - t) / calls)
print(json.dumps({"median_ns": statistics.median(per)}))
"""

GETSOCKOPT = SyscallMatch("getsockopt", (ArgMatch(1, 1), ArgMatch(2, 3)), "getsockopt SO_TYPE")
SETSOCKOPT = SyscallMatch("setsockopt", (ArgMatch(1, 0), ArgMatch(2, 3)), "setsockopt IP_HDRINCL")


def launch_for(setup: str) -> Launch:
    launch = Launch([sys.executable, "-c", CHILD])
    if setup == "errno-other-syscall":
        launch.seccomp.add_errno(SyscallMatch("bind"), 1)
    elif setup == "errno-same-syscall-family":
        launch.seccomp.add_errno(SETSOCKOPT, 1)
    elif setup in ("notify-supervised", "notify-unsupervised"):
        match = GETSOCKOPT if setup == "notify-supervised" else SETSOCKOPT
        launch.notify_supervisor().add(NotifyRule(match, 1, enabled=False))
        launch.seccomp.add_notify(match)
    return launch


def measure(setup: str, calls: int, rounds: int) -> float:
    launch = launch_for(setup)
    try:
        out = subprocess.run(
            [*launch.argv, str(calls), str(rounds)],
            preexec_fn=launch.preexec_fn(),
            capture_output=True,
            text=True,
            check=True,
            timeout=600,
        ).stdout
    finally:
        if launch.supervisor is not None:
            launch.supervisor.close()
    return float(json.loads(out)["median_ns"])


SETUPS = (
    "no-filter",
    "errno-other-syscall",
    "errno-same-syscall-family",
    "notify-unsupervised",
    "notify-supervised",
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=7)
    options = parser.parse_args()
    results = {}
    for setup in SETUPS:
        calls = options.calls // 10 if setup == "notify-supervised" else options.calls
        results[setup] = measure(setup, calls, options.rounds)
    base = results["no-filter"]
    print(f"{'set-up':28} {'ns/call (median)':>17} {'x baseline':>11}")
    for setup, value in results.items():
        print(f"{setup:28} {value:17.0f} {value / base:11.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
