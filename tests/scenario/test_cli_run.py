"""`faultlab run` end to end on a fake runner: exit codes, summary, fault matrix, JUnit, shards."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness import cli, runner
from harness.errors import ExitCode
from harness.verdict import ExpectationResult, Verdict

SCENARIO = """\
name: {name}
topology:
  nodes: [r1, h1]
  links:
    - {{a: "r1:e0 10.0.1.1/24", b: "h1:e0 10.0.1.2/24"}}
router:
  node: r1
  interfaces: [e0]
faults:
  - {fault}
expect:
  events:
    - {{id: {event}, interface: e0, within: 2s}}
"""


def fake_run(scenario: Any, options: Any) -> Verdict:
    folder = options.folder(scenario)
    folder.mkdir(parents=True, exist_ok=True)
    verdict = Verdict(scenario.name, str(scenario.path), passed="broken" not in scenario.name)
    if not verdict.passed:
        verdict.results = [
            ExpectationResult("event 41028", False, "41028 on e0", "nothing", line=13)
        ]
    return verdict


@pytest.fixture
def suite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(runner, "run", fake_run)
    monkeypatch.setattr(cli, "check_environment", lambda: "root")
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "scenarios"
    folder.mkdir()
    cases = {
        "mrt-held": ("mrt held", "{kind: mrt-held}", 41028),
        "link-down": ("link down", "{kind: link-down, interface: e0}", 41019),
        "broken": ("mrt broken", "{kind: mrt-held}", 41028),
    }
    for stem, (name, fault, event) in cases.items():
        (folder / f"{stem}.yaml").write_text(SCENARIO.format(name=name, fault=fault, event=event))
    return folder


def run(*args: str) -> int:
    return cli.main(["run", "--no-progress", *args])


def test_a_failed_scenario_exits_1_and_writes_the_reports(
    suite: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(str(suite), "--artifacts", "out", "--junit-xml", "junit.xml") == ExitCode.FAILED
    out = capsys.readouterr().out
    assert "observed: nothing" in out
    assert "faultlab: 3 selected: 3 ran, 2 passed, 1 failed, 0 skipped" in out
    matrix = Path("out/fault-matrix.html").read_text()
    assert "<th>request_multicast</th>" in matrix and "<th>send</th>" in matrix
    assert "class='mixed'" in matrix and "class='passed'" in matrix  # mrt-held: one of each
    assert "href='broken/'" in matrix
    summary = Path("out/summary.md").read_text()
    assert (
        "| mrt broken | request_multicast | mrt-held | 41028 IGMPLOG_SET_MCAST_IF_FAILED | **FAIL** |"
        in summary
    )
    results = {
        row["name"]: row["status"] for row in json.loads(Path("out/results.json").read_text())
    }
    assert results == {"mrt held": "passed", "link down": "passed", "mrt broken": "failed"}
    assert 'name="mrt-broken"' in Path("junit.xml").read_text()


def test_all_passed_exits_0(suite: Path) -> None:
    assert run(str(suite), "-k", "not broken", "--artifacts", "out") == ExitCode.OK


def test_nothing_selected_is_a_usage_error_but_an_empty_shard_is_fine(suite: Path) -> None:
    assert run(str(suite), "-k", "nomatch", "--artifacts", "out") == ExitCode.USAGE
    assert run(str(suite / "mrt-held.yaml"), "--shard", "2/2", "--artifacts", "out") == ExitCode.OK


def test_shards_run_every_scenario_exactly_once(suite: Path) -> None:
    names: list[str] = []
    for index in (1, 2):
        run(str(suite), "--shard", f"{index}/2", "--artifacts", f"out{index}")
        names += [row["name"] for row in json.loads(Path(f"out{index}/results.json").read_text())]
    assert sorted(names) == ["link down", "mrt broken", "mrt held"]


def fake_skipping_run(scenario: Any, options: Any) -> Verdict:
    """Scenarios whose name says "mrt" are skipped as on a kernel without multicast routing."""
    if "mrt" in scenario.name:
        reason = "mrt missing: MRT_INIT: ENOPROTOOPT (Protocol not available)"
        return Verdict(scenario.name, str(scenario.path), passed=False, skipped_reason=reason)
    return fake_run(scenario, options)


def test_a_run_where_everything_was_skipped_exits_3_with_the_reasons_counted(
    suite: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(runner, "run", fake_skipping_run)
    assert run(str(suite), "-k", "mrt", "--artifacts", "out") == ExitCode.ENVIRONMENT
    captured = capsys.readouterr()
    assert "  2 x mrt missing: MRT_INIT: ENOPROTOOPT (Protocol not available)" in captured.out
    assert "faultlab: 2 selected: 0 ran, 0 passed, 0 failed, 2 skipped" in captured.out
    assert "every selected scenario was skipped" in captured.err


def test_some_skipped_is_still_green_unless_strict(
    suite: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(runner, "run", fake_skipping_run)
    assert run(str(suite), "--artifacts", "out") == ExitCode.OK
    assert "faultlab: 3 selected: 1 ran, 1 passed, 0 failed, 2 skipped" in capsys.readouterr().out
    assert run(str(suite), "--artifacts", "out2", "--strict") == ExitCode.FAILED
    out = capsys.readouterr().out
    assert "skipped under --strict: mrt missing" in out
    assert "faultlab: 3 selected: 3 ran, 1 passed, 2 failed, 0 skipped" in out


def test_a_suite_folder_of_any_name_is_collected(
    suite: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    team = suite.parent / "igmp-suite" / "bind"
    team.mkdir(parents=True)
    for path in suite.glob("*.yaml"):
        (team / path.name).write_text(path.read_text())
    assert run("igmp-suite", "-k", "not broken", "--artifacts", "out") == ExitCode.OK
    assert "faultlab: 2 selected: 2 ran, 2 passed" in capsys.readouterr().out
    assert {row["name"] for row in json.loads(Path("out/results.json").read_text())} == {
        "mrt held",
        "link down",
    }


def test_an_empty_selection_names_what_was_searched(
    suite: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(str(suite), "-k", "nomatch", "--artifacts", "out") == ExitCode.USAGE
    assert f"no scenario selected from {suite} (-k 'nomatch')" in capsys.readouterr().err


def fake_feature_skipping_run(scenario: Any, options: Any) -> Verdict:
    """As fake_skipping_run, with the missing feature named as the runner names it."""
    verdict = fake_skipping_run(scenario, options)
    if verdict.skipped:
        verdict.skipped_features = ("mrt",)
    return verdict


def test_strict_lets_only_the_skips_of_allowed_features_stand(
    suite: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(runner, "run", fake_feature_skipping_run)
    args = (str(suite), "--strict", "--allow-skip")
    assert run(*args, "mrt", "--artifacts", "out") == ExitCode.OK
    assert "faultlab: 3 selected: 1 ran, 1 passed, 0 failed, 2 skipped" in capsys.readouterr().out
    assert run(*args, "sysctl:net.core.optmem_max", "--artifacts", "out2") == ExitCode.FAILED
    assert "skipped under --strict: mrt missing" in capsys.readouterr().out
    monkeypatch.setattr(runner, "run", fake_skipping_run)  # a reason with no feature behind it
    assert run(*args, "mrt", "--artifacts", "out3") == ExitCode.FAILED


def test_the_runner_names_the_missing_features_only_when_they_are_the_whole_reason(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from scenario_samples import MRT_HELD

    from harness import features
    from harness.scenario_loader import load

    (tmp_path / "mrt-held.yaml").write_text(MRT_HELD)
    scenario = load(tmp_path / "mrt-held.yaml")
    mrt = features.Check("mrt", features.Status.MISSING, "MRT_INIT: ENOPROTOOPT; scenarios ...", "")
    monkeypatch.setattr(features, "unmet", lambda names: [("mrt", mrt)])
    adapter = runner.adapter_for(scenario.router)
    faults = runner._make_faults(scenario)
    reasons, features = runner._missing(scenario, adapter, faults)
    assert features == ("mrt",), "the names, never parsed out of a detail that has '; ' in it"
    assert reasons == ["mrt missing: MRT_INIT: ENOPROTOOPT; scenarios ..."]
    monkeypatch.setattr(type(adapter), "requires", lambda self, spec: ["its binary is missing"])
    reasons, features = runner._missing(scenario, adapter, faults)
    assert features == () and "its binary is missing" in reasons
