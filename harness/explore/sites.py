"""A call site: one call of the router that a fault can single out (harness.explore.discover
finds them). Its own module because the plan, the run, the report, the shards and the merge all
read and write sites, and none of them needs the discovery run itself.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CallSite:
    """One call a fault can single out (see the module docstring)."""

    syscall: str
    detail: str  # "IPPROTO_IP IP_ADD_MEMBERSHIP", "AF_PACKET SOCK_DGRAM 0", "SIOCGIFADDR" ...
    args: tuple[tuple[str, int], ...]  # the fault's argument matches, by name
    interface: str | None
    by_interface: bool  # the fault selects the interface (else occurrence is global)
    phase: str
    occurrence: int
    family: str | None = None

    @property
    def call(self) -> str:
        """``setsockopt IP_ADD_MEMBERSHIP``: the call as the report's rows name it."""
        words = self.detail.split()
        shown = words[-1] if self.syscall in ("setsockopt", "getsockopt") and words else ""
        return " ".join(p for p in (self.syscall, shown or self.detail) if p)

    @property
    def key(self) -> str:
        """Stable and unique: what results, baselines and ``-k`` refer to."""
        where = self.interface or "-"
        return f"{self.phase} {self.syscall} {self.detail} @{where} #{self.occurrence}".replace(
            "  ", " "
        )

    @property
    def words(self) -> tuple[str, ...]:
        """Family, type, option, request words: what the errno table refines by."""
        return (*self.detail.split(), *((self.family,) if self.family else ()))

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data.update(args=dict(self.args), key=self.key, call=self.call)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CallSite:
        fields = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in fields}
        values["args"] = tuple(sorted(dict(data.get("args", {})).items()))
        return cls(**values)
