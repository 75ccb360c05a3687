"""The kernel lane: what only the other kernel can tell, in one guest boot.

The host's own run (``tox -e scenarios``, ``tox -e py``) already judges every scenario and test
that this kernel can run. A second kernel adds something only where a feature's status differs
between the two (the doctor's checks, asked on both): a feature missing here and present there
(``mrt`` on a host without multicast routing: its scenarios and the tests marked ``mrt`` run
only there), or present here and missing there (``sysctl:net.core.optmem_max`` is per network
namespace on 6.18, not on 6.1: those scenarios are skipped there for that feature alone, which
the lane confirms with ``--strict --allow-skip`` that feature). Nothing else can differ by a
feature, so the lane runs nothing else; ``--everything`` (``tox -e kernels-full``) runs the whole
suite on that kernel instead, with the same computed allowances.

The choice is computed, never listed by hand: :func:`plan` takes the suite and two
``{feature: status}`` maps (a fake doctor in the tests). The host writes the suite with each
scenario's features, its own statuses and the files of the marked tests
(:func:`write_host_features`); in the guest, ``python -m harness.kernellab.lane --host FILE
--out DIR`` asks the guest's doctor (once, shared with the runs it starts), plans, and runs
``faultlab run --strict`` on the chosen scenarios and ``pytest -m`` on the tests of the features
only the guest has, side by side (the guest's two CPUs), then writes ``lane.json``. The host
side is harness/kernellab/ci.py.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from harness.errors import ExitCode
from harness.scenario import Scenario

OK = "ok"
LANE_NAME = "lane.json"
HOST_FEATURES_NAME = "host-features.json"
#: The pytest marker carried by the tests that need a feature (tests/conftest.py skips them
#: where the feature is short); the lane runs them on a kernel that has the feature.
TEST_MARKERS: dict[str, str] = {"mrt": "mrt"}
PYTEST_OPTIONS = ["-q", "-p", "no:cacheprovider", "-p", "no:timeout"]
#: The guest's stretch factor is timed by one process on an idle guest; beside the tests, the
#: scenarios share its CPUs (and an emulated guest's CPUs share the host's): their deadlines
#: get this much more (measured: a router's start took 29 s against a 26 s window without it).
SIDE_BY_SIDE = 1.5


@dataclass(frozen=True)
class Lane:
    """What a kernel lane runs, and why.

    ``scenarios``: the scenario files, each with the differing features that chose it (empty
    under ``everything``); ``allow_skip``: the features present on the host and short on the
    guest (their scenarios skip there for that reason alone); ``markers``: the pytest markers of
    the features short on the host and present on the guest; ``differing``: feature -> (status
    on the host, status on the guest).
    """

    scenarios: dict[str, list[str]]
    allow_skip: list[str]
    markers: list[str]
    differing: dict[str, list[str]]
    total: int
    everything: bool = False
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return asdict(self)

    def mark_expression(self) -> str:
        """The pytest ``-m`` expression of the tests the lane runs ('' when none)."""
        return " or ".join(self.markers)

    def summary(self) -> str:
        """One line: how many scenarios and which tests, and the features that chose them."""
        why = ", ".join(
            f"{name} ({host} here, {guest} there)" for name, (host, guest) in self.differing.items()
        )
        tests = f"tests -m '{self.mark_expression()}'" if self.markers else "no tests"
        scope = "the whole suite" if self.everything else "only what differs"
        return (
            f"kernel lane ({scope}): {len(self.scenarios)} of {self.total} scenarios and "
            f"{tests}; features that differ: {why or 'none'}"
        )


def _usable(status: str | None) -> bool:
    return status == OK


def differing(host: Mapping[str, str], guest: Mapping[str, str]) -> dict[str, list[str]]:
    """Features usable on one kernel and not on the other: name -> [host status, guest's]."""
    names = sorted(set(host) | set(guest))
    return {
        name: [host.get(name, "unknown"), guest.get(name, "unknown")]
        for name in names
        if _usable(host.get(name)) != _usable(guest.get(name))
    }


def plan(
    suite: Sequence[tuple[str, Iterable[str]]],
    host: Mapping[str, str],
    guest: Mapping[str, str],
    everything: bool = False,
    markers: Mapping[str, str] = TEST_MARKERS,
) -> Lane:
    """The lane for ``suite`` (scenario file, its features) given each kernel's statuses."""
    differ = differing(host, guest)
    chosen: dict[str, list[str]] = {}
    for path, features in suite:
        reasons = sorted(set(features) & set(differ))
        if reasons or everything:
            chosen[path] = reasons
    allow = sorted(name for name, (here, there) in differ.items() if _usable(here))
    only_there = [name for name, (here, _there) in differ.items() if not _usable(here)]
    wanted = sorted({markers[name] for name in only_there if name in markers})
    return Lane(chosen, allow, wanted, differ, len(suite), everything)


# -- on a kernel: the doctor's answers, and the lane run ---------------------------------------


def suite_features(paths: Sequence[str], markexpr: str = "") -> list[tuple[str, list[str]]]:
    """Each scenario file under ``paths`` that ``-m markexpr`` selects (a scenario's markers:
    ``scenario`` and its tags, as harness.plugin gives them), with the features it needs."""
    from _pytest.mark.expression import Expression

    from harness import requirements
    from harness.scenario_loader import load_named

    expression = Expression.compile(markexpr) if markexpr else None

    def selected(scenario: Scenario) -> bool:
        marks = {"scenario", *scenario.tags}
        return expression is None or expression.evaluate(lambda name, **_: name in marks)

    return [
        (str(scenario.path.resolve()), sorted(requirements.features(scenario)))
        for scenario in load_named(list(paths))
        if selected(scenario)
    ]


def statuses(features: Iterable[str]) -> dict[str, str]:
    """The doctor's status of each feature on the running kernel (``ok`` unless short)."""
    from harness import features as host

    wanted = set(features) | set(TEST_MARKERS)
    found = dict.fromkeys(sorted(wanted), OK)
    for name, check in host.unmet(wanted):
        found[name] = check.status.value
    return found


def marked_test_files(tests: Path, marker: str) -> list[str]:
    """The test files holding tests marked ``marker``, collected on the host (seconds here;
    collecting the whole of tests/ in an emulated guest costs a minute or more)."""
    argv = [sys.executable, "-m", "pytest", str(tests), "-m", marker, "--collect-only", "-q"]
    argv += ["-p", "no:cacheprovider"]
    out = subprocess.run(argv, capture_output=True, text=True, check=False).stdout
    files = {line.split("::", 1)[0] for line in out.splitlines() if "::" in line}
    return sorted(str(Path(name).resolve()) for name in files)


def write_host_features(paths: Sequence[str], markexpr: str, tests: Path, out: Path) -> Path:
    """What the guest's lane needs from the host (JSON): the suite (each scenario file ``-m``
    selects, with its features: they do not depend on the kernel, so the guest need not load a
    scenario to plan), the host's status of each of those features, and for each feature's
    test marker the files holding such tests (collected here, in seconds)."""
    suite = suite_features(paths, markexpr)
    found = statuses({name for _path, names in suite for name in names})
    marked = {
        marker: marked_test_files(tests, marker)
        for name, marker in TEST_MARKERS.items()
        if found.get(name) != OK  # only what the guest may run for the host
    }
    target = out / HOST_FEATURES_NAME
    given = {"features": found, "suite": suite, "tests": marked}
    target.write_text(json.dumps(given, indent=1) + "\n")
    return target


def scenarios_argv(lane: Lane, args: argparse.Namespace, out: Path, slow: str) -> list[str]:
    """``faultlab run --strict`` on the lane's scenarios, allowing exactly its skips."""
    argv = [sys.executable, "-m", "harness.cli", "run", *lane.scenarios, "--strict"]
    for feature in lane.allow_skip:
        argv += ["--allow-skip", feature]
    argv += ["-n", str(args.workers), "--no-progress", "--slow", slow]
    if args.shard:
        argv += ["--shard", args.shard]
    argv += ["--artifacts", str(out / "scenarios"), "--junit-xml", str(out / "scenarios/junit.xml")]
    return argv


def tests_argv(lane: Lane, out: Path, files: list[str], tests: Path) -> list[str]:
    """``pytest -m MARKERS`` on the files the host collected (all of ``tests`` without them)."""
    argv = [sys.executable, "-m", "pytest", *(files or [str(tests)])]
    argv += ["-m", lane.mark_expression(), "-n", "0", *PYTEST_OPTIONS]
    return [*argv, "--junit-xml", str(out / "tests" / "junit.xml")]


def run_together(jobs: dict[str, list[str]], out: Path) -> dict[str, tuple[int, float]]:
    """Start every job at once (the guest's two CPUs, and the waits of one overlap the work of
    the other); each job's output goes to ``<out>/<name>.log`` and is printed when it ends.
    Returns each job's exit status and seconds."""
    started = time.monotonic()
    running = {}
    for name, argv in jobs.items():
        print(f"kernel lane: {name}: {' '.join(argv[1:])}", flush=True)
        log = open(out / f"{name}.log", "wb")  # noqa: SIM115 (closed below, when it ends)
        running[name] = (subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT), log)
    results = {}
    for name, (process, log) in running.items():
        code = process.wait()
        log.close()
        results[name] = (code, time.monotonic() - started)
        print((out / f"{name}.log").read_text(errors="replace"), end="", flush=True)
        print(f"kernel lane: {name}: exit {code} after {results[name][1]:.0f} s", flush=True)
    return results


