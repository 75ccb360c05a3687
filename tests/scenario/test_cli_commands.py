"""The faultlab command: exit codes and output of validate, list, catalog, schema, run's checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness import cli
from harness.errors import EnvironmentProblem, ExitCode

CORPUS = Path(__file__).parents[1] / "data" / "bad-scenarios"
GOOD = """\
name: {name}
tags: [bind-conflicts]
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


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    folder = tmp_path / "scenarios"
    (folder / "bind").mkdir(parents=True)
    (folder / "bind" / "mrt-held.yaml").write_text(GOOD.format(name="mrt held"))
    (folder / "other.yaml").write_text(GOOD.format(name="other"))
    return folder


def test_validate_a_good_suite_exits_0(suite: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["validate", str(suite)]) == ExitCode.OK
    assert "2 scenario file(s) valid" in capsys.readouterr().out


def test_validate_a_bad_file_exits_2_with_one_line_per_problem(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = CORPUS / "unknown-fault-kind.yaml"
    assert cli.main(["validate", str(path)]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert err.startswith(
        f"{path}:14:11: faults[0].kind: 'mrt-hold' is not a fault kind; did you mean 'mrt-held'?"
    )


def test_validate_a_missing_path_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["validate", str(tmp_path / "nope")]) == ExitCode.USAGE
    assert "no such file or directory" in capsys.readouterr().err


def test_an_unknown_command_or_flag_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["frobnicate"]) == ExitCode.USAGE
    assert cli.main(["run", "--bogus"]) == ExitCode.USAGE
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err


def test_list_shows_fault_step_event_and_cause(
    suite: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["list", str(suite)]) == ExitCode.OK
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["scenario", "file", "fault", "step", "expected", "event", "cause"]
    row = next(line for line in lines if line.startswith("mrt held"))
    assert (
        "mrt-held" in row
        and "request_multicast" in row
        and "41028 IGMPLOG_SET_MCAST_IF_FAILED" in row
    )
    assert "MRT" in row  # the fault table's cause


def test_list_faults_lists_every_kind(capsys: pytest.CaptureFixture[str]) -> None:
    from harness.faults import FAULT_KINDS

    assert cli.main(["list", "--faults"]) == ExitCode.OK
    kinds = {line.split()[0] for line in capsys.readouterr().out.splitlines()[1:]}
    assert kinds == set(FAULT_KINDS)


def test_catalog_lists_the_events(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["catalog"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert "41028  IGMPLOG_SET_MCAST_IF_FAILED" in out and "request_multicast" in out
    assert cli.main(["catalog", "--errno"]) == ExitCode.OK
    assert ["EADDRINUSE", "98", "10048"] in [
        line.split() for line in capsys.readouterr().out.splitlines()
    ]


def test_schema_prints_the_shipped_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["schema"]) == ExitCode.OK
    printed = json.loads(capsys.readouterr().out)
    shipped = json.loads((Path(cli.__file__).parent / "schema.json").read_text())
    assert printed == shipped


def test_run_exits_3_when_the_host_cannot_run_scenarios(
    suite: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refuse() -> str:
        raise EnvironmentProblem("cannot create network namespaces: not root (uid 1000)")

    monkeypatch.setattr(cli, "check_environment", refuse)
    assert cli.main(["run", str(suite)]) == ExitCode.ENVIRONMENT
    assert (
        capsys.readouterr().err
        == "faultlab: cannot create network namespaces: not root (uid 1000)\n"
    )


def test_check_environment_names_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    from harness import rootless

    monkeypatch.setattr(rootless, "identity", lambda: rootless.Identity(1000, 1000, False))
    monkeypatch.setattr(rootless, "userns_blocker", lambda: "user.max_user_namespaces is 0")
    with pytest.raises(EnvironmentProblem, match="not root .* user.max_user_namespaces is 0"):
        cli.check_environment()


def test_run_checks_input_before_the_environment(
    monkeypatch: pytest.MonkeyPatch, suite: Path
) -> None:
    def must_not_be_called() -> str:
        raise AssertionError("the environment was checked before the input")

    monkeypatch.setattr(cli, "check_environment", must_not_be_called)
    assert cli.main(["run", str(CORPUS / "deadline-zero.yaml")]) == ExitCode.USAGE
    assert cli.main(["run", "--shard", "3/2", str(suite)]) == ExitCode.USAGE
    assert cli.main(["run", "--slow", "0", str(suite)]) == ExitCode.USAGE
