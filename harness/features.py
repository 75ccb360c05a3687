"""The features a scenario may need from this host, probed for real: the ground floor of runs.

Each check is a small probe of one feature (a network namespace, a veth pair, a raw IGMP
socket, MRT_INIT, seccomp user notification, a per-namespace sysctl, nftables over netlink, an
optional router). The probes that touch the kernel run in a forked child, inside a throwaway
network namespace named ``fl<random>-doctor`` that the child removes again; a non-root user's
child first enters its own user namespace, exactly as a rootless run does (see
harness/rootless.py), so the answer is the one ``faultlab run`` will meet. The probes and what a
``Check`` is live in harness/probes.py; this module is the checks API over them.

The runner, the pytest plugin, explore and ``faultlab doctor`` all read these checks (the
doctor only prints them): a scenario that needs a missing feature is skipped with the reason
(:func:`missing`, :func:`unmet`) instead of failing obscurely. Results are computed once per
process (:func:`checks`, reset by ``harness.caches.reset("run")``) and handed to worker processes
through the environment (:func:`share_checks`).

Statuses: ``ok``; ``degraded`` (a weaker form is here: scenarios needing the full feature are
skipped, the line says what it costs); ``missing`` (absent: when the feature is essential no
scenario can run and the exit code is 3).
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterable, Sequence

from harness import caches, rootless
from harness.errors import ExitCode
from harness.probes import (
    ESSENTIAL,
    INSTALLER,
    LAB_FEATURES,
    NAMESPACED_SYSCTLS,
    PROBE_DEADLINE,
    ROUTER_PREFIX,
    SYSCTL_PREFIX,
    Check,
    Feature,
    Status,
    degraded_check,
    describe_oserror,
    missing_check,
    ok_check,
    probe_sysctl_key_in_child,
    run_lab_probes,
)

__all__ = [
    "ESSENTIAL",
    "LAB_FEATURES",
    "SYSCTL_PREFIX",
    "Check",
    "Feature",
    "Status",
    "checks",
    "describe",
    "describe_oserror",
    "exit_code",
    "known_features",
    "missing",
    "run_checks",
    "run_lab_probes",
    "share_checks",
    "sysctl_check",
    "unmet",
]


# --- Checks in the doctor's own process ---------------------------------------------------


def privilege_check(who: rootless.Identity) -> Check:
    """Root, root in a user namespace, or a user who can create one (rootless mode)."""
    if who.mode == "root":
        return ok_check(Feature.PRIVILEGE, "running as root")
    if who.mode == "rootless":
        return ok_check(Feature.PRIVILEGE, "root inside a user namespace (rootless mode)")
    blocker = rootless.userns_blocker()
    if blocker:
        detail = f"not root (uid {who.uid}) and no user namespaces: {blocker}"
        return missing_check(Feature.PRIVILEGE, detail, fix=rootless.USERNS_FIX)
    return ok_check(
        Feature.PRIVILEGE, f"not root (uid {who.uid}): runs rootless in a user namespace"
    )


def host_root_check(who: rootless.Identity) -> Check:
    if who.host_root:
        return ok_check(Feature.HOST_ROOT, "root in the host's user namespace")
    return degraded_check(Feature.HOST_ROOT, "rootless: root only inside a user namespace")


def router_kinds() -> list[str]:
    """The kinds the doctor checks: every router adapter that needs programs installed."""
    from harness.routers import installable

    return list(installable())


def router_fix() -> str:
    """How to install the optional routers: the script, or their Debian packages."""
    from harness.routers import installable

    packages = [a.package for a in installable().values() if a.package and not a.unpacked]
    return f"sudo {INSTALLER} (or apt-get install {' '.join(dict.fromkeys(packages))})"


def find_router(kind: str) -> list[str]:
    """Paths of the programs router ``kind`` needs; empty if any is missing."""
    from harness.routers import ADAPTERS

    return ADAPTERS[kind].program_paths()


def router_check(kind: str) -> Check:
    from harness.routers import ADAPTERS

    name = ROUTER_PREFIX + kind
    paths = find_router(kind)
    if paths:
        return ok_check(name, " ".join(paths))
    progs = ", ".join(ADAPTERS[kind].programs)
    detail = f"{progs} not found; scenarios with router kind {kind} are skipped"
    return missing_check(name, detail, fix=router_fix())


def run_checks(deadline: float = PROBE_DEADLINE) -> list[Check]:
    """Every check, probed now (not cached). About 0.3 s on a 2-core machine."""
    who = rootless.identity()
    privilege = privilege_check(who)
    if privilege.status is Status.MISSING:
        lab = [missing_check(f, "needs privilege", fix="") for f in LAB_FEATURES]
    else:
        lab = run_lab_probes(enter_userns=who.mode == "user", deadline=deadline)
    routers = [router_check(kind) for kind in router_kinds()]
    return [privilege, *lab, host_root_check(who), *routers]


#: Where a run hands its checks to its worker processes (JSON), so a run probes once.
SHARED_ENV = "FAULTLAB_DOCTOR"


@functools.cache
def checks() -> tuple[Check, ...]:
    """Every check, probed once per run (what :func:`missing` answers from).

    A process started by a run that already probed (an xdist worker) reads the run's results
    from the environment; anything else probes now.
    """
    shared = os.environ.get(SHARED_ENV)
    if shared:
        try:
            return tuple(
                Check(item["name"], Status(item["status"]), item["detail"], item.get("fix", ""))
                for item in json.loads(shared)
            )
        except (ValueError, KeyError, TypeError):
            pass
    return tuple(run_checks())


caches.register(
    "features.checks", checks.cache_clear, "run", "the host's checks, probed once per run"
)


def share_checks() -> None:
    """Probe now (once) and hand the results to the processes this one starts."""
    os.environ[SHARED_ENV] = json.dumps([check.to_json() for check in checks()])


def known_features() -> list[str]:
    """Feature names :func:`missing` answers (plus ``sysctl:<any net.* key>``)."""
    return [
        *(f.value for f in Feature),
        *(SYSCTL_PREFIX + key for key in NAMESPACED_SYSCTLS),
        *(ROUTER_PREFIX + kind for kind in router_kinds()),
    ]


def _is_known(name: str) -> bool:
    return name in known_features() or (
        name.startswith(SYSCTL_PREFIX + "net.") and len(name) > len(SYSCTL_PREFIX) + 4
    )


@functools.cache
def sysctl_check(key: str) -> Check:
    """Whether ``key`` is per network namespace here (probed once per run, in a child)."""
    return probe_sysctl_key_in_child(key)


caches.register("features.sysctl_check", sysctl_check.cache_clear, "run", "per-namespace sysctls")


def missing(features: Iterable[str]) -> str | None:
    """The skip reason for a scenario needing ``features``, or None when all are here.

    A feature counts as here only when its check is ``ok``. Unknown names raise ValueError
    naming them (a typo in a requirement must not silently skip or run a scenario).
    """
    return describe(unmet(features))


def describe(short: Sequence[tuple[str, Check]]) -> str | None:
    """``mrt missing: ...; sysctl:... missing: ...``: the skip reason for :func:`unmet`'s list."""
    reasons = [f"{name} {check.status.value}: {check.detail}" for name, check in short]
    return "; ".join(reasons) or None


def unmet(features: Iterable[str]) -> list[tuple[str, Check]]:
    """Each needed feature whose check is not ``ok``, with that check, in name order (the names
    are what ``--allow-skip`` matches)."""
    wanted = sorted(set(features))
    unknown = [name for name in wanted if not _is_known(name)]
    if unknown:
        raise ValueError(f"unknown feature(s) {unknown}; known: {', '.join(known_features())}")
    by_name = {check.name: check for check in checks()}
    for name in wanted:
        if name not in by_name and name.startswith(SYSCTL_PREFIX):
            by_name[name] = sysctl_check(name.removeprefix(SYSCTL_PREFIX))
        elif name not in by_name and name.startswith(ROUTER_PREFIX):
            # An adapter registered after this run probed (its check was not shared yet).
            by_name[name] = router_check(name.removeprefix(ROUTER_PREFIX))
    return [(name, by_name[name]) for name in wanted if by_name[name].status is not Status.OK]


def exit_code(results: Iterable[Check]) -> ExitCode:
    """ENVIRONMENT (3) when an essential feature is missing, else OK (0)."""
    broken = any(c.essential and c.status is Status.MISSING for c in results)
    return ExitCode.ENVIRONMENT if broken else ExitCode.OK
