"""Fixtures of the doctor and rootless tests (helpers live in doctor_helpers.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from doctor_helpers import NOBODY, copy_checkout, nobody_argv, nobody_env

#: What uid 65534 must be able to import for the rootless tests to mean anything.
IMPORTS = (
    "import harness, netns, igmpd, pyroute2, pyseccomp, yaml, jsonschema; print(harness.__file__)"
)


def _world_folder(prefix: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    os.chmod(path, 0o755)
    return path


@pytest.fixture(scope="session")
def reachable_checkout() -> Iterator[Path]:
    """A world-readable copy of the project's packages, made once per session: uid 65534
    imports faultlab from it, whatever the mode of the folder the checkout sits in."""
    folder = _world_folder("fldoc-src-")
    try:
        yield copy_checkout(folder / "src")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def nobody_can_import(reachable_checkout: Path) -> Path:
    """Probe once that uid 65534 imports faultlab from the copy and its dependencies from this
    interpreter, with the closed folders opened; skip, saying exactly what failed, when the
    interpreter's own files are unreadable to others (a virtualenv made under umask 077)."""
    scratch = _world_folder("fldoc-probe-")
    try:
        argv = nobody_argv([sys.executable, "-c", IMPORTS], scratch, [reachable_checkout])
        proc = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=60,
            env=nobody_env(reachable_checkout),
            cwd=scratch,
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        pytest.skip(
            f"uid {NOBODY} cannot run {sys.executable} (prefix {sys.prefix}) even with every "
            f"closed folder on the way opened: its own files are not readable by others "
            f"(a virtualenv made under umask 077?): {last}"
        )
    return Path(proc.stdout.strip())


@pytest.fixture
def nobody_dir() -> Iterator[Path]:
    """A scratch directory uid 65534 may write in (removed afterwards)."""
    path = _world_folder("fldoc-")
    work = path / "work"
    work.mkdir()
    os.chown(work, NOBODY, NOBODY)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def as_nobody(
    nobody_dir: Path, reachable_checkout: Path, nobody_can_import: Path
) -> Callable[[list[str]], list[str]]:
    """A function turning argv into the command line that runs it as uid 65534."""
    stand_in = nobody_dir / "stand-in"
    stand_in.mkdir()

    def wrap(argv: list[str]) -> list[str]:
        return nobody_argv(argv, stand_in, [reachable_checkout, nobody_dir])

    return wrap
