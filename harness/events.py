"""Follows a router's event stream as it is written, and waits on it with deadlines.

The router under test reports what went wrong as events (docs/architecture.md section 3). The
harness must see each event within milliseconds of it being written, without polling sleeps:
an ``EventStream`` follows the router's log files with inotify in a background thread, turns each
line into a normalised ``Event`` record (through the router adapter's ``EventSource``), appends it
to a list and notifies a ``threading.Condition``. Assertions then wait on that condition with a
deadline, and only consider events after a ``Mark`` (set when a fault is applied), so that what
happened before the fault cannot satisfy them. The model it fills (``Event``, ``Mark``,
``EventSource`` ...) is harness/event.py; this module is only the follower.

The same thread also watches process exits (a pidfd per process), so that "the router exits with
status N" is awaited the same way as an event.

inotify is not enough everywhere: a folder shared into a VM over 9p, or an NFS/CIFS/FUSE
workspace, does not deliver notifications for writes made elsewhere (seen: igmpd's events on a
9p share were never reported). So the thread also looks at the files on a timer: every
``REMOTE_POLL`` seconds on such file systems (found with statfs), every ``LOCAL_POLL`` seconds
elsewhere as a safety net. ``FAULTLAB_EVENT_POLL`` (seconds) overrides both.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno as _errno
import os
import select
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import ExpectationFailed, HarnessBug
from harness.event import Clock, Event, EventSource, LogLine, Mark

# inotify(7) constants (linux/inotify.h).
_IN_MODIFY = 0x00000002
_IN_CLOSE_WRITE = 0x00000008
_IN_MOVED_TO = 0x00000080
_IN_CREATE = 0x00000100
_IN_NONBLOCK = os.O_NONBLOCK
_IN_CLOEXEC = os.O_CLOEXEC
_WATCH_MASK = _IN_MODIFY | _IN_CLOSE_WRITE | _IN_MOVED_TO | _IN_CREATE
_EVENT_HEADER = struct.Struct("iIII")
_LAST_LINES = 20

#: Seconds between two looks at the followed files where inotify may miss writes, and elsewhere.
REMOTE_POLL = 0.005
LOCAL_POLL = 0.1
POLL_ENV = "FAULTLAB_EVENT_POLL"
#: statfs f_type of file systems whose writes may not reach inotify (linux/magic.h and others).
REMOTE_FS_TYPES: dict[int, str] = {
    0x01021997: "9p",
    0x6969: "nfs",
    0xFF534D42: "cifs",
    0xFE534D42: "smb2",
    0x65735546: "fuse",
    0x00C36400: "ceph",
    0x5346414F: "afs",
}


class EventTimeout(ExpectationFailed):
    """An awaited event did not arrive before its deadline; says what was awaited and what was seen."""

    def __init__(self, awaited: str, waited: float, last_lines: list[str]) -> None:
        self.awaited = awaited
        self.waited = waited
        self.last_lines = last_lines
        seen = "\n  ".join(last_lines[-5:]) or "(nothing)"
        super().__init__(f"no {awaited} within {waited * 1000:.0f} ms; last lines seen:\n  {seen}")


def fs_type(path: Path) -> int | None:
    """The statfs(2) f_type of the file system holding ``path`` (None when it cannot be read)."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    buffer = ctypes.create_string_buffer(256)  # struct statfs is 120 bytes on 64-bit Linux
    if libc.statfs(os.fsencode(path), buffer) != 0:
        return None
    return int(ctypes.c_long.from_buffer(buffer).value) & 0xFFFFFFFF


def poll_interval(directories: Iterable[Path]) -> float:
    """How often to look at files in ``directories`` besides inotify: often where inotify may
    miss writes (9p, NFS, CIFS, FUSE ...), rarely elsewhere; ``FAULTLAB_EVENT_POLL`` wins."""
    forced = os.environ.get(POLL_ENV)
    if forced:
        try:
            value = float(forced)
        except ValueError:
            raise HarnessBug(f"{POLL_ENV}={forced!r}: expected seconds, e.g. 0.005") from None
        if value > 0:
            return value
    for directory in directories:
        if fs_type(directory) in REMOTE_FS_TYPES:
            return REMOTE_POLL
    return LOCAL_POLL


class _Inotify:
    """A minimal inotify(7) binding through ctypes: watch directories, read changed names."""

    def __init__(self) -> None:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        self._add_watch = libc.inotify_add_watch
        self._add_watch.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32)
        self.fd = libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        if self.fd < 0:
            code = ctypes.get_errno()
            raise HarnessBug(f"inotify_init1 failed: {_errno.errorcode.get(code, code)}")
        self._dirs: dict[int, Path] = {}

    def watch(self, directory: Path) -> None:
        """Report creations, writes and renames of files in ``directory``."""
        if directory in self._dirs.values():
            return
        descriptor = self._add_watch(self.fd, os.fsencode(directory), _WATCH_MASK)
        if descriptor < 0:
            code = ctypes.get_errno()
            raise HarnessBug(f"inotify_add_watch {directory}: {os.strerror(code)}")
        self._dirs[descriptor] = directory

    def read_names(self) -> list[Path]:
        """Drain pending notifications; the paths of the files they concern."""
        names: list[Path] = []
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return names
            offset = 0
            while offset < len(data):
                descriptor, _mask, _cookie, length = _EVENT_HEADER.unpack_from(data, offset)
                offset += _EVENT_HEADER.size
                name = data[offset : offset + length].rstrip(b"\0")
                offset += length
                if descriptor in self._dirs and name:
                    names.append(self._dirs[descriptor] / os.fsdecode(name))

    def close(self) -> None:
        os.close(self.fd)


