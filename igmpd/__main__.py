"""igmpd's entry point: parse, validate, take the namespace lock, run the router.

Expected failures (bad configuration, a missing interface, an unwritable event log, a second
igmpd in the namespace, a once-per-process system call the kernel refused) print one line on
stderr and exit non-zero with the status docs/igmpd.md lists; anything else keeps its
traceback, since it is a bug in igmpd.
"""

from __future__ import annotations

import errno as errnos
import os
import socket
import sys
from collections.abc import Sequence

from igmpd import netif
from igmpd.cli import build_parser, config_from
from igmpd.config import Config, ConfigError, Limits
from igmpd.events import EventLog, EventLogError, RateLimiter
from igmpd.router import Router
from igmpd.state import StateFile

EXIT_BAD_CONFIG = 2
EXIT_ALREADY_RUNNING = 3
EXIT_SYSTEM_CALL = 4
LOCK_NAME = b"\0igmpd"


class AlreadyRunning(RuntimeError):
    """Another igmpd holds this network namespace's lock."""


class StartupCallFailed(RuntimeError):
    """A system call igmpd makes once per process, before routing, failed: without it igmpd
    cannot run, so it exits; the message names the call and the errno, never a guessed cause."""

    def __init__(self, call: str, err: int) -> None:
        name = errnos.errorcode.get(err, f"errno {err}")
        super().__init__(f"{call} failed: {name} ({os.strerror(err)})")
        self.call = call
        self.errno = err


def take_namespace_lock() -> socket.socket:
    """Bind the abstract unix socket "@igmpd": abstract names are per network namespace, so
    this admits one igmpd per namespace and is released when the process dies. Only
    EADDRINUSE means another igmpd holds it; any other error is that call's own failure."""
    try:
        lock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    except OSError as exc:
        raise StartupCallFailed("socket AF_UNIX (the namespace lock)", exc.errno or 0) from exc
    try:
        lock.bind(LOCK_NAME)
    except OSError as exc:
        lock.close()
        if exc.errno == errnos.EADDRINUSE:
            raise AlreadyRunning(
                "another igmpd is already running in this network namespace"
            ) from exc
        raise StartupCallFailed("bind @igmpd (the namespace lock)", exc.errno or 0) from exc
    return lock


def _fail(message: str, code: int) -> int:
    print(f"igmpd: error: {message}", file=sys.stderr)
    return code


def _log_config_event(error: ConfigError, path: str | None) -> None:
    """Log the catalog event a configuration mistake has (41047, 41050, 41051), if possible."""
    if error.event is None:
        return
    event_id, strings, interface = error.event
    try:
        log = EventLog.open(path or "-")
    except EventLogError:
        return
    log.emit(event_id, interface, strings)
    log.close()


def _check_interfaces(config: Config) -> None:
    """Every configured interface must exist (ENODEV: a configuration mistake, exit 2). The
    ioctl socket is opened first, so that its own failure (EMFILE ...) is not taken for an
    answer about an interface; an ioctl error other than ENODEV is the call's failure."""
    try:
        netif.open_control()
    except OSError as exc:
        raise StartupCallFailed(
            f"{netif.CONTROL_SOCKET_CALL} (the interface ioctl socket)", exc.errno or 0
        ) from exc
    for interface in config.interfaces:
        try:
            found = netif.exists(interface.name)
        except netif.IoctlFailed as exc:
            raise StartupCallFailed(f"ioctl {exc.call} {interface.name}", exc.errno or 0) from exc
        if not found:
            raise ConfigError(
                f"interface {interface.name} does not exist in this network namespace"
            )


def _check_state_path(path: str | None) -> None:
    """The state file's folder must exist: its writes are never fatal later (it is a report),
    so a mistyped --state path would otherwise go unnoticed until someone reads the file."""
    if path is None:
        return
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ConfigError(f"cannot write state file {path}: folder {folder} does not exist")
    if os.path.isdir(path):
        raise ConfigError(f"cannot write state file {path}: it is a directory")


def main(argv: Sequence[str] | None = None) -> int:
    """Run igmpd; the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        config = config_from(args)
    except ConfigError as error:
        _log_config_event(error, args.event_log)
        return _fail(str(error), EXIT_BAD_CONFIG)
    try:
        _check_interfaces(config)
        _check_state_path(config.state)
    except ConfigError as error:
        return _fail(str(error), EXIT_BAD_CONFIG)
    except StartupCallFailed as error:
        return _fail(str(error), EXIT_SYSTEM_CALL)
    limits: Limits = config.limits
    try:
        log = EventLog.open(config.event_log, RateLimiter(limits.log_burst, limits.log_rate))
    except EventLogError as error:
        return _fail(error.strerror or str(error), EXIT_BAD_CONFIG)
    try:
        lock = take_namespace_lock()
    except AlreadyRunning as error:
        log.close()
        return _fail(str(error), EXIT_ALREADY_RUNNING)
    except StartupCallFailed as error:
        log.close()
        return _fail(str(error), EXIT_SYSTEM_CALL)
    try:
        return Router(config, log, StateFile(config.state)).run()
    finally:
        lock.close()
        log.close()


if __name__ == "__main__":
    sys.exit(main())
