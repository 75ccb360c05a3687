"""Helpers for the doctor and rootless tests: run a command as an unprivileged user.

``nobody_argv(argv, scratch)`` gives the command line that runs ``argv`` as uid/gid 65534 with
no supplementary groups (util-linux ``setpriv``). When the interpreter or the virtualenv lives
under directories other users may not enter (pyenv under /root, mode 700; tox's .tox; a checkout
in a ``mktemp -d`` folder), the command first takes a private mount namespace and lays a
world-enterable stand-in over each such directory, holding only bind mounts of what is needed;
the host's mounts are never changed. The project's own packages are not read from the checkout
but from a world-readable copy (``copy_checkout``), so where the clone sits never matters.
"""

from __future__ import annotations

import os
import shlex
import shutil
import stat
import sys
from collections.abc import Iterable
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


#: What uid 65534 imports from the checkout: the project's packages (pyproject.toml).
PACKAGES = ("netns", "harness", "igmpd", "igmpcatalog")


def closed_ancestors(path: Path) -> list[Path]:
    """Every directory on the way to ``path``, itself included, that others may not enter."""
    resolved = path.resolve()
    chain = [*reversed(resolved.parents), resolved]
    return [
        folder
        for folder in chain
        if folder != Path("/") and folder.is_dir() and not os.stat(folder).st_mode & stat.S_IXOTH
    ]


def openings(needed: Iterable[Path]) -> dict[Path, set[str]]:
    """Closed directories on the way to what the child needs, each with the entries it needs.

    The interpreter (pyenv under /root), the virtualenv (tox keeps .tox at mode 700, and a
    checkout in a ``mktemp -d`` folder or a 0700 home holds it) may each sit below one or more
    directories that uid 65534 cannot enter; a needed directory that is closed itself needs all
    its entries.
    """
    found: dict[Path, set[str]] = {}
    for path in needed:
        resolved = path.resolve()
        for closed in closed_ancestors(resolved):
            entries = found.setdefault(closed, set())
            if closed == resolved:
                entries.update(os.listdir(closed))
            else:
                entries.add(resolved.relative_to(closed).parts[0])
    return found


def _stand_in_lines(closed: Path, entries: set[str], stand_in: Path) -> list[str]:
    """Shell lines laying a world-enterable stand-in over ``closed``: its needed entries bound
    in (folders and files), its symbolic links copied as links."""
    lines = [f"mkdir -p {_q(stand_in)}; chmod 755 {_q(stand_in)}"]
    for name in sorted(entries):
        source, target = closed / name, stand_in / name
        if source.is_symlink():
            lines.append(f"ln -s {_q(os.readlink(source))} {_q(target)}")
            continue
        make = "mkdir -p" if source.is_dir() else "touch"
        lines.append(f"{make} {_q(target)}; mount --bind {_q(source)} {_q(target)}")
    lines.append(f"mount --rbind {_q(stand_in)} {_q(closed)}")
    return lines


def _q(path: object) -> str:
    return shlex.quote(str(path))


def nobody_argv(argv: list[str], scratch: Path, extra: Iterable[Path] = ()) -> list[str]:
    """``argv`` run as uid 65534, with each closed ancestor of the interpreter, the virtualenv
    and ``extra`` paths opened in a private mount namespace (``scratch`` is an empty directory
    for the stand-ins); the host's mounts are never changed."""
    drop = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *argv]
    needed = openings([Path(sys.base_prefix), Path(sys.prefix), *extra])
    if not needed:
        return drop
    lines = ["set -e"]
    for index, closed in enumerate(sorted(needed, key=lambda p: len(p.parts))):
        lines += _stand_in_lines(closed, needed[closed], scratch / f"open{index}")
    lines.append('exec "$@"')
    script = "; ".join(lines)
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", *drop]


def copy_checkout(dest: Path) -> Path:
    """The project's packages copied to ``dest`` (made world-readable): what uid 65534 imports,
    wherever the checkout sits (a ``mktemp -d`` folder, a 0700 home, a umask of 077)."""
    for package in PACKAGES:
        shutil.copytree(
            REPO / package, dest / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    for folder, _dirs, files in os.walk(dest):
        os.chmod(folder, 0o755)
        for name in files:
            os.chmod(os.path.join(folder, name), 0o644)
    os.chmod(dest, 0o755)
    return dest


def nobody_env(checkout: Path) -> dict[str, str]:
    """The environment for uid 65534's pythons: the reachable copy of the checkout importable
    first (before an editable install's finder, which points at the checkout itself)."""
    return {**child_env(), "PYTHONPATH": str(checkout)}


def child_env() -> dict[str, str]:
    """The environment for child pythons: the repository importable, no bytecode written."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.pop("FAULTLAB_ROOTLESS", None)
    return env
