"""Counter: a 64-bit signed counter on the broker, starting at 0.

    jobs = c.counter("jobs")
    jobs.increment()            # -> 1
    jobs.add(10)                # -> 11
    jobs.compare_and_set(11, 0) # -> True
    jobs.get()                  # -> 0

Writes are exactly-once: a write whose answer was lost is resent with the
same session and sequence, and applied once. Thread-safe.
"""

from typing import Optional

from . import errors
from ._primitive import Primitive, Versioned
from ._stubs import types_pb2
from .client import CURRENT


class Counter(Primitive):
    TYPE = types_pb2.COUNTER

    def _call(self, req, timeout, mutation):
        resp = self._client._execute(req, timeout=timeout, mutation=mutation,
                                     session=CURRENT if mutation else None)
        return resp.counter

    def get(self, *, timeout: Optional[float] = None) -> int:
        return self.read(timeout=timeout).value

    def read(self, *, timeout: Optional[float] = None) -> Versioned:
        """The value and the revision of its last change (0: never written)."""
        req = self._request()
        req.counter.get.SetInParent()
        r = self._call(req, timeout, False)
        return Versioned(r.value, r.version)

    def set(self, value: int, *, timeout: Optional[float] = None) -> int:
        """Sets the value; returns the revision of the write."""
        req = self._request()
        req.counter.set.value = value
        return self._call(req, timeout, True).version

    def add(self, delta: int, *, timeout: Optional[float] = None) -> int:
        """Adds ``delta`` (may be negative); returns the new value.
        OutOfRangeError if the result would leave the int64 range."""
        req = self._request()
        req.counter.add.delta = delta
        return self._call(req, timeout, True).value

    def increment(self, delta: int = 1, *, timeout: Optional[float] = None) -> int:
        return self.add(delta, timeout=timeout)

    def decrement(self, delta: int = 1, *, timeout: Optional[float] = None) -> int:
        return self.add(-delta, timeout=timeout)

    def compare_and_set(self, expect: int, update: int, *,
                        timeout: Optional[float] = None) -> bool:
        """Sets ``update`` if the value is ``expect``; False (changing
        nothing) otherwise."""
        req = self._request()
        req.counter.compare_and_set.expect = expect
        req.counter.compare_and_set.update = update
        try:
            self._call(req, timeout, True)
            return True
        except errors.FailedPreconditionError as e:
            if e.current is None:  # a type conflict, not a mismatch
                raise
            return False
