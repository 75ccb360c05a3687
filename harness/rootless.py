"""Rootless mode: run faultlab without root, inside a user namespace the process creates itself.

A user without root cannot create network namespaces on the host. But any user may create a
*user* namespace (where the kernel allows it) and become root there; together with a new
network namespace and a new mount namespace the process then owns everything the lab needs:
named network namespaces, veth pairs, raw sockets, MRT_INIT, per-namespace sysctls, nftables
and seccomp filters. This is what ``unshare --user --map-root-user --net --mount`` does; here
it is done in-process with ``unshare(2)`` so no helper program is needed.

Inside, ``/run`` is replaced by a private tmpfs (in the new mount namespace only) so that
``/run/netns`` (named namespaces) and ``/run/faultlab`` (run records) are writable. Everything
the run creates disappears with the process: the kernel frees the namespaces and the tmpfs
when the last process in them exits, so a rootless run cannot leave anything behind on the host.

What stays impossible: anything that needs root in the *initial* user namespace (raising a hard
resource limit, switching to another uid, host-wide sysctls, cgroup limits). Faults that need it
are skipped with :data:`HOST_ROOT_REASON`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from harness.errors import EnvironmentProblem

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
MS_REC = 0x4000
MS_PRIVATE = 1 << 18
MS_NOSUID = 0x2
MS_NODEV = 0x4

#: Set in the environment of a process (and its children) running in faultlab's user namespace.
ENV_MARK = "FAULTLAB_ROOTLESS"

#: The skip reason of a fault that needs root in the host's initial user namespace.
HOST_ROOT_REASON = (
    "needs root on the host (rootless mode: the process is root only inside its own user "
    "namespace; run as root, e.g. with sudo, to include it)"
)

_SYSCTL_KNOBS: tuple[tuple[str, str, str], ...] = (
    # (path, value that forbids, why)
    ("/proc/sys/user/max_user_namespaces", "0", "user.max_user_namespaces is 0"),
    ("/proc/sys/kernel/unprivileged_userns_clone", "0", "kernel.unprivileged_userns_clone is 0"),
    (
        "/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
        "1",
        "AppArmor restricts unprivileged user namespaces "
        "(kernel.apparmor_restrict_unprivileged_userns=1)",
    ),
)

USERNS_FIX = (
    "run as root (sudo), or ask the administrator to allow unprivileged user namespaces "
    "(sysctl user.max_user_namespaces>0, kernel.unprivileged_userns_clone=1, or an AppArmor "
    "profile allowing userns for the python interpreter)"
)


@dataclass(frozen=True)
class Identity:
    """Who the process is, seen from the host: its ids and whether it is in a user namespace."""

    uid: int
    gid: int
    in_userns: bool

    @property
    def host_root(self) -> bool:
        """Root in the initial user namespace: every fault is possible."""
        return self.uid == 0 and not self.in_userns

    @property
    def mode(self) -> str:
        """``root`` (real root), ``rootless`` (root in our own user namespace) or ``user``."""
        if self.host_root:
            return "root"
        return "rootless" if self.uid == 0 else "user"


def identity() -> Identity:
    """The current process's identity (reads ``/proc/self/uid_map``)."""
    return Identity(os.geteuid(), os.getegid(), in_user_namespace())


def in_user_namespace() -> bool:
    """True when the process is not in the initial user namespace (its uid map is partial)."""
    try:
        text = Path("/proc/self/uid_map").read_text()
    except OSError:
        return False
    return text.split() != ["0", "0", "4294967295"]


def userns_blocker() -> str | None:
    """Why an unprivileged user namespace cannot be created here, or None when it can.

    Reads the sysctls that forbid them, then tries for real in a forked child (a seccomp
    profile, as Docker's default one, may forbid ``unshare`` without any sysctl saying so).
    """
    for path, forbidding, why in _SYSCTL_KNOBS:
        try:
            if Path(path).read_text().strip() == forbidding:
                return why
        except OSError:
            continue
    code = _try_in_child(CLONE_NEWUSER)
    if code:
        return f"unshare(CLONE_NEWUSER) failed: {errno.errorcode.get(code, code)} ({os.strerror(code)})"
    return None


def _try_in_child(flags: int) -> int:
    """errno of ``unshare(flags)`` in a forked child (0 on success); the parent is unchanged."""
    pid = os.fork()
    if pid == 0:  # child: report the errno as the exit status, never return into the caller
        code = 0
        try:
            _unshare(flags)
        except OSError as exc:
            code = exc.errno or 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)


