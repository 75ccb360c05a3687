"""`faultlab reproduce` and `faultlab events` as a user runs them (python -m harness.cli)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).parents[1] / "data" / "winevents"
MALFORMED = DATA / "malformed"


def faultlab(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_reproduce_writes_to_reproduced_by_default(tmp_path: Path) -> None:
    done = faultlab("reproduce", str(DATA / "several.xml"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "reproduced").iterdir()) == [
        "41019-e1-EADDRNOTAVAIL.yaml",
        "41028-e0-EADDRINUSE.yaml",
        "41028-e1-ENOBUFS.yaml",
        "41029-e1-EADDRINUSE.yaml",
    ]
    assert "4 scenario(s) written" in done.stdout
    assert "5 event(s) not mapped" in done.stdout
    assert "10060 (0x274C) has no Linux equivalent" in done.stdout


def test_reproduce_output_dir_and_mixed_export(tmp_path: Path) -> None:
    done = faultlab("reproduce", str(DATA / "mixed.csv"), "-o", "out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert len(list((tmp_path / "out").iterdir())) == 2
    assert "'Service Control Manager' is not the IGMPv2 router" in done.stdout


@pytest.mark.parametrize(
    "name", ["truncated.xml", "bad-eventid.csv", "entities.xml", "not-an-export.txt"]
)
def test_malformed_export_exits_2_with_the_place_and_no_traceback(
    name: str, tmp_path: Path
) -> None:
    done = faultlab("reproduce", str(MALFORMED / name), cwd=tmp_path)
    assert done.returncode == 2
    assert f"{MALFORMED / name}:" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "reproduced").exists()


def test_missing_export_exits_2(tmp_path: Path) -> None:
    done = faultlab("reproduce", str(tmp_path / "nope.xml"), cwd=tmp_path)
    assert done.returncode == 2
    assert "cannot read the export" in done.stderr


def test_events_windows_xml_of_a_run_reads_back(tmp_path: Path) -> None:
    run = tmp_path / "artifacts" / "one"
    run.mkdir(parents=True)
    record = {
        "time": "2026-11-25T14:30:01.123456+00:00",
        "id": 41028,
        "symbol": "IGMPLOG_SET_MCAST_IF_FAILED",
        "level": "Error",
        "interface": "e0",
        "strings": ["10.0.1.1"],
        "errno": 98,
        "errno_name": "EADDRINUSE",
        "winsock": 10048,
    }
    (run / "events.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")
    done = faultlab("events", "--format", "windows-xml", "artifacts", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "<Binary>40270000</Binary>" in done.stdout
    (tmp_path / "linux.xml").write_text(done.stdout, encoding="utf-8")
    back = faultlab("reproduce", "linux.xml", cwd=tmp_path)
    assert back.returncode == 0, back.stderr
    assert (tmp_path / "reproduced" / "41028-e0-EADDRINUSE.yaml").exists()


def test_events_without_a_log_exits_2(tmp_path: Path) -> None:
    done = faultlab("events", "--format", "json", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 2
    assert "no event log" in done.stderr
