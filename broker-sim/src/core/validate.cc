// Request validation.
#include "broker-sim/src/core/validate.h"

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"

namespace atomix::broker {
namespace {

// Length of the well-formed UTF-8 sequence at text[i], or 0 if there is none
// (Unicode 15, table 3-7).
size_t SequenceLength(absl::string_view text, size_t i) {
  const auto byte = [&](size_t k) -> unsigned {
    return i + k < text.size() ? static_cast<unsigned char>(text[i + k])
                               : 0x100;  // past the end: matches no range
  };
  const auto in = [](unsigned b, unsigned lo, unsigned hi) {
    return b >= lo && b <= hi;
  };
  const unsigned b0 = byte(0);
  if (b0 <= 0x7F) return 1;
  if (in(b0, 0xC2, 0xDF)) return in(byte(1), 0x80, 0xBF) ? 2 : 0;
  if (in(b0, 0xE0, 0xEF)) {
    const unsigned lo = b0 == 0xE0 ? 0xA0 : 0x80;
    const unsigned hi = b0 == 0xED ? 0x9F : 0xBF;
    return in(byte(1), lo, hi) && in(byte(2), 0x80, 0xBF) ? 3 : 0;
  }
  if (in(b0, 0xF0, 0xF4)) {
    const unsigned lo = b0 == 0xF0 ? 0x90 : 0x80;
    const unsigned hi = b0 == 0xF4 ? 0x8F : 0xBF;
    return in(byte(1), lo, hi) && in(byte(2), 0x80, 0xBF) &&
                   in(byte(3), 0x80, 0xBF)
               ? 4
               : 0;
  }
  return 0;
}

absl::Status CheckBytes(absl::string_view what, const std::string& bytes,
                        int64_t limit, bool allow_empty) {
  if (!allow_empty && bytes.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is empty"));
  }
  if (static_cast<int64_t>(bytes.size()) > limit) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " is ", bytes.size(), " bytes; the limit is ", limit));
  }
  return absl::OkStatus();
}

absl::Status CheckName(const std::string& name, const Limits& limits) {
  if (name.empty()) return absl::InvalidArgumentError("name is empty");
  if (static_cast<int64_t>(name.size()) > limits.max_name_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("name is ", name.size(), " bytes; the limit is ",
                     limits.max_name_bytes));
  }
  if (size_t at = FindInvalidUtf8(name); at != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("name is not valid UTF-8 at byte ", at));
  }
  return absl::OkStatus();
}

// The primitive type an operation belongs to; UNSPECIFIED for Open, which
// belongs to every type.
v1::PrimitiveType OperationType(const v1::Request& request) {
  switch (request.op_case()) {
    case v1::Request::kCounter:
      return v1::COUNTER;
    case v1::Request::kValue:
      return v1::VALUE;
    case v1::Request::kMap:
      return v1::MAP;
    case v1::Request::kSet:
      return v1::SET;
    case v1::Request::kLock:
      return v1::LOCK;
    case v1::Request::kElection:
      return v1::ELECTION;
    default:
      return v1::PRIMITIVE_TYPE_UNSPECIFIED;
  }
}

absl::string_view OperationName(v1::PrimitiveType type) {
  switch (type) {
    case v1::COUNTER:
      return "a counter";
    case v1::VALUE:
      return "a value";
    case v1::MAP:
      return "a map";
    case v1::SET:
      return "a set";
    case v1::LOCK:
      return "a lock";
    case v1::ELECTION:
      return "an election";
    default:
      return "nothing";
  }
}

absl::Status NoOperation(absl::string_view type) {
  return absl::InvalidArgumentError(
      absl::StrCat(type, " request has no operation"));
}

absl::Status CheckFence(const v1::Fence& fence, const Limits& limits) {
  if (fence.lock().empty()) {
    return absl::InvalidArgumentError("fence lock name is empty");
  }
  if (absl::Status status = CheckName(fence.lock(), limits); !status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("fence lock ", status.message()));
  }
  if (fence.version() <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "fence version is ", fence.version(), "; it must be positive"));
  }
  return absl::OkStatus();
}

// The options a write may carry: ephemeral, ttl_ms and if_fence.
absl::Status CheckWriteOptions(const v1::Request& request, bool ephemeral,
                               int64_t ttl_ms, const v1::Fence* fence,
                               const Limits& limits) {
  if (ttl_ms < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("ttl_ms is ", ttl_ms, "; it must not be negative"));
  }
  if (ephemeral && request.session_id() == 0) {
    return absl::InvalidArgumentError("an ephemeral write needs a session");
  }
  if (fence != nullptr) return CheckFence(*fence, limits);
  return absl::OkStatus();
}

