"""Helpers for the doctor and rootless tests: run a command as an unprivileged user.

``nobody_argv(argv, scratch)`` gives the command line that runs ``argv`` as uid/gid 65534 with
no supplementary groups (util-linux ``setpriv``). When the interpreter lives under a directory
other users may not enter (pyenv under /root, mode 700), the command first takes a private
mount namespace and lays a world-enterable stand-in over that directory, holding only a bind
mount of what the interpreter needs; the host's mounts are never changed.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
from pathlib import Path

import pytest
from scenario_samples import CREATE_SOCKET_REFUSED

NOBODY = 65534
REPO = Path(__file__).resolve().parents[2]

#: A small complete scenario (3 nodes, one fault, two expected events): about 0.5 s to run.
SCENARIO = CREATE_SOCKET_REFUSED

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to switch to uid 65534")
needs_tools = pytest.mark.skipif(
    not (shutil.which("setpriv") and shutil.which("unshare")),
    reason="needs util-linux setpriv and unshare",
)


def closed_ancestor(path: Path) -> Path | None:
    """The first ancestor of ``path`` that others may not enter (no o+x), if any."""
    for parent in reversed(path.resolve().parents):
        if parent != Path("/") and not os.stat(parent).st_mode & stat.S_IXOTH:
            return parent
    return None


def _openings() -> dict[Path, set[str]]:
    """Closed directories on the way to what the child needs, each with the entries it needs.

    The interpreter (pyenv under /root), the virtualenv (tox keeps .tox at mode 700) and the
    repository itself may each sit below a directory that uid 65534 cannot enter.
    """
    needed = {Path(sys.base_prefix), Path(sys.prefix), REPO}
    openings: dict[Path, set[str]] = {}
    for path in needed:
        closed = closed_ancestor(path / "x")
        if closed is not None:
            inner = path.resolve().relative_to(closed)
            openings.setdefault(closed, set()).add(inner.parts[0])
    return openings


def nobody_argv(argv: list[str], scratch: Path) -> list[str]:
    """``argv`` run as uid 65534, with each closed ancestor of the interpreter, the virtualenv
    and the repository opened in a private mount namespace (``scratch`` is an empty directory
    for the stand-ins)."""
    drop = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *argv]
    openings = _openings()
    if not openings:
        return drop
    lines = ["set -e"]
    for index, closed in enumerate(sorted(openings, key=lambda p: len(p.parts))):
        stand_in = scratch / f"open{index}"
        lines.append(f"mkdir -p '{stand_in}'; chmod 755 '{stand_in}'")
        for top in sorted(openings[closed]):
            lines.append(
                f"mkdir -p '{stand_in / top}'; mount --bind '{closed / top}' '{stand_in / top}'"
            )
        lines.append(f"mount --rbind '{stand_in}' '{closed}'")
    lines.append('exec "$@"')
    return [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        "; ".join(lines),
        "sh",
        *drop,
    ]


def child_env() -> dict[str, str]:
    """The environment for child pythons: the repository importable, no bytecode written."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.pop("FAULTLAB_ROOTLESS", None)
    return env
