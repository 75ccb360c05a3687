"""The entry point inside the guest: ``python -m harness.kernellab.guest SPEC.json``.

The host writes SPEC (kernellab.commands) into the destination folder, which is writable in
the guest over 9p. Inside, the guest

1. says ``faultlab-guest: up`` on the console (the launcher's boot deadline ends there);
2. gives everything writable a home on the guest's tmpfs: HOME, XDG dirs and TMPDIR (the host's
   $HOME is read-only here) and the command's output folder (inotify does not see writes on 9p,
   and the router's event log is followed with inotify), which starts with what an earlier run
   left in the destination (a resumed exploration reuses its finished results);
3. times the stretch benchmark and stretches every deadline by the factor (times ``--slow``),
   passed as ``--slow`` and as FAULTLAB_SLOW (test helpers read it);
4. runs the command, then copies its output folder to the destination and writes
   ``guest.json`` there (release, exit status, stretch factor, wall time).

In SPEC's argv, ``@SLOW@`` becomes the stretch (times ``--slow``) and ``@OUT@`` the tmpfs folder.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

from harness.kernellab import stretch

UP_MARKER = "faultlab-guest: up"
SCRATCH = Path("/dev/shm/faultlab")
SPEC_NAME = "guest-spec.json"
RESULT_NAME = "guest.json"


def prepare_environment(factor: float) -> dict[str, str]:
    """The command's environment: writable homes on tmpfs, the stretch factor exported."""
    homes = {
        name: SCRATCH / name.lower()
        for name in (
            "HOME",
            "XDG_CACHE_HOME",
            "XDG_CONFIG_HOME",
            "XDG_DATA_HOME",
            "XDG_RUNTIME_DIR",
            "TMPDIR",
        )
    }
    for path in homes.values():
        path.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **{name: str(path) for name, path in homes.items()}}
    # PYTHONUNBUFFERED: the command's progress reaches the host's console as it happens
    env.update(
        FAULTLAB_SLOW=f"{factor:g}",
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONUNBUFFERED="1",
        FAULTLAB_IN_GUEST="1",
    )
    env.pop("FAULTLAB_RUN_ID", None)
    return env


def expand(argv: list[str], slow: float, out: Path) -> list[str]:
    """SPEC's argv with its placeholders filled in."""
    return [arg.replace("@SLOW@", f"{slow:g}").replace("@OUT@", str(out)) for arg in argv]


def copy_in(dest: Path, out: Path) -> None:
    """What an earlier run left in the destination, copied to the tmpfs output folder first, so
    that a resumable command (``faultlab explore``) reuses its finished results in a guest too."""
    if dest.is_dir():
        for item in dest.iterdir():
            if item.name in (SPEC_NAME, RESULT_NAME):
                continue
            target = out / item.name
            if item.is_dir() and not item.is_symlink():
                shutil.copytree(
                    item, target, symlinks=True, dirs_exist_ok=True, ignore=_special_files
                )
            elif item.name not in _special_files(str(dest), [item.name]):
                shutil.copy2(item, target, follow_symlinks=False)


def _special_files(folder: str, names: list[str]) -> set[str]:
    """The names in ``folder`` that are neither files, folders nor links: a router's control
    sockets (FRR's zserv.api, smcroute's socket) and FIFOs, which cannot be copied."""
    special = set()
    for name in names:
        mode = os.lstat(os.path.join(folder, name)).st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode)):
            special.add(name)
    return special


def copy_back(out: Path, dest: Path) -> None:
    """The tmpfs output folder copied to the (9p) destination; symlinks kept as links, sockets
    and FIFOs left out."""
    if out.is_dir():
        shutil.copytree(out, dest, symlinks=True, dirs_exist_ok=True, ignore=_special_files)


def main(argv: list[str] | None = None) -> int:
    spec_path = Path((sys.argv[1:] if argv is None else argv)[0])
    print(f"{UP_MARKER} {os.uname().release}", flush=True)
    spec = json.loads(spec_path.read_text())
    host = stretch.Timing(**spec["host_timing"])
    here = stretch.measure()
    factor = stretch.factor(host, here) if spec.get("stretch", True) else 1.0
    slow = factor * float(spec.get("slow") or 1.0)
    print(
        f"faultlab-guest: stretch factor {factor:g} (Python {stretch.ratio(host, here):.1f}x, "
        f"process start {stretch.spawn_ratio(host, here):.1f}x slower than on the host), "
        f"deadlines x{slow:g}",
        flush=True,
    )
    out = SCRATCH / "out"
    out.mkdir(parents=True, exist_ok=True)
    dest = Path(spec["dest"])
    copy_in(dest, out)
    env = prepare_environment(slow)
    started = time.monotonic()
    code = subprocess.call(expand(spec["argv"], slow, out), env=env, cwd=spec.get("cwd"))
    seconds = time.monotonic() - started
    dest.mkdir(parents=True, exist_ok=True)
    copy_back(out, dest)
    result = {
        "release": os.uname().release,
        "returncode": code,
        "stretch": factor,
        "slow": slow,
        "ratio": round(stretch.ratio(host, here), 2),
        "spawn_ratio": round(stretch.spawn_ratio(host, here), 2),
        "seconds": seconds,
        "guest_timing": here.to_json(),
        "host_timing": host.to_json(),
    }
    (dest / RESULT_NAME).write_text(json.dumps(result, indent=1) + "\n")
    return code


if __name__ == "__main__":
    sys.exit(main())
