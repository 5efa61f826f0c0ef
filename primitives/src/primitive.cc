#include "atomix/internal/primitive.h"

#include <algorithm>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "atomix/codec.h"
#include "primitives/src/request.h"
#include "sdk/src/client_core.h"

namespace atomix::internal {
namespace {

absl::string_view AbslView(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// Longest key shown in an error message, in bytes before escaping.
constexpr size_t kMaxKeyInMessage = 64;

}  // namespace

v1::Request NewRequest(const PrimitiveKind& kind, std::string_view name) {
  v1::Request request;
  request.set_type(static_cast<v1::PrimitiveType>(kind.wire_type));
  request.set_name(std::string(name));
  return request;
}

absl::Status MissingResult(const PrimitiveKind& kind, std::string_view name, std::string_view op) {
  return absl::InternalError(absl::StrCat("broker answered ", AbslView(kind.name), " \"",
                                          AbslView(name), "\" ", AbslView(op),
                                          " without a result"));
}

absl::Status NoCore() { return absl::InvalidArgumentError("atomix: primitive has no client"); }

absl::Status CheckWriteOptions(const WriteOptions& options, WriteAccepts accepts,
                               const PrimitiveKind& kind, std::string_view name,
                               std::string_view op) {
  const char* unsupported = nullptr;
  if (!accepts.conditions && options.if_version) unsupported = "IfVersion";
  if (!accepts.conditions && options.if_fence) unsupported = "IfFence";
  if (!accepts.lifetime && options.ephemeral) unsupported = "WithEphemeral";
  if (!accepts.lifetime && options.ttl) unsupported = "WithTTL";
  if (unsupported != nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(AbslView(kind.name), " \"", AbslView(name),
                                                   "\": ", AbslView(op), " does not take ",
                                                   unsupported));
  }
  if (options.ttl && options.ttl->count() <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(AbslView(kind.name), " \"", AbslView(name), "\": ", AbslView(op),
                     " TTL must be positive, got ", options.ttl->count(), "ms"));
  }
  return absl::OkStatus();
}

absl::Status OpenPrimitive(const std::shared_ptr<ClientCore>& core, const PrimitiveKind& kind,
                           std::string_view name, const CallOptions& options) {
  if (core == nullptr) return NoCore();
  v1::Request request = NewRequest(kind, name);
  request.mutable_open();
  absl::StatusOr<v1::Response> response = core->Call(std::move(request), options,
                                                     /*idempotent=*/true);
  if (!response.ok()) return response.status();
  if (!response->has_open()) return MissingResult(kind, name, "open");
  return absl::OkStatus();
}

absl::Status ListedOutOfOrder(const PrimitiveKind& kind, std::string_view name) {
  return absl::InternalError(absl::StrCat("broker listed ", AbslView(kind.name), " \"",
                                          AbslView(name), "\" out of order"));
}

absl::Status EmptyPageWithMore(const PrimitiveKind& kind, std::string_view name) {
  return absl::InternalError(absl::StrCat("broker returned an empty page of ", AbslView(kind.name),
                                          " \"", AbslView(name), "\" with more to follow"));
}

absl::Status BadWatchDetail(const PrimitiveKind& kind, int64_t revision) {
  return absl::InternalError(absl::StrCat(
      "broker sent a ", AbslView(kind.name), " watch event or snapshot at revision ", revision,
      " without a detail that parses (protocol 1.1 brokers send one; is the broker older?)"));
}

absl::Status DecodeFailure(const absl::Status& codec_status, std::string_view type_name,
                           const PrimitiveKind& kind, std::string_view name,
                           const std::string* key) {
  std::string message(codec_status.message());
  if (!absl::StartsWith(message, "cannot decode ")) {
    message = std::string(DecodeError(type_name, message).message());
  }
  absl::StrAppend(&message, " (", AbslView(kind.name), " \"", AbslView(name), "\"");
  if (key != nullptr) {
    absl::string_view shown(key->data(), std::min(key->size(), kMaxKeyInMessage));
    absl::StrAppend(&message, ", ", AbslView(kind.item), " \"", absl::CHexEscape(shown),
                    key->size() > kMaxKeyInMessage ? "...\"" : "\"");
  }
  absl::StrAppend(&message, ")");
  return absl::InvalidArgumentError(message);
}

}  // namespace atomix::internal
