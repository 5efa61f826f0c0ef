// Request validation: what every request must satisfy, then the checks of
// its primitive, from the registry (each primitive validates its own
// operations beside its state machine).
#include "broker-sim/src/core/validate.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "broker-sim/src/engine/txn.h"
#include "broker-sim/src/state/registry.h"

namespace atomix::broker {
namespace {

// Session operations name no primitive: type and name are ignored.
absl::Status CheckSession(const v1::Request& request, const Limits& limits) {
  const v1::SessionRequest& op = request.session();
  switch (op.op_case()) {
    case v1::SessionRequest::kOpen: {
      const int64_t ttl_ms = op.open().ttl_ms();
      if (ttl_ms != 0 && ttl_ms < limits.min_session_ttl_ms) {
        return absl::InvalidArgumentError(
            absl::StrCat("ttl_ms is ", ttl_ms, "; the minimum is ",
                         limits.min_session_ttl_ms, " (0 means the default, ",
                         limits.default_session_ttl_ms, ")"));
      }
      if (ttl_ms > limits.max_session_ttl_ms) {
        return absl::InvalidArgumentError(
            absl::StrCat("ttl_ms is ", ttl_ms, "; the maximum is ",
                         limits.max_session_ttl_ms));
      }
      return absl::OkStatus();
    }
    case v1::SessionRequest::kKeepAlive:
      return NeedsSession(request, "session keep_alive");
    case v1::SessionRequest::kClose:
      return NeedsSession(request, "session close");
    case v1::SessionRequest::OP_NOT_SET:
      break;
  }
  return NoOperation("session");
}

// A cancel names a request of this client: by sequence (of its session)
// or by request id. It is never sequenced itself.
absl::Status CheckCancel(const v1::Request& request) {
  const v1::CancelRequest& op = request.cancel();
  if (request.sequence() != 0) {
    return absl::InvalidArgumentError(
        "a cancel takes no sequence of its own; it may be repeated freely");
  }
  if (op.sequence() != 0 && op.request_id() != 0) {
    return absl::InvalidArgumentError(
        "a cancel names its target by sequence or by request_id, not both");
  }
  if (op.sequence() != 0) return NeedsSession(request, "a cancel by sequence");
  if (op.request_id() == 0) {
    return absl::InvalidArgumentError(
        "a cancel needs the target's sequence or request_id");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateRequest(const v1::Request& request, const Limits& limits) {
  if (request.has_session()) return CheckSession(request, limits);
  if (request.has_cancel()) return CheckCancel(request);
  if (request.has_txn()) return ValidateTxn(request, limits);
  absl::Status status = CheckName(request.name(), limits);
  if (!status.ok()) return status;

  const v1::PrimitiveType type = request.type();
  if (type == v1::PRIMITIVE_TYPE_UNSPECIFIED) {
    return absl::InvalidArgumentError("type is unspecified");
  }
  if (!v1::PrimitiveType_IsValid(type)) {
    return absl::InvalidArgumentError(
        absl::StrCat("type ", static_cast<int>(type), " is unknown"));
  }
  if (request.op_case() == v1::Request::OP_NOT_SET) {
    return absl::InvalidArgumentError("request has no operation");
  }
  const PrimitiveSpec* op_spec = PrimitiveOf(request);
  if (op_spec != nullptr && op_spec->type != type) {
    return absl::InvalidArgumentError(
        absl::StrCat("type is ", v1::PrimitiveType_Name(type),
                     " but the operation is for ", op_spec->a_name));
  }
  if (request.timeout_ms() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "timeout_ms is ", request.timeout_ms(), "; it must not be negative"));
  }

  if (op_spec == nullptr) return absl::OkStatus();  // Open
  return op_spec->validate(request, limits);
}

absl::Status ValidateWatchRequest(const v1::WatchRequest& request,
                                  const Limits& limits) {
  absl::Status status = CheckName(request.name(), limits);
  if (!status.ok()) return status;
  const v1::PrimitiveType type = request.type();
  if (type == v1::PRIMITIVE_TYPE_UNSPECIFIED) {
    return absl::InvalidArgumentError("type is unspecified");
  }
  if (!v1::PrimitiveType_IsValid(type)) {
    return absl::InvalidArgumentError(
        absl::StrCat("type ", static_cast<int>(type), " is unknown"));
  }
  const PrimitiveSpec* spec = FindPrimitive(type);
  if (spec == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("type ", v1::PrimitiveType_Name(type), " has no watch"));
  }
  const bool filtered = request.has_key() || !request.prefix().empty();
  if (filtered && !spec->key_filters) {
    std::vector<absl::string_view> keyed;
    for (const PrimitiveSpec* p : Primitives()) {
      if (p->key_filters) keyed.push_back(p->name);
    }
    return absl::InvalidArgumentError(absl::StrCat(
        request.has_key() ? "key" : "prefix", " filters only watches of ",
        absl::StrJoin(keyed, ", "), "; type is ",
        v1::PrimitiveType_Name(type)));
  }
  if (request.has_key() && !request.prefix().empty()) {
    return absl::InvalidArgumentError(
        "key and prefix are mutually exclusive");
  }
  if (request.has_key()) {
    status = CheckBytes("key", request.key(), limits.max_key_bytes, false);
    if (!status.ok()) return status;
  }
  status = CheckBytes("prefix", request.prefix(), limits.max_key_bytes, true);
  if (!status.ok()) return status;
  if (request.start_revision() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("start_revision is ", request.start_revision(),
                     "; it must not be negative"));
  }
  return absl::OkStatus();
}

}  // namespace atomix::broker
