// Raw messages: the broker's gRPC methods take and give bytes (grpc::ByteBuffer)
// and parse and serialize the protobuf messages themselves, so that a
// message that is not a valid encoding is answered with INVALID_ARGUMENT
// naming the method and what failed, instead of gRPC's own answer (an empty
// UNIMPLEMENTED for unary and server-streaming calls, a silent OK end of a
// bidirectional stream).
//
//   v1::Request request;
//   grpc::Status parsed = ParseMessage(*buffer, "atomix.v1.Broker/Call",
//                                      "the request", request);
//   if (!parsed.ok()) return Refuse(parsed);
//
// Thread-safety: pure functions.
#ifndef ATOMIX_BROKER_SERVER_RAW_MESSAGE_H_
#define ATOMIX_BROKER_SERVER_RAW_MESSAGE_H_

#include "absl/strings/string_view.h"

#include "google/protobuf/message.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/status.h"

namespace atomix::broker {

// Parses `buffer` into `message`. On failure returns INVALID_ARGUMENT
// "<method>: <what> is not a valid <message type>: <why>" and leaves
// `message` unspecified. `what` names the message, e.g. "the request" or
// "message 3 of this stream".
//
// The server does not inflate compressed messages (a small gzip message can
// inflate to gigabytes, and gRPC 1.51 has no bound): with per-message
// decompression off, a compressed message arrives as its compressed bytes.
// When `context` says the client compresses (grpc-encoding other than
// identity, where gRPC shows it), or the bytes that fail to parse begin
// with a gzip or zlib header, the error says the message looks compressed.
grpc::Status ParseMessage(const grpc::ByteBuffer& buffer, absl::string_view method,
                          absl::string_view what, google::protobuf::Message& message,
                          const grpc::ServerContextBase* context = nullptr);

// The serialized bytes of `message`, as one slice.
grpc::ByteBuffer SerializeMessage(const google::protobuf::Message& message);

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_SERVER_RAW_MESSAGE_H_
