"""The pytest plugin, driven end to end with pytester and a fake runner (no root needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

SCENARIO = """\
name: {name}
tags: [{tag}]
topology:
  nodes: [r1, h1]
  links:
    - {{a: "r1:e0 10.0.1.1/24", b: "h1:e0 10.0.1.2/24"}}
router:
  node: r1
  interfaces: [e0]
faults:
  - kind: mrt-held
expect:
  events:
    - {{id: 41028, errno: EADDRINUSE, interface: e0, within: 2s}}
"""

ALL_IDS = [
    "scenarios/send-skip.yaml::send-skip",
    "scenarios/bind/mrt-fail.yaml::mrt-fail",
    "scenarios/bind/mrt-pass.yaml::mrt-pass",
]

# The fake runner: the verdict depends on the scenario's name; it records what it was given.
CONFTEST = """
import json
from harness import runner
from harness.verdict import ExpectationResult, TimelineEntry, Verdict

_real_run = runner.run


def fake_run(scenario, options):
    folder = options.folder(scenario)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "router.stderr").write_text("igmpd: MRT_INIT failed\\n")
    (folder / "calls.json").write_text(json.dumps({"slow": options.slow, "folder": str(folder)}))
    verdict = Verdict(scenario.name, str(scenario.path), passed="pass" in scenario.name, started_at=10.0)
    if "skip" in scenario.name:
        verdict.skipped_reason = "nftables over netlink is missing here"
    if "fail" in scenario.name:
        expectation = scenario.expect.events[0]
        verdict.results = [ExpectationResult(expectation.describe(), False, "41028 on e0 EADDRINUSE",
                           "41028 on e0 with ENOBUFS", line=expectation.line, at=10.5)]
        verdict.entries = [TimelineEntry(10.0, "router", "started igmpd"),
                           TimelineEntry(10.4, "event", "41028 IGMPLOG_SET_MCAST_IF_FAILED e0 ENOBUFS")]
        verdict.faults = [f.describe() for f in scenario.faults]
    return verdict


def pytest_configure(config):
    runner.run = fake_run


def pytest_unconfigure(config):
    runner.run = _real_run
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST)
    folder = pytester.path / "scenarios"
    (folder / "bind").mkdir(parents=True)
    (folder / "bind" / "mrt-pass.yaml").write_text(
        SCENARIO.format(name="mrt pass", tag="bind-conflicts")
    )
    (folder / "bind" / "mrt-fail.yaml").write_text(
        SCENARIO.format(name="mrt fail", tag="bind-conflicts")
    )
    (folder / "send-skip.yaml").write_text(SCENARIO.format(name="send skip", tag="send-errors"))
    data = pytester.path / "data"
    data.mkdir()
    (data / "config.yaml").write_text("just: some yaml\n")
    return pytester


def test_each_scenario_is_one_test_and_other_yaml_is_left_alone(suite: pytest.Pytester) -> None:
    result = suite.runpytest("--collect-only", "-q")
    collected = {line for line in result.stdout.lines if "::" in line}
    assert collected == set(ALL_IDS)
    assert "config.yaml" not in result.stdout.str()
    assert result.ret == 0


def test_outcomes_pass_fail_and_skip_with_reason(suite: pytest.Pytester) -> None:
    result = suite.runpytest("-rs")
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    result.stdout.fnmatch_lines(["*SKIPPED*send-skip.yaml: nftables over netlink is missing here*"])


def test_a_failure_shows_expected_observed_and_a_timeline(suite: pytest.Pytester) -> None:
    result = suite.runpytest("-k", "fail")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*mrt fail*FAILED*",
            "  x event 41028 IGMPLOG_SET_MCAST_IF_FAILED on e0 errno EADDRINUSE*mrt-fail.yaml:14]",
            "      expected: 41028 on e0 EADDRINUSE",
            "      observed: 41028 on e0 with ENOBUFS",
            "  faults: mrt-held on r1, before-start",
            "*timeline*",
            "*+400.0 ms  event*41028 IGMPLOG_SET_MCAST_IF_FAILED e0 ENOBUFS",
            "*router stderr*",
            "igmpd: MRT_INIT failed",
        ]
    )
    assert "def runtest" not in result.stdout.str()  # evidence, not a traceback


def test_k_and_m_select_scenarios_with_strict_markers(suite: pytest.Pytester) -> None:
    result = suite.runpytest("-m", "bind-conflicts", "--strict-markers", "-k", "not fail")
    result.assert_outcomes(passed=1)


def test_a_bad_scenario_is_a_collection_error_at_its_line(suite: pytest.Pytester) -> None:
    bad = suite.path / "scenarios" / "bad.yaml"
    bad.write_text(SCENARIO.format(name="bad", tag="x").replace("kind: mrt-held", "kind: mrt-hold"))
    result = suite.runpytest("--collect-only")
    output = result.stdout.str()
    assert (
        f"{bad}:11:11: faults[0].kind: 'mrt-hold' is not a fault kind; did you mean 'mrt-held'?"
        in output
    )
    assert "Traceback" not in output and "def collect" not in output
    assert result.ret == pytest.ExitCode.INTERRUPTED


def test_shards_split_the_suite(suite: pytest.Pytester) -> None:
    seen: list[str] = []
    for index in (1, 2):
        result = suite.runpytest("--collect-only", "-q", "--shard", f"{index}/2")
        seen += [line for line in result.stdout.lines if "::" in line]
    assert sorted(seen) == sorted(ALL_IDS)


def test_artifacts_folder_and_slow_factor_reach_the_runner(suite: pytest.Pytester) -> None:
    import json

    root = suite.path / "out"
    result = suite.runpytest("-k", "pass", "--artifacts", str(root), "--slow", "3")
    result.assert_outcomes(passed=1)
    calls = json.loads((root / "bind" / "mrt-pass" / "calls.json").read_text())
    assert calls == {"slow": 3.0, "folder": str(root / "bind" / "mrt-pass")}


def test_bad_plugin_options_are_usage_errors(suite: pytest.Pytester) -> None:
    assert suite.runpytest("--shard", "3/2").ret == pytest.ExitCode.USAGE_ERROR
    assert suite.runpytest("--slow", "-1").ret == pytest.ExitCode.USAGE_ERROR


def test_junit_xml_names_each_scenario(suite: pytest.Pytester) -> None:
    suite.runpytest("--junit-xml", "junit.xml")
    xml = (suite.path / "junit.xml").read_text()
    for name in ("mrt-pass", "mrt-fail", "send-skip"):
        assert f'name="{name}"' in xml


def test_xdist_workers_share_one_run_folder(suite: pytest.Pytester, tmp_path: Path) -> None:
    pytest.importorskip("xdist")
    result = suite.runpytest_subprocess("-n", "2", "-p", "xdist")
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    runs = list((suite.path / "artifacts").iterdir())
    assert len(runs) == 1  # one run id for controller and workers
    assert (runs[0] / "bind" / "mrt-pass" / "calls.json").is_file()
    assert (runs[0] / "bind" / "mrt-fail" / "calls.json").is_file()
