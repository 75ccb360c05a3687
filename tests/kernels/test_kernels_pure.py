"""Kernel resolution, the stretch factor, stamping and the kernel x scenario table (no guest)."""

from __future__ import annotations

import json
import os
import struct
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from harness.errors import ExitCode, InputError
from harness.kernellab import commands, kernels, stamp, stretch, table


def _bzimage(path: Path, version: str) -> Path:
    """A file with an x86 boot header whose version pointer names ``version``."""
    data = bytearray(0x1000)
    data[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", data, 0x20E, 0x400 - 0x200)
    data[0x400 : 0x400 + len(version)] = version.encode()
    path.write_bytes(bytes(data))
    return path


def test_the_release_comes_from_the_image_not_its_name(tmp_path: Path) -> None:
    image = _bzimage(tmp_path / "renamed", "6.1.0-57-amd64 (debian-kernel@lists) #1 SMP")
    assert kernels.resolve(str(image)) == kernels.Kernel(str(image), "6.1.0-57-amd64", image)


def test_releases_under_boot_by_name_or_unique_prefix(tmp_path: Path) -> None:
    for release in ("6.1.0-57-amd64", "6.12.1-1-amd64"):
        _bzimage(tmp_path / f"vmlinuz-{release}", release)
    assert kernels.resolve("6.1.0-57-amd64", tmp_path).release == "6.1.0-57-amd64"
    assert kernels.resolve("6.12", tmp_path).release == "6.12.1-1-amd64"
    with pytest.raises(InputError, match="ambiguous, matches 6.1.0-57-amd64, 6.12.1-1-amd64"):
        kernels.resolve("6.1", tmp_path)
    with pytest.raises(InputError, match="valid: host, 6.1.0-57-amd64, 6.12.1-1-amd64"):
        kernels.resolve("5.10", tmp_path)
    assert kernels.newest_debian(tmp_path).release == "6.12.1-1-amd64"


def test_host_is_native_and_a_release_twice_is_refused(tmp_path: Path) -> None:
    assert kernels.resolve("host") == kernels.Kernel("host", os.uname().release)
    assert kernels.resolve("host").native
    with pytest.raises(InputError, match="given twice"):
        kernels.resolve_all(["host", "host"], tmp_path)


def test_an_empty_boot_says_how_to_install_a_kernel(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="install-kernel-lab.sh"):
        kernels.resolve("6.1", tmp_path)


def test_the_stretch_factor_follows_the_python_slowdown() -> None:
    host = stretch.Timing(loop=0.02, spawn=0.03)
    assert stretch.factor(host, stretch.Timing(loop=0.021, spawn=0.5)) == 1.0
    assert stretch.factor(host, stretch.Timing(loop=0.26, spawn=3.0)) == 16.0


def test_the_exit_code_of_several_kernels_is_the_worst() -> None:
    assert commands.worst([0, 1, 3]) == ExitCode.ENVIRONMENT
    assert commands.worst([0, 2, 3]) == ExitCode.USAGE
    assert commands.worst([0, 0]) == ExitCode.OK
    assert commands.worst([1, 130]) == 130


def _run_folder(folder: Path) -> None:
    folder.mkdir()
    (folder / "results.json").write_text(json.dumps([{"name": "a", "status": "passed"}]))
    (folder / "fault-matrix.html").write_text("<html><title>m</title><h1>m</h1>\n<p>x</p>")
    (folder / "summary.md").write_text("# summary\n")
    (folder / "junit.xml").write_text("<testsuites><testsuite name='pytest'/></testsuites>")


def test_every_output_names_its_kernel_and_stamping_twice_changes_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    _run_folder(folder)
    for _ in range(2):
        stamp.stamp_run(folder, "6.1.0-57-amd64", folder / "junit.xml")
    assert json.loads((folder / "results.json").read_text())[0]["kernel"] == "6.1.0-57-amd64"
    assert (folder / "fault-matrix.html").read_text().count("kernel: 6.1.0-57-amd64") == 1
    assert (folder / "summary.md").read_text().startswith("kernel: `6.1.0-57-amd64`\n\n# sum")
    suite = ElementTree.parse(folder / "junit.xml").getroot().find("testsuite")
    assert [(p.get("name"), p.get("value")) for p in suite.iter("property")] == [
        ("kernel", "6.1.0-57-amd64")
    ]


def test_the_table_marks_the_scenarios_whose_verdict_differs(tmp_path: Path) -> None:
    verdicts = {
        "6.18.44": {"optmem-max": "passed", "mrt-held": "skipped"},
        "6.1.0-57-amd64": {"optmem-max": "skipped", "mrt-held": "passed", "only-here": "passed"},
    }
    markdown, page = table.write(verdicts, tmp_path)
    lines = markdown.read_text().splitlines()
    assert "3 of 3 scenarios differ" in lines[2]
    assert "| only-here | - | passed | **differs** |" in lines
    assert "| optmem-max | passed | skipped | **differs** |" in lines
    assert page.read_text().count("<tr class='differs'>") == 3
    same = {"a": {"x": "passed"}, "b": {"x": "passed"}}
    assert "**differs**" not in table.render_markdown(same)


def test_the_kernel_table_is_a_section_of_the_run_report(tmp_path: Path) -> None:
    verdicts = {
        "6.18.44": {"optmem-max": "passed", "mrt-held": "skipped"},
        "6.1.0-57-amd64": {"optmem-max": "skipped", "mrt-held": "passed"},
    }
    report = table.write_report(verdicts, tmp_path).read_text()
    assert "Scenario verdicts per kernel" in report and "2 of 2 scenarios differ" in report
    assert "<a href='6.1.0-57-amd64/report.html'>" in report
    assert "6.18.44, 6.1.0-57-amd64" in report  # the overview names both kernels


def test_a_kernel_that_ran_nothing_does_not_make_every_scenario_differ(tmp_path: Path) -> None:
    verdicts = {"6.18.44": {"a": "passed", "b": "skipped"}, "6.1.0-57-amd64": {}}
    markdown = table.render_markdown(verdicts)
    assert "0 of 2 scenarios differ" in markdown and "**differs**" not in markdown


def test_explore_runs_in_the_guest_with_every_option_and_its_folders_writable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness.cli import main

    seen: dict[str, object] = {}

    def guest(kernel, argv, dest, slow, rwdirs, host):  # type: ignore[no-untyped-def]
        seen.update(argv=argv, dest=dest, slow=slow, rwdirs=rwdirs)
        return 0, {"release": kernel.release, "accel": "tcg", "returncode": 0, "stretch": 17}

    guest_kernel = kernels.Kernel("/boot/vmlinuz-9.9.9", "9.9.9", Path("/boot/vmlinuz-9.9.9"))
    monkeypatch.setattr(commands, "_guest", guest)
    monkeypatch.setattr(commands, "resolve_all", lambda names: [guest_kernel])
    monkeypatch.setattr(stretch, "measure", lambda: stretch.Timing(loop=0.02, spawn=0.03))
    out, pinned = tmp_path / "out", tmp_path / "pinned"
    scenario = Path(__file__).parents[1] / "explore/data/routers.yaml"
    code = main(
        [
            "explore", str(scenario), "--router", "pimd", "--errnos", "ENOBUFS,EINTR",
            "--budget", "10", "-k", "sendto", "--only-phase", "steady", "-n", "1",
            "--write-scenarios", str(pinned), "--kernel", "9.9.9", "--out", str(out),
        ]
    )  # fmt: skip
    assert code == 0
    argv = seen["argv"]
    assert isinstance(argv, list)
    assert argv[argv.index("explore") + 1] == str(scenario.resolve())
    for flag, value in (
        ("--router", "pimd"), ("--errnos", "ENOBUFS,EINTR"), ("--budget", "10"), ("-k", "sendto"),
        ("--only-phase", "steady"), ("-n", "1"), ("--write-scenarios", str(pinned)),
        ("--out", "@OUT@"), ("--slow", "@SLOW@"),
    ):  # fmt: skip
        assert argv[argv.index(flag) + 1] == value, flag
    assert seen["dest"] == out / "9.9.9", "the guest's results land per release, resumable"
    rwdirs = seen["rwdirs"]
    assert isinstance(rwdirs, tuple) and pinned in rwdirs and out in rwdirs


def test_a_bad_budget_is_refused_before_any_guest_boots(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness.cli import main

    monkeypatch.setattr(commands, "_guest", lambda *a: pytest.fail("a guest was booted"))
    scenario = Path(__file__).parents[1] / "explore/data/routers.yaml"
    argv = ["explore", str(scenario), "--budget", "soon", "--kernel", "host"]
    assert main([*argv, "--out", str(tmp_path)]) == ExitCode.USAGE


def test_a_guest_resumes_from_what_its_destination_already_holds(tmp_path: Path) -> None:
    from harness.kernellab import guest

    dest, out = tmp_path / "dest", tmp_path / "out"
    (dest / "pimd/results").mkdir(parents=True)
    (dest / "pimd/results/f1.json").write_text("{}")
    (dest / guest.SPEC_NAME).write_text("{}")
    out.mkdir()
    guest.copy_in(dest, out)
    assert (out / "pimd/results/f1.json").read_text() == "{}"
    assert not (out / guest.SPEC_NAME).exists()


def test_a_router_s_control_socket_in_the_output_does_not_stop_the_copy_back(
    tmp_path: Path,
) -> None:
    import socket

    from harness.kernellab import guest

    out, dest = tmp_path / "out", tmp_path / "dest"
    (out / "frr/run").mkdir(parents=True)
    (out / "frr/run/router.log").write_text("up\n")
    (out / "robustness.md").write_text("| table |\n")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(out / "frr/run/zserv.api"))
    os.mkfifo(out / "frr/run/fifo")
    try:
        guest.copy_back(out, dest)
        (tmp_path / "again").mkdir()
        guest.copy_in(dest, tmp_path / "again")
    finally:
        server.close()
    assert (dest / "frr/run/router.log").read_text() == "up\n"
    assert (dest / "robustness.md").is_file()
    assert not (dest / "frr/run/zserv.api").exists() and not (dest / "frr/run/fifo").exists()


def test_the_guest_command_streams_its_progress_and_knows_the_stretch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness.kernellab import guest

    monkeypatch.setattr(guest, "SCRATCH", tmp_path / "scratch")
    env = guest.prepare_environment(17.0)
    assert env["PYTHONUNBUFFERED"] == "1", "else a long explore says nothing until it ends"
    assert env["FAULTLAB_SLOW"] == "17"
    assert Path(env["HOME"]).is_dir() and Path(env["HOME"]).is_relative_to(tmp_path)


def test_run_forwards_its_selection_switches_and_allowed_skips_to_the_guest() -> None:
    from harness.cli import build_parser

    args = build_parser().parse_args(
        ["run", "scenarios", "-n", "2", "-k", "mrt", "-m", "not compare", "--strict", "-x",
         "--allow-skip", "sysctl:net.core.optmem_max", "--kernel", "6.1"]
    )  # fmt: skip
    assert commands._run_options(args) == [
        "-n", "2", "-k", "mrt", "-m", "not compare", "-x", "--strict",
        "--allow-skip", "sysctl:net.core.optmem_max",
    ]  # fmt: skip
