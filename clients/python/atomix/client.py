"""Client: the connection to one or more atomix brokers, its session, and the
factory of primitive handles.

    with atomix.Client("127.0.0.1:5679") as c:
        c.counter("jobs").increment()
        with c.lock("db-writer") as fence:
            c.map("config").put("owner", b"me", if_fence=("db-writer", fence))

Every operation is one ``atomix.v1.Broker/Call`` with a deadline: the
``timeout=`` argument of the call, or the client's ``timeout``. Mutations
carry the session id and a sequence number, so a mutation whose answer was
lost (a dropped response, a broker restart on the disk store) is sent again
and applied exactly once; reads are simply sent again.

Thread-safe: one Client and its handles may be shared by any number of
threads. Closing the client ends its watches and closes its session, which
releases its locks and candidacies at once.
"""

import threading
import time
import weakref
from typing import Callable, Optional, Sequence, Union

from . import errors
from ._stubs import broker_pb2
from ._transport import Tls, Transport, channel_credentials, parse_endpoints
from .session import Session

# Sentinel: "the client's current session, opened on demand".
CURRENT = object()


class _Renew(Exception):
    """The broker refused a request's first attempt for its session."""


class Client:
    def __init__(self, endpoints: Union[str, Sequence[str]] = "127.0.0.1:5679",
                 *, timeout: float = 10.0, session_ttl: float = 10.0,
                 tls: Optional[Tls] = None, token: Optional[str] = None):
        """``endpoints``: "host:port", a comma-separated list, or a list.
        ``timeout``: the default deadline of every call, in seconds.
        ``session_ttl``: how long the broker keeps the session without a
        keep-alive (1 s .. the broker's maximum, one hour by default).
        ``tls``: connect over TLS (``atomix.Tls``); None is plaintext.
        ``token``: a bearer token sent with every call; needs ``tls``."""
        if timeout <= 0:
            raise errors.InvalidArgumentError(f"atomix: timeout {timeout} is not positive")
        self.timeout = float(timeout)
        self.session_ttl = float(session_ttl)
        self._transport = Transport(parse_endpoints(endpoints),
                                    channel_credentials(tls, token))
        self._lock = threading.Lock()
        self._session: Optional[Session] = None  # guarded by _lock
        self._watches = weakref.WeakSet()         # guarded by _lock
        self._closed = False

    @property
    def endpoints(self):
        return list(self._transport.endpoints)

    # ----- lifecycle -------------------------------------------------------

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Closes the watches, the session (releasing what it holds) and the
        channels."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            session, self._session = self._session, None
            watches = list(self._watches)
        for w in watches:
            w.close()
        if session is not None:
            session.close()
        self._transport.close()

    @property
    def session(self) -> Session:
        """The open session, opening a new one if there is none or the last
        one was lost."""
        with self._lock:
            if self._closed:
                raise errors.CancelledError("atomix: the client is closed")
            if self._session is not None and self._session.alive:
                return self._session
            old = self._session
            self._session = Session(self._transport, self.session_ttl)
            session = self._session
            # Opening under the lock keeps concurrent callers on one session.
            try:
                session.open(self.timeout)
            except errors.AtomixError:
                self._session = old
                raise
        return session

    # ----- primitives ------------------------------------------------------

    def counter(self, name: str):
        from .counter import Counter
        return Counter(self, name)

    def value(self, name: str):
        from .value import Value
        return Value(self, name)

    def map(self, name: str):
        from .map import Map
        return Map(self, name)

    def lock(self, name: str, timeout: Optional[float] = None):
        from .lock import Lock
        return Lock(self, name, timeout)

    def election(self, name: str):
        from .election import Election
        return Election(self, name)

    def _track(self, watch) -> None:
        with self._lock:
            if self._closed:
                raise errors.CancelledError("atomix: the client is closed")
            self._watches.add(watch)

    # ----- calls -----------------------------------------------------------

    def _execute(self, request: "broker_pb2.Request", *,
                 timeout: Optional[float] = None, mutation: bool = False,
                 blocking: bool = False, session=None,
                 give_back: Optional[Callable[["broker_pb2.Response"], None]] = None
                 ) -> "broker_pb2.Response":
        """Sends ``request`` until it is answered or its deadline passes.

        ``session``: None (no session), CURRENT, or a pinned Session.
        ``mutation``: with a session it gets a sequence number and is resent
        after a lost answer; without one it is never resent.
        ``blocking``: the broker may hold it (lock acquire); it is sent with
        ``timeout_ms`` a little below the time left, and withdrawn with a
        cancel if the caller gives up. ``give_back(answer)`` then returns a
        grant that crossed the withdrawal.
        """
        timeout = self.timeout if timeout is None else float(timeout)
        if timeout <= 0:
            raise errors.InvalidArgumentError(f"atomix: timeout {timeout} is not positive")
        deadline = time.monotonic() + timeout
        renewals = 1 if session is CURRENT else 0
        while True:
            current = self.session if session is CURRENT else session
            seq = 0
            if current is not None:
                request.session_id = current.id
                if mutation:
                    seq = current.begin()
                    request.sequence = seq
                else:
                    current.check()
            try:
                return self._attempts(request, deadline, timeout, mutation, blocking,
                                      current, seq, give_back, renewals > 0)
            except _Renew:
                renewals -= 1  # the session ended before this request arrived
            finally:
                if seq:
                    current.end(seq)

    def _attempts(self, request, deadline, timeout, mutation, blocking,
                  session, seq, give_back, may_renew):
        retry_ok = not mutation or seq > 0
        first = True  # no earlier attempt of this request may have been applied
        attempt_cap, backoff = 1.0, 0.01
        unreachable = None  # the last UnavailableError, if the last attempt failed so
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                if blocking and seq:
                    self._withdraw(session, seq, give_back)
                if unreachable is not None and not mutation:
                    raise unreachable
                raise errors.DeadlineExceededError(
                    f"atomix: no answer within {timeout:g}s"
                    + (f" ({unreachable.message})" if unreachable else "")
                    + ("; it may or may not have been applied" if mutation else ""))
            request.id = self._transport.next_id()
            if session is not None:
                request.ack_sequence = session.ack_sequence()
            if blocking:
                request.timeout_ms = max(1, int((remaining - min(remaining / 10, 0.25)) * 1000))
                attempt = remaining
            else:
                attempt = min(remaining, attempt_cap)
            try:
                response = self._transport.invoke(request, attempt)
            except errors.AbortedError as e:
                if session is not None and not isinstance(e, errors.SessionLostError):
                    session.lose(f"session {session.id} ended on the broker: {e.message}")
                    if first and may_renew:
                        # Refused, so never applied: send it under a new session.
                        raise _Renew() from None
                    raise errors.SessionLostError(
                        f"{e.message} (session {session.id} is lost"
                        + ("; the operation may or may not have been applied)"
                           if mutation else ")"), e.current) from None
                raise
            except errors.DeadlineExceededError:
                first = False
                # The broker's own answer (a blocking request timed out), or
                # the attempt's deadline: either way, resend while time remains.
                if blocking or not retry_ok:
                    if blocking and seq:
                        self._withdraw(session, seq, give_back)
                    raise
                attempt_cap = min(attempt_cap * 2, 4.0)
                unreachable = None
                continue
            except errors.UnavailableError as e:
                unreachable, first = e, False
                if not retry_ok:
                    raise errors.UnavailableError(
                        "atomix: the broker did not answer a mutation sent "
                        "without a session; it may or may not have been applied")
                if session is not None:
                    session.check()
                time.sleep(min(backoff, max(deadline - time.monotonic(), 0)))
                backoff = min(backoff * 2, 0.5)
                continue
            if response.HasField("error") and response.error.code:
                err = response.error
                raise errors.error_for_int(
                    err.code, err.message, err.current if err.HasField("current") else None)
            return response

    def _withdraw(self, session: Session, seq: int, give_back) -> None:
        """Cancels a waiting request of ours by sequence; gives back a grant
        that was made before the cancel arrived."""
        req = broker_pb2.Request(id=self._transport.next_id(),
                                 session_id=session.id,
                                 ack_sequence=min(session.ack_sequence(), seq - 1))
        req.cancel.sequence = seq
        for _ in range(3):
            try:
                resp = self._transport.invoke(req, 1.0)
            except errors.UnavailableError:
                continue
            except errors.AtomixError:
                return
            answer = resp.cancel.answer
            if (give_back is not None and resp.cancel.HasField("answer")
                    and not (answer.HasField("error") and answer.error.code)):
                try:
                    give_back(answer)
                except errors.AtomixError:
                    pass
            return
