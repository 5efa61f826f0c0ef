"""Exceptions of the atomix client, one per gRPC status code.

Every error the broker reports keeps the broker's own message (``str(e)``)
and its gRPC code (``e.code``). Mismatches (a version, a counter's value, a
fence) carry the broker's current value in ``e.current`` when it sent one.

    try:
        c.value("cfg").set(b"v2", if_version=7)
    except atomix.FailedPreconditionError as e:
        print("someone else wrote it; its version is now", e.current)
"""

from typing import Optional

import grpc


class AtomixError(Exception):
    """Base class: an operation failed. ``code`` is a ``grpc.StatusCode``."""

    code = grpc.StatusCode.UNKNOWN

    def __init__(self, message: str, current: Optional[int] = None):
        super().__init__(message)
        self.message = message
        self.current = current


class InvalidArgumentError(AtomixError, ValueError):
    """A bad name, key, size, TTL or a request the broker cannot accept."""
    code = grpc.StatusCode.INVALID_ARGUMENT


class FailedPreconditionError(AtomixError):
    """A version, value or fence mismatch, or a name bound to another type."""
    code = grpc.StatusCode.FAILED_PRECONDITION


class NotFoundError(AtomixError, KeyError):
    """The entry or candidate is absent."""
    code = grpc.StatusCode.NOT_FOUND

    def __str__(self) -> str:  # KeyError would quote the message
        return self.message


class AlreadyExistsError(AtomixError):
    """An insert of a present entry, or a candidate id owned elsewhere."""
    code = grpc.StatusCode.ALREADY_EXISTS


class OutOfRangeError(AtomixError):
    """A counter would leave the int64 range, or an index is past the end."""
    code = grpc.StatusCode.OUT_OF_RANGE


class AbortedError(AtomixError):
    """The request's session is closed, expired or unknown to the broker."""
    code = grpc.StatusCode.ABORTED


class SessionLostError(AbortedError):
    """The session ended (by the broker's word or by the client's clock).

    Everything it held (locks, candidacies, ephemeral entries) must be taken
    as gone, and a mutation that failed with it may or may not have been
    applied. The client opens a new session for the next call.
    """


class ResourceExhaustedError(AtomixError):
    """Too many unacknowledged requests, or a primitive at its size cap."""
    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class CancelledError(AtomixError):
    """A waiting request was withdrawn."""
    code = grpc.StatusCode.CANCELLED


class DeadlineExceededError(AtomixError, TimeoutError):
    """The call's timeout passed (on the broker's clock or the client's)."""
    code = grpc.StatusCode.DEADLINE_EXCEEDED


class UnavailableError(AtomixError, ConnectionError):
    """No broker could be reached (the message names the endpoint)."""
    code = grpc.StatusCode.UNAVAILABLE


class UnauthenticatedError(AtomixError):
    """The broker wants credentials: no token, or one it does not know."""
    code = grpc.StatusCode.UNAUTHENTICATED


class PermissionDeniedError(AtomixError, PermissionError):
    """The broker's access policy does not grant this principal the right,
    or the session belongs to another principal."""
    code = grpc.StatusCode.PERMISSION_DENIED


_BY_CODE = {
    cls.code: cls
    for cls in (InvalidArgumentError, FailedPreconditionError, NotFoundError,
                AlreadyExistsError, OutOfRangeError, AbortedError,
                ResourceExhaustedError, CancelledError, DeadlineExceededError,
                UnavailableError, UnauthenticatedError, PermissionDeniedError)
}


def error_for(code: grpc.StatusCode, message: str,
              current: Optional[int] = None) -> AtomixError:
    """The exception for a gRPC status code (AtomixError for other codes)."""
    cls = _BY_CODE.get(code)
    if cls is None:
        err = AtomixError(message, current)
        err.code = code
        return err
    return cls(message, current)


def error_for_int(code: int, message: str,
                  current: Optional[int] = None) -> AtomixError:
    """The exception for a numeric code, as in ``atomix.v1.Error.code``."""
    for status in grpc.StatusCode:
        if status.value[0] == code:
            return error_for(status, message, current)
    return error_for(grpc.StatusCode.UNKNOWN, message, current)


def from_rpc_error(err: grpc.RpcError) -> AtomixError:
    """Turns a failed Broker.Call into its exception, with the trailing
    ``atomix-current`` metadata as ``current``."""
    current = None
    try:
        for key, value in err.trailing_metadata() or ():
            if key == "atomix-current":
                current = int(value)
    except (AttributeError, ValueError):
        pass
    return error_for(err.code(), err.details() or str(err.code()), current)
