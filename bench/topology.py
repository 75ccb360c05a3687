"""Benchmark: bringing topologies up and down with ``netns.Lab`` against ``ip -batch``.

Both are measured in the same run, on the same host, as medians over N rounds; the figure that
matters is the ratio. The baseline is the fastest honest use of iproute2 that never creates
anything in the root namespace: one ``ip -batch`` for ``netns add`` and ``link add ... netns A
type veth peer ... netns B``, then one ``ip -n NS -batch`` per namespace for its addresses and
``link set up`` (``ip -batch`` has no per-line namespace option), and one ``ip -batch`` of
``netns del`` to take it down.

    python bench/topology.py [--rounds 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netns import Lab, Topology, new_run_id, node_netns
from netns.nsenter import netns_names, remove_netns


@dataclass(frozen=True)
class Case:
    """A topology to time: a description for the lab and its node/link lists for ``ip``."""

    name: str
    nodes: list[str]
    links: list[tuple[str, str, str, str, str, str]]  # node a, ifname a, addr a, node b, ...

    def description(self) -> dict[str, Any]:
        return {
            "nodes": self.nodes,
            "links": [
                {"a": f"{a}:{ia} {xa}", "b": f"{b}:{ib} {xb}"}
                for a, ia, xa, b, ib, xb in self.links
            ],
        }


def two_nodes() -> Case:
    return Case("2-node veth", ["a", "b"], [("a", "e0", "10.0.1.1/24", "b", "e0", "10.0.1.2/24")])


def star(size: int) -> Case:
    """A hub node with ``size`` veths, one to each leaf node."""
    leaves = [f"h{i}" for i in range(size)]
    links = [
        ("hub", f"e{i}", f"10.1.{i}.1/24", leaf, "e0", f"10.1.{i}.2/24")
        for i, leaf in enumerate(leaves)
    ]
    return Case(f"{size}-leaf star", ["hub", *leaves], links)


# -- netns.Lab ---------------------------------------------------------------------------------


def time_lab(case: Case) -> tuple[float, float]:
    """Seconds to build and to tear down one lab of ``case``."""
    lab = Lab(Topology.from_dict(case.description()))
    start = time.perf_counter()
    lab.__enter__()
    built = time.perf_counter()
    lab.__exit__(None, None, None)
    return built - start, time.perf_counter() - built


# -- ip -batch baseline ------------------------------------------------------------------------


def ip_batch_files(
    case: Case, run_id: str, folder: Path
) -> tuple[Path, list[tuple[str, Path]], Path]:
    """The create batch, one configure batch per namespace, and the delete batch."""
    ns = {node: node_netns(run_id, node) for node in case.nodes}
    create = [f"netns add {ns[node]}" for node in case.nodes]
    per_ns: dict[str, list[str]] = {node: ["link set lo up"] for node in case.nodes}
    for a, ia, xa, b, ib, xb in case.links:
        create.append(f"link add {ia} netns {ns[a]} type veth peer name {ib} netns {ns[b]}")
        for node, ifname, address in ((a, ia, xa), (b, ib, xb)):
            per_ns[node] += [f"addr add {address} dev {ifname}", f"link set {ifname} up"]
    configure = [
        (ns[node], _write(folder / f"{node}.batch", lines)) for node, lines in per_ns.items()
    ]
    delete = [f"netns del {ns[node]}" for node in case.nodes]
    return (
        _write(folder / "create.batch", create),
        configure,
        _write(folder / "delete.batch", delete),
    )


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def time_ip_batch(case: Case) -> tuple[float, float]:
    """Seconds to build and to tear down ``case`` with ip -batch (files written beforehand)."""
    run_id = new_run_id()
    with tempfile.TemporaryDirectory() as folder:
        create, configure, delete = ip_batch_files(case, run_id, Path(folder))
        try:
            start = time.perf_counter()
            _ip("-batch", str(create))
            for ns, batch in configure:
                _ip("-n", ns, "-batch", str(batch))
            built = time.perf_counter()
            _ip("-batch", str(delete))
            return built - start, time.perf_counter() - built
        finally:
            for name in netns_names():
                if name.startswith(f"fl{run_id}-"):
                    remove_netns(name)


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True)


# -- report ------------------------------------------------------------------------------------


def medians(
    measure: Callable[[Case], tuple[float, float]], case: Case, rounds: int
) -> tuple[float, float]:
    ups, downs = zip(*(measure(case) for _ in range(rounds)), strict=True)
    return statistics.median(ups) * 1000, statistics.median(downs) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15, help="rounds per measurement (median)")
    args = parser.parse_args()
    print(f"median of {args.rounds} rounds, milliseconds")
    print(
        f"{'topology':<16}{'netns up':>10}{'down':>8}{'ip up':>10}{'down':>8}{'ratio up+down':>15}"
    )
    for case in (two_nodes(), star(16)):
        time_lab(case)  # warm-up: imports, /run/netns mount, page cache
        lab_up, lab_down = medians(time_lab, case, args.rounds)
        ip_up, ip_down = medians(time_ip_batch, case, args.rounds)
        ratio = (lab_up + lab_down) / (ip_up + ip_down)
        print(
            f"{case.name:<16}{lab_up:>10.2f}{lab_down:>8.2f}{ip_up:>10.2f}{ip_down:>8.2f}{ratio:>14.2f}x"
        )


if __name__ == "__main__":
    main()
