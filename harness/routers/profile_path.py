"""Where router profiles are found: the profile path (docs/your-router.md).

``router: {kind: NAME}`` is looked up in the ``--routers-dir`` folders (``FAULTLAB_ROUTERS_DIR``),
then ``routers/`` beside the scenario file and its parents; the bundled profiles
(``BUNDLED_DIR``) are registered kinds already.
"""

from __future__ import annotations

import os
from pathlib import Path

BUNDLED_DIR = Path(__file__).resolve().parent / "profiles"
ROUTERS_DIR_ENV = "FAULTLAB_ROUTERS_DIR"  # --routers-dir, os.pathsep-separated
ROUTERS_FOLDER = "routers"  # the folder beside a suite that holds its profiles
PROFILE_SUFFIXES = (".yaml", ".yml")


def routers_dirs() -> list[Path]:
    """The ``--routers-dir`` folders (``FAULTLAB_ROUTERS_DIR``, os.pathsep-separated)."""
    value = os.environ.get(ROUTERS_DIR_ENV, "")
    return [Path(part) for part in value.split(os.pathsep) if part]


def search_dirs(scenario_file: Path | None = None) -> list[Path]:
    """Where ``kind: NAME`` is looked for, in order: the ``--routers-dir`` folders (so a run can
    swap the build under test), then ``routers/`` beside the scenario file and in each parent up
    to the project (the current folder, or a folder holding .git). The bundled profiles are
    registered kinds already."""
    found: list[Path] = routers_dirs()
    if scenario_file is not None:
        folder = Path(scenario_file).resolve().parent
        stop = Path.cwd().resolve()
        while True:
            found.append(folder / ROUTERS_FOLDER)
            if folder == stop or (folder / ".git").exists() or folder.parent == folder:
                break
            folder = folder.parent
    return found


def find_profile(kind: str, scenario_file: Path | None = None) -> Path | None:
    """The profile file for router kind ``kind`` on the profile path, or None."""
    for folder in search_dirs(scenario_file):
        for suffix in PROFILE_SUFFIXES:
            candidate = folder / f"{kind}{suffix}"
            if candidate.is_file():
                return candidate
    return None


def known_profiles(scenario_file: Path | None = None) -> list[str]:
    """The kinds of every profile on the path (for did-you-mean and listings)."""
    names: list[str] = []
    for folder in search_dirs(scenario_file):
        if folder.is_dir():
            names += [p.stem for p in sorted(folder.iterdir()) if p.suffix in PROFILE_SUFFIXES]
    return list(dict.fromkeys(names))
