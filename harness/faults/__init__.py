"""The fault engine: named, documented, reversible faults that break one socket step each.

    from harness.faults import make_fault
    fault = make_fault({"kind": "mrt-held"})
    fault.prepare(launch); ...start the router...; fault.apply(ctx); fault.clear(ctx); fault.close()

``FAULT_KINDS`` maps each kind to its class (every kind, faultlab explore's ``internal`` ones
too: the registry is complete whatever was imported first); ``fault_schema()`` gives the JSON-Schema fragment of
every kind's parameters; the fault table (table.py) lists what each fault yields on this kernel.
Kinds that would change the host rather than the scenario's namespaces are refused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harness.errors import FaultConfigError, FaultParameterError
from harness.faults.base import Fault, FaultContext, Launch
from harness.faults.bindconflicts import AddressGone, DeviceGone, MrtHeld, StaleVif
from harness.faults.explore import ExploreFault, RecordFault
from harness.faults.firewall import NftDropIgmp, NftRejectIgmp
from harness.faults.limits import EgressFull, FdLimit, IgmpMaxMemberships, OptmemMax
from harness.faults.missing import AddressRemoved, LinkDeleted, LinkDown, RouteRemoved
from harness.faults.permissions import NoCapNetRaw
from harness.faults.seccomp import StepErrorFault, SyscallErrorFault
from harness.faults.sysctl import SysctlFault
from harness.suggest import did_you_mean

if TYPE_CHECKING:
    from harness.scenario import FaultSpec

__all__ = [
    "FAULT_KINDS",
    "REFUSED_KINDS",
    "SCHEDULING_KEYS",
    "Fault",
    "FaultContext",
    "FaultRecipe",
    "Launch",
    "fault_schema",
    "instantiate",
    "make_fault",
    "resolve",
]

FAULT_KINDS: dict[str, type[Fault]] = {
    cls.kind: cls
    for cls in (
        MrtHeld,
        StaleVif,
        AddressGone,
        DeviceGone,
        RouteRemoved,
        AddressRemoved,
        LinkDown,
        LinkDeleted,
        IgmpMaxMemberships,
        OptmemMax,
        FdLimit,
        EgressFull,
        NoCapNetRaw,
        NftDropIgmp,
        NftRejectIgmp,
        SysctlFault,
        SyscallErrorFault,
        StepErrorFault,
        RecordFault,
        ExploreFault,
    )
}

# Faults people ask for that would change the whole machine: refused, with what to use instead.
REFUSED_KINDS: dict[str, str] = {
    "epoll-max-user-watches": "fs.epoll.max_user_watches is host-wide; use "
    "{kind: step-error, step: event_select, errno: ENOSPC}",
    "file-max": "fs.file-max is host-wide; use {kind: fd-limit} (the router's own RLIMIT_NOFILE)",
    "memory-cgroup": "a host cgroup limit is not per namespace (and gives no errno: the router "
    "is OOM-killed); use {kind: step-error, errno: ENOMEM}",
}

# Keys of a scenario's fault mapping that belong to the scenario engine, not to the fault.
SCHEDULING_KEYS = ("kind", "node", "when", "clear")

Locate = Callable[[str], Any]


@dataclass(frozen=True)
class FaultRecipe:
    """A fault resolved once, when its scenario is loaded: its class and its checked parameters.

    ``instantiate()`` builds a fresh Fault from it (a Fault keeps state: one per session).
    """

    cls: type[Fault]
    params: Mapping[str, Any]

    def instantiate(self) -> Fault:
        return self.cls(**self.params)


def resolve(spec: Mapping[str, Any], *, locate: Locate | None = None) -> FaultRecipe:
    """Check a scenario's fault mapping (``kind`` + the kind's parameters) as the fault class
    itself does, without applying anything; the recipe the runner instantiates.

    ``locate(key)`` may return where a key is in the file (shown before the message). A wrong
    parameter value the class names (``errno``) raises FaultParameterError with that key.
    """
    recipe = _recipe(spec, locate)
    _build(recipe, locate)  # the class's own checks; the object is not kept
    return recipe


def make_fault(spec: Mapping[str, Any], *, locate: Locate | None = None) -> Fault:
    """Build a Fault from a scenario's fault mapping (``kind`` + the kind's parameters).

    ``locate(key)`` may return where a key is in the file (shown before the message).
    """
    return _build(_recipe(spec, locate), locate)


def instantiate(spec: FaultSpec) -> Fault:
    """A fresh Fault for a scenario's fault: from the recipe its loader resolved, or, for a spec
    made in code (explore's), from its mapping."""
    if spec.recipe is not None:
        return spec.recipe.instantiate()
    return make_fault({**spec.mapping(), "when": spec.when.kind})


def _recipe(spec: Mapping[str, Any], locate: Locate | None) -> FaultRecipe:
    if not isinstance(spec, Mapping) or "kind" not in spec:
        raise FaultConfigError(_where(locate, "kind") + "a fault needs a 'kind'")
    kind = str(spec["kind"])
    cls = _fault_class(kind, locate)
    params = {k: v for k, v in spec.items() if k not in SCHEDULING_KEYS}
    _check_params(cls, params, locate)
    if "armed" in cls.params and "armed" not in params and _applied_later(spec.get("when")):
        params["armed"] = "apply"  # armed follows when: (docs/scenario-format.md)
    return FaultRecipe(cls, params)


def _applied_later(when: Any) -> bool:
    """Whether a fault's ``when:`` (as written, or a When's kind) applies it after the start."""
    return when is not None and when != "before-start"


def _build(recipe: FaultRecipe, locate: Locate | None) -> Fault:
    try:
        return recipe.instantiate()
    except FaultParameterError as exc:
        where = _where(locate, "kind")
        raise FaultParameterError(where + str(exc), key=exc.key, reason=exc.reason) from exc
    except FaultConfigError as exc:
        raise FaultConfigError(_where(locate, "kind") + str(exc)) from exc


def _fault_class(kind: str, locate: Locate | None) -> type[Fault]:
    if kind in REFUSED_KINDS:
        raise FaultConfigError(
            _where(locate, "kind") + f"fault kind {kind!r} refused: it would change the host, "
            f"not only the scenario's namespaces ({REFUSED_KINDS[kind]})"
        )
    if kind not in FAULT_KINDS:
        raise FaultConfigError(
            _where(locate, "kind")
            + f"fault kind {kind!r} unknown{did_you_mean(kind, FAULT_KINDS)} "
            "(faultlab list --faults)"
        )
    return FAULT_KINDS[kind]


def _check_params(cls: type[Fault], params: dict[str, Any], locate: Locate | None) -> None:
    for key in params:
        if key not in cls.params:
            known = ", ".join(cls.params) or "none"
            raise FaultConfigError(
                _where(locate, key) + f"fault {cls.kind!r}: unknown parameter {key!r}"
                f"{did_you_mean(key, cls.params)} (parameters: {known})"
            )
    for key in cls.required:
        if key not in params:
            raise FaultConfigError(
                _where(locate, "kind") + f"fault {cls.kind!r}: missing parameter {key!r}"
            )


def _where(locate: Locate | None, key: str) -> str:
    place = locate(key) if locate else None
    return f"{place}: " if place else ""


def fault_schema() -> dict[str, dict[str, Any]]:
    """For each kind, the JSON-Schema object of its parameters (strict: no unknown keys).

    The scenario schema adds the scheduling keys (``node``, ``when``, ``clear``) itself.
    """
    return {
        kind: {
            "type": "object",
            "properties": {"kind": {"const": kind}, **cls.params},
            "required": ["kind", *cls.required],
            "description": (cls.__doc__ or "").strip().splitlines()[0],
        }
        for kind, cls in FAULT_KINDS.items()
        if not cls.internal
    }
