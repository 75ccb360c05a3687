"""``faultlab merge`` on shard outputs made by hand: joins, names what is missing or errored,
prints a rerun command that the CLI accepts and that covers just those, refuses shards of
different runs (exit 2, naming what differs), and writes one JUnit file, report.html and
summary.md."""

from __future__ import annotations

import json
import shlex
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from harness.cli import build_parser, main
from harness.shard import Shard, only_cells
from tests.shard import fabricate


def merge(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = main(["merge", *(str(a) for a in argv)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def cells_of(explore_json: Path) -> set[tuple[str, str, str, object]]:
    data = json.loads(explore_json.read_text())
    return {
        (o["site"], o["errno"], o["outcome"].split()[0], o["recovered"])
        for r in data["routers"]
        for o in r["observations"]
    }


def rerun_line(out: str) -> list[str]:
    lines = [line for line in out.splitlines() if line.startswith("faultlab ")]
    assert len(lines) == 1, out
    return shlex.split(lines[0])


def test_complete_shards_merge_into_the_same_cells_as_one_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for index in (1, 2, 3):
        fabricate.explore_shard(tmp_path / f"s{index}", Shard(index, 3))
    fabricate.explore_shard(tmp_path / "whole", None)
    code, out, _ = merge(capsys, tmp_path / "s1", tmp_path / "s2", tmp_path / "s3",
                         "--out", tmp_path / "merged")  # fmt: skip
    assert code == 0, out
    merged = tmp_path / "merged"
    assert cells_of(merged / "explore.json") == cells_of(tmp_path / "whole" / "explore.json")
    assert len(cells_of(merged / "explore.json")) == len(fabricate.planned())
    suites = ElementTree.parse(merged / "junit.xml").getroot().findall("testsuite")
    assert sum(int(s.get("tests") or 0) for s in suites) == len(fabricate.planned())
    assert sum(int(s.get("failures") or 0) for s in suites) == 4  # the EPERM cells: silent
    page = (merged / "report.html").read_text()
    assert 'data-router="igmpd"' in page and "3 of 3 shards" in page
    summary = (merged / "summary.md").read_text()
    assert "| explore igmpd | 12 | 12 | 0 | 0 | 3 of 3 shards |" in summary


def test_a_shard_killed_half_way_is_named_rerun_and_the_second_merge_is_complete(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fabricate.explore_shard(tmp_path / "s1", Shard(1, 2))
    mine = fabricate.explore_shard(tmp_path / "s2", Shard(2, 2), ran=2, finished=False)
    lost = sorted(f.id for f in mine[2:])
    code, out, _ = merge(capsys, tmp_path / "s1", tmp_path / "s2", "--out", tmp_path / "m1",
                         "--rerun")  # fmt: skip
    assert code == 1
    for fault_id in lost:
        assert f"missing: explore igmpd: {fault_id} (shard 2/2)" in out
    argv = rerun_line(out)
    args = build_parser().parse_args(argv[1:])  # the printed command is one the CLI accepts
    assert args.command == "explore" and args.shard is None
    assert sorted(only_cells(args.only) or ()) == lost
    record = json.loads((tmp_path / "m1" / "merge.json").read_text())
    assert sorted(m["cell"] for m in record["groups"][0]["missing"]) == lost
    # the rerun's own output: unsharded, just those faults
    fabricate.explore_shard(Path(args.out), None, only=lost)
    code, out, _ = merge(capsys, tmp_path / "s1", tmp_path / "s2", args.out,
                         "--out", tmp_path / "m2", "--rerun")  # fmt: skip
    assert code == 0, out
    assert "nothing to rerun" in out
    assert len(cells_of(tmp_path / "m2" / "explore.json")) == len(fabricate.planned())


def test_a_shard_that_left_nothing_is_named_from_the_others_manifests(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fabricate.explore_shard(tmp_path / "s1", Shard(1, 3))
    fabricate.explore_shard(tmp_path / "s3", Shard(3, 3))
    code, out, _ = merge(capsys, tmp_path / "s1", tmp_path / "s3", "--out", tmp_path / "m")
    assert code == 1
    assert "2 of 3 shards (absent: 2/3)" in out
    dealt = Shard(2, 3).deal(fabricate.planned(), key=lambda f: f.id)
    for fault in dealt:
        assert f"{fault.id} (shard 2/3)" in out


def test_an_errored_cell_is_listed_and_a_later_good_run_replaces_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    faults = fabricate.planned()
    broken = faults[0].id
    fabricate.explore_shard(tmp_path / "s1", None, errors={broken: "OSError: boom"})
    code, out, _ = merge(capsys, tmp_path / "s1", "--out", tmp_path / "m1", "--rerun")
    assert code == 1 and f"errored: explore igmpd: {broken}: OSError: boom" in out
    assert only_cells(build_parser().parse_args(rerun_line(out)[1:]).only) == {broken}
    fabricate.explore_shard(tmp_path / "again", None, only=[broken])
    code, out, _ = merge(capsys, tmp_path / "s1", tmp_path / "again", "--out", tmp_path / "m2")
    assert code == 0, out


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"judge": "3"}, "different judge version: '4'"),
        ({"scenario_digest": "other"}, "different scenario"),
        ({"router_digest": "other"}, "different router"),
        ({"faultlab": "0.0.9"}, "different faultlab version"),
    ],
)
def test_shards_of_different_runs_are_refused_naming_what_differs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], changes: dict[str, str], words: str
) -> None:
    fabricate.explore_shard(tmp_path / "s1", Shard(1, 2))
    fabricate.explore_shard(tmp_path / "s2", Shard(2, 2), **changes)
    code, out, err = merge(capsys, tmp_path / "s1", tmp_path / "s2", "--out", tmp_path / "m")
    assert code == 2
    assert words in err and "s1/igmpd/shard.json" in err and "s2/igmpd/shard.json" in err
    assert "Traceback" not in err
    assert not (tmp_path / "m").exists()  # nothing half-built


