#include "sdk/src/status_convert.h"

#include <string>
#include <utility>

#include "absl/strings/numbers.h"
#include "atomix/status.h"

namespace atomix::internal {

absl::StatusCode CodeFromInt(int code) {
  if (code < 0 || code > static_cast<int>(absl::StatusCode::kUnauthenticated)) {
    return absl::StatusCode::kUnknown;
  }
  return static_cast<absl::StatusCode>(code);
}

absl::Status WithCurrent(absl::Status status, int64_t current) {
  if (!status.ok()) status.SetPayload(kCurrentPayloadUrl, absl::Cord(std::to_string(current)));
  return status;
}

absl::Status FromProtoError(const v1::Error& error) {
  absl::StatusCode code = CodeFromInt(error.code());
  if (code == absl::StatusCode::kOk) code = absl::StatusCode::kUnknown;
  absl::Status status(code, error.message());
  if (error.has_current()) status = WithCurrent(std::move(status), error.current());
  return status;
}

absl::StatusOr<v1::Response> FromResponse(v1::Response response) {
  if (response.has_error()) return FromProtoError(response.error());
  return response;
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  return absl::Status(CodeFromInt(static_cast<int>(status.error_code())), status.error_message());
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

std::optional<int64_t> CurrentFromTrailers(const grpc::ClientContext& context) {
  const auto& trailers = context.GetServerTrailingMetadata();
  auto it = trailers.find(kCurrentTrailer);
  if (it == trailers.end()) return std::nullopt;
  int64_t v = 0;
  if (!absl::SimpleAtoi(absl::string_view(it->second.data(), it->second.size()), &v)) {
    return std::nullopt;
  }
  return v;
}

}  // namespace atomix::internal
