"""Before/after check of a refactoring: same validate output, same verdicts, benches within noise.

Issue 23 moves modules around (the house) and accepts the move only when nothing a user sees
changed: "same verdicts for every shipped scenario and the validate corpus before and after
(byte-identical ``faultlab validate`` output), and same-run benches within noise". This tool
measures exactly that for two refs, each run with its own code (``git archive`` of the ref in a
temporary folder, PYTHONPATH set to it, this interpreter; the folder is removed on every exit
path, Ctrl-C and SIGTERM included):

    python bench/house.py BEFORE_REF [AFTER_REF] [--out DIR] [--runs N]
                          [--skip-verdicts] [--skip-benches]

AFTER_REF defaults to the working tree of the checkout this file is in (uncommitted and
untracked files included, copied into the temporary folder so both sides run from alike places).

- validate: ``python -m harness.cli validate`` on every shipped scenario (scenarios/,
  examples/*/scenarios/) and every file of the validate corpus (tests/data/bad-scenarios/),
  one file per call, plus one call per folder and one without arguments; cwd is the ref's
  folder and the paths are relative, so the two outputs can be compared byte for byte
  (stdout, stderr and exit code). Written to ``OUT/validate/{before,after}.txt``.
- verdicts: the scenario suite the way tox's ``scenarios`` env runs it (``faultlab run
  scenarios -n 2 -m "not compare"``, plus the examples' scenarios), one ref after the other,
  artifacts kept in ``OUT/verdicts/{before,after}/``. Compared per scenario: the outcome
  (passed/failed/skipped and the skip reason), the faults, the error, and each expectation's
  kind, line, description, expected value and result. What was observed (times masked) and
  the scenario as resolved (scenario.json) are printed when they differ, but do not count:
  observations hold counts and times, and the resolved form is the loader's internal model.
- benches (informational, not in the exit code): the import of ``harness.runner``,
  ``harness.cli`` and ``harness.scenario_loader`` (each in a fresh interpreter, the import
  alone), loading every shipped scenario, and bench/topology.py (``netns.Lab`` up and down,
  2-node and 16-leaf star). Both refs are measured in the same run, interleaved (A B B A A B
  ...), ``--runs`` times after one warm-up each. The ratio is the median of the per-round
  after/before ratios; its spread is their min-max (identical code gives all n ratios on one
  side of 1.0 with a chance of 2/2**n: 1.6% at the default 7 runs). A spread that
  contains 1.0 is "within noise".

Every figure goes to ``OUT/house.json``. Exit 0 when the validate outputs are identical and
the verdicts are the same, 1 otherwise, 2 on bad arguments, 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import difflib
import io
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHECKOUT = Path(__file__).resolve().parent.parent
SCENARIO_ROOTS = ("scenarios", "examples/*/scenarios")
CORPUS = "tests/data/bad-scenarios"
PACKAGES = ("harness", "netns", "igmpd", "igmpcatalog")
# tox's scenarios env: `faultlab run scenarios -n 2 -m "not compare"`
SUITE_ARGS = ("-n", "2", "-m", "not compare", "--no-progress", "--keep-artifacts")
IMPORTS = ("harness.runner", "harness.cli", "harness.scenario_loader")
TOPOLOGY_ROUNDS = 3
DIFFS_SHOWN = 3
INFORMATIONAL = ("observed", "resolved")  # printed when they differ; not part of the verdict
_TIMES = re.compile(r"[+-]?\d+(?:\.\d+)?\s*(?:ms|s)\b")


class UsageError(Exception):
    """A bad argument: printed as one line, exit code 2."""


@dataclass(frozen=True)
class Tree:
    """One side of the comparison: its label, what it was made from, and its folder."""

    label: str
    ref: str
    root: Path


# -- materialising refs ------------------------------------------------------------------------


def _git(*args: str, cwd: Path = CHECKOUT) -> bytes:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=True).stdout


def resolve(ref: str) -> str:
    """The commit ``ref`` names in this checkout; UsageError when it names none."""
    try:
        return _git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").decode().strip()
    except (subprocess.CalledProcessError, FileNotFoundError):
        raise UsageError(f"{ref!r} is not a commit of the git checkout {CHECKOUT}") from None


def materialise(commit: str, folder: Path) -> Path:
    """Extract ``commit``'s tree into ``folder`` (git archive: the repository is left as it is)."""
    folder.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(_git("archive", "--format=tar", commit))) as tar:
        tar.extractall(folder, filter="data")
    return folder