class _FollowedFile:
    """One file being followed: its descriptor once it exists, and the incomplete last line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None
        self.partial = b""

    def read_lines(self) -> list[str]:
        """Complete lines appended since the last call (none if the file does not exist yet)."""
        if self.fd is None:
            try:
                self.fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
            except FileNotFoundError:
                return []
        chunks = [self.partial]
        while chunk := os.read(self.fd, 65536):
            chunks.append(chunk)
        data = b"".join(chunks)
        *lines, self.partial = data.split(b"\n")
        return [line.decode("utf-8", "replace") for line in lines]

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


@dataclass
class ProcessExit:
    """When the harness saw a watched process exit (it is reaped by whoever owns the Popen)."""

    pid: int
    seen: float | None = None


@dataclass
class _Counters:
    """Changes per file name seen through inotify (lets a caller wait for a file to be rewritten)."""

    by_path: dict[Path, int] = field(default_factory=dict)
    signatures: dict[Path, tuple[int, int, int] | None] = field(default_factory=dict)

    def bump(self, path: Path) -> None:
        self.by_path[path] = self.by_path.get(path, 0) + 1

    def poll(self) -> bool:
        """Bump every asked-about file whose inode, size or mtime changed (the fallback when
        inotify is silent); True when one did."""
        changed = False
        for path, before in list(self.signatures.items()):
            now = _signature(path)
            if now != before:
                self.signatures[path] = now
                if now is not None:
                    self.bump(path)
                    changed = True
        return changed


def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_ino, info.st_size, info.st_mtime_ns


class EventStream:
    """Follows an ``EventSource`` in a background thread; waits on its events with deadlines.

    ``condition`` may be shared with packet captures so that one wait wakes on either an event
    or a packet. Use as a context manager, or ``start()`` / ``stop()``.
    """

    def __init__(
        self,
        source: EventSource,
        *,
        condition: threading.Condition | None = None,
        clock: Clock = time.monotonic,
        watch_dirs: Iterable[Path] = (),
    ) -> None:
        self.source = source
        self.condition = condition or threading.Condition()
        self.clock = clock
        self.events: list[Event] = []
        self.lines: list[LogLine] = []  # every line read, events or not
        self.errors: list[BaseException] = []
        self.exits: dict[int, ProcessExit] = {}
        self._files = [_FollowedFile(path) for path in source.paths]
        self._last_lines: deque[str] = deque(maxlen=_LAST_LINES)
        self._changes = _Counters()
        self._watch_dirs = {path.parent for path in source.paths} | set(watch_dirs)
        self._pending_pidfds: list[tuple[int, int]] = []
        self._wake_read, self._wake_write = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._inotify: _Inotify | None = None
        self.poll_every = poll_interval(self._watch_dirs)

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> EventStream:
        """Start following (the files need not exist yet: their directories are watched)."""
        self._inotify = _Inotify()
        for directory in self._watch_dirs:
            try:
                self._inotify.watch(directory)
            except HarnessBug:  # e.g. out of inotify watches: the timer alone follows the files
                self.poll_every = REMOTE_POLL
        self._thread = threading.Thread(target=self._follow, name="faultlab-events", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Read what is left, stop the thread and release its descriptors."""
        if self._thread is None:
            self._close_pipe()
            return
        self._stopping = True
        os.write(self._wake_write, b"x")
        self._thread.join(timeout=5)
        if self._thread.is_alive():
            raise HarnessBug("the event stream's thread did not stop within 5 s")
        self._thread = None
        self._read_files()
        for followed in self._files:
            followed.close()
        if self._inotify is not None:
            self._inotify.close()
        self._close_pipe()

    def _close_pipe(self) -> None:
        for fd in (self._wake_read, self._wake_write):
            try:
                os.close(fd)
            except OSError:
                pass
        self._wake_read = self._wake_write = -1

    def __enter__(self) -> EventStream:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def watch_process(self, pid: int) -> None:
        """Notify waiters when process ``pid`` exits (through a pidfd, no polling)."""
        pidfd = os.pidfd_open(pid)
        with self.condition:
            self.exits[pid] = ProcessExit(pid)
            self._pending_pidfds.append((pidfd, pid))
        os.write(self._wake_write, b"p")

    # -- the follower thread ----------------------------------------------------------------

    def _follow(self) -> None:
        assert self._inotify is not None
        poller = select.poll()
        poller.register(self._inotify.fd, select.POLLIN)
        poller.register(self._wake_read, select.POLLIN)
        pidfds: dict[int, int] = {}
        try:
            self._read_files()
            timeout_ms = max(1, round(self.poll_every * 1000))
            while not self._stopping:
                ready = poller.poll(timeout_ms)
                for fd, _flags in ready:
                    self._on_ready(fd, poller, pidfds)
                if not ready:
                    self._poll_files()
        except BaseException as exc:  # noqa: BLE001 - reported to the waiters, never lost
            with self.condition:
                self.errors.append(exc)
                self.condition.notify_all()
        finally:
            for pidfd in pidfds:
                os.close(pidfd)

    def _on_ready(self, fd: int, poller: select.poll, pidfds: dict[int, int]) -> None:
        if self._inotify is not None and fd == self._inotify.fd:
            for path in self._inotify.read_names():
                self._changes.bump(path)
            self._read_files()
        elif fd == self._wake_read:
            _drain(fd)
            with self.condition:
                pending, self._pending_pidfds = self._pending_pidfds, []
            for pidfd, pid in pending:
                pidfds[pidfd] = pid
                poller.register(pidfd, select.POLLIN)
        elif fd in pidfds:
            pid = pidfds.pop(fd)
            poller.unregister(fd)
            os.close(fd)
            self._read_files()
            with self.condition:
                self.exits[pid].seen = self.clock()
                self.condition.notify_all()

    def _poll_files(self) -> None:
        """The timer's look at the files: new lines, and rewrites of asked-about files."""
        with self.condition:
            changed = self._changes.poll()
        self._read_files(notify=changed)

    def _read_files(self, notify: bool = True) -> None:
        """Parse every complete new line; append events and wake the waiters (one lock per batch)."""
        batch: list[tuple[str, Mapping[str, Any] | None, Path]] = []
        for followed in self._files:
            for line in followed.read_lines():
                batch.append((line, self.source.parse(line, followed.path), followed.path))
        if not batch and not notify:
            return
        seen = self.clock()
        with self.condition:
            for line, record, path in batch:
                self._last_lines.append(line)
                self.lines.append(LogLine(seen, line, record is not None, path))
                if record is not None:
                    self.events.append(
                        Event.from_record(record, seen=seen, raw=line, index=len(self.events))
                    )
            self.condition.notify_all()

    # -- waiting ------------------------------------------------------------------------------

    def mark(self, label: str = "") -> Mark:
        """The current end of the stream: events after this point are the ones that count."""
        with self.condition:
            return Mark(len(self.events), self.clock(), label)

    def snapshot(self, after: Mark | None = None) -> list[Event]:
        """The events seen so far (after ``after``)."""
        with self.condition:
            return list(self.events[after.index if after else 0 :])

    def log_lines(self, since: float | None = None) -> list[LogLine]:
        """The raw lines read so far (those seen at or after ``since``)."""
        with self.condition:
            return [line for line in self.lines if since is None or line.seen >= since]

    def last_lines(self) -> list[str]:
        """The last raw lines read (events or not), for evidence."""
        with self.condition:
            return list(self._last_lines)

    def changes(self, path: Path) -> int:
        """How many changes of ``path`` were seen so far (it is in a watched dir): inotify's
        notifications, or the timer's when inotify is silent (the file is watched from the
        first call on)."""
        with self.condition:
            if path not in self._changes.signatures:
                self._changes.signatures[path] = _signature(path)
            return self._changes.by_path.get(path, 0)

    def wait_for(
        self,
        matcher: Callable[[Event], bool],
        deadline: float,
        after: Mark | None = None,
        what: str | None = None,
    ) -> Event:
        """The first event after ``after`` that matches; raises ``EventTimeout`` at ``deadline``."""
        start = after.index if after else 0
        begun = after.time if after else self.clock()
        with self.condition:
            while True:
                self._raise_thread_error()
                for event in self.events[start:]:
                    if matcher(event):
                        return event
                start = len(self.events)
                remaining = deadline - self.clock()
                if remaining <= 0:
                    awaited = what or str(matcher)
                    raise EventTimeout(awaited, deadline - begun, list(self._last_lines))
                self.condition.wait(remaining)

    def wait_until(self, predicate: Callable[[], bool], deadline: float) -> bool:
        """Wait (woken by every event, packet or exit) until ``predicate()`` or the deadline."""
        with self.condition:
            while not predicate():
                self._raise_thread_error()
                remaining = deadline - self.clock()
                if remaining <= 0:
                    return False
                self.condition.wait(remaining)
            return True

    def wait_exit(self, pid: int, deadline: float) -> bool:
        """Whether watched process ``pid`` exited before ``deadline``."""
        if pid not in self.exits:
            raise HarnessBug(f"process {pid} is not watched by this event stream")
        return self.wait_until(lambda: self.exits[pid].seen is not None, deadline)

    def _raise_thread_error(self) -> None:
        if self.errors:
            raise self.errors[0]


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 4096):
            pass
    except BlockingIOError:
        pass
