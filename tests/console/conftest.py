"""Fixtures of the console tests: the real atomix-broker (disk store, in a
temporary data dir), the real SDK through atomix-console-client, and
Debian's chromium (cdp.py).

Environment (ctest sets it, see tests/CMakeLists.txt):
  ATOMIX_BROKER_BIN           the atomix-broker binary
  ATOMIX_CONSOLE_CLIENT_BIN   the atomix-console-client binary
  ATOMIX_CONSOLE_ARTIFACTS    where screenshots and logs go
"""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from cdp import Browser

BROKER_BIN = os.environ.get("ATOMIX_BROKER_BIN", "")
CLIENT_BIN = os.environ.get("ATOMIX_CONSOLE_CLIENT_BIN", "")
ARTIFACTS = os.environ.get("ATOMIX_CONSOLE_ARTIFACTS",
                           os.path.join(os.getcwd(), "console-artifacts"))
DEADLINE = 30  # seconds; only against hangs


def free_port():
    """A loopback port that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _read_port(path):
    try:
        with open(path) as f:
            text = f.read().strip()
        return int(text) if text else 0
    except (FileNotFoundError, ValueError):
        return 0


class Broker:
    """One atomix-broker process; start() again on the same data dir restarts it."""

    def __init__(self, data_dir, log_dir, extra_flags=()):
        self.data_dir = data_dir
        self.log_dir = log_dir
        self.extra_flags = list(extra_flags)
        self.process = None
        self.port = 0
        self.http_port = 0
        self.starts = 0

    def start(self, http_port=0):
        assert BROKER_BIN, "set ATOMIX_BROKER_BIN"
        self.starts += 1
        port_file = os.path.join(self.log_dir, f"port.{self.starts}")
        http_port_file = os.path.join(self.log_dir, f"http-port.{self.starts}")
        self.log_path = os.path.join(self.log_dir, f"broker.{self.starts}.log")
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [BROKER_BIN, "--store", "disk", "--data-dir", self.data_dir,
                 "--listen", "127.0.0.1:0", "--port-file", port_file,
                 "--http-listen", f"127.0.0.1:{http_port}", "--http-port-file", http_port_file,
                 *self.extra_flags],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"atomix-broker exited with {self.process.returncode}:\n"
                                     + self.log())
            self.port = _read_port(port_file)
            self.http_port = _read_port(http_port_file)
            if self.port and self.http_port:
                return self
            time.sleep(0.05)
        raise AssertionError("atomix-broker wrote no port files:\n" + self.log())

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    @property
    def endpoint(self):
        return f"127.0.0.1:{self.port}"

    @property
    def url(self):
        return f"http://127.0.0.1:{self.http_port}"

    def stop(self):
        """SIGTERM, and the broker exits 0 (a graceful shutdown)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError("atomix-broker did not stop on SIGTERM:\n" + self.log())
        assert code == 0, f"atomix-broker exited with {code}:\n" + self.log()

    def get(self, path, headers=None):
        """(status, headers, body bytes) of GET path."""
        request = urllib.request.Request(self.url + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=DEADLINE) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def get_json(self, path):
        status, _, body = self.get(path)
        return status, json.loads(body)


class Client:
    """Runs atomix-console-client against a broker."""

    def __init__(self):
        self.held = []

    def run(self, endpoint, *args):
        """Runs to the end; returns its one line of output."""
        assert CLIENT_BIN, "set ATOMIX_CONSOLE_CLIENT_BIN"
        done = subprocess.run([CLIENT_BIN, endpoint, *args], capture_output=True, text=True,
                              timeout=DEADLINE)
        assert done.returncode == 0, f"{args}: exit {done.returncode}: {done.stderr}"
        return done.stdout.strip()

    def put(self, endpoint, name, key, value):
        """map-put; returns the write's revision."""
        line = self.run(endpoint, "map-put", name, key, value)
        word, version = line.split()
        assert word == "version", line
        return int(version)

    def hold(self, endpoint, *args):
        """Starts a client that holds something (lock, elect) until the test ends."""
        process = subprocess.Popen([CLIENT_BIN, endpoint, *args], stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.held.append(process)
        return process

    @staticmethod
    def first_line(process):
        """The first line a holding client prints (e.g. "fence 12")."""
        line = process.stdout.readline().strip()
        assert line, f"no output; stderr: {process.stderr.read() if process.poll() is not None else ''}"
        return line

    def close(self):
        for process in self.held:
            if process.poll() is None:
                process.kill()
            process.wait()


@pytest.fixture
def artifacts():
    os.makedirs(ARTIFACTS, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def broker_factory(tmp_path):
    brokers = []

    def make(extra_flags=()):
        data = tmp_path / f"data{len(brokers)}"
        logs = tmp_path / f"logs{len(brokers)}"
        logs.mkdir()
        broker = Broker(str(data), str(logs), extra_flags)
        brokers.append(broker)
        return broker

    yield make
    for broker in brokers:
        broker.stop()


@pytest.fixture
def broker(broker_factory):
    return broker_factory().start()


@pytest.fixture
def client():
    c = Client()
    yield c
    c.close()


@pytest.fixture
def browser(artifacts):
    with Browser(artifacts) as b:
        yield b
