"""Exact syscall errors: ``syscall-error`` and its step-level convenience ``step-error``.

For steps with no real cause on Linux, and for every error class of the catalog's User Action
text, these faults make one syscall (with integer-argument matches) fail with any errno, given
by name, number or Winsock code. Two mechanisms, chosen by the parameters:

* ``errno`` (seccomp RET_ERRNO): every matching call fails, at no per-call cost, from the
  router's first instruction to its exit; ``clear`` cannot undo it in a live process.
* ``notify`` (seccomp user notification, supervisor.py): needed for ``nth``, ``interface``,
  ``window`` or ``switchable``; ``apply``/``clear`` switch the rule on and off at runtime.
"""

from __future__ import annotations

from typing import Any, ClassVar

from harness.catalog import Step, UnknownErrno, errno_name, errno_number
from harness.errors import FaultConfigError, FaultParameterError
from harness.faults.base import Fault, FaultContext, Launch
from harness.faults.constants import resolve
from harness.faults.filters import ArgMatch, SyscallMatch, syscall_number
from harness.faults.stepcalls import ARG_MASKS, ARG_NAMES, NAMED_ONLY, STEP_CALLS
from harness.faults.supervisor import NotifyRule
from harness.mroute import MRT_OPTIONS
from harness.suggest import did_you_mean

ERRNO_SCHEMA: dict[str, Any] = {
    "description": "error to return: a name (EADDRINUSE), an errno number (98) or a Winsock code (10048)",
    "anyOf": [{"type": "string"}, {"type": "integer", "minimum": 1}],
}
NOTIFY_PARAMS: dict[str, dict[str, Any]] = {
    "nth": {
        "description": "fail only these matching calls (1-based; a number or a list)",
        "anyOf": [
            {"type": "integer", "minimum": 1},
            {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 1},
        ],
    },
    "interface": {
        "type": "string",
        "description": "fail only calls on this interface's socket (supervisor)",
    },
    "window": {
        "type": "array",
        "items": {"type": ["number", "null"]},
        "minItems": 2,
        "maxItems": 2,
        "description": "[start, end] seconds after the fault is armed; end null = open",
    },
    "switchable": {
        "type": "boolean",
        "description": "use the supervisor so that clear() restores the step at runtime",
    },
    "armed": {
        "enum": ["launch", "apply"],
        "description": "launch: active from the router's start; apply: from when the fault is "
        "applied (its when:). Default: follows when: (launch for before-start, else apply)",
    },
}


def parse_errno(value: Any) -> int:
    """An errno from a name, number or Winsock code, with a did-you-mean for a misspelt name."""
    try:
        return errno_number(value)
    except (UnknownErrno, TypeError, ValueError) as exc:
        import errno as errno_mod

        hint = did_you_mean(str(value).upper(), errno_mod.errorcode.values())
        raise FaultParameterError(
            f"errno {value!r}: {exc}{hint}", key="errno", reason=str(exc)
        ) from exc


class SyscallErrorFault(Fault):
    """Make one syscall (with integer-argument matches) fail with an exact errno."""

    kind: ClassVar[str] = "syscall-error"
    steps: ClassVar[tuple[Step, ...]] = tuple(Step)
    mechanism: ClassVar[str] = "exact"
    summary: ClassVar[str] = "the syscall fails with the given errno (seccomp)"
    required: ClassVar[tuple[str, ...]] = ("syscall", "errno")
    params: ClassVar[dict[str, dict[str, Any]]] = {
        "syscall": {"type": "string", "description": "syscall name, e.g. setsockopt"},
        "args": {
            "type": "object",
            "description": "argument matches by name (level: IPPROTO_IP) or argN; "
            "a value or {value, mask}",
        },
        "errno": ERRNO_SCHEMA,
        **NOTIFY_PARAMS,
    }

    def __init__(
        self, syscall: str, errno: Any, args: dict[str, Any] | None = None, **notify: Any
    ) -> None:
        self.syscall = syscall
        self.args = args or {}
        self.errno = errno
        self.error = parse_errno(errno)
        self.matches = [build_match(syscall, self.args)]
        self._notify_options(**notify)

    def features(self) -> tuple[str, ...]:
        """seccomp (and user notification when supervised); ``mrt`` when every call this
        fault can fail is a multicast-routing option (MRT_INIT, MRT_ADD_VIF ...): a router
        only makes those calls where the kernel has multicast routing."""
        needed = ("seccomp", "seccomp-notify") if self.supervised else ("seccomp",)
        if self.matches and all(_is_mrt_call(match) for match in self.matches):
            needed += ("mrt",)
        return needed

    def _notify_options(
        self,
        nth: Any = None,
        interface: str | None = None,
        window: list[float | None] | None = None,
        switchable: bool = False,
        armed: str = "launch",
    ) -> None:
        self.nth = (nth,) if isinstance(nth, int) else tuple(nth or ())
        self.interface, self.window, self.switchable, self.armed = (
            interface,
            window,
            switchable,
            armed,
        )
        if window is not None and (len(window) != 2 or window[0] is None):
            raise FaultConfigError(f"{self.kind}: window must be [start, end], got {window!r}")
        if interface and any(m.syscall in ("socket", "epoll_create1") for m in self.matches):
            raise FaultConfigError(
                f"{self.kind}: interface {interface!r} cannot select {self.matches[0].syscall}: "
                "the call has no socket of an interface yet; use nth instead"
            )
        self.rules: list[NotifyRule] = []

    @property
    def supervised(self) -> bool:
        """True when the user-notify supervisor decides (RET_ERRNO cannot do what is asked)."""
        return bool(
            self.nth or self.interface or self.window or self.switchable or self.armed == "apply"
        )

    def prepare(self, launch: Launch) -> None:
        if not self.supervised:
            for match in self.matches:
                launch.seccomp.add_errno(match, self.error)
            return
        supervisor = launch.notify_supervisor()
        for match in self.matches:
            launch.seccomp.add_notify(match)
            window = (float(self.window[0]), self.window[1]) if self.window else None
            rule = NotifyRule(
                match, self.error, self.nth, self.interface, window, enabled=self.armed == "launch"
            )
            self.rules.append(supervisor.add(rule))

    def in_force_at_launch(self) -> bool:
        """RET_ERRNO filters and rules armed at launch fail calls from the router's start."""
        return not self.supervised or self.armed == "launch"

    def apply(self, ctx: FaultContext) -> None:
        for rule in self.rules:
            rule.arm(True)

    def clear(self, ctx: FaultContext) -> None:
        for rule in self.rules:
            rule.arm(False)

    def failed_calls(self) -> list[int]:
        """Positions (1-based, among matching calls) of the calls the supervisor failed."""
        return [n for rule in self.rules for n in rule.failed]

    def describe(self) -> str:
        how = "supervisor" if self.supervised else "RET_ERRNO"
        calls = ", ".join(m.describe() for m in self.matches)
        extra = f" nth={list(self.nth)}" if self.nth else ""
        extra += f" on {self.interface}" if self.interface else ""
        return f"{self.kind}: {calls} fails with {errno_name(self.error)} ({how}){extra}"


