"""Splitting work across CI machines: ``--shard I/N`` (and ``--shard-index0 K --shard-count N``).

Shards are deterministic and cover every cell exactly once. A cell is whatever a command splits:
a scenario (``faultlab run``), a fault (``faultlab explore``), a router x scenario pair
(``faultlab compare``), a kernel x scenario pair (``faultlab run --kernel``). The cells are
sorted by a stable key (the fault id, the scenario's name ...) and dealt greedily, the most
expensive first, each to the shard with the least expected cost so far (the longest-processing-
time rule; ties go to the lower index). With equal costs that is a plain round-robin over the
sorted keys, so shard sizes differ by at most one. Every machine computes the same split from
the same inputs, with no coordination.

Two spellings, one meaning (``shard_of``):

    --shard I/N                      1-based: GitHub's matrix 1..N, GitLab's
                                     "$CI_NODE_INDEX/$CI_NODE_TOTAL"
    --shard-index0 K --shard-count N 0-based: Kubernetes' JOB_COMPLETION_INDEX of an Indexed Job

``--shard 0/4`` is an error (1-based); ``--shard-index0 0 --shard-count 4`` is ``--shard 1/4``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from harness.errors import InputError

T = TypeVar("T")

SHARD_NAME = "shard.json"  # what one shard was, in its output folder (harness.merge reads it)
MANIFEST_FORMAT = 1


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (1-based) of ``total``."""

    index: int
    total: int

    def __str__(self) -> str:
        return f"{self.index}/{self.total}"

    @property
    def index0(self) -> int:
        return self.index - 1

    def select(self, items: Sequence[T], key: Callable[[T], str]) -> list[T]:
        """The items of this shard (equal costs: round-robin over the sorted keys), in their
        original order."""
        return self.deal(items, key)

    def deal(
        self,
        items: Sequence[T],
        key: Callable[[T], str],
        cost: Callable[[T], float] | None = None,
    ) -> list[T]:
        """The items of this shard under the longest-processing-time deal, in their original
        order (module docstring)."""
        owners = deal(items, self.total, key, cost)
        return [item for item, owner in zip(items, owners, strict=True) if owner == self.index0]

    def owners(
        self,
        items: Sequence[T],
        key: Callable[[T], str],
        cost: Callable[[T], float] | None = None,
    ) -> dict[str, str]:
        """Every item's key -> the shard (``I/N``) it is dealt to: recorded in each shard's
        manifest, so that a merge names the shard of a cell even when that shard left nothing."""
        owners = deal(items, self.total, key, cost)
        return {
            key(item): f"{owner + 1}/{self.total}"
            for item, owner in zip(items, owners, strict=True)
        }


def deal(
    items: Sequence[T],
    total: int,
    key: Callable[[T], str],
    cost: Callable[[T], float] | None = None,
) -> list[int]:
    """The 0-based shard of each item: by cost, largest first (ties by key), each to the least
    loaded shard (ties: the lowest index)."""
    price = cost or (lambda _item: 1.0)
    order = sorted(range(len(items)), key=lambda i: (-round(price(items[i]), 6), key(items[i])))
    loads = [0.0] * total
    owners = [0] * len(items)
    for position in order:
        chosen = min(range(total), key=lambda shard: (round(loads[shard], 6), shard))
        owners[position] = chosen
        loads[chosen] += price(items[position])
    return owners


def loads(
    items: Sequence[T], total: int, key: Callable[[T], str], cost: Callable[[T], float]
) -> list[float]:
    """The expected cost of each shard (what ``faultlab plan`` and bench/ print)."""
    sums = [0.0] * total
    for item, owner in zip(items, deal(items, total, key, cost), strict=True):
        sums[owner] += cost(item)
    return sums


def parse_shard(text: str) -> Shard:
    """``"2/4"`` -> Shard(2, 4). InputError naming the flag when it is malformed."""
    index_text, slash, total_text = text.strip().partition("/")
    if not slash or not index_text.isdigit() or not total_text.isdigit():
        raise InputError(f"--shard {text!r}: expected I/N (1-based), e.g. --shard 1/4")
    index, total = int(index_text), int(total_text)
    if total < 1 or not 1 <= index <= total:
        hint = (
            f"; for a 0-based index use --shard-index0 {index} --shard-count {total}"
            if index == 0 and total >= 1
            else ""
        )
        raise InputError(
            f"--shard {text!r}: I must be between 1 and N (N >= 1), e.g. "
            f"--shard 1/{max(total, 1)}{hint}"
        )
    return Shard(index, total)


def add_shard_options(parser: argparse.ArgumentParser, what: str) -> None:
    """``--shard I/N``, ``--shard-index0 K`` and ``--shard-count N`` on a subcommand."""
    parser.add_argument(
        "--shard",
        metavar="I/N",
        help=f"run only shard I of N, 1-based (split {what} across CI machines; GitLab: "
        '"$CI_NODE_INDEX/$CI_NODE_TOTAL")',
    )
    parser.add_argument(
        "--shard-index0",
        metavar="K",
        help="the shard's 0-based index (Kubernetes' $JOB_COMPLETION_INDEX); with --shard-count",
    )
    parser.add_argument("--shard-count", metavar="N", help="how many shards, with --shard-index0")