def _unshare(flags: int) -> None:
    if _libc().unshare(flags) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"unshare: {os.strerror(code)}")


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str | None) -> None:
    def encode(text: str | None) -> bytes | None:
        return None if text is None else text.encode()

    result = _libc().mount(encode(source), encode(target), encode(fstype), flags, encode(data))
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"mount {target}: {os.strerror(code)}")


def _write_maps(uid: int, gid: int) -> None:
    """Map root inside to the caller's uid and gid outside (``--map-root-user``)."""
    Path("/proc/self/setgroups").write_text("deny")
    Path("/proc/self/uid_map").write_text(f"0 {uid} 1")
    Path("/proc/self/gid_map").write_text(f"0 {gid} 1")


def _private_run() -> None:
    """Make mounts private, then put a tmpfs on /run so /run/netns and /run/faultlab work."""
    _mount("none", "/", None, MS_REC | MS_PRIVATE, None)
    _mount("faultlab-run", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755")
    for sub in ("netns", "faultlab"):
        os.makedirs(f"/run/{sub}", exist_ok=True)


def enter() -> None:
    """Move this process into a new user, mount and network namespace, as root there.

    Must run before any thread is started (the kernel refuses ``CLONE_NEWUSER`` in a
    multithreaded process). Raises EnvironmentProblem, saying why and what to do, when the
    kernel forbids it.
    """
    if threading.active_count() > 1:
        raise EnvironmentProblem(
            "rootless mode must start before any thread: call harness.rootless.ensure() "
            "at the very start of the process"
        )
    uid, gid = os.geteuid(), os.getegid()
    try:
        _unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET)
    except OSError as exc:
        reason = userns_blocker() or f"unshare(CLONE_NEWUSER) failed: {exc.strerror}"
        raise EnvironmentProblem(
            f"not root and cannot create a user namespace ({reason}); {USERNS_FIX}"
        ) from exc
    try:
        _write_maps(uid, gid)
        _private_run()
    except OSError as exc:
        raise EnvironmentProblem(f"rootless mode: setting up the user namespace: {exc}") from exc
    os.environ[ENV_MARK] = "1"
    _private_pytest_temp()


def _private_pytest_temp() -> None:
    """Give pytest a temporary root of our own.

    Inside the user namespace we are "root", so pytest would use /tmp/pytest-of-root, which
    belongs to the host's real root on any shared machine and is refused. The private /run
    tmpfs is ours and vanishes with the run.
    """
    if "PYTEST_DEBUG_TEMPROOT" not in os.environ:
        temp_root = "/run/faultlab/tmp"
        os.makedirs(temp_root, mode=0o700, exist_ok=True)
        os.environ["PYTEST_DEBUG_TEMPROOT"] = temp_root


def ensure() -> str:
    """Make sure the process can build labs; returns the mode (``root`` or ``rootless``).

    Real root: nothing to do. Root in a user namespace (a child of a rootless run, e.g. a
    pytest-xdist worker, or a command wrapped by :func:`wrapper_argv`): make sure /run is
    usable. Otherwise, enter a new user namespace.
    """
    who = identity()
    if who.uid != 0:
        enter()
        return "rootless"
    if who.in_userns:
        prepare_run_dir()
    return who.mode


def wrapper_argv(argv: list[str]) -> list[str]:
    """The same command line wrapped by util-linux ``unshare``, for shells and CI scripts.

    Equivalent to what :func:`enter` does in-process, except for the tmpfs on /run, which the
    wrapped faultlab command then mounts itself (:func:`ensure` calls :func:`prepare_run_dir`).
    """
    return ["unshare", "--user", "--map-root-user", "--net", "--mount", "--", *argv]


def prepare_run_dir() -> None:
    """Inside a user namespace, make /run/netns and /run/faultlab usable.

    When /run is writable they are simply created. Otherwise (it belongs to the host's root)
    the process takes a mount namespace of its own first, so the tmpfs it mounts on /run is
    seen by nobody else.
    """
    if os.access("/run", os.W_OK):
        for sub in ("netns", "faultlab"):
            os.makedirs(f"/run/{sub}", exist_ok=True)
        return
    try:
        _unshare(CLONE_NEWNS)
        _private_run()
    except OSError as exc:
        raise EnvironmentProblem(f"rootless mode: cannot mount a private /run: {exc}") from exc


def main(argv: list[str] | None = None) -> int:
    """``python -m harness.rootless CMD...``: run CMD inside a fresh rootless namespace set."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        print("usage: python -m harness.rootless COMMAND [ARG...]", file=sys.stderr)
        return 2
    try:
        ensure()
    except EnvironmentProblem as exc:
        print(f"faultlab: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    os.execvp(args[0], args)
    return 0  # not reached


if __name__ == "__main__":
    raise SystemExit(main())
