"""Lock: a fair (FIFO), fenced lock owned by the client's session.

    with c.lock("db-writer", timeout=5) as fence:
        ...  # fence: the grant's revision, strictly increasing per lock

    l = c.lock("db-writer")
    fence = l.acquire(timeout=5)   # DeadlineExceededError if not granted in time
    l.release()

A waiting acquire whose caller gives up is withdrawn from the broker's queue;
a grant that crossed the withdrawal is released at once. The grant belongs to
the session that acquired it: if that session is lost, ``release`` (and so
the end of a ``with`` block) raises SessionLostError, since the lock may
have passed to someone else meanwhile; use the fence (``if_fence`` on Map and
Value writes) to make late writes harmless.

A Lock handle holds at most one grant and is for one thread at a time;
make one handle per thread (they are cheap).
"""

from typing import Optional

from . import errors
from ._primitive import Primitive
from ._stubs import types_pb2


class Lock(Primitive):
    TYPE = types_pb2.LOCK

    def __init__(self, client, name, timeout: Optional[float] = None):
        super().__init__(client, name)
        self._timeout = timeout
        self._session = None  # the session of the grant this handle holds
        self._fence = 0

    @property
    def fence(self) -> int:
        """The fence this handle holds (0 if it holds none)."""
        return self._fence

    def acquire(self, timeout: Optional[float] = None) -> int:
        """Waits for the lock (at most ``timeout`` seconds: the lock's, else
        the client's default); returns the fence."""
        if self._fence:
            raise errors.FailedPreconditionError(
                f"lock {self.name!r}: this handle already holds fence {self._fence} "
                "(the lock is not reentrant)")
        return self._acquire(False, self._timeout if timeout is None else timeout)

    def try_acquire(self, timeout: Optional[float] = None) -> Optional[int]:
        """Takes the lock if it is free now: the fence, or None."""
        fence = self._acquire(True, timeout)
        return fence or None

    def _acquire(self, try_only: bool, timeout) -> int:
        session = self._client.session
        req = self._request()
        req.lock.acquire.SetInParent()
        req.lock.acquire.try_only = try_only

        resp = self._client._execute(req, timeout=timeout, mutation=True,
                                     blocking=not try_only, session=session,
                                     give_back=self._give_back(session))
        if not resp.lock.acquired:
            return 0
        self._session, self._fence = session, resp.lock.version
        return self._fence

    def _give_back(self, session):
        """Releases a grant found in the answer to a withdrawn acquire."""
        def give_back(answer) -> None:
            if answer.lock.acquired and answer.lock.version:
                self._release(session, answer.lock.version, None)
        return give_back

    def release(self, timeout: Optional[float] = None) -> int:
        """Releases this handle's grant; returns the revision of the release.
        SessionLostError if the session that held it is gone."""
        session, fence = self._session, self._fence
        if not fence:
            raise errors.FailedPreconditionError(
                f"lock {self.name!r}: this handle holds no grant")
        self._session, self._fence = None, 0
        return self._release(session, fence, timeout)

    def _release(self, session, fence: int, timeout) -> int:
        req = self._request()
        req.lock.release.SetInParent()
        req.lock.release.if_version = fence
        return self._client._execute(req, timeout=timeout, mutation=True,
                                     session=session).lock.version

    def holder_fence(self, *, timeout: Optional[float] = None) -> int:
        """The current holder's fence (0 if the lock is free)."""
        req = self._request()
        req.lock.get.SetInParent()
        return self._client._execute(req, timeout=timeout).lock.version

    def locked(self, *, timeout: Optional[float] = None) -> bool:
        return self.holder_fence(timeout=timeout) != 0

    def __enter__(self) -> int:
        return self.acquire()

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self.release()
        except errors.SessionLostError:
            if exc_type is None:
                raise
