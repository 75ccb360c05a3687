"""Benchmark: IGMP reports handled per second by igmpd holding 10k groups, and memory per group,
on each receive path (mroute: kernel multicast routing; packet: packet sockets), side by side.

A host namespace replays prebuilt report packets (full IP headers, TTL 1, Router Alert) from a
raw socket at igmpd's interface. Figures:
  * baseline: the replay rate, and the rate a bare Python raw-socket sink in the router's
    namespace reads the same IGMPv3 reports (the ceiling for any Python reader here), from a raw
    IGMP socket and from a packet socket;
  * igmpd: reports handled per second (v2 and v3) with 10k groups held, as counted by igmpd,
    once per receive path (--multicast-routing on, then off); where the kernel has no multicast
    routing (MRT_INIT: ENOPROTOOPT), the mroute column says so and only the packet path runs;
  * memory: igmpd's RSS before and after it learned 10k groups, per group. Nothing but the
    reports happens in between (no SIGUSR1 dump: igmpd's own state-file writes, which it does
    after every change of the group set, are part of what it costs); the group count is read
    from the state file igmpd writes by itself. Cross-check: tracemalloc of the same reports
    decoded and applied to igmpd's Membership in this process (the data structures alone).
Targets (issue 3): >= 50k reports/s and <= 1 KiB per group.
Run as root: python bench/router.py [--groups 10000] [--packets 200000] [--path mroute|packet]
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from igmpd import packets
from igmpd.config import Limits, Timers
from igmpd.membership import Membership
from netns.lab import Lab
from netns.topology import Topology

TOPOLOGY = {"nodes": ["r1", "h1"], "links": [{"a": "r1:e0 10.0.9.1/24", "b": "h1:e0 10.0.9.2/24"}]}
PATHS = {"mroute": "on", "packet": "off"}  # receive path -> --multicast-routing
MRT_INIT = 200
SINK_SOCKETS = {
    "raw": """
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_IGMP)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"e0")
s.setsockopt(0, socket.IP_ADD_MEMBERSHIP, struct.pack("4s4si", socket.inet_aton("224.0.0.22"), bytes(4), socket.if_nametoindex("e0")))
""",
    "packet": """
s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800))
s.bind(("e0", 0x0800))
""",
}
SINK = """
import socket, struct, sys, time
%s
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.settimeout(1.0)
print("ready", flush=True)
n, buf, first, last = 0, bytearray(2048), None, None
try:
    while True:
        s.recv_into(buf); n += 1; last = time.monotonic(); first = first or last
except TimeoutError:
    pass
print(n, (last or 0) - (first or 0), flush=True)
"""


def report_packets(groups: int, version: int) -> list[tuple[str, bytes]]:
    """(destination, IP packet) for one report per group."""
    result = []
    for n in range(groups):
        group = f"239.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"
        if version == 2:
            destination, igmp = group, packets.encode_report(packets.V2_REPORT, group)
        else:
            destination, igmp = "224.0.0.22", packets.encode_v3_report([(2, group, [])])
        header = packets.encode_ip_header("10.0.9.2", destination, len(igmp))
        result.append((destination, header + igmp))
    return result


def replay(sender: socket.socket, prebuilt: list[tuple[str, bytes]], count: int) -> float:
    """Send count packets round-robin; the elapsed seconds."""
    start = time.perf_counter()
    size = len(prebuilt)
    for n in range(count):
        destination, packet = prebuilt[n % size]
        sender.sendto(packet, (destination, 0))
    return time.perf_counter() - start


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def igmpd_state(proc: subprocess.Popen, path: Path, previous_writes: float) -> dict:
    """Ask igmpd for its state (SIGUSR1) and read it once the file changed."""
    proc.send_signal(signal.SIGUSR1)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if path.exists() and path.stat().st_mtime_ns != previous_writes:
            return json.loads(path.read_text())
        time.sleep(0.005)
    raise TimeoutError("igmpd did not write its state after SIGUSR1")


def handled(proc: subprocess.Popen, path: Path) -> int:
    mtime = path.stat().st_mtime_ns if path.exists() else 0
    return igmpd_state(proc, path, mtime)["interfaces"]["e0"]["counters"]["received"]


def groups_written(path: Path) -> int:
    """How many groups the state file igmpd last wrote by itself holds (0 when unreadable)."""
    try:
        return len(json.loads(path.read_text())["interfaces"]["e0"]["groups"])
    except (OSError, ValueError, KeyError):
        return 0


def learn(state: Path, sender: socket.socket, prebuilt: list[tuple[str, bytes]]) -> None:
    """Send one report per group, paced so that nothing is dropped, until igmpd's own state
    file shows them all (no SIGUSR1: nothing but the reports makes igmpd allocate)."""
    for _ in range(5):
        for destination, packet in prebuilt:
            sender.sendto(packet, (destination, 0))
            time.sleep(0.00002)
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            if groups_written(state) >= len(prebuilt):
                return
            time.sleep(0.05)
    raise TimeoutError(f"igmpd did not learn {len(prebuilt)} groups")


def settled_rss(pid: int, state: Path) -> int:
    """igmpd's RSS once its state file has not changed for 0.3 s (its last write is done)."""
    last = state.stat().st_mtime_ns
    while True:
        time.sleep(0.3)
        now = state.stat().st_mtime_ns
        if now == last:
            return rss_kib(pid)
        last = now


