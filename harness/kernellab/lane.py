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
``{feature: status}`` maps (a fake doctor in the tests). In the guest, ``python -m
harness.kernellab.lane --host FILE --out DIR [PATH ...]`` asks the guest's doctor, plans, writes
``lane.json`` and runs ``faultlab run`` on the chosen scenarios, then ``pytest -m`` on the
tests of the features only the guest has. The host side is harness/kernellab/ci.py.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
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
    from harness import doctor

    wanted = set(features) | set(TEST_MARKERS)
    found = dict.fromkeys(sorted(wanted), OK)
    for name, check in doctor.unmet(wanted):
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
    """For the guest's lane (JSON): the host's status of every feature the suite needs, and
    for each feature's test marker the files holding such tests."""
    features = {name for _path, names in suite_features(paths, markexpr) for name in names}
    found = statuses(features)
    marked = {
        marker: marked_test_files(tests, marker)
        for name, marker in TEST_MARKERS.items()
        if found.get(name) != OK  # only what the guest may run for the host
    }
    target = out / HOST_FEATURES_NAME
    target.write_text(json.dumps({"features": found, "tests": marked}, indent=1) + "\n")
    return target


def _run_scenarios(lane: Lane, args: argparse.Namespace, out: Path, slow: str) -> int:
    argv = [sys.executable, "-m", "harness.cli", "run", *lane.scenarios, "--strict"]
    for feature in lane.allow_skip:
        argv += ["--allow-skip", feature]
    argv += ["-n", str(args.workers), "--no-progress", "--slow", slow]
    if args.shard:
        argv += ["--shard", args.shard]
    argv += ["--artifacts", str(out / "scenarios"), "--junit-xml", str(out / "scenarios/junit.xml")]
    if args.markexpr:
        argv += ["-m", args.markexpr]
    print("kernel lane: faultlab " + " ".join(argv[3:]), flush=True)
    return subprocess.call(argv)


def _run_tests(lane: Lane, args: argparse.Namespace, out: Path, files: list[str]) -> int:
    (out / "tests").mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "pytest", *(files or [str(args.tests)])]
    argv += ["-m", lane.mark_expression(), "-n", str(args.workers), *PYTEST_OPTIONS]
    argv += ["--junit-xml", str(out / "tests" / "junit.xml")]
    print("kernel lane: pytest " + " ".join(argv[3:]), flush=True)
    return subprocess.call(argv)  # 5 (nothing collected) fails the lane: a marker nobody carries


def first_shard(shard: str | None) -> bool:
    """True without sharding or in shard 1 of N (the one that also runs the lane's tests)."""
    return shard is None or shard.split("/")[0].strip() == "1"


def worst(codes: Sequence[int]) -> int:
    """The lane's exit status: the first that is not 0."""
    return next((code for code in codes if code != 0), 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.kernellab.lane", description=__doc__)
    parser.add_argument("--host", type=Path, required=True, help="the host's feature statuses")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--everything", action="store_true", help="the whole suite")
    parser.add_argument("-m", dest="markexpr", default="not compare")
    parser.add_argument("-n", dest="workers", default="2")
    parser.add_argument("--tests", type=Path, default=Path("tests"))
    parser.add_argument("--shard", metavar="I/N", help="faultlab run --shard; tests in 1/N only")
    parser.add_argument("paths", nargs="*", default=["scenarios"])
    args = parser.parse_args(argv)
    suite = suite_features(args.paths, args.markexpr)
    given = json.loads(args.host.read_text())
    host, marked = given["features"], given.get("tests", {})
    guest = statuses({name for _path, names in suite for name in names})
    lane = plan(suite, host, guest, args.everything)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / LANE_NAME).write_text(json.dumps(lane.to_json(), indent=1) + "\n")
    print(lane.summary(), flush=True)
    slow = os.environ.get("FAULTLAB_SLOW", "1")
    codes = []
    if lane.scenarios:
        codes.append(_run_scenarios(lane, args, args.out, slow))
    if lane.markers and first_shard(args.shard):
        files = sorted({name for marker in lane.markers for name in marked.get(marker, [])})
        codes.append(_run_tests(lane, args, args.out, files))
    if not lane.scenarios and not lane.markers:
        print("kernel lane: nothing differs between the two kernels: nothing to run", flush=True)
    return worst(codes) if codes else int(ExitCode.OK)


if __name__ == "__main__":
    sys.exit(main())
