// Helpers that fill Response.error and quote names and keys in messages.
//
// Messages always end up in a proto3 `string`, so they must be valid UTF-8:
// names (already validated as UTF-8) are C-escaped, keeping their UTF-8
// characters; keys and elements are arbitrary bytes and are hex-escaped.
//
// Thread-safety: stateless functions.
#ifndef ATOMIX_BROKER_STATE_ERRORS_H_
#define ATOMIX_BROKER_STATE_ERRORS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "atomix/v1/broker.pb.h"

namespace atomix::broker {

// Sets response.error to (code, message), and Error.current if given.
void SetError(v1::Response& response, absl::StatusCode code,
              std::string message);
void SetError(v1::Response& response, absl::StatusCode code,
              std::string message, int64_t current);

// FAILED_PRECONDITION: `name` is bound to another primitive type:
//   "jobs" is a counter, not a map
void SetWrongType(v1::Response& response, absl::string_view name,
                  v1::PrimitiveType bound, v1::PrimitiveType asked);
std::string WrongTypeMessage(absl::string_view name, v1::PrimitiveType bound,
                             v1::PrimitiveType asked);

// The type's name with its article, for messages: "a counter", "an indexed
// map".
std::string ATypeName(v1::PrimitiveType type);

// ABORTED: session `id` is closed or expired (or was never opened).
void SetLostSession(v1::Response& response, uint64_t id);

// `name` in double quotes, C-escaped: jobs -> "jobs".
std::string QuoteName(absl::string_view name);

// `bytes` in double quotes, hex-escaped, cut after 64 bytes with the total
// size appended: "a\x00b", "aaaa...aaaa"... (5000 bytes).
std::string QuoteBytes(absl::string_view bytes);

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_STATE_ERRORS_H_
