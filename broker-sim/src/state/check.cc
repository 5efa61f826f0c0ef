// Validation helpers shared by the primitives and the broker core.
#include "broker-sim/src/state/check.h"

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

}  // namespace

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

absl::Status CheckKey(const std::string& key, const Limits& limits) {
  return CheckBytes("key", key, limits.max_key_bytes, false);
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

absl::Status NeedsSession(const v1::Request& request, absl::string_view what) {
  if (request.session_id() != 0) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(what, " needs a session"));
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
