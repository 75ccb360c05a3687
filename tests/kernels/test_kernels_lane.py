"""The kernel lane: which scenarios and tests only the other kernel can tell, given the doctor's
answers on both kernels (fakes here: no guest boots)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from harness import requirements
from harness.kernellab import ci, lane
from harness.scenario_loader import load_named

ROOT = Path(__file__).resolve().parents[2]
HOST = {"netns": "ok", "veth": "ok", "mrt": "missing", "sysctl:net.core.optmem_max": "ok"}
GUEST = {"netns": "ok", "veth": "ok", "mrt": "ok", "sysctl:net.core.optmem_max": "missing"}
SUITE = [
    ("a-plain.yaml", ["netns", "veth"]),
    ("b-mrt.yaml", ["netns", "mrt"]),
    ("c-optmem.yaml", ["netns", "sysctl:net.core.optmem_max"]),
    ("d-router.yaml", ["netns", "router:pimd"]),
]


def test_the_lane_picks_what_differs_and_nothing_else() -> None:
    chosen = lane.plan(
        SUITE, {**HOST, "router:pimd": "missing"}, {**GUEST, "router:pimd": "missing"}
    )
    assert chosen.scenarios == {
        "b-mrt.yaml": ["mrt"],
        "c-optmem.yaml": ["sysctl:net.core.optmem_max"],
    }
    assert chosen.allow_skip == ["sysctl:net.core.optmem_max"], "ok here, skipped there"
    assert chosen.markers == ["mrt"], "tests of a feature only the guest has"
    assert chosen.differing == {
        "mrt": ["missing", "ok"],
        "sysctl:net.core.optmem_max": ["ok", "missing"],
    }
    assert "2 of 4 scenarios" in chosen.summary() and "-m 'mrt'" in chosen.summary()


def test_a_degraded_feature_counts_as_short() -> None:
    chosen = lane.plan(SUITE, {"mrt": "degraded", "netns": "ok"}, {"mrt": "ok", "netns": "ok"})
    assert set(chosen.scenarios) == {"b-mrt.yaml"}
    assert chosen.differing == {"mrt": ["degraded", "ok"]}


def test_when_nothing_differs_the_lane_runs_nothing() -> None:
    chosen = lane.plan(SUITE, HOST, HOST)
    assert (chosen.scenarios, chosen.allow_skip, chosen.markers) == ({}, [], [])
    assert chosen.mark_expression() == ""


def test_a_feature_only_the_host_has_runs_no_tests_there() -> None:
    chosen = lane.plan(SUITE, GUEST, HOST)  # the guest lacks mrt: its tests would only skip
    assert chosen.markers == [] and chosen.allow_skip == ["mrt"]


def test_everything_runs_the_whole_suite_with_the_same_allowances() -> None:
    chosen = lane.plan(SUITE, HOST, GUEST, everything=True)
    assert list(chosen.scenarios) == [path for path, _ in SUITE]
    assert chosen.scenarios["a-plain.yaml"] == []
    assert chosen.allow_skip == ["sysctl:net.core.optmem_max"] and chosen.markers == ["mrt"]


def test_on_the_real_suite_every_scenario_that_needs_mrt_is_in_the_lane() -> None:
    """The coverage promise of plain ``tox``: what the host skips for mrt runs in the guest."""
    suite = lane.suite_features([str(ROOT / "scenarios")], "not compare")
    chosen = lane.plan(suite, HOST, GUEST)
    needs_mrt = {path for path, features in suite if "mrt" in features}
    needs_optmem = {path for path, features in suite if "sysctl:net.core.optmem_max" in features}
    assert needs_mrt and needs_optmem
    assert set(chosen.scenarios) == needs_mrt | needs_optmem
    assert len(chosen.scenarios) < len(suite) / 4, "a lane, not the suite"
    every = load_named([str(ROOT / "scenarios")])
    compare = {str(s.path.resolve()) for s in every if "compare" in s.tags}
    assert compare and not compare & {path for path, _ in suite}, "-m 'not compare' applies"
    mrt_anywhere = {str(s.path.resolve()) for s in every if "mrt" in requirements.features(s)}
    assert mrt_anywhere - compare <= set(chosen.scenarios)


def test_the_mrt_marker_is_declared_and_carried_by_tests() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    for marker in lane.TEST_MARKERS.values():
        assert f'"{marker}: ' in text
        assert any(
            f"mark.{marker}" in path.read_text() for path in (ROOT / "tests").rglob("test_*.py")
        )


def _given(tmp_path: Path) -> Path:
    host = tmp_path / "host.json"
    tests = {"mrt": ["t/test_a.py", "t/test_b.py"]}
    host.write_text(json.dumps({"features": HOST, "suite": SUITE, "tests": tests}))
    return host


class FakeProcess:
    """A started job: its argv is recorded, it ends at once with ``code``."""

    def __init__(self, argv: list[str], code: int, stdout: object) -> None:
        self.argv, self.code = argv, code
        stdout.write(b"output of " + argv[2].encode() + b"\n")  # type: ignore[attr-defined]

    def wait(self) -> int:
        return self.code


def _fake_jobs(monkeypatch: pytest.MonkeyPatch, codes: dict[str, int]) -> list[list[str]]:
    started: list[list[str]] = []

    def popen(argv: list[str], stdout: object, stderr: object) -> FakeProcess:
        started.append(argv)
        return FakeProcess(argv, codes.get(argv[2], 0), stdout)

    monkeypatch.setattr(lane, "statuses", lambda features: GUEST)
    monkeypatch.setattr(lane.subprocess, "Popen", popen)
    monkeypatch.setattr("harness.features.share_checks", lambda: None)
    return started


def test_the_lane_in_the_guest_asks_its_doctor_runs_the_choice_and_writes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FAULTLAB_SLOW", "17")
    started = _fake_jobs(monkeypatch, {})
    out = tmp_path / "out"
    assert lane.main(["--host", str(_given(tmp_path)), "--out", str(out)]) == 0
    run, tests = started  # both started before either was waited for
    assert run[1:4] == ["-m", "harness.cli", "run"]
    assert run[4:6] == ["b-mrt.yaml", "c-optmem.yaml"] and "a-plain.yaml" not in run
    assert run[run.index("--allow-skip") + 1] == "sysctl:net.core.optmem_max"
    assert "--strict" in run and run[run.index("--slow") + 1] == "25.5", "17 x 1.5 beside tests"
    assert run[run.index("-n") + 1] == "0", "the lane's scenarios run beside the tests"
    assert tests[1:3] == ["-m", "pytest"] and tests[tests.index("-m", 3) + 1] == "mrt"
    assert tests[3:5] == ["t/test_a.py", "t/test_b.py"], "only the files the host collected"
    written = json.loads((out / lane.LANE_NAME).read_text())
    assert written["markers"] == ["mrt"] and written["total"] == 4
    assert set(written["seconds"]) == {"plan", "scenarios", "tests"}
    assert "output of harness.cli" in capsys.readouterr().out, "each job's log is printed"


def test_a_failing_scenario_run_fails_the_lane(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_jobs(monkeypatch, {"harness.cli": 1})
    assert lane.main(["--host", str(_given(tmp_path)), "--out", str(tmp_path / "out")]) == 1


def test_a_sharded_lane_forwards_the_shard_and_runs_the_tests_in_shard_1_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for shard, jobs in (("1/2", 2), ("2/2", 1)):
        started = _fake_jobs(monkeypatch, {})
        argv = ["--host", str(_given(tmp_path)), "--out", str(tmp_path / shard[0])]
        assert lane.main([*argv, "--everything", "-n", "2", "--shard", shard]) == 0
        assert len(started) == jobs
        assert started[0][started[0].index("--shard") + 1] == shard
        assert started[0][4:8] == [path for path, _ in SUITE], "--everything: the whole suite"


def test_the_host_boots_one_guest_with_the_lane_and_its_own_statuses(tmp_path: Path) -> None:
    args = ci.argparse.Namespace(
        markexpr="not compare", workers=None, everything=True, paths=["scenarios"], shard="2/3"
    )
    argv = ci.lane_argv(args, tmp_path / "host-features.json")
    assert argv[:3] == [sys.executable, "-m", "harness.kernellab.lane"]
    assert argv[argv.index("--host") + 1] == str(tmp_path / "host-features.json")
    assert argv[argv.index("--out") + 1] == "@OUT@" and "--everything" in argv
    assert argv[argv.index("--shard") + 1] == "2/3"
    assert argv[argv.index("-n") + 1] == "2", "the whole suite: 2 workers"
    args.everything = False
    assert ci.lane_argv(args, tmp_path / "h.json")[argv.index("-n") + 1] == "0"


def test_the_whole_suite_on_the_other_kernel_is_a_tox_env_and_a_ci_matrix_job() -> None:
    import configparser

    import yaml

    tox = configparser.ConfigParser(interpolation=None)
    tox.read(ROOT / "tox.ini")
    assert "kernels" in tox["tox"]["env_list"] and "kernels-full" not in tox["tox"]["env_list"]
    assert "--everything" in tox["testenv:kernels-full"]["commands"]
    assert "--everything" not in tox["testenv:kernels"]["commands"]
    github = yaml.safe_load((ROOT / "ci/github/faultlab.yml").read_text())["jobs"]["kernels-full"]
    shards = github["strategy"]["matrix"]["shard"]
    assert shards == list(range(1, len(shards) + 1)) and github["strategy"]["fail-fast"] is False
    runs = " ".join(step.get("run", "") for step in github["steps"])
    assert "tox run -e kernels-full --notest" in runs
    assert f"--everything --shard ${{{{ matrix.shard }}}}/{len(shards)}" in runs
    gitlab = yaml.safe_load((ROOT / "ci/gitlab/.gitlab-ci.yml").read_text())["kernels-full"]
    script = " ".join(gitlab["script"])
    assert gitlab["parallel"] >= 2 and '--shard "$CI_NODE_INDEX/$CI_NODE_TOTAL"' in script


def test_the_host_collects_the_files_of_the_marked_tests_for_the_guest(tmp_path: Path) -> None:
    files = lane.marked_test_files(ROOT / "tests", "mrt")
    assert str(ROOT / "tests/igmpd/test_igmpd_unalerted.py") in files
    assert str(ROOT / "tests/kernels/test_kernels_lane.py") not in files
