"""The shapes every fault shares: what it is, how it joins a launch, how it is applied and undone.

A fault is a named, reversible object that breaks one or more socket steps of a router. It may act
at two moments:

* ``prepare(launch)``: before the router starts. A fault that needs to live inside the router's
  process (a seccomp filter, a dropped capability, a resource limit) adds a preexec callable or
  wraps the command here. The callables run in the child after it entered the router's namespace
  and before ``exec``, so they work for any router program, Python or C.
* ``apply(ctx)`` / ``clear(ctx)``: on the live lab. A fault that changes kernel state in the
  router's namespace (an address removed, a sysctl lowered, a holder process started) does it here,
  and ``clear`` puts back exactly what ``apply`` took away.

The harness calls ``prepare`` once, then ``apply``, later perhaps ``clear``, and always
``close`` at teardown (even when ``apply`` failed half-way).
"""

from __future__ import annotations

import resource
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

from harness.catalog import Step
from harness.faults.filters import SeccompPlan
from harness.faults.supervisor import Supervisor


class NodeLike(Protocol):
    """The part of ``netns.Node`` the fault engine uses (see docs/architecture.md section 2)."""

    netns: str

    def call(self, fn: Callable[..., Any], *args: Any) -> Any: ...

    def popen(self, argv: Sequence[str], **kwargs: Any) -> Any: ...

    def set_sysctl(self, key: str, value: Any) -> None: ...

    def get_sysctl(self, key: str) -> Any: ...


@dataclass
class Launch:
    """How the router process will be started; faults amend it in ``prepare``.

    ``preexec`` callables run in the child, inside the router's namespace, just before ``exec``, in
    list order. ``rlimits`` are applied there too (before the callables), and the seccomp filter
    of every seccomp rule of every fault is installed last, as one filter. Whoever starts the
    process calls ``preexec_fn()`` once, in the harness, and passes the result as the single
    preexec callable; that call compiles the filter and starts the supervisor, if any.
    """

    argv: list[str]
    env: dict[str, str] | None = None
    pass_fds: list[int] = field(default_factory=list)
    preexec: list[Callable[[], None]] = field(default_factory=list)
    rlimits: dict[int, tuple[int, int]] = field(default_factory=dict)
    seccomp: SeccompPlan = field(default_factory=SeccompPlan)
    supervisor: Supervisor | None = None

    def notify_supervisor(self) -> Supervisor:
        """The one user-notification supervisor of this launch (created on first use)."""
        if self.supervisor is None:
            self.supervisor = Supervisor()
        return self.supervisor

    def preexec_fn(self) -> Callable[[], None]:
        """One callable that applies the rlimits, every preexec callable, then the filter."""
        limits = dict(self.rlimits)
        steps = list(self.preexec)
        if self.seccomp:
            channel = self.supervisor.child_end if self.supervisor else None
            steps.append(self.seccomp.installer(channel))
        if self.supervisor is not None:
            self.supervisor.start()

        def run_in_child() -> None:
            for which, limit in limits.items():
                resource.setrlimit(which, limit)
            for step in steps:
                step()

        return run_in_child


@dataclass
class FaultContext:
    """What a fault may touch on a live lab: the router's node, process and interfaces."""

    node: NodeLike
    pid: int | None = None
    interfaces: tuple[str, ...] = ()
    lab: Any = None
    workdir: Path | None = None

    def interface(self, name: str | None) -> str:
        """The interface a fault targets: the one named, else the router's first."""
        if name:
            return name
        if not self.interfaces:
            from harness.errors import FaultConfigError

            raise FaultConfigError("the fault names no interface and the router has none")
        return self.interfaces[0]


class Fault:
    """A named, documented, reversible way to break one socket step of a router.

    Subclasses set ``kind``, ``steps``, ``mechanism`` ("real" for a real cause set up in the
    router's namespace, "exact" for an exact syscall error) and ``params`` (a JSON-Schema
    ``properties`` mapping of the fault's own parameters), and accept those parameters as
    keyword arguments.

    The class is the one place for its kind's facts: the scenario schema reads ``params`` and
    ``required``, the runner and the doctor ``features()``, ``faultlab reproduce``
    ``not_before_start``, the fault table's docs ``mechanism``; every kind has a row in the fault
    table (harness/faults/table.py, a test checks it) unless it is ``generic``.
    """

    kind: ClassVar[str] = ""
    #: A kind the harness uses for itself (faultlab explore's): not offered to scenario files.
    internal: ClassVar[bool] = False
    #: A building block (the generic ``sysctl``): its table rows are those of the kinds built
    #: on it (its subclasses), not rows of its own.
    generic: ClassVar[bool] = False
    steps: ClassVar[tuple[Step, ...]] = ()
    mechanism: ClassVar[str] = "real"
    summary: ClassVar[str] = ""
    params: ClassVar[dict[str, dict[str, Any]]] = {}
    required: ClassVar[tuple[str, ...]] = ()
    #: Why this real cause, applied before the router starts, cannot reproduce its setup step's
    #: event (empty: it can). faultlab reproduce applies a setup step's fault before the start.
    not_before_start: ClassVar[str] = ""

    @classmethod
    def can_apply_before_start(cls) -> bool:
        """Whether applied before the router starts, the fault still yields its step's event."""
        return not cls.not_before_start

    def prepare(self, launch: Launch) -> None:
        """Amend the router's launch (before it starts). Most real causes need nothing here."""

    def in_force_at_launch(self) -> bool:
        """Whether ``prepare`` alone already breaks the step from the router's first
        instruction, whatever ``apply`` does later (a seccomp rule armed at launch): the
        runner's timeline then says so, since its ``when:`` is not when it took effect."""
        return False

    def apply(self, ctx: FaultContext) -> None:
        """Break the step on the live lab."""

    def clear(self, ctx: FaultContext) -> None:
        """Undo ``apply``: the step works again."""

    def close(self) -> None:
        """Release what the fault holds (helper processes, supervisor threads); idempotent."""

    def requires(self) -> list[str]:
        """Features this host lacks for the fault; empty when it can run (skip reasons)."""
        return []

    def features(self) -> tuple[str, ...]:
        """The doctor's features this fault needs (harness.features.Feature names).

        The runner asks the doctor once per run, so a scenario whose fault needs something this
        host lacks is skipped with the doctor's own words instead of failing obscurely.
        """
        return ()

    def describe(self) -> str:
        """One line for reports: the kind, its parameters and the steps it breaks."""
        args = ", ".join(f"{k}={v}" for k, v in self.parameters().items() if v is not None)
        steps = ", ".join(step.value for step in self.steps)
        return f"{self.kind}({args}) breaks {steps}: {self.summary}"

    def parameters(self) -> dict[str, Any]:
        """The fault's parameters as given (for describe() and reports)."""
        return {name: getattr(self, name, None) for name in self.params}
