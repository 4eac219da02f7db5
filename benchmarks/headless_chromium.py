"""A minimal headless-Chromium driver over the DevTools protocol (`--remote-debugging-pipe`), for the viewer's browser
tests and its speed benchmark: open a page, evaluate JavaScript, take a PNG screenshot, collect uncaught JS errors.

It needs only a Chromium binary (Debian's `chromium`, or $LCB_CHROMIUM): no chromedriver, no Python package, no
browser download, no network (the flags below turn off every background connection). Does not cover: anything a page
needs a server for; clicking by coordinates (tests drive pages through their DOM).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Self

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
         "--remote-debugging-pipe")
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "chrome")


class BrowserError(RuntimeError):
    pass


def find_chromium() -> str | None:
    """$LCB_CHROMIUM, else the first Chromium on PATH or at /usr/bin/chromium; None when there is none."""
    env = os.environ.get("LCB_CHROMIUM")
    if env:
        return env if Path(env).exists() else None
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


class Chromium:
    """One headless browser with one page. Use as a context manager."""

    def __init__(self, binary: str, *, width: int = 1360, height: int = 900, timeout_s: float = 60.0):
        self.timeout_s = timeout_s
        self.errors: list[str] = []  # uncaught JS exceptions and console errors, as text
        self._profile = tempfile.mkdtemp(prefix="lcb-chromium-")
        cmd_r, cmd_w = os.pipe()
        res_r, res_w = os.pipe()
        cmd_r, res_w = _high(cmd_r), _high(res_w)  # bash maps them to fds 3 and 4 (dash: single-digit fds only)
        self._proc = subprocess.Popen(
            [shutil.which("bash") or "/bin/bash", "-c", f'exec "$0" "$@" 3<&{cmd_r} 4>&{res_w} {cmd_r}<&- {res_w}>&-', binary, *FLAGS,
             f"--user-data-dir={self._profile}", f"--window-size={width},{height}", "about:blank"],
            pass_fds=(cmd_r, res_w), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(cmd_r)
        os.close(res_w)
        self._out = os.fdopen(cmd_w, "wb", buffering=0)
        self._in = os.fdopen(res_r, "rb", buffering=0)
        self._next_id = 0
        self._lock = threading.Condition()
        self._replies: dict[int, dict] = {}
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self._session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page.enable", "Runtime.enable"):
            self.send(domain, session=True)
        self.send("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 1,
                                                         "mobile": False}, session=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def send(self, method: str, params: dict | None = None, *, session: bool = False) -> dict:
        with self._lock:
            self._next_id += 1
            msg_id = self._next_id
        msg = {"id": msg_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = self._session
        self._out.write(json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + self.timeout_s
        with self._lock:
            while msg_id not in self._replies:
                left = deadline - time.monotonic()
                if left <= 0 or not self._reader.is_alive():
                    raise BrowserError(f"no reply to {method} (browser gone or over {self.timeout_s:.0f} s)")
                self._lock.wait(min(left, 0.5))
            reply = self._replies.pop(msg_id)
        if "error" in reply:
            raise BrowserError(f"{method}: {reply['error'].get('message')}")
        return reply.get("result", {})

    def goto(self, url: str) -> None:
        self.send("Page.navigate", {"url": url}, session=True)
        self.wait_for("document.readyState === 'complete'")

    def evaluate(self, expression: str):
        """The JSON value of `expression` (promises awaited); a JS exception raises BrowserError."""
        res = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True},
                        session=True)
        if "exceptionDetails" in res:
            details = res["exceptionDetails"]
            raise BrowserError(f"JS error: {details.get('exception', {}).get('description') or details.get('text')}")
        return res["result"].get("value")

    def wait_for(self, expression: str, timeout_s: float | None = None):
        """Poll until `expression` is truthy; returns its value."""
        deadline = time.monotonic() + (timeout_s or self.timeout_s)
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise BrowserError(f"timed out waiting for {expression!r}")
            time.sleep(0.02)

    def screenshot(self, path: str | Path, *, max_height: int = 1600, from_selector: str | None = None) -> Path:
        """PNG of the page from the top (or from the element `from_selector`), as tall as its content up to
        max_height CSS pixels."""
        metrics = self.send("Page.getLayoutMetrics", session=True)
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        top = 0.0
        if from_selector:
            top = float(self.evaluate(f"document.querySelector({json.dumps(from_selector)}).getBoundingClientRect()"
                                      ".top + window.scrollY") or 0.0)
        clip = {"x": 0, "y": top, "width": size["width"], "height": min(size["height"] - top, max_height),
                "scale": 1}
        data = self.send("Page.captureScreenshot", {"format": "png", "clip": clip, "captureBeyondViewport": True},
                         session=True)["data"]
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (BrowserError, OSError, ValueError):
            pass
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        for f in (self._out, self._in):
            try:
                f.close()
            except OSError:
                pass
        shutil.rmtree(self._profile, ignore_errors=True)

    def _read(self) -> None:
        buf = b""
        while True:
            try:
                chunk = self._in.read(65536)
            except (OSError, ValueError):
                chunk = b""
            if not chunk:
                with self._lock:
                    self._lock.notify_all()
                return
            buf += chunk
            *messages, buf = buf.split(b"\0")
            for raw in messages:
                self._dispatch(json.loads(raw))

    def _dispatch(self, msg: dict) -> None:
        method = msg.get("method")
        if method == "Runtime.exceptionThrown":
            d = msg["params"]["exceptionDetails"]
            self.errors.append(d.get("exception", {}).get("description") or d.get("text", "exception"))
        elif method == "Runtime.consoleAPICalled" and msg["params"].get("type") == "error":
            self.errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in msg["params"]["args"]))
        elif "id" in msg:
            with self._lock:
                self._replies[msg["id"]] = msg
                self._lock.notify_all()


def _high(fd: int) -> int:
    """A copy of fd numbered 10 or above (so it cannot collide with the 3 and 4 the pipe protocol uses)."""
    import fcntl

    new = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return new
