"""A client's session: the lease that owns its locks, candidacies and
ephemeral entries, and the (session id, sequence) space of exactly-once
retries.

A Session is opened by ``Client`` on the first call that needs one. A daemon
thread sends a keep-alive every ttl/3 (sooner again after a failed one) and
carries the acknowledgement of answered sequences. The session is **lost**
when the broker answers ABORTED for it, or when, by the client's clock, a
whole TTL passed since the *send time* of the last keep-alive (or open) that
was answered: the broker restarted its TTL no earlier than that, so the
client never believes in a session the broker already ended. A lost session
stays lost; the client opens a new one for later calls.

Thread-safe: every method may be called from any thread.
"""

import random
import threading
import time
from typing import Callable, List, Optional

from . import errors
from ._stubs import broker_pb2

OPENING, OPEN, LOST, CLOSED = "opening", "open", "lost", "closed"


class Session:
    def __init__(self, transport, ttl: float):
        self._transport = transport
        self._lock = threading.Lock()
        self.id = 0
        self.ttl = ttl
        self._state = OPENING               # guarded by _lock
        self._reason = ""                   # guarded by _lock
        self._last_ok_send = 0.0            # guarded by _lock
        self._next_sequence = 1             # guarded by _lock
        self._in_flight = set()             # guarded by _lock
        self._callbacks: List[Callable[["Session"], None]] = []
        self._stop = threading.Event()
        self._done = threading.Event()      # set once lost or closed
        self._thread: Optional[threading.Thread] = None

    # ----- lifecycle -------------------------------------------------------

    def open(self, timeout: float) -> "Session":
        """Opens the session, resending the same nonce until answered."""
        deadline = time.monotonic() + timeout
        nonce = random.getrandbits(64) or 1
        backoff = 0.02
        last = None
        while True:
            req = broker_pb2.Request(id=self._transport.next_id())
            req.session.open.ttl_ms = int(self.ttl * 1000)
            req.session.open.nonce = nonce
            sent = time.monotonic()
            remaining = deadline - sent
            if remaining <= 0:
                if isinstance(last, errors.UnavailableError):
                    raise last
                raise errors.DeadlineExceededError(
                    f"atomix: could not open a session within {timeout:g}s")
            try:
                resp = self._transport.invoke(req, min(remaining, 1.0))
                break
            except (errors.UnavailableError, errors.DeadlineExceededError) as e:
                last = e
                time.sleep(min(backoff, max(deadline - time.monotonic(), 0)))
                backoff = min(backoff * 2, 0.5)
        with self._lock:
            self.id = resp.session.session_id
            if resp.session.ttl_ms:
                self.ttl = resp.session.ttl_ms / 1000.0
            self._last_ok_send = sent
            self._state = OPEN
        self._thread = threading.Thread(
            target=self._keep_alive, name=f"atomix-session-{self.id}", daemon=True)
        self._thread.start()
        return self

    def close(self, timeout: float = 1.0) -> None:
        """Ends the session on the broker (its locks are released at once)."""
        self._stop.set()
        if self._thread and self._thread is not threading.current_thread():
            self._thread.join()
        with self._lock:
            was_open = self._state == OPEN
            if self._state in (OPEN, OPENING):
                self._state = CLOSED
                self._reason = f"session {self.id} was closed"
        self._done.set()
        if not was_open:
            return
        req = broker_pb2.Request(id=self._transport.next_id(), session_id=self.id)
        req.session.close.SetInParent()
        try:
            self._transport.invoke(req, timeout)
        except errors.AtomixError:
            pass  # the broker expires it after its TTL

    # ----- state -----------------------------------------------------------

    @property
    def state(self) -> str:
        """"open", "lost" or "closed" ("opening" before its open returned)."""
        self._check_clock()
        with self._lock:
            return self._state

    @property
    def alive(self) -> bool:
        return self.state == OPEN

    def wait_done(self, timeout: Optional[float] = None) -> bool:
        """Waits until the session is lost or closed; True if it is."""
        return self._done.wait(timeout)

    def on_lost(self, callback: Callable[["Session"], None]) -> None:
        """Calls ``callback(session)`` once, from the thread that finds the
        session lost (at once if it already is)."""
        with self._lock:
            if self._state not in (LOST, CLOSED):
                self._callbacks.append(callback)
                return
        callback(self)

    def check(self) -> None:
        """Raises SessionLostError unless the session is open."""
        self._check_clock()
        with self._lock:
            if self._state != OPEN:
                raise errors.SessionLostError(
                    self._reason or f"session {self.id} is not open")

    def lose(self, reason: str) -> None:
        """Marks the session lost (idempotent); runs the on_lost callbacks."""
        with self._lock:
            if self._state != OPEN:
                return
            self._state = LOST
            self._reason = reason
            callbacks, self._callbacks = self._callbacks, []
        self._stop.set()
        self._done.set()
        for cb in callbacks:
            cb(self)

    def _check_clock(self) -> None:
        with self._lock:
            expired = (self._state == OPEN and
                       time.monotonic() - self._last_ok_send >= self.ttl)
        if expired:
            self.lose(f"session {self.id} expired: no keep-alive was answered "
                      f"within its TTL of {self.ttl:g}s")

    # ----- exactly-once ----------------------------------------------------

    def begin(self) -> int:
        """A new sequence number, in flight until ``end``."""
        self.check()
        with self._lock:
            seq = self._next_sequence
            self._next_sequence += 1
            self._in_flight.add(seq)
            return seq

    def end(self, sequence: int) -> None:
        """The sequence was answered, or will never be sent again."""
        with self._lock:
            self._in_flight.discard(sequence)

    def ack_sequence(self) -> int:
        """Every sequence at or below this is answered or abandoned."""
        with self._lock:
            if self._in_flight:
                return min(self._in_flight) - 1
            return self._next_sequence - 1

    # ----- keep-alive ------------------------------------------------------

    def _keep_alive(self) -> None:
        interval = self.ttl / 3
        wait = interval
        backoff = 0.05
        while not self._stop.wait(wait):
            self._check_clock()
            with self._lock:
                if self._state != OPEN:
                    return
                left = self.ttl - (time.monotonic() - self._last_ok_send)
            req = broker_pb2.Request(id=self._transport.next_id(),
                                     session_id=self.id,
                                     ack_sequence=self.ack_sequence())
            req.session.keep_alive.SetInParent()
            sent = time.monotonic()
            try:
                self._transport.invoke(req, max(min(interval, left), 0.01))
            except errors.AbortedError as e:
                self.lose(f"session {self.id} ended on the broker: {e.message}")
                return
            except errors.AtomixError:
                wait = min(backoff, interval)  # try again soon
                backoff = min(backoff * 2, 1.0)
                continue
            with self._lock:
                self._last_ok_send = max(self._last_ok_send, sent)
            wait, backoff = interval, 0.05