def test_shards_of_different_counts_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fabricate.explore_shard(tmp_path / "s1", Shard(1, 2))
    fabricate.explore_shard(tmp_path / "s2", Shard(2, 3))
    code, _, err = merge(capsys, tmp_path / "s1", tmp_path / "s2", "--out", tmp_path / "m")
    assert code == 2 and "different shard counts: 1/2" in err


def test_a_folder_without_shard_output_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty").mkdir()
    code, _, err = merge(capsys, tmp_path / "empty", "--out", tmp_path / "m")
    assert code == 2 and "no shard.json" in err
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "shard.json").write_text("{not json")
    code, _, err = merge(capsys, tmp_path / "bad", "--out", tmp_path / "m")
    assert code == 2 and "bad/shard.json: not JSON" in err


def compare_shard(folder: Path, shard: Shard, ran: int | None = None) -> list[str]:
    from harness.shard import Manifest

    cells = [f"{r}:{s}" for r in ("igmpd", "pimd") for s in ("drop, then clear", "mrt held")]
    mine = shard.deal(sorted(cells), key=str)
    rerun = ["faultlab", "compare", "scenarios/compare", "--routers", "igmpd,pimd", "--only",
             "{cells}"]  # fmt: skip
    identity = {"scenario_digest": "s", "routers": ["igmpd", "pimd"], "kernel": "6.1.0-test"}
    Manifest("compare", str(shard), identity, cells, mine, rerun).write(folder)
    done = mine if ran is None else mine[:ran]
    rows = [
        {
            "router": c.split(":")[0],
            "scenario": c.split(":", 1)[1],
            "faults": [],
            "recovered": True,
        }  # fmt: skip
        for c in done
    ]
    (folder / "robustness.json").write_text(json.dumps(rows))
    return mine


def test_compare_shards_merge_and_a_rerun_names_cells_with_commas_through_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = compare_shard(tmp_path / "c1", Shard(1, 2), ran=0)  # its cells: "drop, then clear"
    compare_shard(tmp_path / "c2", Shard(2, 2))
    code, out, _ = merge(capsys, tmp_path / "c1", tmp_path / "c2", "--out", tmp_path / "m",
                         "--rerun")  # fmt: skip
    assert code == 1
    args = build_parser().parse_args(rerun_line(out)[1:])
    assert args.command == "compare" and args.only.startswith("@")
    assert only_cells(args.only) == set(mine)
    assert "--kernel" in rerun_line(out)  # the shards ran on 6.1.0-test, not this kernel
    assert (tmp_path / "m" / "robustness.md").is_file()
    suites = ElementTree.parse(tmp_path / "m" / "junit.xml").getroot().findall("testsuite")
    assert sum(int(s.get("errors") or 0) for s in suites) == len(mine)  # not run: an error


