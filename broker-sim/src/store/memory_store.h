// MemoryStore: the Store that keeps every primitive in process memory.
//
// A registry maps each name to the type it is bound to and its state machine.
// A name is bound by Open or by its first mutation; reads of an unknown name
// see an empty primitive of the requested type and bind nothing, so reads
// never grow the registry. Binding a name takes no revision.
//
// The store also owns the session table (see state/sessions.h): it checks
// the session of every request (ABORTED if unknown), answers exactly-once
// retries from the session's memory, checks fences, and ends sessions:
// SessionClose, or expiry found by Tick or at the start of Apply. Ending a
// session is one step at one revision: every primitive the session touched
// drops what the session owned (StateMachine::EndSession). Like any other
// step it takes no revision if it changed nothing (the session owned
// nothing); opening a session and keeping it alive never take one. Timers (TTL
// entries, lock waiter timeouts) are each machine's NextDeadline, kept in
// one ordered set and run in time order by Advance.
//
// Session ids are session_id_base + 1, + 2, ... in opening order; a random
// base keeps ids from one broker incarnation from meaning anything to the
// next.
//
// Every step's watch events go into a WatchHistory under the same mutex as
// the state they describe, so a watch's start revision, its snapshot and
// the history agree exactly. ReadWatch holds the mutex only to collect
// references to the (immutable, shared) records after the cursor; it
// filters and copies their events into the response after releasing it.
// The history lives in memory only: a restarted broker starts with an
// empty one (and a new broker id).
//
// Thread-safety: thread-safe. One mutex serializes every call, which makes
// each batch atomic and every primitive linearizable.
#ifndef ATOMIX_BROKER_STORE_MEMORY_STORE_H_
#define ATOMIX_BROKER_STORE_MEMORY_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "broker-sim/src/state/limits.h"
#include "broker-sim/src/state/sessions.h"
#include "broker-sim/src/state/state_machine.h"
#include "broker-sim/src/store/store.h"
#include "broker-sim/src/store/watch_history.h"
#include "broker-sim/src/store/watch_reader.h"

namespace atomix::broker {

class MemoryStore final : public Store {
 public:
  // The logical time handed to state machines for each batch.
  using Clock = std::function<absl::Time()>;

  explicit MemoryStore(Limits limits, Clock clock = &absl::Now,
                       uint64_t session_id_base = 0,
                       WatchHistoryOptions history = {});

  using Store::Apply;
  void Apply(absl::Span<const v1::Request* const> requests,
             absl::Span<v1::Response* const> responses, uint64_t origin,
             StoreResult& result) override ABSL_LOCKS_EXCLUDED(mu_);
  void Tick(absl::Time now, StoreResult& result) override
      ABSL_LOCKS_EXCLUDED(mu_);
  void Cancel(uint64_t origin) override ABSL_LOCKS_EXCLUDED(mu_);
  void ExpireAllSessions(StoreResult& result) override
      ABSL_LOCKS_EXCLUDED(mu_);
  int64_t revision() const override ABSL_LOCKS_EXCLUDED(mu_);
  std::string_view kind() const override { return "memory"; }

  absl::StatusOr<WatchStart> StartWatch(const std::string& name,
                                        v1::PrimitiveType type,
                                        const WatchFilter& filter,
                                        bool snapshot) override
      ABSL_LOCKS_EXCLUDED(mu_);
  WatchRead ReadWatch(const std::string& name, const WatchFilter& filter,
                      int64_t cursor, const WatchBudget& budget,
                      v1::WatchResponse& out) override
      ABSL_LOCKS_EXCLUDED(mu_);
  void SetChangeListener(ChangeListener listener) override;

  // The number of names bound to a primitive.
  size_t TEST_primitive_count() const ABSL_LOCKS_EXCLUDED(mu_);
  // The number of live sessions.
  size_t TEST_session_count() const ABSL_LOCKS_EXCLUDED(mu_);
  // The number of events the watch history holds.
  size_t TEST_history_events() const ABSL_LOCKS_EXCLUDED(mu_);
  // Runs `hook` in every ReadWatch after it collected records and released
  // the mutex, before it copies their events (empty: nothing). Set before
  // the store is shared between threads.
  void TEST_SetBeforeWatchCopy(std::function<void()> hook);
  // Whether the mutex is free (nobody, the caller included, holds it).
  bool TEST_unlocked() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // A deferred request, by token.
  struct Pending {
    uint64_t origin = 0;
    uint64_t request_id = 0;
    uint64_t session = 0;
    uint64_t sequence = 0;
    std::string name;
  };

  // Returns true if the response is deferred.
  bool ApplyOne(const v1::Request& request, uint64_t origin,
                v1::Response& response, StoreResult& result)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ApplySession(const v1::Request& request, v1::Response& response,
                    StoreResult& result) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A CancelRequest: withdraws the waiting request it names, or remembers
  // a sequence that has not arrived yet as cancelled.
  void ApplyCancel(const v1::Request& request, uint64_t origin,
                   v1::Response& response, StoreResult& result)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Takes waiting request `token` out of its machine and the session. With
  // an `answer`, that is its final response: remembered for exactly-once
  // and sent to its origin as a completion. Without, it is never answered.
  void Withdraw(uint64_t token, const v1::Response* answer,
                StoreResult& result) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Fails `response` if the request's if_fence no longer holds its lock.
  bool CheckFence(const v1::Request& request, v1::Response& response)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Moves time forward and runs whatever is due.
  void AdvanceTo(absl::Time now, StoreResult& result)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Ends a session in one step at one new revision.
  void EndSession(uint64_t id, StoreResult& result)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Turns machine answers into completions (at the current revision).
  void Complete(std::vector<Answer>& answers, StoreResult& result)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Keeps a step's watch events (at the current revision) and notes the
  // name as changed.
  void Record(const std::string& name, std::vector<v1::WatchEvent>& events)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Hands the names changed since the last call to the listener; called
  // without mu_ held.
  void NotifyChanged(std::vector<std::string> names) ABSL_LOCKS_EXCLUDED(mu_);
  // Adds, re-addresses and removes a waiting request (pending_ and
  // by_origin_ together).
  void AddPending(uint64_t token, Pending pending)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Readdress(uint64_t token, uint64_t origin, uint64_t request_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Pending TakePending(uint64_t token) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Re-reads the machine's next deadline into timers_.
  void Schedule(const std::string& name, const StateMachine& machine)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Limits limits_;
  const Clock clock_;
  const uint64_t session_id_base_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<StateMachine>> primitives_
      ABSL_GUARDED_BY(mu_);
  int64_t revision_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time now_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  Sessions sessions_ ABSL_GUARDED_BY(mu_);
  uint64_t sessions_opened_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t next_token_ ABSL_GUARDED_BY(mu_) = 1;
  absl::flat_hash_map<uint64_t, Pending> pending_ ABSL_GUARDED_BY(mu_);
  // The same waiting requests by (origin, request id): Cancel(origin) and
  // a cancel by request id find theirs without a scan.
  absl::btree_map<std::pair<uint64_t, uint64_t>, uint64_t> by_origin_
      ABSL_GUARDED_BY(mu_);
  absl::btree_set<std::pair<absl::Time, std::string>> timers_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, absl::Time> scheduled_ ABSL_GUARDED_BY(mu_);
  WatchHistory history_ ABSL_GUARDED_BY(mu_);
  // Names with new events since the last notification.
  std::vector<std::string> changed_ ABSL_GUARDED_BY(mu_);
  ChangeListener listener_;  // set before the store is shared
  std::function<void()> before_watch_copy_;  // set before the store is shared
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_STORE_MEMORY_STORE_H_
