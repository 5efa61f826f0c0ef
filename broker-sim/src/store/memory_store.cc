// In-memory Store: the engine, a mutex, a clock and the watch history.
#include "broker-sim/src/store/memory_store.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "broker-sim/src/state/errors.h"

namespace atomix::broker {

MemoryStore::MemoryStore(Limits limits, Clock clock, uint64_t session_id_base,
                         WatchHistoryOptions history)
    : clock_(std::move(clock)),
      history_(history),
      sink_(this),
      engine_(limits, Engine::Options{.session_id_base = session_id_base},
              &sink_) {}

void MemoryStore::HistorySink::Record(const std::string& name,
                                      int64_t revision,
                                      std::vector<v1::WatchEvent>&& events) {
  // Called by the engine, which runs under the store's mutex.
  store_->mu_.AssertHeld();
  store_->RecordLocked(name, revision, std::move(events));
}

void MemoryStore::RecordLocked(const std::string& name, int64_t revision,
                               std::vector<v1::WatchEvent>&& events) {
  history_.Append(name, revision, std::move(events));
  if (changed_.empty() || changed_.back() != name) changed_.push_back(name);
}

void MemoryStore::Apply(absl::Span<const v1::Request* const> requests,
                        absl::Span<v1::Response* const> responses,
                        uint64_t origin, StoreResult& result) {
  std::vector<std::string> changed;
  {
    absl::MutexLock lock(&mu_);
    engine_.ApplyBatch(clock_(), origin, requests, responses, result);
    changed.swap(changed_);
  }
  NotifyChanged(std::move(changed));
}

void MemoryStore::Tick(absl::Time now, StoreResult& result) {
  std::vector<std::string> changed;
  {
    absl::MutexLock lock(&mu_);
    engine_.Tick(now, result);
    changed.swap(changed_);
  }
  NotifyChanged(std::move(changed));
}

void MemoryStore::Cancel(uint64_t origin) {
  absl::MutexLock lock(&mu_);
  engine_.CancelOrigin(origin);
}

void MemoryStore::ExpireAllSessions(StoreResult& result) {
  std::vector<std::string> changed;
  {
    absl::MutexLock lock(&mu_);
    engine_.ExpireAllSessions(clock_(), result);
    changed.swap(changed_);
  }
  NotifyChanged(std::move(changed));
}

void MemoryStore::NotifyChanged(std::vector<std::string> names) {
  if (names.empty() || !listener_) return;
  listener_(names);
}

void MemoryStore::SetChangeListener(ChangeListener listener) {
  listener_ = std::move(listener);
}

absl::StatusOr<WatchStart> MemoryStore::StartWatch(const std::string& name,
                                                   v1::PrimitiveType type,
                                                   const WatchFilter& filter,
                                                   bool snapshot) {
  absl::MutexLock lock(&mu_);
  std::unique_ptr<StateMachine> fresh;
  const StateMachine* machine = engine_.Find(name);
  if (machine != nullptr) {
    if (machine->type() != type) {
      return absl::FailedPreconditionError(
          absl::StrCat(QuoteName(name), " is a ", TypeName(machine->type()),
                       ", not a ", TypeName(type)));
    }
  }
  WatchStart start;
  start.revision = engine_.revision();
  if (snapshot) {
    if (machine == nullptr) {
      // Unbound: an empty primitive, and nothing gets bound.
      fresh = NewStateMachine(type);
      if (fresh == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat(
            "type ", static_cast<int>(type), " is not a primitive type"));
      }
      machine = fresh.get();
    }
    machine->Snapshot(filter, start.snapshot);
    start.snapshot.set_revision(engine_.revision());
  }
  return start;
}

WatchRead MemoryStore::ReadWatch(const std::string& name,
                                 const WatchFilter& filter, int64_t cursor,
                                 const WatchBudget& budget,
                                 v1::WatchResponse& out) {
  // Only the references are taken under the lock; filtering and copying
  // happen after it, on records that eviction cannot free.
  WatchReader reader(filter, cursor, budget, out);
  std::vector<WatchRecordRef> records;
  while (true) {
    records.clear();
    WatchHistory::Collected collected;
    {
      absl::MutexLock lock(&mu_);
      collected = history_.Collect(name, reader.next(), budget,
                                   reader.scan_left(), records);
    }
    if (collected.compacted) return reader.Compacted();
    if (before_watch_copy_) before_watch_copy_();
    if (!reader.Consume(records) || !collected.more) return reader.result();
  }
}

void MemoryStore::TEST_SetBeforeWatchCopy(std::function<void()> hook) {
  before_watch_copy_ = std::move(hook);
}

bool MemoryStore::TEST_unlocked() const {
  if (!mu_.TryLock()) return false;
  mu_.Unlock();
  return true;
}

int64_t MemoryStore::revision() const {
  absl::MutexLock lock(&mu_);
  return engine_.revision();
}

size_t MemoryStore::TEST_primitive_count() const {
  absl::MutexLock lock(&mu_);
  return engine_.primitive_count();
}

size_t MemoryStore::TEST_history_events() const {
  absl::MutexLock lock(&mu_);
  return history_.events();
}

size_t MemoryStore::TEST_session_count() const {
  absl::MutexLock lock(&mu_);
  return engine_.session_count();
}

}  // namespace atomix::broker