def apply_reports(
    membership: Membership, decoded: list[packets.Message | packets.Malformed], now: float
) -> None:
    """What igmpd does with each decoded report (one sender, 10.0.9.2)."""
    for message in decoded:
        if isinstance(message, packets.Report):
            membership.report_v1v2(message.group, "10.0.9.2", 2, now)
        elif isinstance(message, packets.V3Report):
            for record in message.records:
                membership.record(record, "10.0.9.2", now)


def traced_bytes_per_group(prebuilt: list[tuple[str, bytes]], version: int) -> int:
    """Bytes per group of igmpd's Membership fed the same reports here, by tracemalloc."""
    limits = Limits(max_groups=2 * len(prebuilt))
    membership = Membership(version, Timers(), limits)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    now = time.monotonic()
    decoded = [packets.decode(packet[24:]) for _, packet in prebuilt]  # 24: IP header + RA
    apply_reports(membership, decoded, now)
    del decoded  # the packets' objects go: what the groups keep is left
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    if len(membership.groups) != len(prebuilt):
        raise RuntimeError(f"Membership learned {len(membership.groups)} of {len(prebuilt)}")
    return round((after - before) / len(prebuilt))


def mrt_unavailable(lab: Lab) -> str | None:
    """Why the mroute path cannot run in the router's namespace (None: it can)."""

    def probe() -> str | None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_IGMP)
        try:
            sock.setsockopt(socket.IPPROTO_IP, MRT_INIT, 1)
        except OSError as exc:
            return f"MRT_INIT: {errno.errorcode.get(exc.errno or 0, exc.errno)} ({exc.strerror})"
        finally:
            sock.close()
        return None

    return lab.node("r1").call(probe)


def measure_igmpd(lab: Lab, work: Path, groups: int, count: int, version: int, path: str) -> dict:
    router, host = lab.node("r1"), lab.node("h1")
    tag = f"{path}-v{version}"
    state = work / f"state-{tag}.json"
    argv = [sys.executable, "-m", "igmpd", "-i", "e0", "--version", str(version),
            "--max-groups", str(groups * 2), "--event-log", str(work / f"events-{tag}"),
            "--state", str(state), "--multicast-routing", PATHS[path]]  # fmt: skip
    proc = router.popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not state.exists():
            time.sleep(0.01)
        idle = settled_rss(proc.pid, state)
        sender = host.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        sender.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"e0")
        prebuilt = report_packets(groups, version)
        learn(state, sender, prebuilt)
        full = settled_rss(proc.pid, state)
        before = handled(proc, state)
        cpu_before = cpu_seconds(proc.pid)
        start = time.perf_counter()
        replay(sender, prebuilt, count)
        last_cpu, last_time = cpu_seconds(proc.pid), time.perf_counter()
        while True:  # until igmpd stops using CPU: its socket is drained
            time.sleep(0.05)
            cpu = cpu_seconds(proc.pid)
            if cpu - last_cpu < 0.005:
                break
            last_cpu, last_time = cpu, time.perf_counter()
        done = handled(proc, state) - before
        busy = last_cpu - cpu_before
        return {
            "version": version,
            "path": json.loads(state.read_text())["interfaces"]["e0"]["receive_path"],
            "sent": count,
            "handled": done,
            "reports_per_s": round(done / (last_time - start)),
            "reports_per_cpu_s": round(done / max(busy, 1e-9)),
            "rss_idle_kib": idle,
            "rss_10k_kib": full,
            "bytes_per_group": round((full - idle) * 1024 / groups),
            "traced_bytes_per_group": traced_bytes_per_group(prebuilt, version),
        }
    finally:
        proc.terminate()
        proc.wait(timeout=5)


