"""bench/house.py, the before/after check of issue 23's moves, tells identical from different.

The comparisons are tested on made-up captures and outcomes (a differing byte, exit code, skip
reason or expectation is caught; a time in an observation is not a difference), and the
validate part runs for real between HEAD and the working tree on two scenario files, then on a
corpus file edited in one tree only, which must come out differing.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
VALID = "scenarios/permissions/no-cap-net-raw.yaml"
BAD = "tests/data/bad-scenarios/unknown-event-id.yaml"
EDITED = "tests/data/bad-scenarios/unknown-fault-kind.yaml"  # in the working tree's copy only


@pytest.fixture(scope="module")
def house() -> ModuleType:
    spec = importlib.util.spec_from_file_location("house", ROOT / "bench" / "house.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["house"] = module
    spec.loader.exec_module(module)
    return module


def _outcome(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "status": "passed",
        "reason": "",
        "faults": ["no-cap-net-raw on r1, before-start"],
        "error": "",
        "expectations": [
            {"kind": "event", "line": 26, "description": "event 41024", "expected": "41024"}
            | {"passed": True}
        ],
        "observed": ["1x, first at <time>"],
        "resolved": "{}",
    }
    return base | changes


def test_identical_captures_compare_equal(house: ModuleType) -> None:
    capture = house.Capture(2, b"", b"x.yaml:3:5: unknown event id 1\n")
    assert house.compare_captures({"x.yaml": capture}, {"x.yaml": capture}) == []


def test_a_byte_an_exit_code_or_a_missing_call_is_a_difference(house: ModuleType) -> None:
    before = {
        "a.yaml": house.Capture(2, b"", b"a.yaml:3:5: unknown event id 1\n"),
        "b.yaml": house.Capture(0, b"1 scenario file(s) valid\n", b""),
        "c.yaml": house.Capture(0, b"1 scenario file(s) valid\n", b""),
    }
    after = {
        "a.yaml": house.Capture(2, b"", b"a.yaml:3:6: unknown event id 1\n"),
        "b.yaml": house.Capture(1, b"1 scenario file(s) valid\n", b""),
    }
    assert house.compare_captures(before, after) == ["a.yaml", "b.yaml", "c.yaml"]
    diff = house.capture_diff("a.yaml", before["a.yaml"], after["a.yaml"])
    assert "-a.yaml:3:5: unknown event id 1" in diff
    assert "+a.yaml:3:6: unknown event id 1" in diff


def test_verdicts_differ_by_outcome_reason_or_expectation_not_by_time(house: ModuleType) -> None:
    failed = _outcome(status="failed")
    other_reason = _outcome(status="skipped", reason="mrt missing")
    expectation = _outcome(
        expectations=[{"kind": "event", "line": 27, "description": "event 41024"}]
    )
    before = {"a": _outcome(), "b": _outcome(), "c": _outcome(), "d": _outcome(), "e": _outcome()}
    after = {
        "a": failed,
        "b": other_reason,
        "c": expectation,
        "d": _outcome(observed=["2x, first at <time>"]),
        "e": _outcome(),
        "f": _outcome(),
    }
    differing, informational = house.compare_outcomes(before, after)
    assert differing == ["a", "b", "c", "f"]
    assert informational == ["d"]


def test_times_are_masked_in_observations(house: ModuleType) -> None:
    assert house._masked("41024 (+89 ms) then 41055 (+90.5 ms), 2 by 1.5s") == (
        "41024 (<time>) then 41055 (<time>), 2 by <time>"
    )


def test_a_spread_over_one_is_within_noise(house: ModuleType) -> None:
    assert house.summarise([10.0, 10.0, 10.0], [9.0, 10.5, 10.0])["call"] == "within noise"
    slower = house.summarise([10.0, 10.0, 10.0], [12.0, 11.0, 13.0])
    assert (slower["call"], slower["ratio"], slower["spread"]) == ("slower", 1.2, [1.1, 1.3])
    assert house.summarise([10.0, 10.0], [9.0, 8.0])["call"] == "faster"


@pytest.fixture(scope="module")
def head_and_working_tree(house: ModuleType) -> Iterator[tuple[Any, Any]]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs the git checkout (bench/house.py compares two of its refs)")
    with house.trees("HEAD", None) as pair:
        yield pair


def test_head_and_the_working_tree_validate_two_files_alike(
    house: ModuleType, head_and_working_tree: tuple[Any, Any]
) -> None:
    before, after = head_and_working_tree
    calls = [(VALID,), (BAD,)]
    captured = [house.run_validate(tree, calls) for tree in (before, after)]
    assert captured[0][BAD].exit == 2
    assert captured[0][BAD].stderr.startswith(f"{BAD}:".encode())
    assert captured[0][VALID].exit == 0
    assert house.compare_captures(*captured) == []


def test_a_file_edited_in_one_tree_validates_differently(
    house: ModuleType, head_and_working_tree: tuple[Any, Any]
) -> None:
    before, after = head_and_working_tree
    edited = after.root / EDITED
    assert not edited.is_relative_to(ROOT)
    edited.write_text("# one more line: every line number moves\n" + edited.read_text())
    captured = [house.run_validate(tree, [(EDITED,)]) for tree in (before, after)]
    assert house.compare_captures(*captured) == [EDITED]


def test_a_ref_that_names_no_commit_is_exit_2_without_traceback() -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "house.py"),
            "no-such-ref-anywhere",
            "--skip-benches",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "no-such-ref-anywhere" in done.stderr
    assert "Traceback" not in done.stderr
