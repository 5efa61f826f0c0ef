"""Fixtures: the real atomix-broker (ATOMIX_BROKER_BIN) on a free loopback
port, and clients of it. The generated modules must be on PYTHONPATH
(build/clients/python/gen) next to clients/python; ctest sets both."""

import os
import signal
import subprocess
import time

import pytest

import atomix


class BrokerProcess:
    """One atomix-broker process; can be restarted on the same port."""

    def __init__(self, workdir, args):
        self.bin = os.environ.get("ATOMIX_BROKER_BIN")
        if not self.bin or not os.access(self.bin, os.X_OK):
            pytest.fail("ATOMIX_BROKER_BIN must name the atomix-broker binary")
        self.workdir = str(workdir)
        self.args = list(args)
        self.port = 0
        self.proc = None
        self.starts = 0

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, port: int = 0) -> "BrokerProcess":
        self.starts += 1
        port_file = os.path.join(self.workdir, f"port.{self.starts}")
        log = open(os.path.join(self.workdir, f"broker.{self.starts}.log"), "wb")
        self.proc = subprocess.Popen(
            [self.bin, "--listen", f"127.0.0.1:{port}", "--port-file", port_file,
             "--log-level", "warn", *self.args],
            stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir)
        log.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"atomix-broker exited with {self.proc.returncode}: "
                            + self.log())
            try:
                with open(port_file) as f:
                    text = f.read().strip()
                if text:
                    self.port = int(text)
                    return self
            except FileNotFoundError:
                pass
            time.sleep(0.02)
        pytest.fail("atomix-broker did not write its port file in 20 s")

    def log(self) -> str:
        with open(os.path.join(self.workdir, f"broker.{self.starts}.log"),
                  errors="replace") as f:
            return f.read()

    def signal(self, sig) -> None:
        self.proc.send_signal(sig)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def restart(self, down: float = 0.0) -> None:
        """Stops the broker, leaves the port closed ``down`` seconds, and
        starts it again on the same port."""
        self.stop()
        time.sleep(down)
        self.start(self.port)


@pytest.fixture
def start_broker(tmp_path):
    """start_broker(*flags) -> a running BrokerProcess; stopped after the test."""
    started = []

    def start(*args):
        workdir = tmp_path / f"broker{len(started)}"
        workdir.mkdir()
        b = BrokerProcess(workdir, args).start()
        started.append(b)
        return b

    yield start
    for b in started:
        b.stop()


@pytest.fixture
def broker(start_broker):
    return start_broker("--store", "memory")


@pytest.fixture
def make_client(broker):
    """make_client(**options) -> a Client of `broker`; closed after the test."""
    clients = []

    def make(endpoint=None, **kw):
        kw.setdefault("timeout", 15.0)
        c = atomix.Client(endpoint or broker.endpoint, **kw)
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.close()


@pytest.fixture
def client(make_client):
    return make_client()