def measure_sink(lab: Lab, count: int, groups: int, kind: str) -> dict:
    router, host = lab.node("r1"), lab.node("h1")
    code = SINK % SINK_SOCKETS[kind]
    proc = router.popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    sender = host.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    sender.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"e0")
    elapsed = replay(sender, report_packets(groups, 3), count)
    received, span = proc.stdout.readline().split()
    proc.wait(timeout=5)
    return {
        "replay_per_s": round(count / elapsed),
        f"{kind}_sink_received": int(received),
        f"{kind}_sink_per_s": round(int(received) / max(float(span), 1e-9)),
    }


def side_by_side(results: dict) -> str:
    """The figures of both paths as a text table, one row per figure and report version."""
    figures = ("reports_per_s", "reports_per_cpu_s", "bytes_per_group", "traced_bytes_per_group")
    lines = [f"{'':28} {'mroute':>12} {'packet':>12}"]
    for version in (2, 3):
        for figure in figures:
            cells = []
            for path in PATHS:
                measured = results[path]
                cell = (
                    measured.get(f"v{version}", {}).get(figure)
                    if "unavailable" not in measured
                    else None
                )
                cells.append("n/a" if cell is None else f"{cell:,}")
            lines.append(f"v{version} {figure:25} {cells[0]:>12} {cells[1]:>12}")
    for path in PATHS:
        if "unavailable" in results[path]:
            lines.append(f"{path}: unavailable here ({results[path]['unavailable']})")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=10_000)
    parser.add_argument("--packets", type=int, default=200_000)
    parser.add_argument("--path", choices=tuple(PATHS), action="append", help="default: both")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="igmpd-bench-") as tmp,
        Lab(Topology.from_dict(TOPOLOGY), workdir=tmp) as lab,
    ):
        results = measure_all(lab, Path(tmp), args.groups, args.packets, args.path or list(PATHS))
    print(json.dumps(results, indent=1))
    print(side_by_side(results))
    measured = [r for path in PATHS for key, r in results[path].items() if key.startswith("v")]
    ok = bool(measured) and all(
        r["reports_per_cpu_s"] >= 50_000 and r["bytes_per_group"] <= 1024 for r in measured
    )
    print("targets (>= 50k reports/s, <= 1 KiB/group):", "met" if ok else "NOT met")
    return 0


def measure_all(lab: Lab, work: Path, groups: int, count: int, paths: list[str]) -> dict:
    """Baselines, then each receive path's v2 and v3 figures (or why a path cannot run)."""
    results: dict = {"baseline": {}}
    for kind in SINK_SOCKETS:
        results["baseline"].update(measure_sink(lab, count, groups, kind))
    unavailable = {"mroute": mrt_unavailable(lab), "packet": None}
    for path in PATHS:
        if path not in paths:
            results[path] = {"unavailable": "not selected (--path)"}
        elif unavailable[path] is not None:
            results[path] = {"unavailable": unavailable[path]}
        else:
            results[path] = {
                f"v{v}": measure_igmpd(lab, work, groups, count, v, path) for v in (2, 3)
            }
    return results


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    sys.exit(main())
