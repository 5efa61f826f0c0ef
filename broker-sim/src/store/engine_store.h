// EngineStore: a Store made of the engine (engine/engine.h: names, state
// machines, sessions, exactly-once memory, timers, deferred answers), one
// mutex, a clock that stamps each step's record, the watch history, and an
// optional Log (store/log.h).
//
// Without a log (the memory store) each call is an engine step at the time
// its clock reads (Apply, ExpireAllSessions) or it is given (Tick), and its
// watch events go straight into the history.
//
// With a log (the disk store) each call first appends its input record to
// the log, then applies it, and answers only once the log says the record
// is durable: Apply returns then, ApplyAsync calls back then from the log's
// thread (so a caller's next batches can share the same sync); a record
// the log refuses (a full disk) is answered with the log's error and
// applied to nothing. A batch of nothing but reads (Engine::Read) is not an
// input record: it is answered from the current state without logging,
// once the last logged step is durable. Nothing that is not durable is
// visible: a batch's answers, reads included, wait for the records they
// saw; watch
// events enter the history (and wake watchers) only once their record is
// durable; and a watch snapshot is handed out only once the state it shows
// is. Tick takes its time from the store's clock, like every other step.
//
// Every step's watch events go into a WatchHistory under the same mutex as
// the state they describe, so a watch's start revision, its snapshot and
// the history agree exactly. ReadWatch holds the mutex only to collect
// references to the (immutable, shared) records after the cursor; it
// filters and copies their events into the response after releasing it.
//
// Thread-safety: thread-safe. One mutex serializes every step, which makes
// each batch atomic and every primitive linearizable; waiting for the log
// happens outside it, so concurrent callers share each sync.
#ifndef ATOMIX_BROKER_STORE_ENGINE_STORE_H_
#define ATOMIX_BROKER_STORE_ENGINE_STORE_H_

#include <cstdint>
#include <deque>
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
#include "broker-sim/src/store/log.h"
#include "broker-sim/src/state/sessions.h"
#include "broker-sim/src/state/state_machine.h"
#include "broker-sim/src/store/store.h"
#include "broker-sim/src/store/watch_history.h"
#include "broker-sim/src/store/watch_reader.h"

namespace atomix::broker {

class EngineStore : public Store {
 public:
  // The logical time handed to state machines for each batch.
  using Clock = std::function<absl::Time()>;

  // `log` may be null (no log). Revisions start above `first_revision`.
  // Session ids are drawn with `session_key` (engine/session_ids.h), or are
  // session_id_base plus a counter if it is empty.
  EngineStore(Limits limits, Clock clock, uint64_t session_id_base,
              WatchHistoryOptions history, std::unique_ptr<Log> log,
              int64_t first_revision = 0, std::string session_key = "");

  // Takes snapshots of a store with a log. AfterStep is called under the
  // store's mutex after every logged step, with the engine as of every
  // record before `next_position`; it must return quickly (the disk
  // store's forks a child that writes the snapshot).
  class Snapshotter {
   public:
    virtual ~Snapshotter() = default;
    virtual void AfterStep(const Engine& engine, uint64_t next_position) = 0;
  };

