"""A small Chrome DevTools Protocol driver for Debian's chromium.

    with Browser(artifacts_dir) as browser:
        page = browser.page
        page.navigate("http://127.0.0.1:5680/")
        page.wait_for("document.querySelector('#locks li.holder') !== null", "a lock holder")
        page.screenshot("overview.png")

Launches a headless chromium with a fresh profile and the DevTools port
chosen by chromium (read from DevToolsActivePort), attaches to its page over
a WebSocket (python3-websocket), and speaks JSON-RPC to it: Runtime.evaluate,
Page.navigate, Page.captureScreenshot. JavaScript exceptions and console
errors of the page are collected in page.errors.

Not thread-safe: one test drives one browser from one thread.
"""

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request

import websocket

CHROMIUM = os.environ.get("ATOMIX_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
    "--window-size=1440,1000",
]


class CdpError(Exception):
    pass


class Page:
    """One page target, over its own WebSocket."""

    def __init__(self, ws_url, artifacts_dir):
        # Chromium refuses DevTools sockets from foreign origins: send none.
        self._ws = websocket.create_connection(ws_url, timeout=60, suppress_origin=True)
        self._next_id = 0
        self._artifacts = artifacts_dir
        self.errors = []
        self.call("Page.enable")
        self.call("Runtime.enable")

    def close(self):
        try:
            self._ws.close()
        except Exception:  # the browser may be gone already
            pass

    def _event(self, message):
        method = message.get("method")
        params = message.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            text = details.get("exception", {}).get("description") or details.get("text")
            self.errors.append(f"exception: {text}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
            args = [a.get("value", a.get("description")) for a in params.get("args", [])]
            self.errors.append(f"console.error: {args}")

    def call(self, method, **params):
        """Sends one command and returns its result (raises CdpError)."""
        self._next_id += 1
        call_id = self._next_id
        self._ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(self._ws.recv())
            if message.get("id") == call_id:
                if "error" in message:
                    raise CdpError(f"{method}: {message['error']}")
                return message.get("result", {})
            self._event(message)

    def evaluate(self, expression):
        """The value of a JavaScript expression (promises awaited)."""
        result = self.call("Runtime.evaluate", expression=expression,
                           returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise CdpError(f"{expression}: {text}")
        return result.get("result", {}).get("value")

    def navigate(self, url, timeout=30):
        self.call("Page.navigate", url=url)
        self.wait_for(f"location.href.startsWith({json.dumps(url.split('#')[0])}) && "
                      "document.readyState === 'complete'", f"{url} to load", timeout)

    def wait_for(self, expression, what, timeout=30):
        """Polls `expression` until it is truthy and returns its value; on
        timeout saves a screenshot and fails naming `what`."""
        deadline = time.monotonic() + timeout
        value = None
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.1)
        name = "timeout-" + "".join(c if c.isalnum() else "-" for c in what)[:60] + ".png"
        self.screenshot(name)
        raise AssertionError(f"waited {timeout}s for {what} ({expression} was {value!r}); "
                             f"screenshot {name}; page errors {self.errors}")

    def screenshot(self, name):
        """Saves a PNG of the viewport into the artifacts dir; returns its path."""
        data = self.call("Page.captureScreenshot", format="png")["data"]
        os.makedirs(self._artifacts, exist_ok=True)
        path = os.path.join(self._artifacts, name)
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        return path


class Browser:
    """A headless chromium with a fresh profile; `page` is its first tab."""

    def __init__(self, artifacts_dir, timeout=60):
        self._profile = tempfile.mkdtemp(prefix="atomix-chromium-")
        os.makedirs(artifacts_dir, exist_ok=True)
        self._log = open(os.path.join(artifacts_dir, "chromium.log"), "ab")
        self._process = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={self._profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log)
        self.page = None
        try:
            port = self._devtools_port(timeout)
            self.page = Page(self._page_url(port, timeout), artifacts_dir)
        except BaseException:
            self.close()
            raise

    def _devtools_port(self, timeout):
        path = os.path.join(self._profile, "DevToolsActivePort")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise CdpError(f"chromium exited with {self._process.returncode}; see chromium.log")
            try:
                with open(path) as f:
                    first = f.readline().strip()
                if first:
                    return int(first)
            except (FileNotFoundError, ValueError):
                pass
            time.sleep(0.1)
        raise CdpError(f"chromium wrote no DevToolsActivePort within {timeout}s")

    @staticmethod
    def _page_url(port, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
                targets = json.load(r)
            for target in targets:
                if target.get("type") == "page" and "webSocketDebuggerUrl" in target:
                    return target["webSocketDebuggerUrl"]
            time.sleep(0.1)
        raise CdpError("chromium shows no page target")

    def close(self):
        if self.page is not None:
            self.page.close()
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._log.close()
        shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
