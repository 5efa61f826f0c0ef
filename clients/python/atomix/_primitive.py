"""What every primitive handle shares: its name, the request envelope and
watches. Handles are cheap; make as many as you like."""

from typing import NamedTuple, Optional, Union

from ._stubs import broker_pb2, watch_pb2

Bytes = Union[bytes, bytearray, memoryview, str]


def to_bytes(data: Bytes) -> bytes:
    """str is UTF-8 (lone surrogates from ``to_str`` round-trip); bytes-like
    as is."""
    if isinstance(data, str):
        return data.encode("utf-8", "surrogateescape")
    return bytes(data)


def to_str(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


class Versioned(NamedTuple):
    """A value with the revision at which it was last written."""
    value: bytes
    version: int


class Primitive:
    TYPE = 0  # atomix.v1.PrimitiveType

    def __init__(self, client, name: Bytes):
        self._client = client
        self.name = name
        self._name = to_bytes(name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    def _request(self) -> "broker_pb2.Request":
        return broker_pb2.Request(type=self.TYPE, name=self._name)

    def _watch_request(self, from_revision: Optional[int]) -> "watch_pb2.WatchRequest":
        req = watch_pb2.WatchRequest(type=self.TYPE, name=self._name)
        if from_revision is not None:
            req.start_revision = from_revision
        return req

    def watch(self, from_revision: Optional[int] = None):
        """An iterator of this primitive's changes (atomix.watch.Watch):
        from the next change, or every change at revision >= from_revision.
        It resumes by itself after a broker restart or a reset stream,
        without skipping or repeating a revision."""
        from .watch import Watch
        return Watch(self._client, self._watch_request(from_revision))


def set_conditions(op, if_version: Optional[int], if_fence) -> None:
    """Sets a write's optional if_version and if_fence ((lock name, fence))."""
    if if_version is not None:
        op.if_version = if_version
    if if_fence is not None:
        op.if_fence.lock = to_bytes(if_fence[0])
        op.if_fence.version = if_fence[1]


def set_put_options(op, if_version: Optional[int], ephemeral: bool,
                    ttl: Optional[float], if_fence) -> None:
    """The options a Value set and a Map put share: conditions, an
    ephemeral owner and a TTL in seconds (at least 1 ms)."""
    set_conditions(op, if_version, if_fence)
    op.ephemeral = ephemeral
    if ttl is not None:
        op.ttl_ms = max(1, int(ttl * 1000))
