// Internal: conversions between the wire's errors, gRPC statuses and
// absl::Status. absl::StatusCode and grpc::StatusCode are the same numbers,
// so codes map one to one; a code outside the known range becomes UNKNOWN.
//
// Error.current (and the "atomix-current" trailing metadata of Broker.Call)
// travels as the atomix::kCurrentPayloadUrl payload, a decimal string.
//
// Thread-safety: pure functions.
#ifndef ATOMIX_SDK_SRC_STATUS_CONVERT_H_
#define ATOMIX_SDK_SRC_STATUS_CONVERT_H_

#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "atomix/v1/broker.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/status.h"

namespace atomix::internal {

// The trailing metadata key of Broker.Call that carries Error.current.
inline constexpr char kCurrentTrailer[] = "atomix-current";

// An absl code for a wire (gRPC) code; UNKNOWN when out of range.
absl::StatusCode CodeFromInt(int code);

// `status` with the current-version payload attached.
absl::Status WithCurrent(absl::Status status, int64_t current);

// The status an Error stands for. An Error whose code is OK (a broker bug)
// becomes UNKNOWN so that it is never mistaken for success.
absl::Status FromProtoError(const v1::Error& error);

// A Response becomes itself, or its error as a non-OK status.
absl::StatusOr<v1::Response> FromResponse(v1::Response response);

// gRPC <-> absl, code and message unchanged.
absl::Status FromGrpcStatus(const grpc::Status& status);
grpc::Status ToGrpcStatus(const absl::Status& status);

// The decimal "atomix-current" trailer of a finished unary call, if any.
std::optional<int64_t> CurrentFromTrailers(const grpc::ClientContext& context);

}  // namespace atomix::internal

#endif  // ATOMIX_SDK_SRC_STATUS_CONVERT_H_