def copy_working_tree(folder: Path) -> Path:
    """Copy this checkout's files as they are now (tracked and untracked, not ignored) into
    ``folder``: the working tree then runs from the same kind of place as the other ref."""
    listed = _git("ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for name in sorted({n for n in listed.decode().split("\0") if n}):
        source = CHECKOUT / name
        if source.is_file():
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return folder


@contextmanager
def trees(before: str, after: str | None) -> Iterator[tuple[Tree, Tree]]:
    """The two trees, in a temporary folder removed however this ends."""
    first_commit = resolve(before)
    second_commit = resolve(after) if after is not None else None
    with tempfile.TemporaryDirectory(prefix="house-") as tmp:
        base = Path(tmp).resolve()  # the runner reports paths resolved
        first = Tree("before", before, materialise(first_commit, base / "before"))
        if second_commit is None:
            second = Tree("after", "working tree", copy_working_tree(base / "after"))
        else:
            second = Tree("after", str(after), materialise(second_commit, base / "after"))
        yield first, second


# -- running a tree's own code -----------------------------------------------------------------


def environment(tree: Tree) -> dict[str, str]:
    """This environment with the tree alone on PYTHONPATH (ahead of the editable install)."""
    return {**os.environ, "PYTHONPATH": str(tree.root)}


def run(argv: Sequence[str], tree: Tree) -> subprocess.CompletedProcess[bytes]:
    """Run ``argv`` in the tree's folder with its code. On an interrupt the child is given time
    to take its namespaces down (it saw the terminal's SIGINT; else it is sent one) before it
    is killed."""
    with subprocess.Popen(
        argv, cwd=tree.root, env=environment(tree), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as child:
        try:
            out, err = child.communicate()
        except BaseException:
            _stop(child)
            raise
    return subprocess.CompletedProcess(list(argv), child.returncode, out, err)


#: (signal, then seconds to wait for the child) once this process was interrupted
_STOPPING = ((None, 5.0), (signal.SIGINT, 60.0), (signal.SIGKILL, 10.0))


def _stop(child: subprocess.Popen[bytes]) -> None:
    """Wait for the child (still reading its pipes, so it never blocks on a full one), asking
    it harder as time passes."""
    for signal_to_send, seconds in _STOPPING:
        if signal_to_send is not None and child.poll() is None:
            child.send_signal(signal_to_send)
        try:
            child.communicate(timeout=seconds)
            return
        except subprocess.TimeoutExpired:
            continue


def python(tree: Tree, *args: str) -> subprocess.CompletedProcess[bytes]:
    return run([sys.executable, *args], tree)


def check_own_code(tree: Tree) -> None:
    """Fail loudly if the tree's packages are not imported from its own folder."""
    code = f"import {', '.join(PACKAGES)}; print({', '.join(p + '.__file__' for p in PACKAGES)})"
    done = python(tree, "-c", code)
    files = done.stdout.decode().split()
    if done.returncode or any(not Path(f).resolve().is_relative_to(tree.root) for f in files):
        raise UsageError(f"{tree.label} ({tree.ref}) does not import its own code: {files}")


def scenario_folders(root: Path) -> list[str]:
    """The folders of shipped scenarios in a tree, relative to it."""
    found = (p for pattern in SCENARIO_ROOTS for p in sorted(root.glob(pattern)) if p.is_dir())
    return [str(p.relative_to(root)) for p in found]


def shipped_scenarios(root: Path) -> list[str]:
    """Every shipped scenario file of a tree, relative to it."""
    return [str(f.relative_to(root)) for d in scenario_folders(root) for f in _yaml(root / d)]


def _yaml(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix in {".yaml", ".yml"} and p.is_file())


# -- validate ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Capture:
    """One ``faultlab validate`` call: its exit code and both streams, as bytes."""

    exit: int
    stdout: bytes
    stderr: bytes

    def text(self) -> str:
        out = self.stdout.decode(errors="replace")
        err = self.stderr.decode(errors="replace")
        return f"exit {self.exit}\n--- stdout\n{out}--- stderr\n{err}"


def validate_calls(*roots: Path) -> list[tuple[str, ...]]:
    """The argument lists to give validate: every file, each folder, and no argument at all."""
    files: set[str] = set()
    folders: set[str] = set()
    for root in roots:
        files.update(shipped_scenarios(root))
        files.update(str(f.relative_to(root)) for f in _yaml(root / CORPUS))
        folders.update(scenario_folders(root))
        folders.add(CORPUS)
    return [(f,) for f in sorted(files)] + [(d,) for d in sorted(folders)] + [()]


def run_validate(tree: Tree, calls: Sequence[tuple[str, ...]]) -> dict[str, Capture]:
    """Each call's capture, keyed by its arguments as typed."""
    captures = {}
    for args in calls:
        done = python(tree, "-m", "harness.cli", "validate", *args)
        captures[" ".join(args) or "(no argument)"] = Capture(
            done.returncode, done.stdout, done.stderr
        )
    return captures


def compare_captures(before: dict[str, Capture], after: dict[str, Capture]) -> list[str]:
    """The calls whose exit code or either stream differs (or that only one side made)."""
    return sorted(key for key in before.keys() | after.keys() if before.get(key) != after.get(key))


def capture_diff(key: str, before: Capture | None, after: Capture | None) -> str:
    """A unified diff of one call's captures."""
    lines = [c.text().splitlines(keepends=True) if c else [] for c in (before, after)]
    return "".join(difflib.unified_diff(*lines, f"before: {key}", f"after: {key}"))


def write_captures(path: Path, captures: dict[str, Capture]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        for key, capture in sorted(captures.items()):
            out.write(f"=== validate {key}: exit {capture.exit}\n--- stdout\n".encode())
            out.write(capture.stdout + b"--- stderr\n" + capture.stderr)


def check_validate(first: Tree, second: Tree, out: Path) -> tuple[bool, dict[str, Any]]:
    """Every validate call in both trees; same when every capture is byte for byte."""
    calls = validate_calls(first.root, second.root)
    captured = [run_validate(tree, calls) for tree in (first, second)]
    for tree, captures in zip((first, second), captured, strict=True):
        write_captures(out / "validate" / f"{tree.label}.txt", captures)
    differing = compare_captures(*captured)
    identical = len(calls) - len(differing)
    print(f"validate: {len(calls)} calls, {identical} identical, {len(differing)} differing")
    for key in differing[:DIFFS_SHOWN]:
        print(capture_diff(key, captured[0].get(key), captured[1].get(key)))
    return not differing, {"calls": len(calls), "differing": differing}


# -- verdicts ----------------------------------------------------------------------------------


def run_suite(tree: Tree, out: Path) -> tuple[int, dict[str, dict[str, Any]]]:
    """Run the scenario suite in ``tree``; its exit code and each scenario's outcome by path."""
    artifacts = out / "verdicts" / tree.label
    argv = ["-m", "harness.cli", "run", *scenario_folders(tree.root), *SUITE_ARGS]
    done = python(tree, *argv, "--artifacts", str(artifacts))
    artifacts.mkdir(parents=True, exist_ok=True)
    (artifacts / "run.log").write_bytes(done.stdout + done.stderr)
    try:
        rows = json.loads((artifacts / "results.json").read_text())
    except (OSError, ValueError):
        rows = []
    return done.returncode, {_relative(row["path"], tree): outcome(row, tree) for row in rows}


def _relative(text: str, tree: Tree) -> str:
    return text.replace(f"{tree.root}/", "").replace(str(tree.root), ".")


def outcome(row: dict[str, Any], tree: Tree) -> dict[str, Any]:
    """What a scenario's run decided, without timings: the part that must not change."""
    verdict = _verdict(row.get("artifacts"))
    results = verdict.get("results", [])
    return {
        "status": row["status"],
        "reason": _relative(row.get("message", ""), tree) if row["status"] == "skipped" else "",
        "faults": verdict.get("faults"),
        "error": _masked(_relative(verdict.get("error") or "", tree)),
        "expectations": [
            {k: r.get(k) for k in ("kind", "line", "description", "expected", "passed")}
            for r in results
        ],
        "observed": [_masked(r.get("observed", "")) for r in results],
        "resolved": _resolved(row.get("artifacts"), tree),
    }


def _resolved(folder: str | None, tree: Tree) -> str:
    """The scenario as the runner resolved it (scenario.json), the tree's folder taken out."""
    try:
        return _relative((Path(folder or "") / "scenario.json").read_text(), tree) if folder else ""
    except OSError:
        return ""


def _verdict(folder: str | None) -> dict[str, Any]:
    try:
        return json.loads((Path(folder or "") / "verdict.json").read_text()) if folder else {}
    except (OSError, ValueError):
        return {}


def _masked(text: str) -> str:
    return _TIMES.sub("<time>", text)


def compare_outcomes(
    before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]
) -> tuple[list[str], list[str]]:
    """The scenarios whose verdict differs (or that one side lacks); those whose observations
    (times masked) or resolved scenario alone differ, which does not count."""
    differing, informational = [], []
    for key in sorted(before.keys() | after.keys()):
        a, b = before.get(key), after.get(key)
        if a is None or b is None or _judged(a) != _judged(b):
            differing.append(key)
        elif a != b:
            informational.append(key)
    return differing, informational


def _judged(outcome: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in outcome.items() if k not in INFORMATIONAL}


def outcome_diff(key: str, before: dict[str, Any] | None, after: dict[str, Any] | None) -> str:
    """A unified diff of one scenario's judged outcome (the resolved scenario left out)."""
    lines = [
        json.dumps(_judged(o), indent=1).splitlines(keepends=True) if o else []
        for o in (before, after)
    ]
    return "".join(difflib.unified_diff(*lines, f"before: {key}", f"after: {key}"))


def informational_note(key: str, before: dict[str, Any], after: dict[str, Any]) -> str:
    """One line on what differs in a scenario whose verdict is the same."""
    notes = [
        f"{field} {before[field]} -> {after[field]}"
        if field == "observed"
        else f"{field} scenario.json differs"
        for field in INFORMATIONAL
        if before[field] != after[field]
    ]
    return f"  same verdict, other {'; '.join(notes)}: {key}"


def check_verdicts(first: Tree, second: Tree, out: Path) -> tuple[bool, dict[str, Any]]:
    """Run the suite in each tree, one after the other; same when every verdict is."""
    (exit_a, a), (exit_b, b) = (run_suite(tree, out) for tree in (first, second))
    differing, informational = compare_outcomes(a, b)
    counts = {t.label: _counts(o) for t, o in ((first, a), (second, b))}
    print(
        f"verdicts: {len(a | b)} scenarios ({counts}); exit {exit_a} / {exit_b}; "
        f"{len(differing)} differing; {len(informational)} same with other observations"
    )
    for key in differing:
        print(outcome_diff(key, a.get(key), b.get(key)))
    for key in informational:
        print(informational_note(key, a[key], b[key]))
    if not a:
        print(f"verdicts: the suite gave no results (see {out}/verdicts/*/run.log)")
    report = {
        "exit": [exit_a, exit_b],
        "counts": counts,
        "differing": differing,
        "informational": informational,
    }
    return not differing and exit_a == exit_b and bool(a), report


def _counts(outcomes: dict[str, dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in outcomes.values():
        counts[item["status"]] = counts.get(item["status"], 0) + 1
    return counts


# -- benches -----------------------------------------------------------------------------------


def _seconds(done: subprocess.CompletedProcess[bytes], what: str) -> float:
    if done.returncode:
        raise BenchFailed(f"{what}: exit {done.returncode}: {done.stderr.decode()[-500:]}")
    return float(done.stdout.decode().split()[-1])


class BenchFailed(Exception):
    """A bench could not run in one of the trees: it is left out of the figures."""


def bench_imports(tree: Tree) -> dict[str, float]:
    """Milliseconds to import each module of the run path, each in a fresh interpreter."""
    figures = {}
    for module in IMPORTS:
        code = (
            f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
        )
        figures[f"import {module}"] = _seconds(python(tree, "-c", code), module) * 1000
    return figures


def bench_load(tree: Tree) -> dict[str, float]:
    """Milliseconds for the loader to read every shipped scenario (imports done beforehand)."""
    folders = scenario_folders(tree.root)
    code = (
        "import sys, time; from harness.scenario_loader import load_many; "
        "t = time.perf_counter(); load_many(sys.argv[1:]); print(time.perf_counter() - t)"
    )
    return {
        "load every shipped scenario": _seconds(python(tree, "-c", code, *folders), "load") * 1000
    }


def bench_topology(tree: Tree) -> dict[str, float]:
    """bench/topology.py's ``netns.Lab`` up + down, in milliseconds, per topology."""
    done = python(tree, "bench/topology.py", "--rounds", str(TOPOLOGY_ROUNDS))
    if done.returncode:
        raise BenchFailed(
            f"bench/topology.py: exit {done.returncode}: {done.stderr.decode()[-500:]}"
        )
    figures = {}
    for line in done.stdout.decode().splitlines()[2:]:
        *name, up, down, _ip_up, _ip_down, _ratio = line.split()
        figures[f"Lab up+down {' '.join(name)}"] = float(up) + float(down)
    return figures


BENCHES: tuple[Callable[[Tree], dict[str, float]], ...] = (
    bench_imports,
    bench_load,
    bench_topology,
)


def spread(ratios: Sequence[float]) -> tuple[float, float]:
    """The ratios' min and max: with identical code, n ratios all fall on one side of 1.0 with
    a chance of 2 / 2**n (6% at 5 runs, 1.6% at 7); an interquartile range misses 1.0 far more
    often, and would call noise a change."""
    return min(ratios), max(ratios)


def summarise(before: Sequence[float], after: Sequence[float]) -> dict[str, Any]:
    """Medians, the median of the per-round after/before ratios, its spread, and the call."""
    ratios = [b / a for a, b in zip(before, after, strict=True) if a > 0]
    low, high = spread(ratios)
    call = "within noise" if low <= 1.0 <= high else ("slower" if low > 1.0 else "faster")
    return {
        "before_ms": statistics.median(before),
        "after_ms": statistics.median(after),
        "ratio": statistics.median(ratios),
        "spread": [low, high],
        "call": call,
        "runs": len(ratios),
    }


def _complete(samples: dict[str, list[float]], runs: int) -> bool:
    return all(len(samples.get(label, ())) == runs for label in ("before", "after"))


def check_benches(first: Tree, second: Tree, runs: int) -> dict[str, Any]:
    """Every bench on both trees, interleaved (A B B A ...), after one warm-up each."""
    samples: dict[str, dict[str, list[float]]] = {}
    for bench in BENCHES:
        try:
            for tree in (first, second):
                bench(tree)
            for turn in range(runs):
                for tree in (first, second) if turn % 2 == 0 else (second, first):
                    for name, value in bench(tree).items():
                        samples.setdefault(name, {}).setdefault(tree.label, []).append(value)
        except BenchFailed as failed:
            print(f"benches: {bench.__name__} left out: {failed}")
            samples = {k: v for k, v in samples.items() if _complete(v, runs)}
    figures = {name: summarise(s["before"], s["after"]) for name, s in samples.items()}
    print(f"benches: median of {runs} interleaved runs (ms); after/before ratio [min-max]")
    for name, f in figures.items():
        low, high = f["spread"]
        print(
            f"  {name:<40}{f['before_ms']:>9.2f}{f['after_ms']:>9.2f}"
            f"{f['ratio']:>7.3f}x [{low:.3f}-{high:.3f}]  {f['call']}"
        )
    return figures


# -- command line ------------------------------------------------------------------------------


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", metavar="BEFORE_REF", help="a commit, branch or tag")
    parser.add_argument("after", metavar="AFTER_REF", nargs="?", help="default: the working tree")
    parser.add_argument("--out", type=Path, default=None, help="default: a new temporary folder")
    parser.add_argument("--runs", type=int, default=7, help="interleaved bench runs per ref")
    parser.add_argument("--skip-verdicts", action="store_true", help="no scenario suite runs")
    parser.add_argument("--skip-benches", action="store_true", help="no benches")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error(f"--runs: at least 1, not {args.runs}")
    if args.out is not None and args.out.exists() and not args.out.is_dir():
        parser.error(f"--out: {args.out} exists and is not a folder")
    return args


def compare(args: argparse.Namespace) -> int:
    for ref in (args.before, args.after):
        if ref is not None:
            resolve(ref)  # a bad ref leaves nothing behind, not even --out
    out = args.out or Path(tempfile.mkdtemp(prefix="house-out-"))
    out = out.resolve()  # the children's cwd is their tree
    out.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"before": args.before, "after": args.after or "working tree"}
    with trees(args.before, args.after) as (first, second):
        for tree in (first, second):
            check_own_code(tree)
        same, report["validate"] = check_validate(first, second, out)
        if not args.skip_verdicts:
            same_verdicts, report["verdicts"] = check_verdicts(first, second, out)
            same = same and same_verdicts
        if not args.skip_benches:
            report["benches"] = check_benches(first, second, args.runs)
    report["same"] = same
    (out / "house.json").write_text(json.dumps(report, indent=1) + "\n")
    print(f"house: {'SAME' if same else 'DIFFERENT'} ({out})")
    return 0 if same else 1


def _terminated(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    signal.signal(signal.SIGTERM, _terminated)
    try:
        return compare(args)
    except UsageError as error:
        print(f"house: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("house: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
