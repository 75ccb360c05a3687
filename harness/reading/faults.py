"""The ``faults:`` section: each fault resolved once by the fault engine, and when it applies and clears."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from harness.errors import FaultParameterError, InputError
from harness.scenario import (
    FaultSpec,
)
from harness.yamlsource import PathKey

if TYPE_CHECKING:
    from harness.faults import FaultRecipe

from harness.reading.base import dotted as _dotted
from harness.reading.events import EventReading

_SCHEDULING_KEYS = frozenset({"kind", "node", "when", "clear", "comment"})


class FaultReading(EventReading):
    """``faults:`` resolved into ``FaultSpec``s with their recipes."""

    def fault(self, index: int, data: Mapping[str, Any]) -> FaultSpec:
        path: PathKey = ("faults", index)
        node = data.get("node", self.router.node)
        if self.node(path + ("node",), node) and isinstance(data.get("interface"), str):
            self.interface(path + ("interface",), node, data["interface"])
        params = {key: value for key, value in data.items() if key not in _SCHEDULING_KEYS}
        # the scheduling key too: a fault's ``armed`` follows its ``when:`` (harness.faults)
        recipe = self.recipe(index, {"kind": data["kind"], **params, "when": data.get("when")})
        when = self.when(path + ("when",), data.get("when", "before-start"), clear=False)
        clear = self.when(path + ("clear",), data.get("clear", "never"), clear=True)
        if when.kind == "at" and clear.kind == "at" and clear.seconds <= when.seconds:
            self.problem(
                path + ("clear",),
                f"{_dotted(path)}.clear: at {clear.seconds:g}s is not after the fault is applied "
                f"(at {when.seconds:g}s)",
            )
        return FaultSpec(data["kind"], node, when, clear, params, self.line(path), recipe)

    def recipe(self, index: int, mapping: dict[str, Any]) -> FaultRecipe | None:
        """Resolve a fault once, by the fault engine's own checks (nothing is applied).

        A wrong value the fault class names (errno) is a problem at once, at its key; any other
        refusal waits for ``fault_problems``: it is reported only when the file is otherwise sound.
        """
        from harness.faults import resolve

        asked: list[str] = []  # the engine names the key it objects to; we place it
        try:
            return resolve(mapping, locate=asked.append)
        except FaultParameterError as exc:
            path: PathKey = ("faults", index, exc.key)
            self.problem(path, f"{_dotted(path)}: {exc.reason}")
        except InputError as exc:
            where = self.source.locate(("faults", index, *asked[-1:]))
            self.refused.append((where, f"faults[{index}]: {exc}"))
        return None

    def fault_problems(self) -> None:
        """The faults the engine refused, when nothing else is wrong with the file."""
        if not self.problems:
            self.problems.extend(self.refused)