  // Gives a store created without a log the log it recovered from, and its
  // snapshotter (may be null); call before the store is shared between
  // threads. The snapshotter is destroyed before the log.
  void AttachLog(std::unique_ptr<Log> log,
                 std::unique_ptr<Snapshotter> snapshotter = nullptr) {
    log_ = std::move(log);
    snapshotter_ = std::move(snapshotter);
  }
  // While recovering, before any record: starts from a snapshot. Watches
  // that resume from before it get a compacted snapshot, not a gap.
  absl::Status LoadSnapshot(const atomix::log::v1::EngineSnapshot& snapshot)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Replaces the whole state with `snapshot`, at any time (a replica that
  // fell behind a truncated log): watches that resume from before it get a
  // compacted snapshot, not a gap. DATA_LOSS (and nothing changed) if the
  // snapshot is not consistent.
  absl::Status ResetTo(const atomix::log::v1::EngineSnapshot& snapshot)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Applies a record read back from the log while recovering, before the
  // store serves anyone: no log append, and its effects count as durable.
  // Late answers it produces go to origins that no longer exist.
  void Restore(const atomix::log::v1::InputRecord& record)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Applies a record that is already as durable as the store promises (read
  // back from a replicated log): its watch events are published at once,
  // and the listener told, before it returns. Fills `out`.
  void ApplyDurable(const atomix::log::v1::InputRecord& record,
                    RecordOutput& out) ABSL_LOCKS_EXCLUDED(mu_);
  // Answers a batch of reads (AllReads) from the current state, logging
  // nothing; false, answering nothing, if a request is not a read.
  bool ReadNow(absl::Span<const v1::Request* const> requests,
               absl::Span<v1::Response* const> responses,
               const std::string& principal = "") ABSL_LOCKS_EXCLUDED(mu_);
  // Answers every request of a refused batch with `error`, at `revision`.
  static void Refuse(const absl::Status& error,
                     absl::Span<v1::Response* const> responses,
                     absl::Span<const v1::Request* const> requests,
                     int64_t revision);
  // After recovery: one logged step that restarts every session's TTL now.
  absl::Status Resume() ABSL_LOCKS_EXCLUDED(mu_);
  // The engine's logical time.
  absl::Time now() const ABSL_LOCKS_EXCLUDED(mu_);

  using Store::Apply;
  using Store::ApplyAsync;
  void Apply(absl::Span<const v1::Request* const> requests,
             absl::Span<v1::Response* const> responses, uint64_t origin,
             const Caller& caller, StoreResult& result) override
      ABSL_LOCKS_EXCLUDED(mu_);
  // With a log, applies at once and answers from the log's thread once
  // the record is durable (Log::WhenDurable); without, as Apply.
  void ApplyAsync(std::vector<v1::Request> requests, uint64_t origin,
                  Caller caller, ApplyDone done) override
      ABSL_LOCKS_EXCLUDED(mu_);
  void Tick(absl::Time now, StoreResult& result) override
      ABSL_LOCKS_EXCLUDED(mu_);
  void Cancel(uint64_t origin) override ABSL_LOCKS_EXCLUDED(mu_);
  void ExpireAllSessions(StoreResult& result) override
      ABSL_LOCKS_EXCLUDED(mu_);
  int64_t revision() const override ABSL_LOCKS_EXCLUDED(mu_);
  // Copies the engine under the mutex (writes wait meanwhile), then waits
  // until the copied state is durable.
  absl::Status Backup(atomix::log::v1::EngineSnapshot& out) override
      ABSL_LOCKS_EXCLUDED(mu_);
  // Read under the mutex (writes wait meanwhile).
  void ListSessions(const v1::ListSessionsRequest& request,
                    v1::ListSessionsResponse& out) override ABSL_LOCKS_EXCLUDED(mu_);
  void ListPrimitives(const v1::ListPrimitivesRequest& request,
                      v1::ListPrimitivesResponse& out) override ABSL_LOCKS_EXCLUDED(mu_);
  size_t session_count() const override ABSL_LOCKS_EXCLUDED(mu_);
  size_t primitive_count() const override ABSL_LOCKS_EXCLUDED(mu_);
  StoreStats Stats() const override ABSL_LOCKS_EXCLUDED(mu_);
  std::string_view kind() const override {
    return log_ != nullptr ? log_->kind() : "memory";
  }

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
    explicit HistorySink(EngineStore* store) : store_(store) {}
    void Record(const std::string& name, int64_t revision,
                std::vector<v1::WatchEvent>&& events) override;

   private:
    EngineStore* store_;
  };

  // One step's record in the log: its position, and the revision after it.
  struct Logged {
    bool logged = false;
    uint64_t position = 0;
    int64_t revision = 0;
  };
  // Stamps the record of a step about to be applied with `now` and appends
  // it (with a log); the error of a refused record.
  absl::StatusOr<Logged> LogLocked(atomix::log::v1::InputRecord& record,
                                   absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // After a logged step was applied: lets the snapshotter look.
  void AfterStepLocked(const Logged& step) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (step.logged && snapshotter_ != nullptr) {
      snapshotter_->AfterStep(*engine_, step.position + 1);
    }
  }
  // Applies one batch (logging it first, with a log) under the mutex;
  // false if the log refused it (every response holds the error).
  bool ApplyStep(absl::Span<const v1::Request* const> requests,
                 absl::Span<v1::Response* const> responses, uint64_t origin,
                 const Caller& caller, StoreResult& result, Logged& step)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Waits (without mu_) until `step` is durable, then Published.
  void Publish(const Logged& step) ABSL_LOCKS_EXCLUDED(mu_);
  // After `step` is durable: publishes the watch events of every durable
  // step and tells the listener.
  void Published(const Logged& step) ABSL_LOCKS_EXCLUDED(mu_);
  void RecordLocked(const std::string& name, int64_t revision,
                    std::vector<v1::WatchEvent>&& events)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Moves the events of steps up to durable_revision_ into the history.
  void FlushDurableLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Hands the names changed since the last call to the listener; called
  // without mu_ held.
  void NotifyChanged(std::vector<std::string> names) ABSL_LOCKS_EXCLUDED(mu_);

  const Clock clock_;
  mutable absl::Mutex mu_;
  WatchHistory history_ ABSL_GUARDED_BY(mu_);
  // Names with new events since the last notification.
  std::vector<std::string> changed_ ABSL_GUARDED_BY(mu_);
  HistorySink sink_;
  const Limits limits_;
  const Engine::Options engine_options_;
  std::unique_ptr<Engine> engine_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<Log> log_;  // set before the store is shared
  std::unique_ptr<Snapshotter> snapshotter_;  // likewise
  // With a log: the highest revision whose record is durable, and the
  // events of later steps, oldest first, until they are.
  int64_t durable_revision_ ABSL_GUARDED_BY(mu_) = 0;
  struct Unpublished {
    std::string name;
    int64_t revision;
    std::vector<v1::WatchEvent> events;
  };
  std::deque<Unpublished> unpublished_ ABSL_GUARDED_BY(mu_);
  bool restoring_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t last_position_ ABSL_GUARDED_BY(mu_) = 0;
  bool any_logged_ ABSL_GUARDED_BY(mu_) = false;
  ChangeListener listener_;  // set before the store is shared
  std::function<void()> before_watch_copy_;  // set before the store is shared
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_STORE_ENGINE_STORE_H_