class StepErrorFault(SyscallErrorFault):
    """Make the calls of one catalog step fail with an exact errno (see stepcalls.STEP_CALLS)."""

    kind: ClassVar[str] = "step-error"
    summary: ClassVar[str] = "the step's calls fail with the given errno (seccomp)"
    required: ClassVar[tuple[str, ...]] = ("step", "errno")
    params: ClassVar[dict[str, dict[str, Any]]] = {
        "step": {"enum": [s.value for s in Step], "description": "the catalog step to break"},
        "call": {
            "type": "string",
            "description": "one call of the step (e.g. MRT_INIT); default: all of them",
        },
        "errno": ERRNO_SCHEMA,
        **NOTIFY_PARAMS,
    }

    def __init__(self, step: str, errno: Any, call: str | None = None, **notify: Any) -> None:
        self.step = _step(step)
        self.call = call
        self.errno = errno
        self.error = parse_errno(errno)
        calls = STEP_CALLS[self.step]
        if call is not None and call not in calls:
            hint = did_you_mean(call, calls)
            raise FaultConfigError(
                f"step-error: call {call!r} is not a call of step {step!r}{hint} "
                f"(calls: {', '.join(calls)})"
            )
        chosen = [call] if call else [c for c in calls if c not in NAMED_ONLY.get(self.step, ())]
        self.matches = [build_match(calls[c][0], calls[c][1], label=c) for c in chosen]
        self._notify_options(**notify)

    @property
    def steps(self) -> tuple[Step, ...]:  # type: ignore[override]
        return (self.step,)


def _is_mrt_call(match: SyscallMatch) -> bool:
    """A setsockopt whose option is one of the multicast-routing options (linux/mroute.h)."""
    if match.syscall not in ("setsockopt", "getsockopt"):
        return False
    return any(arg.index == 2 and arg.value in MRT_OPTIONS for arg in match.args)


def _step(value: str) -> Step:
    try:
        return Step(value)
    except ValueError:
        hint = did_you_mean(value, [s.value for s in Step])
        raise FaultConfigError(
            f"unknown step {value!r}{hint} (steps: {', '.join(s.value for s in Step)})"
        ) from None


def build_match(syscall: str, args: dict[str, Any], label: str = "") -> SyscallMatch:
    """A SyscallMatch from argument matches given by name or ``argN`` (symbols resolved)."""
    syscall_number(syscall)  # unknown syscall -> FaultConfigError
    names = ARG_NAMES.get(syscall, ())
    matches = []
    for key, given in args.items():
        index = _arg_index(syscall, key, names)
        value, mask = given, ARG_MASKS.get((syscall, key), 0xFFFFFFFF)
        if isinstance(given, dict):
            value, mask = given.get("value"), resolve(given.get("mask", mask), what="mask")
        matches.append(ArgMatch(index, resolve(value, what=f"{syscall} {key}"), mask))
    matches.sort(key=lambda m: m.index)
    return SyscallMatch(syscall, tuple(matches), label or _label(syscall, args))


def _arg_index(syscall: str, key: str, names: tuple[str, ...]) -> int:
    if key.startswith("arg") and key[3:].isdigit() and int(key[3:]) < 6:
        return int(key[3:])
    if key in names:
        return names.index(key)
    hint = did_you_mean(key, names)
    raise FaultConfigError(
        f"{syscall}: unknown argument {key!r}{hint} (arguments: {', '.join(names) or 'arg0..arg5'})"
    )


def _label(syscall: str, args: dict[str, Any]) -> str:
    shown = " ".join(f"{k}={v['value'] if isinstance(v, dict) else v}" for k, v in args.items())
    return f"{syscall} {shown}".strip()
