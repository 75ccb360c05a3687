"""Shared test fixtures and markers: keep this small and generic.

Tests marked ``netns`` build real network namespaces; they are skipped with the reason when
this process cannot (not root). Every such test must use unique names (a lab's run id), so
pytest-xdist workers can run them side by side.
"""

from __future__ import annotations

import os

import pytest


def _netns_unavailable() -> str | None:
    if os.geteuid() != 0:
        return "needs root to create network namespaces"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = _netns_unavailable()
    if reason is None:
        return
    for item in items:
        if item.get_closest_marker("netns") is not None:
            item.add_marker(pytest.mark.skip(reason=reason))
