"""One Broker.Call at a time over a set of endpoints.

``Transport.invoke`` sends one attempt and raises the matching AtomixError on
failure; retry policy lives in ``Client._execute``. A broker that cannot be
reached makes the transport move on to the next endpoint.

Thread-safe: gRPC channels are shared by every thread of the client.
``Tls`` and ``channel_credentials`` build the channels' credentials.
"""

import itertools
import threading
from dataclasses import dataclass
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
    # A failed connection asks the resolver for the address again, and the
    # DNS resolver's default cooldown (30 s) would hold the channel in
    # failure that long, past a session's TTL, even after the broker is back.
    ("grpc.dns_min_time_between_resolutions_ms", 200),
]


def parse_endpoints(endpoints: Union[str, Sequence[str]]) -> List[str]:
    """"a:1,b:2" or ["a:1", "b:2"] -> ["a:1", "b:2"]; empty is an error."""
    if isinstance(endpoints, str):
        endpoints = endpoints.split(",")
    result = [e.strip() for e in endpoints if e and e.strip()]
    if not result:
        raise errors.InvalidArgumentError("atomix: no broker endpoint given")
    return result


Pem = Union[str, bytes, None]


@dataclass(frozen=True)
class Tls:
    """TLS to the broker (docs/security.md). Each field is a PEM file's path
    (str) or the PEM itself (bytes).

    ``ca``: the CA certificates to trust; None trusts the system's CAs.
    ``cert`` and ``key``: this client's certificate and its private key, for
    a broker that asks for one (mutual TLS); give both or neither."""
    ca: Pem = None
    cert: Pem = None
    key: Pem = None


def _read_pem(value: Pem, what: str) -> Optional[bytes]:
    if value is None or isinstance(value, bytes):
        pem = value
    else:
        try:
            with open(value, "rb") as f:
                pem = f.read()
        except OSError as e:
            raise errors.InvalidArgumentError(
                f"atomix: cannot read the {what} file {value}: {e.strerror}") from None
        if b"-----BEGIN" not in pem:
            raise errors.InvalidArgumentError(
                f"atomix: the {what} file {value} holds no PEM block")
    return pem


def channel_credentials(tls: Optional[Tls],
                        token: Optional[str]) -> Optional[grpc.ChannelCredentials]:
    """The channels' credentials; None means plaintext. A token is sent as
    ``authorization: Bearer <token>`` with every call, over TLS only."""
    if tls is None:
        if token:
            raise errors.InvalidArgumentError(
                "atomix: a bearer token needs TLS (pass tls=atomix.Tls(...)): "
                "gRPC sends tokens over TLS only")
        return None
    cert = _read_pem(tls.cert, "client certificate")
    key = _read_pem(tls.key, "client key")
    if (cert is None) != (key is None):
        raise errors.InvalidArgumentError(
            "atomix: a client key needs its client certificate" if cert is None
            else "atomix: a client certificate needs its key")
    credentials = grpc.ssl_channel_credentials(
        root_certificates=_read_pem(tls.ca, "root CA"),
        private_key=key, certificate_chain=cert)
    if token:
        credentials = grpc.composite_channel_credentials(
            credentials, grpc.access_token_call_credentials(token))
    return credentials


def _channel(endpoint: str, credentials: Optional[grpc.ChannelCredentials]) -> grpc.Channel:
    if credentials is None:
        return grpc.insecure_channel(endpoint, options=_CHANNEL_OPTIONS)
    return grpc.secure_channel(endpoint, credentials, options=_CHANNEL_OPTIONS)


class Transport:
    def __init__(self, endpoints: Sequence[str],
                 credentials: Optional[grpc.ChannelCredentials] = None):
        self.endpoints = list(endpoints)
        self._lock = threading.Lock()
        self._channels = [_channel(e, credentials) for e in self.endpoints]
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