// Chains checks: the first failure wins.
absl::Status Both(absl::Status first, absl::Status second) {
  return first.ok() ? second : first;
}

absl::Status CheckValue(const v1::Request& request, const Limits& limits) {
  const v1::ValueRequest& op = request.value();
  switch (op.op_case()) {
    case v1::ValueRequest::kSet: {
      const v1::ValueSet& set = op.set();
      return Both(
          CheckBytes("value", set.value(), limits.max_value_bytes, true),
          CheckWriteOptions(request, set.ephemeral(), set.ttl_ms(),
                            set.has_if_fence() ? &set.if_fence() : nullptr,
                            limits));
    }
    case v1::ValueRequest::kInsert:
      return Both(CheckBytes("value", op.insert().value(),
                             limits.max_value_bytes, true),
                  CheckWriteOptions(request, op.insert().ephemeral(),
                                    op.insert().ttl_ms(), nullptr, limits));
    case v1::ValueRequest::kDelete:
      return op.delete_().has_if_fence()
                 ? CheckFence(op.delete_().if_fence(), limits)
                 : absl::OkStatus();
    case v1::ValueRequest::kGet:
      return absl::OkStatus();
    case v1::ValueRequest::OP_NOT_SET:
      break;
  }
  return NoOperation("value");
}

absl::Status CheckKeyAndValue(const std::string& key, const std::string& value,
                              const Limits& limits) {
  absl::Status status = CheckBytes("key", key, limits.max_key_bytes, false);
  if (!status.ok()) return status;
  return CheckBytes("value", value, limits.max_value_bytes, true);
}

absl::Status CheckKey(const std::string& key, const Limits& limits) {
  return CheckBytes("key", key, limits.max_key_bytes, false);
}

absl::Status CheckMap(const v1::Request& request, const Limits& limits) {
  const v1::MapRequest& op = request.map();
  switch (op.op_case()) {
    case v1::MapRequest::kPut: {
      const v1::MapPut& put = op.put();
      return Both(CheckKeyAndValue(put.key(), put.value(), limits),
                  CheckWriteOptions(
                      request, put.ephemeral(), put.ttl_ms(),
                      put.has_if_fence() ? &put.if_fence() : nullptr, limits));
    }
    case v1::MapRequest::kInsert: {
      const v1::MapInsert& insert = op.insert();
      return Both(CheckKeyAndValue(insert.key(), insert.value(), limits),
                  CheckWriteOptions(request, insert.ephemeral(),
                                    insert.ttl_ms(), nullptr, limits));
    }
    case v1::MapRequest::kUpdate: {
      const v1::MapUpdate& update = op.update();
      return Both(
          CheckKeyAndValue(update.key(), update.value(), limits),
          CheckWriteOptions(
              request, update.ephemeral(), update.ttl_ms(),
              update.has_if_fence() ? &update.if_fence() : nullptr, limits));
    }
    case v1::MapRequest::kGet:
      return CheckKey(op.get().key(), limits);
    case v1::MapRequest::kRemove:
      return Both(CheckKey(op.remove().key(), limits),
                  op.remove().has_if_fence()
                      ? CheckFence(op.remove().if_fence(), limits)
                      : absl::OkStatus());
    case v1::MapRequest::kContains:
      return CheckKey(op.contains().key(), limits);
    case v1::MapRequest::kList: {
      absl::Status status = CheckBytes("prefix", op.list().prefix(),
                                       limits.max_key_bytes, true);
      if (!status.ok()) return status;
      return CheckBytes("start_after", op.list().start_after(),
                        limits.max_key_bytes, true);
    }
    case v1::MapRequest::kRemovePrefix:
      return CheckBytes("prefix", op.remove_prefix().prefix(),
                        limits.max_key_bytes, true);
    case v1::MapRequest::kSize:
    case v1::MapRequest::kClear:
      return absl::OkStatus();
    case v1::MapRequest::OP_NOT_SET:
      break;
  }
  return NoOperation("map");
}

absl::Status CheckElement(const std::string& element, const Limits& limits) {
  return CheckBytes("element", element, limits.max_key_bytes, false);
}

