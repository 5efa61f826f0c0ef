// Store: where primitive state lives and where requests are applied.
//
// The memory store keeps every primitive's pure state machine in process
// memory. A durable store (planned) logs each applied batch to an embedded
// engine before answering; an etcd store (planned) maps primitives onto etcd
// keys and transactions. All of them hand out one broker-wide revision that
// every mutation raises by one.
//
// Some requests are answered later than the call that applied them: a lock
// acquire that waits in the queue is "deferred" and answered by whichever
// later call grants it or times it out (Apply, Tick, ExpireAllSessions).
// Such late answers come back as Completions addressed to the `origin` the
// request was applied with (the server uses one origin per stream or call).
//
// Thread-safety: every method may be called from any thread; calls are
// applied one at a time.
#ifndef ATOMIX_BROKER_STORE_STORE_H_
#define ATOMIX_BROKER_STORE_STORE_H_

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "absl/types/span.h"
#include "atomix/v1/broker.pb.h"

namespace atomix::broker {

struct Limits;

// A late answer to a request applied earlier with `origin`.
struct Completion {
  uint64_t origin = 0;
  v1::Response response;  // Response.id is the original request's id
};

struct StoreResult {
  // Indexes of the batch's requests that were not answered yet (their
  // response slots hold nothing useful); each is answered later by exactly
  // one Completion, or by none if its origin is cancelled first.
  std::vector<size_t> deferred;
  // Late answers to earlier requests that this call completed.
  std::vector<Completion> completions;
};

class Store {
 public:
  virtual ~Store() = default;

  // Applies `requests` in order, atomically with respect to every other
  // call, writing responses[i] for requests[i] unless i is listed in
  // result.deferred. Each request that changes state gets the next revision.
  // Requests are already validated (name, sizes, op matches type). Sessions
  // and TTL entries that are due at the store's current time expire first.
  virtual void Apply(absl::Span<const v1::Request* const> requests,
                     absl::Span<v1::Response* const> responses,
                     uint64_t origin, StoreResult& result) = 0;

  // Apply with origin 0: deferred requests are never answered.
  void Apply(absl::Span<const v1::Request* const> requests,
             absl::Span<v1::Response* const> responses) {
    StoreResult ignored;
    Apply(requests, responses, 0, ignored);
  }

  // Advances logical time to `now` (never backwards): expires overdue
  // sessions (each in one step at one revision), TTL entries (one revision
  // each) and lock waiters whose timeout passed (DEADLINE_EXCEEDED).
  virtual void Tick(absl::Time now, StoreResult& result) = 0;

  // Forgets every waiting request applied with `origin`, without answering
  // it; a waiting lock acquire leaves the queue. Takes no revision.
  virtual void Cancel(uint64_t origin) = 0;

  // Ends every session now, as if each had expired.
  virtual void ExpireAllSessions(StoreResult& result) = 0;

  // The latest revision handed out (0 before the first mutation).
  virtual int64_t revision() const = 0;

  // "memory", ...
  virtual std::string_view kind() const = 0;
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_STORE_STORE_H_
