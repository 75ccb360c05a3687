"""The lab: a topology built in network namespaces on enter and removed on every exit path.

``with Lab(topology) as lab:`` claims a run record, creates one namespace per node (and one per
LAN bridge), creates every veth from inside one namespace with its peer born in the other (so
nothing ever exists in the root namespace), then sends each namespace's addresses and routes
in one netlink batch. Every step pushes its undo step; teardown runs them all (sockets handed
out closed, processes stopped, namespaces removed, record deleted) and raises the failures
together. While a lab is alive in the main thread, SIGTERM raises LabTerminated so that the
same teardown runs when a CI runner or a user stops the run.
"""

from __future__ import annotations

import errno
import os
import socket as _socket
import time
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

from . import processes, registry, rtnl
from .errors import HostUnsupported, TopologyError
from .naming import check_run_id, new_run_id
from .node import Node, _Namespace
from .nsenter import call_in, create_netns
from .plan import LOOPBACK_INDEX, NamespacePlan, Plan, make_plan
from .processes import LabProcess, stop
from .registry import RUNS_DIR, ProcessEntry, RunRecord
from .signals import LabTerminated, SigtermGuard
from .sysctl import write_sysctls
from .topology import Topology
from .undo import UndoStack

CLAIM_ATTEMPTS = 8


