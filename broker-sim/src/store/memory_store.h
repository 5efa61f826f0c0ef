// MemoryStore: the Store that keeps every primitive in process memory.
//
// It is the engine (engine/engine.h: names, state machines, sessions,
// exactly-once memory, timers, deferred answers) behind one mutex, with no
// log: each call becomes an engine step at the time its clock reads (Apply,
// ExpireAllSessions) or it is given (Tick). Nothing survives a restart.
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
#include "broker-sim/src/engine/engine.h"
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
  // Appends the engine's watch events to the history.
  class HistorySink final : public EventSink {
   public:
    explicit HistorySink(MemoryStore* store) : store_(store) {}
    void Record(const std::string& name, int64_t revision,
                std::vector<v1::WatchEvent>&& events) override;

   private:
    MemoryStore* store_;
  };

  void RecordLocked(const std::string& name, int64_t revision,
                    std::vector<v1::WatchEvent>&& events)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Hands the names changed since the last call to the listener; called
  // without mu_ held.
  void NotifyChanged(std::vector<std::string> names) ABSL_LOCKS_EXCLUDED(mu_);

  const Clock clock_;
  mutable absl::Mutex mu_;
  WatchHistory history_ ABSL_GUARDED_BY(mu_);
  // Names with new events since the last notification.
  std::vector<std::string> changed_ ABSL_GUARDED_BY(mu_);
  HistorySink sink_;
  Engine engine_ ABSL_GUARDED_BY(mu_);
  ChangeListener listener_;  // set before the store is shared
  std::function<void()> before_watch_copy_;  // set before the store is shared
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_STORE_MEMORY_STORE_H_
