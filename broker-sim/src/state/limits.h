// Limits: the sizes the broker accepts and the page sizes it serves. One value
// is shared, read-only, by the validator, the store and every state machine.
//
// Thread-safety: a plain value type; copies are independent.
#ifndef ATOMIX_BROKER_STATE_LIMITS_H_
#define ATOMIX_BROKER_STATE_LIMITS_H_

#include <cstddef>
#include <cstdint>

namespace atomix::broker {

struct Limits {
  int64_t max_value_bytes = 1 << 20;  // --max-value-bytes
  int64_t max_key_bytes = 4096;       // map keys and set elements
  int64_t max_name_bytes = 256;       // primitive names
  uint32_t default_page_size = 1000;  // List with limit 0
  uint32_t max_page_size = 10000;     // List limits above this are capped
  int64_t max_page_bytes = 1 << 20;   // a List page ends once it holds this
  int64_t default_session_ttl_ms = 10000;  // SessionOpen with ttl_ms 0
  int64_t min_session_ttl_ms = 1000;       // shorter TTLs are rejected
  int64_t max_session_ttl_ms = 3600000;    // longer ones too (--max-session-ttl-ms)
  // Unacknowledged exactly-once responses (and waiting requests) remembered
  // per session; a new sequence beyond this fails with RESOURCE_EXHAUSTED.
  size_t max_unacked_responses = 1024;
  // Coordination recipes.
  int64_t max_permits = int64_t{1} << 20;       // a semaphore's permit count
  int64_t max_latch_count = int64_t{1} << 31;   // a latch's count
  int64_t max_parties = int64_t{1} << 20;       // a barrier's party count
  int64_t max_push_items = 1000;                // items of one work queue push
  int64_t max_visibility_timeout_ms = 86400000; // a work queue lease (one day)
  // Quotas (docs/security.md, "Quotas"); each refusal is RESOURCE_EXHAUSTED
  // naming the limit and its flag, decided by the engine before anything
  // is applied. 0 means no limit.
  uint64_t max_sessions = 100000;                // --max-sessions
  uint64_t max_sessions_per_principal = 10000;   // --max-sessions-per-principal
  // Names up to and including their first '/' (or "" without one).
  uint64_t max_primitives_per_namespace = 100000;  // --max-primitives-per-namespace
  // Serialized bytes of the responses one session remembers for retries; a
  // new sequenced request is refused while it is at or above this.
  uint64_t max_unacked_bytes = uint64_t{8} << 20;  // --max-unacked-bytes
  // The same over every session.
  uint64_t max_unacked_bytes_total = uint64_t{2} << 30;  // --max-unacked-bytes-total
  // Once one batch's responses exceed this, its remaining requests are
  // answered RESOURCE_EXHAUSTED without being applied.
  uint64_t max_batch_answer_bytes = uint64_t{16} << 20;  // --max-batch-answer-bytes
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_STATE_LIMITS_H_