class Lab:
    """A topology of namespaces, alive between ``__enter__`` and ``__exit__``."""

    def __init__(
        self,
        topology: Topology,
        run_id: str | None = None,
        workdir: str | Path | None = None,
        *,
        runs_dir: Path = RUNS_DIR,
        terminate_timeout: float = 3.0,
        operational_timeout: float = 5.0,
    ) -> None:
        self.topology = topology
        self.run_id = check_run_id(run_id) if run_id is not None else None
        self.workdir = Path(workdir) if workdir is not None else None
        self.terminate_timeout = terminate_timeout
        self.operational_timeout = operational_timeout
        self._runs_dir = runs_dir
        self._undo = UndoStack("lab")
        self._namespaces: dict[str, _Namespace] = {}
        self._nodes: dict[str, Node] = {}
        self._lans: dict[str, Node] = {}
        self._processes: list[LabProcess] = []
        self._sockets: weakref.WeakSet[_socket.socket] = weakref.WeakSet()
        self._record: RunRecord | None = None
        self._guard = SigtermGuard("(unbuilt)")
        self._alive = False
        self._used = False

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> Lab:
        self.build()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.teardown(raise_pending_sigterm=exc is None)

    def build(self) -> None:
        """Build the whole topology; on any failure remove what was built and re-raise."""
        if os.geteuid() != 0:
            raise HostUnsupported(
                "building a lab needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN): run as root"
            )
        if self._used:
            raise RuntimeError(f"lab {self.label} was built before; make a new Lab to build again")
        self._used = True
        self._guard.install()
        try:
            self._build()
        except BaseException as exc:
            self._unwind_after(exc)
            raise
        self._alive = True

    def teardown(self, raise_pending_sigterm: bool = True) -> None:
        """Remove everything; raise the failed steps together as an ExceptionGroup."""
        self._alive = False
        self._guard.deferring = True
        try:
            self._undo.unwind()
        finally:
            self._guard.restore()
        if self._guard.pending and raise_pending_sigterm:
            raise LabTerminated(f"SIGTERM during the teardown of lab {self.label}")

    def _unwind_after(self, exc: BaseException) -> None:
        self._guard.deferring = True
        try:
            self._undo.unwind()
        except BaseExceptionGroup as group:
            exc.add_note(f"removing the half-built lab {self.label} also failed: {group!r}")
            for error in group.exceptions:
                exc.add_note(f"  {error!r}")
        finally:
            self._guard.restore()

    @property
    def label(self) -> str:
        return f"fl{self.run_id}" if self.run_id else "(unbuilt lab)"

    # -- build steps -----------------------------------------------------------------------

    def _build(self) -> None:
        plan = self._claim_run()
        for ns_plan in plan.namespaces.values():
            self._create_namespace(ns_plan)
        self._undo.push("stop the lab's processes", self._stop_processes)
        self._undo.push("close the lab's sockets", self._close_sockets)
        self._create_links(plan)
        self._write_late_sysctls(plan)
        self._configure(plan)
        self._configure_routes(plan)
        self._wait_operational(plan)

    def _claim_run(self) -> Plan:
        """Pick the run id and write the run record before any namespace exists."""
        for _ in range(CLAIM_ATTEMPTS):
            run_id = self.run_id or new_run_id()
            plan = make_plan(self.topology, run_id)
            record = RunRecord.for_this_process(run_id, list(plan.namespaces), _text(self.workdir))
            if registry.claim(record, self._runs_dir):
                self._adopt(run_id, record)
                return plan
            if self.run_id is not None:
                break
        raise FileExistsError(
            errno.EEXIST, f"run id {self.run_id or '(random)'} already has a run record"
        )

    def _adopt(self, run_id: str, record: RunRecord) -> None:
        self.run_id = run_id
        self._record = record
        self._undo.label = self._guard.label = self.label
        self._undo.push(
            f"delete run record {run_id}", lambda: registry.delete(run_id, self._runs_dir)
        )

    def _create_namespace(self, ns_plan: NamespacePlan) -> None:
        def inside() -> rtnl.Channel:
            channel = rtnl.Channel(rtnl.open_socket(), ns_plan.name)
            try:
                channel.watch_links(True)
                _write_sysctls(ns_plan, ns_plan.early_sysctls())
            except BaseException:
                channel.close()
                raise
            return channel

        try:
            fd, channel = create_netns(ns_plan.name, inside)
        except PermissionError as exc:
            raise HostUnsupported(f"cannot create namespace {ns_plan.name}: {exc}") from exc
        ns = self._namespaces[ns_plan.name] = _Namespace(ns_plan, fd, channel)
        self._undo.push(f"remove namespace {ns.name}", ns.remove)
        node = Node(self, ns)
        if ns_plan.node is not None:
            self._nodes[ns_plan.node] = node
        if ns_plan.lan is not None:
            self._lans[ns_plan.lan] = node

    def _create_links(self, plan: Plan) -> None:
        """Per namespace, one batch: its bridges, then the veths created from it."""
        batches: dict[str, list[rtnl.Request]] = {name: [] for name in plan.namespaces}
        for bridge in plan.bridges:
            batches[bridge.ns].append(rtnl.add_bridge(bridge.index, bridge.ifname))
        for veth in plan.veths:
            local, peer = veth.local, veth.peer
            batches[local.ns].append(
                rtnl.add_veth(
                    local.index,
                    local.ifname,
                    peer.index,
                    peer.ifname,
                    self._namespaces[peer.ns].fd,
                    peer.ns,
                    veth.up,
                    veth.master,
                )
            )
        self._send(batches)

    def _write_late_sysctls(self, plan: Plan) -> None:
        for ns_plan in plan.namespaces.values():
            late = ns_plan.late_sysctls()
            if late:
                call_in(self._namespaces[ns_plan.name].fd, _write_sysctls, ns_plan, late)

    def _configure(self, plan: Plan) -> None:
        """Per namespace, one batch: lo up, peer ends up, addresses."""
        batches: dict[str, list[rtnl.Request]] = {
            name: [rtnl.set_link_up(LOOPBACK_INDEX, "lo")] for name in plan.namespaces
        }
        for veth in plan.veths:
            if veth.up:
                batches[veth.peer.ns].append(rtnl.set_link_up(veth.peer.index, veth.peer.ifname))
        for item in plan.addresses:
            batches[item.ns].append(
                rtnl.add_address(item.side.index, item.side.ifname, item.address)
            )
        self._send(batches)

    def _configure_routes(self, plan: Plan) -> None:
        batches: dict[str, list[rtnl.Request]] = {}
        for route in plan.routes:
            batches.setdefault(route.ns, []).append(
                rtnl.add_route(route.dst, route.via, route.oif, route.text)
            )
        try:
            self._send(batches)
        except rtnl.NetlinkRequestError as exc:
            raise TopologyError(f"route rejected by the kernel: {exc.strerror}") from exc

    def _wait_operational(self, plan: Plan) -> None:
        """Return only once every veth that is up carries traffic (operstate UP).

        Right after "up" the kernel still has to see the carrier (linkwatch, a work queue):
        until then a link drops packets, so a test's first multicast datagram could vanish.
        """
        deadline = time.monotonic() + self.operational_timeout
        late = []
        for name, ifnames in _up_interfaces(plan).items():
            channel = self._namespaces[name].channel
            late += [
                f"{name}:{ifname}" for ifname in sorted(channel.wait_operational(ifnames, deadline))
            ]
            channel.watch_links(False)
        if late:
            raise TimeoutError(
                f"links not operational {self.operational_timeout:g}s after they were set up:"
                f" {', '.join(late)} (a host under heavy load? raise Lab(operational_timeout=))"
            )

    def _send(self, batches: Mapping[str, Sequence[rtnl.Request]]) -> None:
        for name, requests in batches.items():
            self._namespaces[name].channel.request(requests)

    # -- teardown steps --------------------------------------------------------------------

    def _stop_processes(self) -> None:
        processes, self._processes = self._processes, []
        stop(processes, self.terminate_timeout)

    def _close_sockets(self) -> None:
        for sock in list(self._sockets):
            sock.close()

    # -- handles ---------------------------------------------------------------------------

    def node(self, name: str) -> Node:
        """The handle of node ``name``."""
        self.check_alive()
        try:
            return self._nodes[name]
        except KeyError:
            raise KeyError(
                f"no node {name!r} in lab {self.label} (nodes: {', '.join(self._nodes)})"
            ) from None

    def lan(self, name: str) -> Node:
        """A handle on LAN ``name``'s bridge namespace (e.g. to capture on the bridge)."""
        self.check_alive()
        try:
            return self._lans[name]
        except KeyError:
            raise KeyError(
                f"no LAN {name!r} in lab {self.label} (LANs: {', '.join(self._lans)})"
            ) from None

    @property
    def nodes(self) -> Mapping[str, Node]:
        """Every node handle, by node name."""
        return dict(self._nodes)

    @property
    def namespaces(self) -> list[str]:
        """The full names of every namespace of this lab."""
        return list(self._namespaces)

    def check_alive(self) -> None:
        """Raise unless the lab is built (a handle used outside its ``with`` block)."""
        if not self._alive:
            raise RuntimeError(f"lab {self.label} is not built (use it inside its 'with' block)")

    # -- what a Node hands to its lab, so that teardown closes and ends it ----------------------

    def adopt_socket(self, sock: _socket.socket) -> None:
        """Close ``sock`` at teardown (a socket a node opened inside its namespace)."""
        self._sockets.add(sock)

    def adopt_process(self, proc: LabProcess, node: str) -> None:
        """End ``proc`` at teardown, and record it so a sweep finds it if this run dies."""
        self._processes.append(proc)
        assert self._record is not None
        argv0 = processes.argv0(proc.popen)
        self._record.processes.append(ProcessEntry(proc.popen.pid, proc.start_time, node, argv0))
        registry.save(self._record, self._runs_dir)


def _up_interfaces(plan: Plan) -> dict[str, set[str]]:
    """Per namespace, the veth ends that the plan brings up."""
    result: dict[str, set[str]] = {name: set() for name in plan.namespaces}
    for veth in plan.veths:
        if veth.up:
            result[veth.local.ns].add(veth.local.ifname)
            result[veth.peer.ns].add(veth.peer.ifname)
    return result


def _write_sysctls(ns_plan: NamespacePlan, values: dict[str, str]) -> None:
    try:
        write_sysctls(values)
    except (FileNotFoundError, PermissionError) as exc:
        who = ns_plan.node or ns_plan.name
        raise TopologyError(
            f"sysctl {exc.filename} of node {who}: {exc.strerror} (is it a per-namespace net.* key"
            " on this kernel? `ls /proc/sys/net` inside a namespace lists them)"
        ) from exc


def _text(path: Path | None) -> str | None:
    return str(path) if path is not None else None
