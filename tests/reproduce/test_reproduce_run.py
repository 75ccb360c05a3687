"""`reproduce --run`: each field failure reproduced by igmpd in real namespaces (needs root)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
import yaml

from harness.errors import ExitCode
from harness.reproduce.cli import register
from harness.reproduce.run import run_reproduction
from harness.reproduce.write import reproduce_export
from harness.runner import slow_factor

DATA = Path(__file__).parents[1] / "data" / "winevents"

pytestmark = pytest.mark.netns


@pytest.mark.parametrize(
    "sample",
    [
        "41012",
        "41019",
        "41023",
        "41024",
        "41025",
        # EADDRINUSE at request_multicast: the real cause is mrt-held, which needs the kernel's
        # multicast routing
        pytest.param("41028", marks=pytest.mark.mrt),
        "41029",
        "41030",
    ],
)
def test_each_field_event_reproduces_on_linux(sample: str, tmp_path: Path) -> None:
    (written,) = reproduce_export(DATA / f"{sample}.xml", tmp_path / "out").written
    reproduced, summary = run_reproduction(written.path, tmp_path / "artifacts", slow_factor())
    assert reproduced, summary
    assert summary.startswith("passed")


def test_a_wrong_expectation_is_reported_not_reproduced(tmp_path: Path) -> None:
    (written,) = reproduce_export(DATA / "41024.xml", tmp_path / "out").written
    document = yaml.safe_load(written.path.read_text())
    document["expect"]["events"][0]["errno"] = "ENOBUFS"  # not what its fault yields
    document["expect"]["events"][0]["within"] = "0.5s"
    written.path.write_text(yaml.safe_dump(document), encoding="utf-8")
    reproduced, summary = run_reproduction(written.path, tmp_path / "artifacts", slow_factor())
    assert not reproduced
    assert summary.startswith("failed") and "ENOBUFS" in summary


def test_run_flag_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="faultlab")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        ["reproduce", str(DATA / "mixed.xml"), "--run", "-o", str(tmp_path / "out")]
        + ["--artifacts", str(tmp_path / "artifacts")]
    )
    assert args.handler(args) == ExitCode.OK
    assert "reproduced: field 41029 EINVAL on 10.0.1.1" in capsys.readouterr().out
    nothing = tmp_path / "nothing.xml"
    nothing.write_text((DATA / "mixed.xml").read_text().replace("41029", "41099"))
    args = parser.parse_args(["reproduce", str(nothing), "--run", "-o", str(tmp_path / "o2")])
    assert args.handler(args) == ExitCode.FAILED
    assert "nothing to run" in capsys.readouterr().out


def test_enetunreach_send_never_uses_a_cause_igmpd_does_not_meet(tmp_path: Path) -> None:
    """41019 WSAENETUNREACH chose route-removed, which igmpd never meets ("observed no event
    at all"); now the first cause igmpd meets, link-down, and the description says why."""
    export = tmp_path / "enetunreach.xml"
    text = (DATA / "41019.xml").read_text()
    export.write_text(text.replace("<Binary>51270000", "<Binary>43270000"))  # 10051
    (written,) = reproduce_export(export, tmp_path / "out").written
    assert written.fault.startswith("link-down")
    assert "Not chosen: route-removed: igmpd never meets it" in written.path.read_text()
    reproduced, summary = run_reproduction(written.path, tmp_path / "artifacts", slow_factor())
    assert reproduced, summary
