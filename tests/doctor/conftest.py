"""Fixtures of the doctor and rootless tests (helpers live in doctor_helpers.py)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from doctor_helpers import NOBODY, nobody_argv


@pytest.fixture
def nobody_dir() -> Iterator[Path]:
    """A scratch directory uid 65534 may write in (removed afterwards)."""
    path = Path(tempfile.mkdtemp(prefix="fldoc-"))
    os.chmod(path, 0o755)
    work = path / "work"
    work.mkdir()
    os.chown(work, NOBODY, NOBODY)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def as_nobody(nobody_dir: Path) -> Callable[[list[str]], list[str]]:
    """A function turning argv into the command line that runs it as uid 65534."""
    stand_in = nobody_dir / "stand-in"
    stand_in.mkdir()

    def wrap(argv: list[str]) -> list[str]:
        return nobody_argv(argv, stand_in)

    return wrap