def first_shard(shard: str | None) -> bool:
    """True without sharding or in shard 1 of N (the one that also runs the lane's tests)."""
    return shard is None or shard.split("/")[0].strip() == "1"


def worst(codes: Iterable[int]) -> int:
    """The lane's exit status: the first that is not 0."""
    return next((code for code in codes if code != 0), 0)


def main(argv: list[str] | None = None) -> int:
    from harness import features as host

    parser = argparse.ArgumentParser(prog="python -m harness.kernellab.lane", description=__doc__)
    parser.add_argument("--host", type=Path, required=True, help="write_host_features' file")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--everything", action="store_true", help="the whole suite")
    parser.add_argument("-n", dest="workers", default="0", help="faultlab run's workers")
    parser.add_argument("--tests", type=Path, default=Path("tests"))
    parser.add_argument("--shard", metavar="I/N", help="faultlab run --shard; tests in 1/N only")
    args = parser.parse_args(argv)
    started = time.monotonic()
    given = json.loads(args.host.read_text())
    suite = [(path, features) for path, features in given["suite"]]
    guest = statuses({name for _path, names in suite for name in names})
    host.share_checks()  # the runs below read these answers instead of probing again
    lane = plan(suite, given["features"], guest, args.everything)
    (args.out / "tests").mkdir(parents=True, exist_ok=True)
    seconds = {"plan": time.monotonic() - started}
    print(f"{lane.summary()} (planned in {seconds['plan']:.0f} s)", flush=True)
    jobs = {}
    marked = given.get("tests", {})
    files = sorted({name for marker in lane.markers for name in marked.get(marker, [])})
    with_tests = bool(lane.markers) and first_shard(args.shard)
    if lane.scenarios:
        slow = float(os.environ.get("FAULTLAB_SLOW", "1")) * (SIDE_BY_SIDE if with_tests else 1)
        jobs["scenarios"] = scenarios_argv(lane, args, args.out, f"{slow:g}")
    if with_tests:
        jobs["tests"] = tests_argv(lane, args.out, files, args.tests)
    results = run_together(jobs, args.out)
    if not jobs:
        print("kernel lane: nothing differs between the two kernels: nothing to run", flush=True)
    seconds.update({name: seconds_ for name, (_code, seconds_) in results.items()})
    record = {**lane.to_json(), "seconds": {k: round(v, 1) for k, v in seconds.items()}}
    (args.out / LANE_NAME).write_text(json.dumps(record, indent=1) + "\n")
    print(f"kernel lane: seconds {record['seconds']}", flush=True)
    return worst(code for code, _seconds in results.values()) if results else int(ExitCode.OK)


if __name__ == "__main__":
    sys.exit(main())
