"""Headless Chromium driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``).

The lightest driver there is: no chromedriver, no websocket library, no browser download. The
browser reads commands on fd 3 and writes answers and events on fd 4, each a JSON object ended by
a NUL byte. Waits use ``select`` with a deadline (never a sleep).
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

FLAGS = [
    "--headless",
    "--no-sandbox",  # root in a container: the setuid sandbox cannot start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-pipe",
]
TIMEOUT = 30.0


def find_chromium() -> str | None:
    """Debian's ``chromium`` (scripts/install-browser.sh), else another Chromium on PATH."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class BrowserError(Exception):
    """The browser answered a command with an error, or did not answer in time."""


class Browser:
    """One headless Chromium with one page; ``close()`` ends the process it started."""

    def __init__(self, binary: str, width: int = 1400, height: int = 900) -> None:
        self.profile = tempfile.mkdtemp(prefix="faultlab-chromium-")
        to_browser, self._in = os.pipe()
        self._out, from_browser = os.pipe()
        self.process = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            pass_fds=(3, 4),
            preexec_fn=lambda: (os.dup2(to_browser, 3), os.dup2(from_browser, 4)),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_browser)
        os.close(from_browser)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        self.session = self._attach()
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable")
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )

    def _attach(self) -> str:
        target = self.call("Target.createTarget", session=False, url="about:blank")["targetId"]
        answer = self.call("Target.attachToTarget", session=False, targetId=target, flatten=True)
        return answer["sessionId"]

    # -- the protocol ---------------------------------------------------------------------

    def call(self, method: str, session: bool = True, **params: Any) -> dict[str, Any]:
        """Send one command and wait for its answer (events seen meanwhile are kept)."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        os.write(self._in, json.dumps(message).encode() + b"\0")
        answer = self._wait(lambda m: m.get("id") == message["id"])
        if "error" in answer:
            raise BrowserError(f"{method}: {answer['error']}")
        return answer.get("result", {})

    def wait_event(self, method: str) -> dict[str, Any]:
        """The first event called ``method`` (already seen, or the next one to come)."""
        for event in self.events:
            if event.get("method") == method:
                return event
        return self._wait(lambda m: m.get("method") == method)

    def _wait(self, wanted: Any) -> dict[str, Any]:
        deadline = time.monotonic() + TIMEOUT
        while True:
            while b"\0" in self._buffer:
                raw, _, self._buffer = self._buffer.partition(b"\0")
                message = json.loads(raw)
                if "method" in message:
                    self.events.append(message)
                if wanted(message):
                    return message
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([self._out], [], [], max(0.0, remaining))
            if not ready:
                raise BrowserError(f"no answer from chromium within {TIMEOUT:g}s")
            chunk = os.read(self._out, 1 << 20)
            if not chunk:
                raise BrowserError("chromium closed its DevTools pipe (it exited)")
            self._buffer += chunk

    # -- what the tests use -----------------------------------------------------------------

    def open(self, path: Path) -> None:
        """Load a file and wait for its load event."""
        self.events = [e for e in self.events if e.get("method") != "Page.loadEventFired"]
        self.call("Page.navigate", url=path.resolve().as_uri())
        self.wait_event("Page.loadEventFired")

    def js(self, expression: str) -> Any:
        """Evaluate in the page; the value (JSON-able), or BrowserError on an exception."""
        result = self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def console_errors(self) -> list[str]:
        """Uncaught exceptions, console.error calls and error log entries (failed loads)."""
        errors = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                errors.append(str(params["exceptionDetails"]))
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                errors.append(str(params.get("args")))
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                errors.append(params["entry"].get("text", ""))
        return errors

    def screenshot(self, path: Path, selector: str | None = None) -> Path:
        """A PNG of the viewport, or of one element (scrolled into view) when ``selector``."""
        params: dict[str, Any] = {"format": "png"}
        if selector is not None:
            box = self.js(
                f"(function(){{var e=document.querySelector({json.dumps(selector)});"
                "e.scrollIntoView();var r=e.getBoundingClientRect();"
                "return {x:r.x+scrollX,y:r.y+scrollY,width:r.width,height:Math.min(r.height,2400)}})()"
            )
            params.update(clip={**box, "scale": 1}, captureBeyondViewport=True)
        data = self.call("Page.captureScreenshot", **params)["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        """End the browser this object started (by its pid) and remove its profile."""
        for fd in (self._in, self._out):
            try:
                os.close(fd)
            except OSError:
                pass
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
