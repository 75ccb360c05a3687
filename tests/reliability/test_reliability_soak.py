"""Issue 6.5, the soak (tests/reliability/soak.py): every verdict change is reported, exit 1."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import soak
from reliability_helpers import scenario_text

SOAK = Path(soak.__file__)


def _junit(path: Path, cases: dict[str, str]) -> Path:
    """A pytest-style JUnit file: name -> passed | failed | error | skipped."""
    body = ""
    for name, verdict in cases.items():
        inner = {
            "passed": "",
            "failed": '<failure message="x">x</failure>',
            "error": '<error message="x">x</error>',
            "skipped": '<skipped message="x" />',
        }[verdict]
        body += (
            f'<testcase classname="scenarios.s.yaml" name="{name}" time="0.5">{inner}</testcase>'
        )
    path.write_text(f'<?xml version="1.0"?><testsuites><testsuite>{body}</testsuite></testsuites>')
    return path


def test_a_verdict_that_changed_once_in_twenty_rounds_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rounds = []
    for index in range(20):
        flaky = "failed" if index == 13 else "passed"
        cases = {"steady": "passed", "flaky": flaky, "skipped-always": "skipped"}
        rounds.append(soak.junit_verdicts(_junit(tmp_path / f"{index}.xml", cases)))
    found = soak.histories(rounds)
    assert [h.key for h in found if h.flaky] == ["scenarios.s.yaml::flaky"]
    assert soak.report(found, [], tmp_path) == 1
    out = capsys.readouterr().out
    assert "verdict changed (1):" in out
    assert "scenarios.s.yaml::flaky" in out and "passed 19x, failed 1x" in out
    assert "steady" not in out.split("verdict changed")[1]


def test_a_scenario_missing_from_a_round_counts_as_changed(tmp_path: Path) -> None:
    first = soak.junit_verdicts(_junit(tmp_path / "1.xml", {"a": "passed", "b": "passed"}))
    second = soak.junit_verdicts(_junit(tmp_path / "2.xml", {"a": "passed"}))
    assert [h.key for h in soak.histories([first, second]) if h.flaky] == ["scenarios.s.yaml::b"]


def test_steady_rounds_and_an_unchanged_host_exit_0(tmp_path: Path) -> None:
    rounds = [soak.junit_verdicts(_junit(tmp_path / f"{i}.xml", {"a": "passed"})) for i in "12"]
    assert soak.report(soak.histories(rounds), [], tmp_path) == 0
    assert soak.report(soak.histories(rounds), ["links: + name=flx"], tmp_path) == 1


def test_always_failing_is_reported_apart_from_flaky(tmp_path: Path) -> None:
    rounds = [soak.junit_verdicts(_junit(tmp_path / f"{i}.xml", {"a": "error"})) for i in "12"]
    found = soak.histories(rounds)
    assert not found[0].flaky and found[0].always_failed
    assert soak.report(found, [], tmp_path) == 1


@pytest.mark.netns
@pytest.mark.slow
def test_the_soak_runs_a_real_suite_with_two_workers(tmp_path: Path) -> None:
    suite = tmp_path / "scenarios"
    suite.mkdir()
    (suite / "a.yaml").write_text(scenario_text("soak a"))
    (suite / "b.yaml").write_text(scenario_text("soak b"))
    result = subprocess.run(
        [sys.executable, str(SOAK), "--rounds", "2", "--out", str(tmp_path / "out"), str(suite)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "round 2/2: 2 scenario(s), 0 failed" in result.stdout
    assert "no verdict changed; the host's network is unchanged" in result.stdout
    assert len(list((tmp_path / "out").glob("round-*.xml"))) == 2
