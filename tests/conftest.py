"""Shared test fixtures and markers: keep this small and generic.

Tests marked ``netns`` build real network namespaces; they are skipped with the reason when
this process cannot (not root). Every such test must use unique names (a lab's run id), so
pytest-xdist workers can run them side by side.

Tests marked ``mrt`` need the kernel's multicast routing (``CONFIG_IP_MROUTE``: MRT_INIT on a
raw IGMP socket). On a kernel without it they are skipped with the doctor's own words; every
other test runs on either kind of kernel. ``tox -e kernels`` runs them in a guest that has it.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

#: One lock file for every test process of this machine (pytest-xdist workers included).
SWEEP_LOCK = Path(tempfile.gettempdir()) / "faultlab-tests-sweep.lock"


def _netns_unavailable() -> str | None:
    if os.geteuid() != 0:
        return "needs root to create network namespaces"
    return None


def _mrt_unavailable() -> str | None:
    """The doctor's reason when this kernel has no multicast routing (probed once per run)."""
    from harness import features

    return features.missing(["mrt"])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = _netns_unavailable()
    for item in items:
        if reason is not None and item.get_closest_marker("netns") is not None:
            item.add_marker(pytest.mark.skip(reason=reason))
    if reason is None and any(item.get_closest_marker("mrt") for item in items):
        mrt_reason = _mrt_unavailable()
        if mrt_reason is not None:
            for item in items:
                if item.get_closest_marker("mrt") is not None:
                    item.add_marker(
                        pytest.mark.skip(reason=f"needs multicast routing: {mrt_reason}")
                    )


@pytest.fixture
def exclusive_sweep() -> Iterator[None]:
    """Hold the machine-wide lock of the tests that sweep or SIGKILL a lab's owner.

    A sweep removes every dead run's leftovers, so one such test's sweep could remove another
    test's SIGKILLed lab before that test looked at it. pytest-xdist's ``xdist_group`` does not
    keep them on one worker here (pytest 9, xdist 3.8), so they take turns on a file lock.
    """
    with open(SWEEP_LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    """Every test starts without the memos an earlier test filled (harness.caches, scope
    "test": profiles it wrote, adapters and scenarios it loaded); host facts stay per run."""
    yield
    from harness import caches

    caches.reset("test")
