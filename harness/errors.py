"""Exceptions, organised by who is at fault.

    FaultlabError                 base of everything faultlab raises on purpose
    +-- InputError                the user's input is wrong: exit 2
    |   +-- ScenarioError         a scenario file (file:line:column: message)
    |   +-- TopologyError         a topology description (names the offending item)
    |   +-- FaultConfigError      a fault's parameters, or a fault that would touch the host
    +-- EnvironmentProblem        this host cannot run scenarios (not root, no netns): exit 3
    |   +-- MissingCapability     one feature is missing: the scenario is skipped with the reason
    +-- RouterError               the router under test misbehaved (did not start, crashed)
    +-- ExpectationFailed         a scenario ran and its expectations were not met: exit 1
    +-- HarnessBug                faultlab itself is wrong: keeps its traceback

Low-level errors (OSError from netlink, yaml.YAMLError ...) are mapped at the boundary with
``raise X(...) from exc``, so the CLI has one place that turns these into exit codes. The lab's
own errors (``netns.errors``: netns imports nothing from here) are mapped by ``lab_boundary()``
wherever the harness calls netns.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.faults.base import Fault


class ExitCode(IntEnum):
    """Process exit codes of the faultlab CLI."""

    OK = 0  # every scenario passed
    FAILED = 1  # at least one scenario's expectations were not met
    USAGE = 2  # bad input: a scenario file, a flag, a fault's parameters
    ENVIRONMENT = 3  # this host cannot run scenarios (not root, no namespaces ...)


class FaultlabError(Exception):
    """Base of every error faultlab raises on purpose."""

    exit_code: ExitCode = ExitCode.FAILED


class InputError(FaultlabError):
    """The user's input is wrong; nothing was built."""

    exit_code = ExitCode.USAGE


@dataclass
class Location:
    """Where in a file something is: 1-based line and column, as editors show them."""

    file: Path | str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        parts = [str(self.file)]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)


class ScenarioError(InputError):
    """A scenario file is wrong. ``str()`` is ``file:line:column: message`` per problem."""

    def __init__(self, problems: list[tuple[Location, str]]) -> None:
        self.problems = problems
        super().__init__("\n".join(f"{where}: {message}" for where, message in problems))


class TopologyError(InputError):
    """A topology description is wrong; the message names the offending item."""


class FaultConfigError(InputError):
    """A fault's parameters are wrong, or the fault would change something outside the lab."""


class FaultParameterError(FaultConfigError):
    """One parameter's value is wrong: ``key`` names it, ``reason`` says why without the key."""

    def __init__(self, message: str, *, key: str, reason: str) -> None:
        super().__init__(message)
        self.key = key
        self.reason = reason


class EnvironmentProblem(FaultlabError):
    """This host cannot run scenarios at all (not root, no network namespaces)."""

    exit_code = ExitCode.ENVIRONMENT


class MissingCapability(EnvironmentProblem):
    """One feature a scenario needs is missing here; the scenario is skipped with this reason.

    ``features`` names the doctor's features found missing (empty when a reason is not one of
    them, a router's own requirement say): ``--allow-skip FEATURE`` matches them.
    """

    def __init__(self, message: str, features: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.features = features


class RouterError(FaultlabError):
    """The router under test did not start, crashed, or did not become ready in time.

    ``faults``: the session's Fault objects when the router never got ready after they were
    prepared (empty otherwise), so a caller learns which fault fired from the error itself.
    """

    def __init__(self, message: str = "", *, faults: Sequence[Fault] = ()) -> None:
        super().__init__(message)
        self.faults = tuple(faults)


class ExpectationFailed(FaultlabError):
    """A scenario ran and at least one of its expectations was not met."""


class HarnessBug(FaultlabError):
    """faultlab itself did something wrong; the traceback is kept."""


@contextmanager
def lab_boundary() -> Iterator[None]:
    """Where the harness calls netns: the lab's errors become the harness's, message kept.

    ``netns.errors.TopologyError`` -> TopologyError (exit 2), ``HostUnsupported`` ->
    EnvironmentProblem (exit 3), any other ``LabError`` -> FaultlabError.
    """
    from netns import errors as lab

    try:
        yield
    except lab.TopologyError as exc:
        raise TopologyError(str(exc)) from exc
    except lab.HostUnsupported as exc:
        raise EnvironmentProblem(str(exc)) from exc
    except lab.LabError as exc:
        raise FaultlabError(str(exc)) from exc
