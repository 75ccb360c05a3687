"""Cost per syscall under the fault engine's mechanisms, measured in one run.

A child process calls getsockopt(SOL_SOCKET, SO_TYPE) on a UDP socket N times and reports the
median ns per call over several rounds, in five set-ups: no filter (the baseline), a RET_ERRNO
rule on another syscall, a RET_ERRNO rule on setsockopt (getsockopt still allowed), and the
user-notify supervisor with the measured call supervised (let through each time) or unsupervised
(the supervisor watches setsockopt only). Ratios are to the baseline of the same run.

A supervised call is also timed without SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (Linux 6.6+; the
supervisor asks for it, see harness/faults/supervisor.py), and split: the supervisor thread's
own CPU time per call (Python, the RECV and SEND ioctls, poll) against the rest (the kernel
handing the call over and back, and waking each side).

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
    elif setup.startswith("notify-"):
        match = SETSOCKOPT if setup == "notify-unsupervised" else GETSOCKOPT
        supervisor = launch.notify_supervisor()
        supervisor.add(NotifyRule(match, 1, enabled=False))
        supervisor.want_sync_wakeup = setup != "notify-supervised-no-sync"
        launch.seccomp.add_notify(match)
    return launch


SUPERVISED: dict[str, tuple[float, bool]] = {}  # set-up -> (supervisor CPU us/call, sync on)


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
    supervisor = launch.supervisor
    if supervisor is not None and supervisor.handled:
        per_call = supervisor.cpu_seconds / supervisor.handled * 1e6
        SUPERVISED[setup] = (per_call, supervisor.sync_wakeup)
    return float(json.loads(out)["median_ns"])


SETUPS = (
    "no-filter",
    "errno-other-syscall",
    "errno-same-syscall-family",
    "notify-unsupervised",
    "notify-supervised-no-sync",
    "notify-supervised",
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=7)
    options = parser.parse_args()
    results = {}
    for setup in SETUPS:
        calls = options.calls // 10 if setup.startswith("notify-supervised") else options.calls
        results[setup] = measure(setup, calls, options.rounds)
    base = results["no-filter"]
    print(f"{'set-up':28} {'ns/call (median)':>17} {'x baseline':>11}")
    for setup, value in results.items():
        print(f"{setup:28} {value:17.0f} {value / base:11.2f}")
    for setup, (cpu_us, sync) in SUPERVISED.items():
        total_us = results[setup] / 1000
        print(
            f"{setup}: {total_us:.1f} us/call = supervisor thread CPU {cpu_us:.1f} us + the "
            f"rest {total_us - cpu_us:.1f} us (hand-over and wake-ups; sync wake-up "
            f"{'on' if sync else 'off'})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