def shard_of(args: argparse.Namespace) -> Shard | None:
    """The shard a command line asks for (None: all of it); InputError when the two spellings
    are mixed or one is incomplete. ``args.shard`` is rewritten as ``I/N`` (1-based), the one
    form forwarded to guests and to pytest."""
    text = getattr(args, "shard", None)
    index0, count = getattr(args, "shard_index0", None), getattr(args, "shard_count", None)
    if text and (index0 is not None or count is not None):
        raise InputError("--shard I/N and --shard-index0/--shard-count: give one of the two")
    if text:
        return parse_shard(text)
    if index0 is None and count is None:
        return None
    if index0 is None or count is None:
        raise InputError("--shard-index0 K and --shard-count N go together (e.g. 0 and 4)")
    index_text, count_text = str(index0).strip(), str(count).strip()
    if not index_text.isdigit() or not count_text.isdigit():
        raise InputError(
            f"--shard-index0 {index0!r} --shard-count {count!r}: expected whole numbers"
        )
    if not 0 <= int(index_text) < int(count_text):
        raise InputError(
            f"--shard-index0 {index0} --shard-count {count}: K must be between 0 and N-1"
        )
    shard = Shard(int(index_text) + 1, int(count_text))
    args.shard, args.shard_index0, args.shard_count = str(shard), None, None
    return shard


def only_cells(text: str | None) -> set[str] | None:
    """``--only``: a comma list of cells, or ``@FILE`` with one cell a line (cells whose names
    hold commas: what ``faultlab merge --rerun`` writes)."""
    if not text:
        return None
    if text.startswith("@"):
        from pathlib import Path

        try:
            lines = Path(text[1:]).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise InputError(f"--only {text}: {exc.strerror or exc}") from exc
        return {line.strip() for line in lines if line.strip()}
    return {item.strip() for item in text.split(",") if item.strip()}


def load_json(path: Path, label: str = "") -> Any:
    """A JSON file a shard left (its manifest, a sites file); InputError saying what is wrong,
    prefixed with ``label`` (the option that named it) and the path."""
    where = f"{label} {path}".strip()
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{where}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise InputError(f"{where}: not JSON ({exc})") from exc


def digest(cells: Iterable[str]) -> str:
    """A short digest of a cell list (sorted): two shards planned the same work when equal."""
    text = "\n".join(sorted(cells))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def faultlab_version() -> str:
    """This faultlab's version (the installed distribution's, else pyproject's)."""
    from importlib import metadata

    try:
        return metadata.version("faultlab")
    except metadata.PackageNotFoundError:
        return "unknown"


@dataclass
class Manifest:
    """What one shard was, written as ``shard.json`` in its output folder before it runs (so
    a shard killed half-way still says what it planned): the command kind, the shard, the
    versions, what it ran on (scenario, routers, kernels), the full planned cell list (and its
    digest) and its own cells, and the command that reruns a list of cells (``{cells}``)."""

    kind: str  # explore | compare | run
    shard: str | None  # "I/N", None: unsharded
    identity: dict[str, Any]  # what must match to merge: scenario, routers, versions ...
    planned: list[str]
    mine: list[str]
    rerun: list[str]  # argv with "{cells}" where the comma list of cells goes
    extra: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "format": MANIFEST_FORMAT,
            "kind": self.kind,
            "shard": self.shard,
            "identity": {"faultlab": faultlab_version(), **self.identity},
            "planned_digest": digest(self.planned),
            "planned": sorted(self.planned),
            "mine": sorted(self.mine),
            "rerun": self.rerun,
            **(self.extra or {}),
        }

    def write(self, folder: Any) -> None:
        from pathlib import Path

        path = Path(folder) / SHARD_NAME
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=1) + "\n", encoding="utf-8")
        tmp.replace(path)


def suite_digest(scenarios: Sequence[Any]) -> str:
    """The scenario files' texts (sorted): shards of one suite agree on it."""
    from pathlib import Path

    texts = sorted(
        Path(s.path).read_text(encoding="utf-8") if Path(s.path).is_file() else s.name
        for s in scenarios
    )
    return digest([hashlib.sha256(text.encode()).hexdigest() for text in texts])


def run_cell(release: str, name: str) -> str:
    """A kernel x scenario cell's id (``faultlab run``): ``RELEASE:NAME``."""
    return f"{release}:{name}"


def write_run_manifest(
    folder: Any,
    args: argparse.Namespace,
    scenarios: Sequence[Any],
    kernels: dict[str, str] | None = None,
    mine: Sequence[str] | None = None,
    owners: dict[str, str] | None = None,
) -> None:
    """``shard.json`` of a ``faultlab run``: every kernel x scenario cell planned (``kernels``:
    release -> the ``--kernel`` spec; None: this host's kernel, natively), the cells this run
    takes when known, and the rerun command (``{kernels}``: the ``--kernel`` options)."""
    import os

    releases = kernels or {os.uname().release: ""}
    planned = [run_cell(release, s.name) for release in releases for s in scenarios]
    rerun = ["faultlab", "run", *(getattr(args, "paths", None) or [])]
    rerun += ["{kernels}", "--only", "{cells}"]
    shard = getattr(args, "shard", None)
    Manifest(
        "run",
        shard,
        {"suite_digest": suite_digest(scenarios)},
        planned,
        list(mine) if mine is not None else [],
        rerun,
        extra={"kernels": releases, "mine_known": mine is not None, "owners": owners or {}},
    ).write(folder)
