"""Value: one versioned byte string on the broker, which may be absent.

    cfg = c.value("cfg")
    v1 = cfg.set(b"blue")                 # -> the version (a revision)
    cfg.get()                             # -> Versioned(value=b'blue', version=v1)
    cfg.set(b"green", if_version=v1)      # only if nobody wrote since
    cfg.delete()

A stale ``if_version`` raises FailedPreconditionError whose ``current`` is the
value's version now. Writes are exactly-once. Thread-safe.
"""

from typing import Optional, Tuple

from ._primitive import (Bytes, Primitive, Versioned, set_conditions, set_put_options,
                         to_bytes)
from ._stubs import types_pb2
from .client import CURRENT

Fence = Tuple[Bytes, int]  # (lock name, fence)


class Value(Primitive):
    TYPE = types_pb2.VALUE

    def _write(self, req, timeout):
        return self._client._execute(req, timeout=timeout, mutation=True,
                                     session=CURRENT).value

    def get(self, *, timeout: Optional[float] = None) -> Optional[Versioned]:
        """The value and its version, or None if absent."""
        req = self._request()
        req.value.get.SetInParent()
        r = self._client._execute(req, timeout=timeout).value
        return Versioned(r.value, r.version) if r.present else None

    def set(self, value: Bytes, *, if_version: Optional[int] = None,
            ephemeral: bool = False, ttl: Optional[float] = None,
            if_fence: Optional[Fence] = None,
            timeout: Optional[float] = None) -> int:
        """Writes the value; returns its new version. ``if_version``: only if
        the current version is that (NotFoundError if absent).
        ``ephemeral``: deleted when this client's session ends. ``ttl``:
        deleted that many seconds later. ``if_fence=(lock, fence)``: only
        while that lock grant holds."""
        req = self._request()
        op = req.value.set
        op.SetInParent()
        op.value = to_bytes(value)
        set_put_options(op, if_version, ephemeral, ttl, if_fence)
        return self._write(req, timeout).version

    def insert(self, value: Bytes, *, timeout: Optional[float] = None) -> int:
        """Writes the value only if absent (AlreadyExistsError otherwise)."""
        req = self._request()
        req.value.insert.SetInParent()
        req.value.insert.value = to_bytes(value)
        return self._write(req, timeout).version

    def delete(self, *, if_version: Optional[int] = None,
               if_fence: Optional[Fence] = None,
               timeout: Optional[float] = None) -> Versioned:
        """Deletes the value (NotFoundError if absent); returns what it held
        and the revision of the delete."""
        req = self._request()
        op = req.value.delete
        op.SetInParent()
        set_conditions(op, if_version, if_fence)
        r = self._write(req, timeout)
        return Versioned(r.value, r.version)
