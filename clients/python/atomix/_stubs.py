"""Hand-written gRPC stubs of atomix.v1.Broker (Debian ships no grpc python
plugin). Only the message classes are generated, by protoc --python_out."""

import grpc

try:
    from atomix.v1 import broker_pb2, types_pb2, watch_pb2
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError(
        "atomix: the generated protobuf modules (atomix/v1/*_pb2.py) are not "
        "on sys.path; build them with `cmake --build build --target "
        "atomix_python` and add build/clients/python/gen to PYTHONPATH"
    ) from e


class BrokerStub:
    """The three RPCs of atomix.v1.Broker on one channel."""

    def __init__(self, channel: grpc.Channel):
        self.Call = channel.unary_unary(
            "/atomix.v1.Broker/Call",
            request_serializer=broker_pb2.Request.SerializeToString,
            response_deserializer=broker_pb2.Response.FromString)
        self.Stream = channel.stream_stream(
            "/atomix.v1.Broker/Stream",
            request_serializer=broker_pb2.RequestBatch.SerializeToString,
            response_deserializer=broker_pb2.ResponseBatch.FromString)
        self.Watch = channel.unary_stream(
            "/atomix.v1.Broker/Watch",
            request_serializer=watch_pb2.WatchRequest.SerializeToString,
            response_deserializer=watch_pb2.WatchResponse.FromString)
