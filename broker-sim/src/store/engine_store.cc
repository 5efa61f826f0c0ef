// EngineStore: the engine behind a mutex, with a clock, the watch history
// and an optional log.
#include "broker-sim/src/store/engine_store.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "broker-sim/src/state/errors.h"

namespace atomix::broker {

EngineStore::EngineStore(Limits limits, Clock clock, uint64_t session_id_base,
                         WatchHistoryOptions history, std::unique_ptr<Log> log,
                         int64_t first_revision, std::string session_key)
    : clock_(std::move(clock)),
      history_(history),
      sink_(this),
      limits_(limits),
      engine_options_{.session_id_base = session_id_base,
                      .session_key = std::move(session_key),
                      .first_revision = first_revision},
      engine_(std::make_unique<Engine>(limits, engine_options_, &sink_)),
      log_(std::move(log)) {}

void EngineStore::HistorySink::Record(const std::string& name,
                                      int64_t revision,
                                      std::vector<v1::WatchEvent>&& events) {
  // Called by the engine, which runs under the store's mutex.
  store_->mu_.AssertHeld();
  store_->RecordLocked(name, revision, std::move(events));
}

void EngineStore::RecordLocked(const std::string& name, int64_t revision,
                               std::vector<v1::WatchEvent>&& events) {
  if (log_ != nullptr && !restoring_) {
    unpublished_.push_back(Unpublished{name, revision, std::move(events)});
    return;
  }
  history_.Append(name, revision, std::move(events));
  if (changed_.empty() || changed_.back() != name) changed_.push_back(name);
}

void EngineStore::FlushDurableLocked() {
  while (!unpublished_.empty() &&
         unpublished_.front().revision <= durable_revision_) {
    Unpublished& u = unpublished_.front();
    history_.Append(u.name, u.revision, std::move(u.events));
    if (changed_.empty() || changed_.back() != u.name) {
      changed_.push_back(u.name);
    }
    unpublished_.pop_front();
  }
}

absl::StatusOr<EngineStore::Logged> EngineStore::LogLocked(
    atomix::log::v1::InputRecord& record, absl::Time now) {
  if (log_ == nullptr) return Logged{};
  record.set_now_us(absl::ToUnixMicros(now));
  absl::StatusOr<uint64_t> position = log_->Append(record);
  if (!position.ok()) return position.status();
  last_position_ = *position;
  any_logged_ = true;
  return Logged{.logged = true, .position = *position};
}

void EngineStore::Publish(const Logged& step) {
  if (step.logged) log_->WaitDurable(step.position);
  Published(step);
}

void EngineStore::Published(const Logged& step) {
  std::vector<std::string> changed;
  {
    absl::MutexLock lock(&mu_);
    if (step.logged) {
      durable_revision_ = std::max(durable_revision_, step.revision);
      FlushDurableLocked();
    }
    changed.swap(changed_);
  }
  NotifyChanged(std::move(changed));
}

void EngineStore::Refuse(const absl::Status& error,
                         absl::Span<v1::Response* const> responses,
                         absl::Span<const v1::Request* const> requests,
                         int64_t revision) {
  for (size_t i = 0; i < responses.size() && i < requests.size(); ++i) {
    responses[i]->Clear();
    responses[i]->set_id(requests[i]->id());
    responses[i]->set_revision(revision);
    SetError(*responses[i], error.code(), std::string(error.message()));
  }
}

bool EngineStore::ApplyStep(absl::Span<const v1::Request* const> requests,
                            absl::Span<v1::Response* const> responses,
                            uint64_t origin, const Caller& caller,
                            StoreResult& result, Logged& step) {
  absl::MutexLock lock(&mu_);
  absl::Time now;
  bool apply = true;
  if (log_ == nullptr) {
    now = clock_();
  } else if (engine_->Read(requests, responses, caller.principal)) {
    // Only reads: not an input record, so nothing is logged. They are
    // answered once what they saw (the last logged step) is durable, which
    // it usually is already; a read never shows a write that a crash could
    // still undo.
    step = Logged{.logged = any_logged_, .position = last_position_,
                  .revision = engine_->revision()};
    return true;
  } else {
    atomix::log::v1::InputRecord record;
    SetBatch(record, origin, requests, caller);
    absl::StatusOr<Logged> logged = LogLocked(record, clock_());
    if (logged.ok()) {
      step = *logged;
      now = absl::FromUnixMicros(record.now_us());
    } else if (absl::IsResourceExhausted(logged.status()) &&
               engine_->Read(requests, responses, caller.principal)) {
      // The log refuses records (a full disk), but reads are still
      // answered, once what they saw (the last logged step) is durable.
      step = Logged{.logged = any_logged_,
                    .position = last_position_,
                    .revision = engine_->revision()};
      apply = false;
    } else {
      Refuse(logged.status(), responses, requests, engine_->revision());
      return false;
    }
  }
  if (apply) {
    engine_->ApplyBatch(now, origin, requests, responses, caller, result);
    step.revision = engine_->revision();
    AfterStepLocked(step);
  }
  return true;
}

void EngineStore::Apply(absl::Span<const v1::Request* const> requests,
                        absl::Span<v1::Response* const> responses,
                        uint64_t origin, const Caller& caller,
                        StoreResult& result) {
  Logged step;
  if (ApplyStep(requests, responses, origin, caller, result, step)) {
    Publish(step);
  }
}

void EngineStore::ApplyAsync(std::vector<v1::Request> requests, uint64_t origin,
                             Caller caller, ApplyDone done) {
  if (log_ == nullptr) {
    Store::ApplyAsync(std::move(requests), origin, std::move(caller),
                      std::move(done));
    return;
  }
  // Applied now, in call order; answered once its record is durable, from
  // the log's thread, so the caller can go on meanwhile.
  struct Call {
    std::vector<v1::Request> requests;
    std::vector<v1::Response> responses;
    StoreResult result;
    ApplyDone done;
  };
  auto call = std::make_shared<Call>();
  call->requests = std::move(requests);
  call->responses.resize(call->requests.size());
  call->done = std::move(done);
  BatchSpans spans(call->requests, call->responses);
  Logged step;
  if (!ApplyStep(spans.in, spans.out, origin, caller, call->result,
                 step)) {  // refused
    call->done(call->responses, call->result);
    return;
  }
  if (!step.logged) {
    Published(step);
    call->done(call->responses, call->result);
    return;
  }
  log_->WhenDurable(step.position, [this, call, step] {
    Published(step);
    call->done(call->responses, call->result);
  });
}

void EngineStore::Tick(absl::Time now, StoreResult& result) {
  Logged step;
  {
    absl::MutexLock lock(&mu_);
    if (log_ != nullptr) {
      // Nothing due: a tick would change nothing, so it is not logged.
      const absl::Time at = clock_();
      if (engine_->NextDue() > at) return;
      atomix::log::v1::InputRecord record;
      record.mutable_tick();
      absl::StatusOr<Logged> logged = LogLocked(record, at);
      if (!logged.ok()) return;  // Time waits for the log.
      step = *logged;
      now = absl::FromUnixMicros(record.now_us());
    }
    engine_->Tick(now, result);
    step.revision = engine_->revision();
    AfterStepLocked(step);
  }
  Publish(step);
}

void EngineStore::Cancel(uint64_t origin) {
  Logged step;
  {
    absl::MutexLock lock(&mu_);
    if (log_ != nullptr) {
      atomix::log::v1::InputRecord record;
      record.mutable_cancel_origin()->set_origin(origin);
      absl::StatusOr<Logged> logged = LogLocked(record, clock_());
      // Unlogged, the withdrawal would come back on replay: the waiters
      // stay, and are answered to nobody (their origin is gone).
      if (!logged.ok()) return;
      step = *logged;
    }
    engine_->CancelOrigin(origin);
    step.revision = engine_->revision();
    AfterStepLocked(step);
  }
  Publish(step);
}

void EngineStore::ExpireAllSessions(StoreResult& result) {
  Logged step;
  {
    absl::MutexLock lock(&mu_);
    absl::Time now;
    if (log_ != nullptr) {
      atomix::log::v1::InputRecord record;
      record.mutable_expire_all();
      absl::StatusOr<Logged> logged = LogLocked(record, clock_());
      if (!logged.ok()) return;
      step = *logged;
      now = absl::FromUnixMicros(record.now_us());
    } else {
      now = clock_();
    }
    engine_->ExpireAllSessions(now, result);
    step.revision = engine_->revision();
    AfterStepLocked(step);
  }
  Publish(step);
}

void EngineStore::Restore(const atomix::log::v1::InputRecord& record) {
  RecordOutput ignored;
  ApplyDurable(record, ignored);
}

void EngineStore::ApplyDurable(const atomix::log::v1::InputRecord& record,
                               RecordOutput& out) {
  std::vector<std::string> changed;
  {
    absl::MutexLock lock(&mu_);
    restoring_ = true;
    engine_->Apply(record, out);
    restoring_ = false;
    durable_revision_ = engine_->revision();
    changed.swap(changed_);
  }
  NotifyChanged(std::move(changed));
}

bool EngineStore::ReadNow(absl::Span<const v1::Request* const> requests,
                          absl::Span<v1::Response* const> responses,
                          const std::string& principal) {
  absl::MutexLock lock(&mu_);
  return engine_->Read(requests, responses, principal);
}

absl::Status EngineStore::Resume() {
  Logged step;
  {
    absl::MutexLock lock(&mu_);
    atomix::log::v1::InputRecord record;
    record.mutable_resume();
    absl::StatusOr<Logged> logged = LogLocked(record, clock_());
    if (!logged.ok()) return logged.status();
    step = *logged;
    RecordOutput ignored;
    engine_->Apply(record, ignored);
    step.revision = engine_->revision();
    AfterStepLocked(step);
  }
  Publish(step);
  return absl::OkStatus();
}

absl::Status EngineStore::LoadSnapshot(
    const atomix::log::v1::EngineSnapshot& snapshot) {
  absl::MutexLock lock(&mu_);
  absl::Status loaded = engine_->Load(snapshot);
  if (!loaded.ok()) return loaded;
  durable_revision_ = engine_->revision();
  history_.SetFloor(engine_->revision());
  return absl::OkStatus();
}

absl::Status EngineStore::ResetTo(const atomix::log::v1::EngineSnapshot& snapshot) {
  auto fresh = std::make_unique<Engine>(limits_, engine_options_, &sink_);
  if (absl::Status loaded = fresh->Load(snapshot); !loaded.ok()) return loaded;
  absl::MutexLock lock(&mu_);
  engine_ = std::move(fresh);
  durable_revision_ = engine_->revision();
  unpublished_.clear();
  history_.SetFloor(engine_->revision());
  return absl::OkStatus();
}

absl::Status EngineStore::Backup(atomix::log::v1::EngineSnapshot& out) {
  Logged step;
  {
    absl::MutexLock lock(&mu_);
    engine_->Save(out);
    if (log_ != nullptr && any_logged_) {
      step = Logged{.logged = true, .position = last_position_,
                    .revision = engine_->revision()};
      out.set_log_position(last_position_ + 1);
    }
  }
  if (step.logged) log_->WaitDurable(step.position);
  return absl::OkStatus();
}

void EngineStore::ListSessions(const v1::ListSessionsRequest& request,
                               v1::ListSessionsResponse& out) {
  absl::MutexLock lock(&mu_);
  engine_->ListSessions(request, out);
}

void EngineStore::ListPrimitives(const v1::ListPrimitivesRequest& request,
                                 v1::ListPrimitivesResponse& out) {
  absl::MutexLock lock(&mu_);
  engine_->ListPrimitives(request, out);
}

size_t EngineStore::session_count() const {
  absl::MutexLock lock(&mu_);
  return engine_->session_count();
}

size_t EngineStore::primitive_count() const {
  absl::MutexLock lock(&mu_);
  return engine_->primitive_count();
}

StoreStats EngineStore::Stats() const {
  absl::MutexLock lock(&mu_);
  StoreStats stats;
  stats.history_events = history_.events();
  stats.history_bytes = history_.bytes();
  stats.history_evicted_events = history_.evicted_events();
  stats.lock_waiters = engine_->lock_waiters();
  return stats;
}

absl::Time EngineStore::now() const {
  absl::MutexLock lock(&mu_);
  return engine_->now();
}

void EngineStore::NotifyChanged(std::vector<std::string> names) {
  if (names.empty() || !listener_) return;
  listener_(names);
}

void EngineStore::SetChangeListener(ChangeListener listener) {
  listener_ = std::move(listener);
}

absl::StatusOr<WatchStart> EngineStore::StartWatch(const std::string& name,
                                                   v1::PrimitiveType type,
                                                   const WatchFilter& filter,
                                                   bool snapshot) {
  absl::MutexLock lock(&mu_);
  std::unique_ptr<StateMachine> fresh;
  const StateMachine* machine = engine_->Find(name);
  if (machine != nullptr) {
    if (machine->type() != type) {
      return absl::FailedPreconditionError(
          WrongTypeMessage(name, machine->type(), type));
    }
  }
  WatchStart start;
  start.revision = engine_->revision();
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
    start.snapshot.set_revision(engine_->revision());
  }
  if (log_ != nullptr && start.revision > durable_revision_ && any_logged_) {
    // The snapshot shows state whose record may not be durable yet: hand
    // it out only once it is.
    const uint64_t position = last_position_;
    mu_.Unlock();
    log_->WaitDurable(position);
    mu_.Lock();
  }
  return start;
}

WatchRead EngineStore::ReadWatch(const std::string& name,
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

void EngineStore::TEST_SetBeforeWatchCopy(std::function<void()> hook) {
  before_watch_copy_ = std::move(hook);
}

bool EngineStore::TEST_unlocked() const {
  if (!mu_.TryLock()) return false;
  mu_.Unlock();
  return true;
}

int64_t EngineStore::revision() const {
  absl::MutexLock lock(&mu_);
  return engine_->revision();
}

size_t EngineStore::TEST_primitive_count() const {
  absl::MutexLock lock(&mu_);
  return engine_->primitive_count();
}

size_t EngineStore::TEST_history_events() const {
  absl::MutexLock lock(&mu_);
  return history_.events();
}

size_t EngineStore::TEST_session_count() const {
  absl::MutexLock lock(&mu_);
  return engine_->session_count();
}

}  // namespace atomix::broker
