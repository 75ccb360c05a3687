"""Which shards may be joined: the same faultlab, scenario, router, judge and shard count.

Every manifest of a merge must agree on the faultlab version; the explorations on the scenario
and the judge's version (one explore.json is one scenario, judged one way); the shards of one
router on its router section (a profile travels with the shards); the compare shards on their
scenarios and routers; the run shards on their suite; and shards of one group on their count
(``I/N`` with the same N). The first difference refuses the merge (InputError: exit 2),
naming the field, both values and both files.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from harness.errors import InputError
from harness.merge.model import ShardOutput

# (field, its words, which outputs must agree on it: a key that groups them, None: all)
RULES: tuple[tuple[str, str, Callable[[ShardOutput], object] | None], ...] = (
    ("faultlab", "faultlab version", None),
    ("scenario_digest", "scenario", lambda o: o.kind),
    ("judge", "judge version", lambda o: o.kind),
    ("router", "router", lambda o: (o.kind, o.identity.get("router"), o.identity.get("kernel"))),
    ("router_digest", "router", lambda o: (o.kind, o.identity.get("router"))),
    ("routers", "routers", lambda o: o.kind),
    ("suite_digest", "scenarios", lambda o: o.kind),
)


class MergeRefused(InputError):
    """Shards that are not parts of one run (exit 2)."""


def check(outputs: Sequence[ShardOutput]) -> None:
    """Raise MergeRefused at the first field two outputs of one group disagree on."""
    for name, words, group in RULES:
        first: dict[object, ShardOutput] = {}
        for output in outputs:
            if name not in output.identity:
                continue
            key = group(output) if group is not None else None
            seen = first.setdefault(key, output)
            if seen.identity[name] != output.identity[name]:
                raise MergeRefused(
                    f"refused: different {words}: {seen.identity[name]!r} ({seen.where}) vs "
                    f"{output.identity[name]!r} ({output.where}); only shards of one run merge"
                )
    _check_counts(outputs)


def group_key(output: ShardOutput) -> tuple[object, ...]:
    """The table a shard's cells belong in (harness.merge.model's groups)."""
    identity = output.identity
    if output.kind == "explore":
        return ("explore", identity.get("router"), identity.get("kernel"))
    if output.kind == "compare":
        return ("compare", identity.get("kernel"))
    return ("run",)


def _check_counts(outputs: Sequence[ShardOutput]) -> None:
    first: dict[tuple[object, ...], ShardOutput] = {}
    for output in outputs:
        if output.total is None:
            continue
        seen = first.setdefault(group_key(output), output)
        if seen.total != output.total:
            raise MergeRefused(
                f"refused: different shard counts: {seen.shard} ({seen.where}) vs "
                f"{output.shard} ({output.where}); every shard of a run splits it the same way"
            )
