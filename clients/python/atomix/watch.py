"""Watch: an iterator over one primitive's changes, in revision order.

    with c.map("config").watch() as w:
        for event in w:                      # blocks for the next change
            print(event.type, event.key, event.value, event.revision)

    w = c.counter("jobs").watch(from_revision=120)   # every change at >= 120
    event = w.next(timeout=5)                        # DeadlineExceededError if none

``watch()`` returns once the broker registered the watch, so every change
after that call is delivered. A daemon thread reads the stream. When the
stream breaks (a broker restart, a reset, an unreachable broker) it
reconnects with backoff (50 ms doubling to 2 s) and resumes from the revision
after the last one it received, with the broker id it got it under: nothing
is skipped or repeated. When the broker no longer holds that history (it
restarted on the memory store, or the watcher fell too far behind), the
next event is a ``SNAPSHOT`` of the whole state, which replaces the
watcher's view; changes continue after it.

At most ``MAX_QUEUED`` events wait to be read: while that many do, the
reader thread stops reading the stream, so a slow consumer slows its stream
(gRPC flow control) instead of growing memory; if it falls behind the
broker's history, the watch resumes with a ``SNAPSHOT``. A Watch is for one
consumer thread; ``close()`` may be called from any thread.
"""

import queue
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import List, Optional

import grpc

from . import errors
from ._primitive import Versioned, to_str
from ._stubs import watch_pb2
from .election import Term, to_term
from .map import Entry

_END = object()
_TYPES = {1: "INSERTED", 2: "UPDATED", 3: "REMOVED", 4: "EXPIRED"}
_REASONS = {1: "REPLAY", 2: "COMPACTED", 3: "NEW_BROKER"}
# Errors that will not go away by reconnecting: they end the watch.
_FINAL = (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION,
          grpc.StatusCode.UNIMPLEMENTED, grpc.StatusCode.PERMISSION_DENIED)


@dataclass
class Event:
    """One change, or a SNAPSHOT that replaces the watcher's view.

    type: "INSERTED", "UPDATED", "REMOVED", "EXPIRED" or "SNAPSHOT".
    Map, Value: key (str; "" for a Value), value and version after the
    change (None/0 when removed), previous (Versioned, or None).
    Counter: value (int) and previous (int) after and before the change.
    Lock: fence and session_id of the holder after the change (0: free).
    Election: term (Term) after the change.
    SNAPSHOT: reason ("REPLAY", "COMPACTED", "NEW_BROKER"), entries (map,
    value), and the detail fields above (counter value and version, lock
    fence, election term).
    """
    type: str
    revision: int
    key: Optional[str] = None
    value: object = None
    version: int = 0
    previous: object = None
    fence: int = 0
    session_id: int = 0
    term: Optional[Term] = None
    reason: Optional[str] = None
    entries: List[Entry] = field(default_factory=list)


def _detail(ev: Event, msg) -> None:
    kind = msg.WhichOneof("detail")
    if kind == "counter":
        ev.value = msg.counter.value
        if ev.type == "SNAPSHOT":
            ev.version = msg.counter.version
        else:
            ev.previous = msg.counter.previous_value
    elif kind == "holder":
        ev.fence, ev.session_id = msg.holder.fence, msg.holder.session_id
    elif kind == "elected":
        ev.term = to_term(msg.elected)


def _event(e) -> Event:
    ev = Event(_TYPES.get(e.type, str(e.type)), e.revision)
    if e.HasField("entry"):
        ev.key, ev.value, ev.version = to_str(e.entry.key), e.entry.value, e.entry.version
    if e.HasField("previous"):
        if ev.key is None:
            ev.key = to_str(e.previous.key)
        ev.previous = Versioned(e.previous.value, e.previous.version)
    _detail(ev, e)
    return ev


def _snapshot(parts) -> Event:
    first = parts[0]
    ev = Event("SNAPSHOT", first.revision, reason=_REASONS.get(first.reason, ""))
    for p in parts:
        ev.entries.extend(Entry(to_str(e.key), e.value, e.version) for e in p.entries)
    _detail(ev, first)
    return ev


MAX_QUEUED = 10000


