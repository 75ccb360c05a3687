"""What a user gets from a plain `python3 -m pip install .` (no extras, no tox): every
documented `faultlab run` flag works, and a team's own folder, whatever its name, is a suite.

The tox envs install the dev extras, which once hid that `faultlab run` crashed without
pytest-xdist (an xdist hook on the reporter) and refused `-n`. So this test builds a fresh
virtual environment, installs the checkout into it the way the README says, and runs a
scenario through the installed command.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from scenario_samples import CREATE_SOCKET_REFUSED

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.netns, pytest.mark.slow]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the checkout installed into it, no extras: its bin folder."""
    home = tmp_path_factory.mktemp("plain-install")
    venv.create(home / "venv", with_pip=True)
    python = home / "venv" / "bin" / "python"
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "TMPDIR": str(home)}
    env.pop("PYTHONPATH", None)
    proc = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=home,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return home / "venv" / "bin"


def _faultlab(bin_dir: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "FAULTLAB"))}
    env.pop("PYTHONPATH", None)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(
        [str(bin_dir / "faultlab"), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=cwd,
    )


def test_run_works_from_a_plain_install_with_workers_and_any_folder_name(
    installed: Path, tmp_path: Path
) -> None:
    suite = tmp_path / "igmp-suite" / "sub"
    suite.mkdir(parents=True)
    (suite / "refused.yaml").write_text(CREATE_SOCKET_REFUSED)
    proc = _faultlab(
        installed, tmp_path, "run", "igmp-suite", "-n", "2", "--no-progress",
        "--artifacts", str(tmp_path / "art"), "--junit-xml", str(tmp_path / "junit.xml"),
        "--keep-artifacts",
    )  # fmt: skip
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "INTERNALERROR" not in out and "Traceback" not in out
    assert "faultlab: 1 selected: 1 ran, 1 passed, 0 failed, 0 skipped" in out
    verdicts = list((tmp_path / "art").rglob("verdict.json"))
    assert [v.parent.parent for v in verdicts] == [tmp_path / "art" / "sub"], verdicts
    assert (tmp_path / "junit.xml").exists()


def test_an_empty_selection_says_what_was_searched(installed: Path, tmp_path: Path) -> None:
    suite = tmp_path / "igmp-suite"
    suite.mkdir()
    (suite / "refused.yaml").write_text(CREATE_SOCKET_REFUSED)
    proc = _faultlab(installed, tmp_path, "run", "igmp-suite", "-k", "no-such-thing")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "no scenario selected from igmp-suite (-k 'no-such-thing')" in proc.stderr


def test_installed_package_runs_from_anywhere(installed: Path, tmp_path: Path) -> None:
    proc = subprocess.run(
        [str(installed / "python"), "-c", "import harness, igmpd, netns; print(harness.__file__)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": os.environ.get("PATH", "")},
    )
    assert proc.returncode == 0, proc.stderr
    assert str(ROOT) not in proc.stdout, "the test must exercise the installed copy"
    assert sys.prefix not in proc.stdout
