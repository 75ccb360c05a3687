"""The bad-scenario corpus: every file fails `faultlab validate` cleanly, at its line, exit 2.

Each file in tests/data/bad-scenarios/ starts with ``# expect: FRAGMENT``, the message fragment
its error must contain. Run as a subprocess, as a user would: no traceback, nothing built.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

CORPUS = Path(__file__).parents[1] / "data" / "bad-scenarios"
FILES = sorted(CORPUS.glob("*.yaml"))


def expected_fragment(path: Path) -> str:
    first = path.read_text().splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name}: first line must be '# expect: ...'"
    return first.removeprefix("# expect: ")


def validate(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from harness.cli import main; raise SystemExit(main())"]
    return subprocess.run([*command, "validate", *args], capture_output=True, text=True, timeout=60)


def test_the_corpus_covers_at_least_thirty_cases() -> None:
    assert len(FILES) >= 30


@pytest.mark.parametrize("path", FILES, ids=[path.stem for path in FILES])
def test_validate_reports_the_error_at_its_line(path: Path) -> None:
    result = validate(str(path))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert expected_fragment(path) in result.stderr
    for line in result.stderr.splitlines():
        assert re.match(rf"{re.escape(str(path))}:\d+(:\d+)?: \S", line), line


def test_every_file_is_reported_in_one_run() -> None:
    result = validate(*map(str, FILES))
    assert result.returncode == 2
    reported = {line.split(":", 1)[0] for line in result.stderr.splitlines()}
    assert reported == {str(path) for path in FILES}


def test_loading_a_bad_scenario_builds_nothing() -> None:
    """The loader never imports what builds labs (the lab, pyroute2) nor starts a process."""
    probe = (
        "import sys\n"
        "from harness.errors import ScenarioError\n"
        "from harness.scenario_loader import load\n"
        f"try:\n    load({str(CORPUS / 'overlap-subnets.yaml')!r})\n"
        "except ScenarioError:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith(('pyroute2', 'netns.lab', 'harness.runner'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
