"""The README's quick start is what CI runs, and the default tox run guards the product."""

from __future__ import annotations

import configparser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS_COMMAND = "python3 -m pip install tox && tox -e scenarios"
TESTS_COMMAND = "python3 -m pip install tox && tox"


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    quick_start = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = quick_start.split("```sh", 1)[1].split("```", 1)[0]
    return [line.split("#", 1)[0].strip() for line in block.strip().splitlines()]


def test_the_quick_start_is_exactly_two_commands() -> None:
    assert _readme_commands() == [SCENARIOS_COMMAND, TESTS_COMMAND]


def test_ci_runs_the_readme_test_command_as_written() -> None:
    lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert TESTS_COMMAND in lines


def test_plain_tox_runs_the_tests_the_scenario_suite_and_lint() -> None:
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(ROOT / "tox.ini")
    env_list = [name.strip() for name in tox["tox"]["env_list"].split(",")]
    assert env_list[0] == "py" and "scenarios" in env_list and "lint" in env_list
    assert "kernels" in env_list  # the MRT path, in a guest, even where the host has none
    assert "pytest tests" in tox["testenv"]["commands"]
    assert "faultlab run" in tox["testenv:scenarios"]["commands"]
    assert "hostcheck compare" in tox["testenv:scenarios"]["commands_post"]
    assert "ruff check" in tox["testenv:lint"]["commands"]
