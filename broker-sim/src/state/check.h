// Validation helpers shared by the primitives' own request checks (each
// primitive validates its operations next to its state machine; see
// registry.h) and by the broker core. Each returns OK or INVALID_ARGUMENT
// with a message that names the problem.
//
// Thread-safety: stateless functions.
#ifndef ATOMIX_BROKER_STATE_CHECK_H_
#define ATOMIX_BROKER_STATE_CHECK_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "atomix/v1/broker.pb.h"
#include "broker-sim/src/state/limits.h"

namespace atomix::broker {

// `what` is at most `limit` bytes, and not empty unless `allow_empty`:
//   key is empty
//   value is 2000000 bytes; the limit is 1048576
absl::Status CheckBytes(absl::string_view what, const std::string& bytes,
                        int64_t limit, bool allow_empty);

// A key (or element): 1..max_key_bytes bytes.
absl::Status CheckKey(const std::string& key, const Limits& limits);

// A primitive name: 1..max_name_bytes of valid UTF-8.
absl::Status CheckName(const std::string& name, const Limits& limits);

// A fence: a valid lock name and a positive version.
absl::Status CheckFence(const v1::Fence& fence, const Limits& limits);

// The options a write may carry: ttl_ms not negative, ephemeral only with a
// session, and a valid fence if any.
absl::Status CheckWriteOptions(const v1::Request& request, bool ephemeral,
                               int64_t ttl_ms, const v1::Fence* fence,
                               const Limits& limits);

// OK if the request has a session, else "`what` needs a session".
absl::Status NeedsSession(const v1::Request& request, absl::string_view what);

// "`type` request has no operation".
absl::Status NoOperation(absl::string_view type);

// Chains checks: the first failure wins.
inline absl::Status Both(absl::Status first, absl::Status second) {
  return first.ok() ? second : first;
}

// The offset of the first byte of `text` that does not start a well-formed
// UTF-8 sequence (RFC 3629: no overlong forms, no surrogates, nothing above
// U+10FFFF), or absl::string_view::npos if `text` is valid UTF-8.
size_t FindInvalidUtf8(absl::string_view text);

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_STATE_CHECK_H_
