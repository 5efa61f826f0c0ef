"""One Broker.Call at a time over a set of endpoints.

``Transport.invoke`` sends one attempt and raises the matching AtomixError on
failure; retry policy lives in ``Client._execute``. A broker that cannot be
reached makes the transport move on to the next endpoint.

Thread-safe: gRPC channels are shared by every thread of the client.
"""

import itertools
import threading
from typing import List, Optional, Sequence, Union

import grpc

from . import errors
from ._stubs import BrokerStub, broker_pb2

_CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", 64 << 20),
    ("grpc.max_send_message_length", 64 << 20),
    # Reconnect soon after a broker restart.
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
]


def parse_endpoints(endpoints: Union[str, Sequence[str]]) -> List[str]:
    """"a:1,b:2" or ["a:1", "b:2"] -> ["a:1", "b:2"]; empty is an error."""
    if isinstance(endpoints, str):
        endpoints = endpoints.split(",")
    result = [e.strip() for e in endpoints if e and e.strip()]
    if not result:
        raise errors.InvalidArgumentError("atomix: no broker endpoint given")
    return result


class Transport:
    def __init__(self, endpoints: Sequence[str]):
        self.endpoints = list(endpoints)
        self._lock = threading.Lock()
        self._channels = [grpc.insecure_channel(e, options=_CHANNEL_OPTIONS)
                          for e in self.endpoints]
        self._stubs = [BrokerStub(c) for c in self._channels]
        self._current = 0  # guarded by _lock
        self._ids = itertools.count(1)
        self._closed = False

    def next_id(self) -> int:
        return next(self._ids)

    def current(self) -> int:
        with self._lock:
            return self._current

    def stub(self, index: int) -> BrokerStub:
        return self._stubs[index]

    def rotate(self, index: int) -> None:
        """Moves on from endpoint ``index`` unless another call already did."""
        with self._lock:
            if self._current == index:
                self._current = (index + 1) % len(self.endpoints)

    def invoke(self, request: "broker_pb2.Request",
               timeout: float) -> "broker_pb2.Response":
        """One attempt of Broker.Call, at most ``timeout`` seconds."""
        index = self.current()
        try:
            return self._stubs[index].Call(request, timeout=max(timeout, 0.001))
        except grpc.RpcError as e:
            err = errors.from_rpc_error(e)
            if isinstance(err, errors.UnavailableError):
                if "fault injection" not in err.message:
                    self.rotate(index)
                err = errors.UnavailableError(
                    f"broker {self.endpoints[index]} unavailable: {err.message}")
            raise err from None

    def watch(self, request, timeout: Optional[float] = None):
        """Opens Broker.Watch on the current endpoint: (stream, index)."""
        index = self.current()
        return self._stubs[index].Watch(request, timeout=timeout), index

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for c in self._channels:
            c.close()
