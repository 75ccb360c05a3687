"""A real run for the report's tests: two sample scenarios (one passes, one fails on purpose)
run once per session by ``faultlab run`` with ``--keep-artifacts`` and ``--junit-xml``.

The samples run on any kernel (igmpd takes packet sockets where there is no multicast routing).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

SAMPLES = Path(__file__).parent / "samples"


@dataclass(frozen=True)
class SampleRun:
    folder: Path  # the artifacts root: report.html, results.json, one folder per scenario
    junit: Path
    exit_code: int
    output: str

    @property
    def report(self) -> Path:
        return self.folder / "report.html"

    def results(self) -> list[dict]:
        return json.loads((self.folder / "results.json").read_text())


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> SampleRun:
    if os.geteuid() != 0:
        pytest.skip("the sample run builds network namespaces: needs root")
    base = tmp_path_factory.mktemp("report-run")
    scenarios = base / "scenarios"
    shutil.copytree(SAMPLES, scenarios)
    art, junit = base / "artifacts", base / "junit.xml"
    env = {**os.environ}
    env.pop("FAULTLAB_RUN_ID", None)
    argv = [sys.executable, "-m", "harness.cli", "run", str(scenarios), "--artifacts", str(art)]
    argv += ["--keep-artifacts", "--junit-xml", str(junit), "--no-progress"]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, cwd=base)
    return SampleRun(art, junit, done.returncode, done.stdout + done.stderr)


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: $FAULTLAB_SCREENSHOTS (CI uploads it), else a session folder."""
    chosen = os.environ.get("FAULTLAB_SCREENSHOTS")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
