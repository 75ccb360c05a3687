"""Router adapters by name: the runner looks a scenario's ``router.kind`` up here.

Adapters register themselves in ``ADAPTERS``; a kind without an adapter in this checkout makes
the scenario skip with a reason rather than fail. ``ADAPTERS`` is the one list of router kinds:
the scenario schema's ``router.kind``, the doctor's ``router:<kind>`` checks and
``faultlab compare``'s routers, windows and queriers are all read from the adapter classes
(``python -m harness.routers --list`` prints them for scripts).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.errors import MissingCapability
from harness.routers.base import (
    STDERR_NAME,
    STDOUT_NAME,
    InterfaceState,
    LogPattern,
    LogPatternAdapter,
    RouterAdapter,
    RouterState,
    extract_errno,
)
from harness.routers.command import CommandAdapter
from harness.routers.igmpd import IgmpdAdapter

if TYPE_CHECKING:
    from harness.scenario import RouterSpec


class _Registry(dict[str, type[RouterAdapter]]):
    """Kind -> adapter class. Iterating lists the registered kinds only (the schema, the doctor
    and compare's defaults read those); looking a kind up also finds a router profile loaded in
    this process or on the ``--routers-dir`` path, so ``faultlab explore``, ``compare`` and
    ``reproduce`` take a profile's kind like a bundled one."""

    def __missing__(self, kind: str) -> type[RouterAdapter]:
        found = _profile_kind(kind)
        if found is None:
            raise KeyError(kind)
        return found

    def get(self, kind: str, default: Any = None) -> Any:  # type: ignore[override]
        try:
            return self[kind]
        except KeyError:
            return default

    def __contains__(self, kind: object) -> bool:
        return dict.__contains__(self, kind) or (
            isinstance(kind, str) and _profile_kind(kind) is not None
        )


def _profile_kind(kind: str) -> type[RouterAdapter] | None:
    from harness.errors import ScenarioError
    from harness.routers.profile import loaded

    try:
        return loaded(kind)
    except ScenarioError:
        return None


ADAPTERS: dict[str, type[RouterAdapter]] = _Registry({IgmpdAdapter.name: IgmpdAdapter})


def register(adapter: type[RouterAdapter]) -> None:
    """Make an adapter class available as ``router.kind: <adapter.name>``."""
    ADAPTERS[adapter.name] = adapter


def unregister(kind: str) -> None:
    """Forget router kind ``kind`` (a test's own adapter, once the test is over)."""
    ADAPTERS.pop(kind, None)


def comparable_kinds() -> tuple[str, ...]:
    """The router kinds ``faultlab compare`` runs by default, in registration order."""
    return tuple(kind for kind, adapter in ADAPTERS.items() if adapter.comparable)


def installable() -> dict[str, type[RouterAdapter]]:
    """Kind -> adapter for the routers that need programs installed (the doctor's checks)."""
    return {kind: adapter for kind, adapter in ADAPTERS.items() if adapter.programs}


def _register_bundled() -> None:
    """Every profile shipped in harness/routers/profiles/ (docs/routers.md), by file name, then
    the plain ``command`` kind: a new bundled router is its profile alone (and the hook module
    that profile names, loaded by name when the profile is)."""
    from harness.routers.profile import BUNDLED_DIR, bundled

    for path in sorted(BUNDLED_DIR.glob("*.yaml")):
        register(bundled(path.stem))
    register(CommandAdapter)


_register_bundled()


def adapter_for(spec: RouterSpec) -> RouterAdapter:
    """The adapter for a scenario's router (its profile's, when it names one); MissingCapability
    when none is installed here."""
    profile = getattr(spec, "profile", None)
    if profile:
        from harness.routers.profile import adapter_class

        by_profile = adapter_class(profile)
        if by_profile.name == spec.kind:  # compare re-targets a scenario by kind
            return by_profile.for_spec(spec)
    try:
        adapter = ADAPTERS[spec.kind]
    except KeyError:
        known = ", ".join(sorted(ADAPTERS))
        raise MissingCapability(
            f"router kind {spec.kind!r} has no adapter in this checkout (available: {known})"
        ) from None
    return adapter.for_spec(spec)


__all__ = [
    "ADAPTERS",
    "STDERR_NAME",
    "STDOUT_NAME",
    "CommandAdapter",
    "IgmpdAdapter",
    "InterfaceState",
    "LogPattern",
    "LogPatternAdapter",
    "RouterAdapter",
    "RouterState",
    "adapter_for",
    "comparable_kinds",
    "extract_errno",
    "installable",
    "register",
    "unregister",
]