class _Buffer:
    """Items from the reader thread to the consumer: at most ``limit``
    events; the end and errors always fit."""

    def __init__(self, limit: int):
        self._items: deque = deque()
        self._limit = limit
        self._cv = threading.Condition()

    def put(self, item, stop: threading.Event) -> bool:
        """Waits while full; False (dropping the item) once ``stop`` is set."""
        with self._cv:
            while len(self._items) >= self._limit and not stop.is_set():
                self._cv.wait(0.1)
            if stop.is_set():
                return False
            self._items.append(item)
            self._cv.notify_all()
            return True

    def put_final(self, item) -> None:
        with self._cv:
            self._items.append(item)
            self._cv.notify_all()

    def get(self, timeout: Optional[float] = None):
        with self._cv:
            if not self._cv.wait_for(lambda: self._items, timeout):
                raise queue.Empty
            item = self._items.popleft()
            self._cv.notify_all()
            return item


class Watch:
    def __init__(self, client, request: "watch_pb2.WatchRequest"):
        client._track(self)
        self._transport = client._transport
        self._template = request
        self._next_start = request.start_revision or None  # reader thread only
        self._broker_id = request.broker_id
        self._queue = _Buffer(MAX_QUEUED)
        self._stop = threading.Event()
        self._started = threading.Event()
        self._lock = threading.Lock()
        self._call = None  # guarded by _lock
        self._error: Optional[errors.AtomixError] = None
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"atomix-watch-{to_str(request.name)}")
        self._thread.start()
        if not self._started.wait(client.timeout) or self._error is not None:
            self.close()
            raise self._error or errors.DeadlineExceededError(
                f"atomix: watch of {to_str(request.name)!r} did not start within "
                f"{client.timeout:g}s")

    # ----- consumer side -----------------------------------------------------

    def __iter__(self):
        return self

    def __next__(self) -> Event:
        item = self._queue.get()
        return self._item(item)

    def next(self, timeout: Optional[float] = None) -> Event:
        """The next event; DeadlineExceededError if none within ``timeout``."""
        try:
            item = self._queue.get(timeout=timeout)
        except queue.Empty:
            raise errors.DeadlineExceededError(
                f"atomix: no watch event within {timeout:g}s") from None
        return self._item(item)

    def _item(self, item) -> Event:
        if item is _END:
            self._queue.put_final(_END)
            raise StopIteration
        if isinstance(item, errors.AtomixError):
            self._queue.put_final(_END)
            raise item
        return item

    def close(self) -> None:
        """Ends the watch; iteration stops after the events already queued."""
        self._stop.set()
        with self._lock:
            call = self._call
        if call is not None:
            call.cancel()
        if self._thread is not threading.current_thread():
            self._thread.join()

    def __enter__(self) -> "Watch":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ----- reader thread -----------------------------------------------------

    def _run(self) -> None:
        backoff = 0.05
        try:
            while not self._stop.is_set():
                req = watch_pb2.WatchRequest()
                req.CopyFrom(self._template)
                if self._next_start:
                    req.start_revision = self._next_start
                    req.broker_id = self._broker_id
                try:
                    if self._read(req):
                        backoff = 0.05
                except grpc.RpcError as e:
                    if self._stop.is_set():
                        break
                    if e.code() in _FINAL:
                        self._fail(errors.from_rpc_error(e))
                        return
                    if e.code() == grpc.StatusCode.UNAVAILABLE:
                        self._transport.rotate(self._index)
                except ValueError:  # the client closed its channels
                    if not self._stop.is_set():
                        self._fail(errors.CancelledError("atomix: the client is closed"))
                    return
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 2.0)
        finally:
            self._started.set()
            self._queue.put_final(_END)

    def _fail(self, err: errors.AtomixError) -> None:
        if not self._started.is_set():
            self._error = err
        else:
            self._queue.put_final(err)

    def _read(self, req) -> bool:
        """Reads one stream until it ends; True if it delivered anything."""
        call, self._index = self._transport.watch(req)
        with self._lock:
            self._call = call
        if self._stop.is_set():
            call.cancel()
        parts = []
        got = False
        for resp in call:
            got = True
            if resp.HasField("header"):
                self._broker_id = resp.header.broker_id
                if not self._next_start:
                    self._next_start = resp.header.revision + 1
                self._started.set()
            if resp.HasField("snapshot"):
                parts.append(resp.snapshot)
                if not resp.snapshot.more:
                    if not self._queue.put(_snapshot(parts), self._stop):
                        call.cancel()
                        return got
                    self._next_start = parts[0].revision + 1
                    parts = []
            for e in resp.events:
                if not self._queue.put(_event(e), self._stop):
                    call.cancel()
                    return got
            if resp.events:
                self._next_start = resp.events[-1].revision + 1
        return got