def run_shard(folder: Path, shard: Shard, kernels: dict[str, str], done: list[str]) -> None:
    from harness.shard import Manifest

    names = ["a scenario", "b scenario", "c scenario"]
    cells = [f"{k}:{n}" for k in kernels for n in names]
    owners = shard.owners(cells, key=str)
    mine = [c for c in cells if owners[c] == str(shard)]
    rerun = ["faultlab", "run", "scenarios", "{kernels}", "--only", "{cells}"]
    extra = {"kernels": kernels, "mine_known": True, "owners": owners}
    Manifest("run", str(shard), {"suite_digest": "d"}, cells, mine, rerun, extra).write(folder)
    for release in kernels:
        rows = [
            {
                "name": c.split(":", 1)[1],
                "path": "x.yaml",
                "step": "-",
                "cause": "none",
                "event": "-",
                "status": "passed",
                "kernel": release,
            }  # fmt: skip
            for c in mine
            if c in done and c.startswith(release + ":")
        ]
        (folder / release).mkdir(parents=True, exist_ok=True)
        (folder / release / "results.json").write_text(json.dumps(rows))
    suite = ElementTree.Element("testsuite", name="pytest", tests="1")
    ElementTree.ElementTree(suite).write(folder / "junit.xml")


def test_kernel_run_shards_merge_into_one_kernel_table_and_one_junit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kernels = {"6.18.0-host": "host", "6.1.0-guest": "6.1.0-guest"}
    every = [f"{k}:{n}" for k in kernels for n in ("a scenario", "b scenario", "c scenario")]
    run_shard(tmp_path / "r1", Shard(1, 2), kernels, every[:-1])  # guest:c is dealt to 1/2
    run_shard(tmp_path / "r2", Shard(2, 2), kernels, every)
    code, out, _ = merge(capsys, tmp_path / "r1", tmp_path / "r2", "--out", tmp_path / "m",
                         "--rerun")  # fmt: skip
    assert code == 1
    assert "missing: run: 6.1.0-guest:c scenario (shard 1/2)" in out
    argv = rerun_line(out)
    assert argv[argv.index("--kernel") + 1] == "6.1.0-guest" and argv.count("--kernel") == 1
    assert build_parser().parse_args(argv[1:]).only == "6.1.0-guest:c scenario"
    assert (tmp_path / "m" / "kernel-matrix.md").is_file()
    rows = json.loads((tmp_path / "m" / "results.json").read_text())
    assert {r["kernel"] for r in rows} == set(kernels) and len(rows) == 5
    suites = ElementTree.parse(tmp_path / "m" / "junit.xml").getroot().findall("testsuite")
    shards = sorted(p.get("value") for s in suites for p in s.iter("property"))
    assert shards == ["1/2", "2/2"]


def test_shards_that_planned_different_cells_are_merged_with_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A discovery under load can see one more call: that shard's plan and deal differ. The
    merge says so (and what to do), and names the cells no shard ran."""
    fabricate.explore_shard(tmp_path / "s1", Shard(1, 2))
    fabricate.explore_shard(tmp_path / "s2", Shard(2, 2))
    manifest = tmp_path / "s2" / "igmpd" / "shard.json"
    data = json.loads(manifest.read_text())
    from harness.explore.plan import PlannedFault
    from harness.explore.sites import CallSite

    extra = PlannedFault(CallSite("recvfrom", "", (), "e0", True, "start-up", 3, None), "EINTR")
    data["sites"].append(extra.site.to_json())
    data["faults"].append({**extra.to_json(), "expected_s": 1.0})
    data["planned"].append(extra.id)
    data["planned_digest"] = "different"
    manifest.write_text(json.dumps(data))
    code, out, _ = merge(capsys, tmp_path / "s1", tmp_path / "s2", "--out", tmp_path / "m")
    assert code == 1
    assert "the shards planned different cells" in out and "--sites" in out
    assert f"missing: explore igmpd: {extra.id}" in out
    assert "**Warning**" in (tmp_path / "m" / "summary.md").read_text()