absl::Status CheckSet(const v1::SetRequest& op, const Limits& limits) {
  switch (op.op_case()) {
    case v1::SetRequest::kAdd:
      return CheckElement(op.add().element(), limits);
    case v1::SetRequest::kRemove:
      return CheckElement(op.remove().element(), limits);
    case v1::SetRequest::kContains:
      return CheckElement(op.contains().element(), limits);
    case v1::SetRequest::kList:
      return CheckBytes("start_after", op.list().start_after(),
                        limits.max_key_bytes, true);
    case v1::SetRequest::kSize:
    case v1::SetRequest::kClear:
      return absl::OkStatus();
    case v1::SetRequest::OP_NOT_SET:
      break;
  }
  return NoOperation("set");
}

absl::Status NeedsSession(const v1::Request& request, absl::string_view what) {
  if (request.session_id() != 0) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(what, " needs a session"));
}

absl::Status CheckLock(const v1::Request& request) {
  const v1::LockRequest& op = request.lock();
  switch (op.op_case()) {
    case v1::LockRequest::kAcquire:
      return NeedsSession(request, "lock acquire");
    case v1::LockRequest::kRelease:
      if (op.release().has_if_version()) return absl::OkStatus();
      return NeedsSession(request, "lock release without if_version");
    case v1::LockRequest::kGet:
      return absl::OkStatus();
    case v1::LockRequest::OP_NOT_SET:
      break;
  }
  return NoOperation("lock");
}

absl::Status CheckCandidate(const std::string& id, const Limits& limits) {
  return CheckBytes("candidate_id", id, limits.max_key_bytes, false);
}

absl::Status CheckElection(const v1::Request& request, const Limits& limits) {
  const v1::ElectionRequest& op = request.election();
  switch (op.op_case()) {
    case v1::ElectionRequest::kEnter:
      return Both(CheckCandidate(op.enter().candidate_id(), limits),
                  NeedsSession(request, "election enter"));
    case v1::ElectionRequest::kLeave:
      return Both(CheckCandidate(op.leave().candidate_id(), limits),
                  NeedsSession(request, "election leave"));
    case v1::ElectionRequest::kAnoint:
      return CheckCandidate(op.anoint().candidate_id(), limits);
    case v1::ElectionRequest::kPromote:
      return CheckCandidate(op.promote().candidate_id(), limits);
    case v1::ElectionRequest::kDemote:
      return CheckCandidate(op.demote().candidate_id(), limits);
    case v1::ElectionRequest::kEvict:
      return CheckCandidate(op.evict().candidate_id(), limits);
    case v1::ElectionRequest::kGetTerm:
      return absl::OkStatus();
    case v1::ElectionRequest::OP_NOT_SET:
      break;
  }
  return NoOperation("election");
}

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
  const v1::PrimitiveType op_type = OperationType(request);
  if (op_type != v1::PRIMITIVE_TYPE_UNSPECIFIED && op_type != type) {
    return absl::InvalidArgumentError(
        absl::StrCat("type is ", v1::PrimitiveType_Name(type),
                     " but the operation is for ", OperationName(op_type)));
  }
  if (request.timeout_ms() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "timeout_ms is ", request.timeout_ms(), "; it must not be negative"));
  }

  switch (request.op_case()) {
    case v1::Request::kCounter:
      if (request.counter().op_case() == v1::CounterRequest::OP_NOT_SET) {
        return NoOperation("counter");
      }
      return absl::OkStatus();
    case v1::Request::kValue:
      return CheckValue(request, limits);
    case v1::Request::kMap:
      return CheckMap(request, limits);
    case v1::Request::kSet:
      return CheckSet(request.set(), limits);
    case v1::Request::kLock:
      return CheckLock(request);
    case v1::Request::kElection:
      return CheckElection(request, limits);
    default:
      return absl::OkStatus();  // Open
  }
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
  const bool filtered = request.has_key() || !request.prefix().empty();
  if (filtered && type != v1::MAP) {
    return absl::InvalidArgumentError(absl::StrCat(
        request.has_key() ? "key" : "prefix", " filters only map watches; ",
        "type is ", v1::PrimitiveType_Name(type)));
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

size_t FindInvalidUtf8(absl::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    // Fast path for ASCII.
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    const size_t n = SequenceLength(text, i);
    if (n == 0) return i;
    i += n;
  }
  return absl::string_view::npos;
}

}  // namespace atomix::broker
