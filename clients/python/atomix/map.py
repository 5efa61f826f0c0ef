"""Map: a sorted map of string keys to versioned byte-string values.

    m = c.map("config")
    v = m.put("region", b"eu")            # -> the entry's version
    m.get("region")                       # -> Versioned(value=b'eu', version=v)
    m.put("region", b"us", if_version=v)  # compare-and-set
    "region" in m, len(m)                 # -> True, 1
    for entry in m.list(prefix="re"):     # Entry(key, value, version), key order
        ...
    m.remove("region")

Keys are str (UTF-8 on the wire; bytes are accepted too); values are bytes
(a str is sent as UTF-8). ``m[key]`` reads the value and raises KeyError when
absent. Writes are exactly-once. Thread-safe.
"""

from typing import Iterator, NamedTuple, Optional

from . import errors
from ._primitive import (Bytes, Primitive, Versioned, set_conditions, set_put_options,
                         to_bytes, to_str)
from ._stubs import types_pb2
from .client import CURRENT
from .value import Fence


class Entry(NamedTuple):
    key: str
    value: bytes
    version: int


class Map(Primitive):
    TYPE = types_pb2.MAP

    def _read(self, req, timeout):
        return self._client._execute(req, timeout=timeout).map

    def _write(self, req, timeout):
        return self._client._execute(req, timeout=timeout, mutation=True,
                                     session=CURRENT).map

    def _put(self, op, key, value, if_version, ephemeral, ttl, if_fence):
        op.SetInParent()
        op.key = to_bytes(key)
        op.value = to_bytes(value)
        set_put_options(op, if_version, ephemeral, ttl, if_fence)

    # ----- reads -----------------------------------------------------------

    def get(self, key: Bytes, *, timeout: Optional[float] = None) -> Optional[Versioned]:
        """The entry's value and version, or None if absent."""
        req = self._request()
        req.map.get.key = to_bytes(key)
        r = self._read(req, timeout)
        return Versioned(r.entry.value, r.entry.version) if r.present else None

    def contains(self, key: Bytes, *, timeout: Optional[float] = None) -> bool:
        req = self._request()
        req.map.contains.key = to_bytes(key)
        return self._read(req, timeout).present

    def size(self, *, timeout: Optional[float] = None) -> int:
        req = self._request()
        req.map.size.SetInParent()
        return self._read(req, timeout).size

    def list(self, prefix: Bytes = "", *, page_size: int = 0,
             keys_only: bool = False,
             timeout: Optional[float] = None) -> Iterator[Entry]:
        """Every entry whose key starts with ``prefix``, in key order, one
        page (one linearizable read) at a time; ``timeout`` is per page."""
        start_after = b""
        while True:
            req = self._request()
            op = req.map.list
            op.SetInParent()
            op.prefix = to_bytes(prefix)
            op.start_after = start_after
            op.limit = page_size
            op.keys_only = keys_only
            r = self._read(req, timeout)
            for e in r.entries:
                yield Entry(to_str(e.key), e.value, e.version)
            if not r.more or not r.entries:
                return
            start_after = r.entries[-1].key

    def keys(self, prefix: Bytes = "", **kw) -> Iterator[str]:
        return (e.key for e in self.list(prefix, keys_only=True, **kw))

    def items(self, prefix: Bytes = "", **kw):
        return ((e.key, e.value) for e in self.list(prefix, **kw))

    def __contains__(self, key) -> bool:
        return self.contains(key)

    def __len__(self) -> int:
        return self.size()

    def __iter__(self) -> Iterator[str]:
        return self.keys()

    def __getitem__(self, key) -> bytes:
        got = self.get(key)
        if got is None:
            raise KeyError(key)
        return got.value

    def __setitem__(self, key, value) -> None:
        self.put(key, value)

    def __delitem__(self, key) -> None:
        try:
            self.remove(key)
        except errors.NotFoundError:
            raise KeyError(key) from None

    # ----- writes ----------------------------------------------------------

    def put(self, key: Bytes, value: Bytes, *, if_version: Optional[int] = None,
            ephemeral: bool = False, ttl: Optional[float] = None,
            if_fence: Optional[Fence] = None,
            timeout: Optional[float] = None) -> int:
        """Inserts or replaces; returns the entry's new version.
        ``if_version``: only if the entry exists with that version
        (FailedPreconditionError with ``current``, or NotFoundError).
        ``ephemeral``, ``ttl`` (seconds) and ``if_fence=(lock, fence)`` as
        for Value.set."""
        req = self._request()
        self._put(req.map.put, key, value, if_version, ephemeral, ttl, if_fence)
        return self._write(req, timeout).version

    def insert(self, key: Bytes, value: Bytes, *, ephemeral: bool = False,
               ttl: Optional[float] = None, if_fence: Optional[Fence] = None,
               timeout: Optional[float] = None) -> int:
        """Inserts only if absent (AlreadyExistsError otherwise)."""
        req = self._request()
        self._put(req.map.insert, key, value, None, ephemeral, ttl, if_fence)
        return self._write(req, timeout).version

    def update(self, key: Bytes, value: Bytes, *, if_version: Optional[int] = None,
               ephemeral: bool = False, ttl: Optional[float] = None,
               if_fence: Optional[Fence] = None,
               timeout: Optional[float] = None) -> int:
        """Replaces only if present (NotFoundError otherwise)."""
        req = self._request()
        self._put(req.map.update, key, value, if_version, ephemeral, ttl, if_fence)
        return self._write(req, timeout).version

    def remove(self, key: Bytes, *, if_version: Optional[int] = None,
               if_fence: Optional[Fence] = None,
               timeout: Optional[float] = None) -> Versioned:
        """Removes the key (NotFoundError if absent); returns the value it
        held with the revision of the removal."""
        req = self._request()
        op = req.map.remove
        op.SetInParent()
        op.key = to_bytes(key)
        set_conditions(op, if_version, if_fence)
        r = self._write(req, timeout)
        return Versioned(r.entry.value, r.version)

    def clear(self, *, timeout: Optional[float] = None) -> int:
        """Removes every entry at one revision; returns that revision (or the
        current one if the map was empty)."""
        req = self._request()
        req.map.clear.SetInParent()
        return self._write(req, timeout).version

    def remove_prefix(self, prefix: Bytes, *, timeout: Optional[float] = None) -> int:
        """Removes every key starting with ``prefix``; returns how many."""
        req = self._request()
        req.map.remove_prefix.SetInParent()
        req.map.remove_prefix.prefix = to_bytes(prefix)
        return self._write(req, timeout).size

    def watch(self, from_revision: Optional[int] = None, *,
              key: Optional[Bytes] = None, prefix: Optional[Bytes] = None):
        """Changes of the map (or of one ``key``, or of keys under
        ``prefix``); see Primitive.watch."""
        from .watch import Watch
        req = self._watch_request(from_revision)
        if key is not None:
            req.key = to_bytes(key)
        if prefix is not None:
            req.prefix = to_bytes(prefix)
        return Watch(self._client, req)
