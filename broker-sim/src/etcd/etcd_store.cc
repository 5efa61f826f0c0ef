// EtcdStore: appender, replayer and ticker over an etcd-held log.
#include "broker-sim/src/etcd/etcd_store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "broker-sim/src/core/broker.h"
#include "broker-sim/src/engine/engine.h"
#include "broker-sim/src/server/clock.h"
#include "broker-sim/src/state/errors.h"
#include "spdlog/spdlog.h"

namespace atomix::broker {
namespace {

using atomix::log::v1::ClusterMeta;
using atomix::log::v1::InputRecord;
using atomix::log::v1::LogEntry;

// Records per Range page while catching up.
constexpr int64_t kRangePage = 256;
// Room a record takes in a LogEntry beyond its own bytes.
constexpr size_t kRecordOverhead = 16;

etcdserverpb::RangeRequest GetKey(const std::string& key) {
  etcdserverpb::RangeRequest request;
  request.set_key(key);
  return request;
}

etcdserverpb::RequestOp PutOp(const std::string& key, std::string value,
                              int64_t lease = 0) {
  etcdserverpb::RequestOp op;
  etcdserverpb::PutRequest* put = op.mutable_request_put();
  put->set_key(key);
  put->set_value(std::move(value));
  put->set_lease(lease);
  return op;
}

// Compares `key`'s create revision with `revision` (0: the key is absent).
etcdserverpb::Compare CreatedAt(const std::string& key, int64_t revision) {
  etcdserverpb::Compare compare;
  compare.set_key(key);
  compare.set_target(etcdserverpb::Compare::CREATE);
  compare.set_result(etcdserverpb::Compare::EQUAL);
  compare.set_create_revision(revision);
  return compare;
}

// Reads the cluster's identity, creating it if this is the first broker.
absl::StatusOr<ClusterMeta> ReadOrCreateMeta(EtcdClient& client,
                                             const EtcdStoreOptions& options) {
  const std::string key = options.prefix + "cluster";
  ClusterMeta created;
  created.set_cluster_id(NewBrokerId());
  created.set_session_id_base(NewSessionIdBase());
  created.set_session_key(NewSessionKey());
  created.set_format(kEtcdLogFormat);
  etcdserverpb::TxnRequest txn;
  *txn.add_compare() = CreatedAt(key, 0);
  *txn.add_success() = PutOp(key, created.SerializeAsString());
  *txn.add_failure()->mutable_request_range() = GetKey(key);
  absl::StatusOr<etcdserverpb::TxnResponse> response =
      client.Txn(txn, options.timeout);
  if (!response.ok()) return response.status();
  if (response->succeeded()) return created;
  const etcdserverpb::RangeResponse& range =
      response->responses(0).response_range();
  ClusterMeta meta;
  if (range.kvs_size() != 1 || !meta.ParseFromString(range.kvs(0).value())) {
    return absl::DataLossError(
        absl::StrCat("etcd key ", key, " does not hold a cluster identity"));
  }
  if (meta.format() > kEtcdLogFormat) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cluster ", options.prefix, " uses log format ", meta.format(),
        "; this broker understands up to ", kEtcdLogFormat, ": upgrade it"));
  }
  return meta;
}

}  // namespace

absl::StatusOr<std::unique_ptr<EtcdStore>> EtcdStore::Open(
    EtcdStoreOptions options) {
  if (options.endpoints.empty()) {
    return absl::InvalidArgumentError("the etcd store needs --etcd-endpoints");
  }
  if (options.prefix.empty() || options.prefix.back() != '/') {
    return absl::InvalidArgumentError(absl::StrCat(
        "--etcd-prefix must end with '/', got \"", options.prefix, "\""));
  }
  auto client = std::make_unique<EtcdClient>(options.endpoints);
  const absl::Time deadline = absl::Now() + options.open_timeout;
  absl::StatusOr<ClusterMeta> meta;
  do {
    meta = ReadOrCreateMeta(*client, options);
    if (meta.ok() || !absl::IsUnavailable(meta.status())) break;
    absl::SleepFor(absl::Milliseconds(200));
  } while (absl::Now() < deadline);
  if (!meta.ok()) return meta.status();
  std::unique_ptr<EtcdStore> store(
      new EtcdStore(std::move(options), std::move(client), *std::move(meta)));
  if (absl::Status loaded = store->LoadNewestSnapshot(); !loaded.ok()) return loaded;
  store->Start();
  absl::Status synced;
  do {
    synced = store->Sync(std::max(deadline - absl::Now(), absl::Milliseconds(1)));
    if (synced.ok() && store->now() != absl::InfinitePast()) {
      return store;
    }
    absl::SleepFor(absl::Milliseconds(20));
  } while (absl::Now() < deadline);
  return synced.ok() ? absl::UnavailableError(
                           "etcd store: no ticker was elected in time")
                     : synced;
}

EtcdStore::EtcdStore(EtcdStoreOptions options,
                     std::unique_ptr<EtcdClient> client, ClusterMeta meta)
    : EngineStore(options.limits, &MonotonicNow, meta.session_id_base(),
                  options.history, nullptr, 0, meta.session_key()),
      options_(std::move(options)),
      client_(std::move(client)),
      meta_(std::move(meta)),
      writer_(NewBrokerId().substr(0, 16)) {}

void EtcdStore::Start() {
  replayer_ = std::thread([this] { ReplayLoop(); });
  appender_ = std::thread([this] { AppendLoop(); });
  reader_ = std::thread([this] { ReadLoop(); });
  sweeper_ = std::thread([this] {
    const absl::Duration every = std::min(options_.tick_interval, absl::Milliseconds(50));
    while (!stop_.WaitForNotificationWithTimeout(every)) ExpireWaiters();
  });
  ticker_thread_ = std::thread([this] { TickerLoop(); });
}

EtcdStore::~EtcdStore() {
  {
    absl::MutexLock lock(&log_mu_);
    stopping_ = true;
    if (watch_ != nullptr) watch_->Cancel();
  }
  stop_.Notify();
  if (ticker_thread_.joinable()) ticker_thread_.join();
  if (appender_.joinable()) appender_.join();
  if (replayer_.joinable()) replayer_.join();
  if (reader_.joinable()) reader_.join();
  if (sweeper_.joinable()) sweeper_.join();
  FailAll(absl::UnavailableError("the broker is shutting down"));
  // Hand the ticker's role over at once rather than after its lease.
  if (lease_ != 0) client_->LeaseRevoke(lease_, absl::Seconds(1)).IgnoreError();
}

// --- Writes ---------------------------------------------------------------

etcdserverpb::TxnRequest EtcdStore::AppendTxn(const LogEntry& entry,
                                              const std::string& key) const {
  etcdserverpb::TxnRequest txn;
  *txn.add_success() = PutOp(key, entry.SerializeAsString());
  *txn.add_success() = PutOp(Key("head"), "");
  return txn;
}

void EtcdStore::Submit(InputRecord record, absl::Time deadline,
                       RecordDone done) {
  absl::MutexLock lock(&log_mu_);
  Queued queued;
  queued.id = next_id_++;
  queued.bytes = record.ByteSizeLong() + kRecordOverhead;
  queued.record = std::move(record);
  if (done) {
    waiters_[queued.id] = Waiter{deadline, std::move(done)};
    queued.awaited = true;
  }
  queue_.push_back(std::move(queued));
}

void EtcdStore::FailAll(const absl::Status& why) {
  std::vector<Waiter> failed;
  std::vector<PendingRead> reads;
  {
    absl::MutexLock lock(&log_mu_);
    for (auto& [id, waiter] : waiters_) failed.push_back(std::move(waiter));
    waiters_.clear();
    reads.swap(reads_);
  }
  for (Waiter& w : failed) {
    RecordOutput none;
    w.done(why, none);
  }
  for (PendingRead& read : reads) Answer(read.requests, why, read.done);
}

void EtcdStore::AppendLoop() {
  while (true) {
    std::vector<Queued> group;
    {
      absl::MutexLock lock(&log_mu_);
      log_mu_.Await(absl::Condition(
          +[](EtcdStore* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->log_mu_) {
            return s->stopping_ || !s->queue_.empty();
          },
          this));
      if (stopping_) return;
      size_t bytes = 0;
      // A group's ids are consecutive (records[i] has first_id + i).
      while (!queue_.empty()) {
        Queued& front = queue_.front();
        if (front.awaited && !waiters_.contains(front.id)) {
          // Its caller was answered UNAVAILABLE already: not written.
          queue_.pop_front();
          if (!group.empty()) break;
          continue;
        }
        if (!group.empty() && bytes + front.bytes > options_.max_entry_bytes) break;
        bytes += front.bytes;
        group.push_back(std::move(front));
        queue_.pop_front();
      }
    }
    if (group.empty()) continue;
    LogEntry entry;
    entry.set_format(kEtcdLogFormat);
    entry.set_writer(writer_);
    entry.set_first_id(group.front().id);
    for (Queued& q : group) *entry.add_records() = std::move(q.record);
    const std::string key =
        Key(absl::StrFormat("log/%s/%016x", writer_, group.front().id));
    absl::StatusOr<etcdserverpb::TxnResponse> response =
        client_->Txn(AppendTxn(entry, key), options_.timeout);
    if (response.ok()) continue;  // The replayer answers.
    if (absl::IsResourceExhausted(response.status())) {
      // etcd applies the transaction that crosses its quota and still
      // answers "database space exceeded": if the entry is there, the
      // replayer answers it like any other.
      absl::StatusOr<etcdserverpb::RangeResponse> written =
          client_->Range(GetKey(key), options_.timeout);
      if (written.ok() && written->kvs_size() > 0) continue;
    }
    std::vector<Waiter> failed;
    {
      absl::MutexLock lock(&log_mu_);
      for (const Queued& q : group) {
        auto it = waiters_.find(q.id);
        if (it == waiters_.end()) continue;
        failed.push_back(std::move(it->second));
        waiters_.erase(it);
      }
    }
    for (Waiter& w : failed) {
      RecordOutput none;
      w.done(response.status(), none);
    }
  }
}

void EtcdStore::ExpireWaiters() {
  const absl::Time now = absl::Now();
  std::vector<Waiter> expired;
  std::vector<PendingRead> reads;
  absl::Status why;
  {
    absl::MutexLock lock(&log_mu_);
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      if (it->second.deadline > now) {
        ++it;
        continue;
      }
      expired.push_back(std::move(it->second));
      waiters_.erase(it++);
    }
    // Also reads still waiting for the head: their quorum read may take
    // the store's whole timeout.
    reads = TakeReadsLocked([now](const PendingRead& r) { return r.deadline <= now; });
    if (expired.empty() && reads.empty()) return;
    why = absl::UnavailableError(absl::StrCat(
        "etcd store: not applied in time (",
        unreachable_.ok() ? "etcd is slow, or this broker is behind"
                          : unreachable_.message(),
        "); a write may still be applied, so retry it with the same session "
        "and sequence"));
  }
  for (Waiter& w : expired) {
    RecordOutput none;
    w.done(why, none);
  }
  for (PendingRead& read : reads) Answer(read.requests, why, read.done);
}

absl::Time EtcdStore::DeadlineFor(const std::vector<v1::Request>& requests) const {
  absl::Duration timeout = options_.timeout;
  for (const v1::Request& r : requests) {
    if (r.timeout_ms() > 0) {
      timeout = std::min(timeout, absl::Milliseconds(r.timeout_ms()));
    }
  }
  return absl::Now() + timeout;
}

absl::Status EtcdStore::Unservable() const {
  absl::MutexLock lock(&log_mu_);
  return halted_;
}

void EtcdStore::Apply(absl::Span<const v1::Request* const> requests,
                      absl::Span<v1::Response* const> responses,
                      uint64_t origin, const Caller& caller,
                      StoreResult& result) {
  std::vector<v1::Request> copies;
  copies.reserve(requests.size());
  for (const v1::Request* r : requests) copies.push_back(*r);
  absl::Notification answered;
  ApplyAsync(std::move(copies), origin, caller,
             [&](std::vector<v1::Response>& out, StoreResult& applied) {
               for (size_t i = 0; i < out.size() && i < responses.size(); ++i) {
                 *responses[i] = std::move(out[i]);
               }
               result = std::move(applied);
               answered.Notify();
             });
  answered.WaitForNotification();
}

// A batch of writes on its way through the log: requests go into records
// of at most the entry limit, each written once the previous one applied.
struct EtcdStore::WriteCall {
  std::vector<v1::Request> requests;
  uint64_t origin = 0;
  absl::Time deadline;
  ApplyDone done;
  std::vector<v1::Response> responses;
  StoreResult result;
  size_t next = 0;  // the first request not written yet
  Caller caller;
  uint64_t answered_bytes = 0;  // of the answers so far
};

void EtcdStore::ApplyAsync(std::vector<v1::Request> requests, uint64_t origin,
                           Caller caller, ApplyDone done) {
  const absl::Time deadline = DeadlineFor(requests);
  if (absl::Status halted = Unservable(); !halted.ok()) {
    Answer(requests, halted, done);
    return;
  }
  std::vector<v1::Response> unused;
  if (AllReads(BatchSpans(requests, unused).in)) {
    absl::MutexLock lock(&log_mu_);
    reads_.push_back(PendingRead{std::move(requests), deadline, std::move(done),
                                 -1, std::move(caller.principal)});
    return;
  }
  auto call = std::make_shared<WriteCall>();
  call->responses.resize(requests.size());
  call->requests = std::move(requests);
  call->origin = origin;
  call->deadline = deadline;
  call->done = std::move(done);
  call->caller = std::move(caller);
  Continue(std::move(call));
}

void EtcdStore::Continue(std::shared_ptr<WriteCall> call) {
  // Consecutive requests go into one record up to the entry limit.
  const size_t limit = options_.max_entry_bytes - 2 * kRecordOverhead;
  InputRecord record;
  record.mutable_batch()->set_origin(call->origin);
  record.mutable_batch()->set_principal(call->caller.principal);
  std::vector<size_t> members;
  size_t bytes = 0;
  const uint64_t answer_cap = options_.limits.max_batch_answer_bytes;
  while (call->next < call->requests.size()) {
    const size_t j = call->next;
    const v1::Request& request = call->requests[j];
    if (answer_cap != 0 && call->answered_bytes > answer_cap) {
      // Earlier records' answers passed the cap: the rest is not logged.
      RefuseOverAnswerCap(request, answer_cap, revision(), call->responses[j]);
      ++call->next;
      continue;
    }
    const size_t size = request.ByteSizeLong() + kRecordOverhead;
    if (size > limit) {
      if (!members.empty()) break;
      v1::Response& response = call->responses[j];
      response.set_id(request.id());
      response.set_revision(revision());
      SetError(response, absl::StatusCode::kInvalidArgument,
               absl::StrCat("request of ", size, " bytes exceeds the etcd "
                            "store's log entry limit of ", limit,
                            " bytes (etcd --max-request-bytes); it was not applied"));
      ++call->next;
      continue;
    }
    if (!members.empty() && bytes + size > limit) break;
    bytes += size;
    members.push_back(j);
    *record.mutable_batch()->add_requests() = request;
    ++call->next;
  }
  bool everywhere = true;
  for (size_t j : members) everywhere = everywhere && call->caller.AdminAt(j);
  if (!everywhere) {
    for (size_t j : members) {
      record.mutable_batch()->add_admin(call->caller.AdminAt(j));
    }
  }
  if (members.empty()) {
    call->done(call->responses, call->result);
    return;
  }
  Submit(std::move(record), call->deadline,
         [this, call, members = std::move(members)](absl::Status status,
                                                    RecordOutput& out) {
           if (!status.ok()) {
             // This record and every later one are refused.
             for (size_t k = members.front(); k < call->requests.size(); ++k) {
               v1::Response& response = call->responses[k];
               response.Clear();
               response.set_id(call->requests[k].id());
               response.set_revision(revision());
               SetError(response, status.code(), std::string(status.message()));
             }
             call->done(call->responses, call->result);
             return;
           }
           for (size_t k = 0; k < members.size() && k < out.responses.size(); ++k) {
             call->answered_bytes += out.responses[k].ByteSizeLong();
             call->responses[members[k]] = std::move(out.responses[k]);
           }
           for (size_t d : out.result.deferred) {
             call->result.deferred.push_back(members[d]);
           }
           for (Completion& c : out.result.completions) {
             call->result.completions.push_back(std::move(c));
           }
           Continue(call);
         });
}

void EtcdStore::Cancel(uint64_t origin) {
  InputRecord record;
  record.mutable_cancel_origin()->set_origin(origin);
  Submit(std::move(record), absl::InfiniteFuture(), nullptr);
}

void EtcdStore::ExpireAllSessions(StoreResult& result) {
  InputRecord record;
  record.mutable_expire_all();
  absl::Notification applied;
  Submit(std::move(record), absl::Now() + options_.timeout,
         [&](absl::Status status, RecordOutput& out) {
           if (status.ok()) result = std::move(out.result);
           applied.Notify();
         });
  applied.WaitForNotification();
}

absl::StatusOr<WatchStart> EtcdStore::StartWatch(const std::string& name,
                                                 v1::PrimitiveType type,
                                                 const WatchFilter& filter,
                                                 bool snapshot) {
  if (absl::Status halted = Unservable(); !halted.ok()) return halted;
  // A watch must not start from older state than a client has seen.
  if (absl::Status synced = Sync(options_.timeout); !synced.ok()) return synced;
  return EngineStore::StartWatch(name, type, filter, snapshot);
}

void EtcdStore::ReadLoop() {
  while (true) {
    {
      absl::MutexLock lock(&log_mu_);
      auto untargeted = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(log_mu_) {
        if (stopping_) return true;
        for (const PendingRead& r : reads_) {
          if (r.target < 0) return true;
        }
        return false;
      };
      log_mu_.Await(absl::Condition(&untargeted));
      if (stopping_) return;
    }
    // One quorum read serves every read queued before it was sent.
    absl::StatusOr<int64_t> head = ReadHead(options_.timeout);
    std::vector<PendingRead> failed;
    {
      absl::MutexLock lock(&log_mu_);
      if (head.ok()) {
        for (PendingRead& r : reads_) {
          if (r.target < 0) r.target = *head;
        }
      } else {
        failed = TakeReadsLocked([](const PendingRead& r) { return r.target < 0; });
      }
    }
    for (PendingRead& read : failed) Answer(read.requests, head.status(), read.done);
    AnswerReads();
  }
}

void EtcdStore::Answer(std::vector<v1::Request>& requests, const absl::Status& error,
                       const ApplyDone& done, const std::string& principal) {
  std::vector<v1::Response> responses(requests.size());
  BatchSpans spans(requests, responses);
  if (error.ok()) {
    ReadNow(spans.in, spans.out, principal);
  } else {
    Refuse(error, spans.out, spans.in, revision());
  }
  StoreResult nothing;
  done(responses, nothing);
}

std::vector<EtcdStore::PendingRead> EtcdStore::TakeReadsLocked(
    const std::function<bool(const PendingRead&)>& which) {
  std::vector<PendingRead> taken;
  for (size_t i = 0; i < reads_.size();) {
    if (!which(reads_[i])) {
      ++i;
      continue;
    }
    taken.push_back(std::move(reads_[i]));
    reads_[i] = std::move(reads_.back());
    reads_.pop_back();
  }
  return taken;
}

void EtcdStore::AnswerReads() {
  std::vector<PendingRead> ready;
  {
    absl::MutexLock lock(&log_mu_);
    ready = TakeReadsLocked([this](const PendingRead& r) ABSL_NO_THREAD_SAFETY_ANALYSIS {
      return r.target >= 0 && r.target <= applied_;
    });
  }
  for (PendingRead& read : ready) {
    Answer(read.requests, absl::OkStatus(), read.done, read.principal);
  }
}

absl::StatusOr<int64_t> EtcdStore::ReadHead(absl::Duration timeout) {
  absl::StatusOr<etcdserverpb::RangeResponse> head =
      client_->Range(GetKey(Key("head")), timeout);
  if (!head.ok()) return head.status();
  const int64_t revision = head->kvs_size() > 0 ? head->kvs(0).mod_revision() : 0;
  absl::MutexLock lock(&log_mu_);
  head_ = std::max(head_, revision);
  return revision;
}

absl::Status EtcdStore::Sync(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::StatusOr<int64_t> head = ReadHead(timeout);
  if (!head.ok()) return head.status();
  const int64_t target = *head;
  absl::MutexLock lock(&log_mu_);
  auto caught_up = [this, target]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(log_mu_) {
    return applied_ >= target || !halted_.ok();
  };
  log_mu_.AwaitWithDeadline(absl::Condition(&caught_up), deadline);
  if (!halted_.ok()) return halted_;
  if (applied_ >= target) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat(
      "etcd store: this broker has applied the log up to etcd revision ",
      applied_, " but its head is at ", target, "; still catching up"));
}

// --- Replay ---------------------------------------------------------------

void EtcdStore::Halt(absl::Status why) {
  spdlog::error("etcd store stops applying the log: {}", why.ToString());
  absl::Status halted;
  {
    absl::MutexLock lock(&log_mu_);
    if (halted_.ok()) halted_ = absl::UnavailableError(why.message());
    halted = halted_;
  }
  FailAll(halted);
}

void EtcdStore::ApplyEntry(const std::string& key, const std::string& value,
                           int64_t revision) {
  {
    absl::MutexLock lock(&log_mu_);
    if (revision <= applied_) return;  // in the snapshot, or applied already
  }
  LogEntry entry;
  if (!entry.ParseFromString(value)) {
    Halt(absl::DataLossError(absl::StrCat("etcd key ", key, " at revision ",
                                          revision, " is not a log entry")));
    return;
  }
  if (entry.format() > kEtcdLogFormat) {
    Halt(absl::FailedPreconditionError(absl::StrCat(
        "the log entry at etcd revision ", revision, " has format ",
        entry.format(), "; this broker understands up to ", kEtcdLogFormat,
        ": upgrade it")));
    return;
  }
  const bool mine = entry.writer() == writer_ && entry.first_id() != 0;
  std::vector<Completion> orphans;
  for (int i = 0; i < entry.records_size(); ++i) {
    RecordOutput out;
    ApplyDurable(entry.records(i), out);
    if (mine) {
      RecordDone done;
      {
        absl::MutexLock lock(&log_mu_);
        auto it = waiters_.find(entry.first_id() + i);
        if (it != waiters_.end()) {
          done = std::move(it->second.done);
          waiters_.erase(it);
        }
      }
      if (done) {
        done(absl::OkStatus(), out);
        continue;
      }
    }
    for (Completion& c : out.result.completions) orphans.push_back(std::move(c));
  }
  if (!orphans.empty() && completion_listener_) completion_listener_(orphans);
  bool snapshot = false;
  {
    absl::MutexLock lock(&log_mu_);
    applied_ = std::max(applied_, revision);
    ++entries_since_snapshot_;
    bytes_since_snapshot_ += value.size();
    snapshot = ticker_ && pending_snapshot_ == nullptr &&
               (entries_since_snapshot_ >= options_.snapshot_entries ||
                bytes_since_snapshot_ >= options_.snapshot_bytes);
  }
  if (snapshot) {
    // The engine as of exactly this entry: nothing else applies meanwhile.
    auto taken = std::make_unique<atomix::log::v1::EngineSnapshot>();
    if (Backup(*taken).ok()) {
      absl::MutexLock lock(&log_mu_);
      pending_snapshot_ = std::move(taken);
      pending_revision_ = revision;
      entries_since_snapshot_ = 0;
      bytes_since_snapshot_ = 0;
    }
  }
  AnswerReads();
}

absl::Status EtcdStore::CatchUpAndFollow() {
  const std::string log_prefix = Key("log/");
  // One linearizable read pins the revision the catch-up reads the log at,
  // and says what was truncated by then.
  absl::StatusOr<etcdserverpb::RangeResponse> head =
      client_->Range(GetKey(Key("snapshot")), options_.timeout);
  if (!head.ok()) return head.status();
  int64_t pinned = head->header().revision();
  atomix::log::v1::SnapshotMeta meta;
  if (head->kvs_size() > 0) meta.ParseFromString(head->kvs(0).value());
  int64_t applied;
  {
    absl::MutexLock lock(&log_mu_);
    applied = applied_;
  }
  if (meta.truncated() > applied) {
    // Entries this broker has not applied are gone: start over from the
    // newest snapshot, which covers them.
    spdlog::warn("etcd store: fell behind the log (applied up to etcd revision {}, "
                 "entries up to {} deleted); starting over from the snapshot",
                 applied, meta.truncated());
    if (absl::Status loaded = LoadNewestSnapshot(); !loaded.ok()) return loaded;
    absl::MutexLock lock(&log_mu_);
    if (applied_ > pinned) return absl::AbortedError("a newer snapshot: catch up again");
  }
  while (true) {
    etcdserverpb::RangeRequest range;
    range.set_key(log_prefix);
    range.set_range_end(PrefixEnd(log_prefix));
    range.set_sort_target(etcdserverpb::RangeRequest::MOD);
    range.set_sort_order(etcdserverpb::RangeRequest::ASCEND);
    range.set_limit(kRangePage);
    range.set_revision(pinned);
    {
      absl::MutexLock lock(&log_mu_);
      range.set_min_mod_revision(applied_ + 1);
    }
    absl::StatusOr<etcdserverpb::RangeResponse> page =
        client_->Range(range, options_.timeout);
    if (!page.ok()) return page.status();
    for (const mvccpb::KeyValue& kv : page->kvs()) {
      ApplyEntry(kv.key(), kv.value(), kv.mod_revision());
      if (!Unservable().ok()) return Unservable();
    }
    if (!page->more()) break;
  }
  {
    absl::MutexLock lock(&log_mu_);
    applied_ = std::max(applied_, pinned);
  }
  etcdserverpb::WatchCreateRequest create;
  create.set_key(log_prefix);
  create.set_range_end(PrefixEnd(log_prefix));
  create.set_start_revision(pinned + 1);
  create.add_filters(etcdserverpb::WatchCreateRequest::NODELETE);
  absl::StatusOr<std::unique_ptr<EtcdClient::WatchStream>> watch =
      client_->Watch(create);
  if (!watch.ok()) return watch.status();
  {
    absl::MutexLock lock(&log_mu_);
    if (stopping_) return absl::CancelledError("stopping");
    watch_ = watch->get();
  }
  etcdserverpb::WatchResponse response;
  absl::Status ended;
  while ((*watch)->Read(response)) {
    if (response.canceled() || response.compact_revision() != 0) {
      ended = absl::OutOfRangeError(absl::StrCat(
          "etcd watch cancelled (compacted at ", response.compact_revision(),
          "): ", response.cancel_reason()));
      break;
    }
    for (const mvccpb::Event& event : response.events()) {
      if (event.type() != mvccpb::Event::PUT) continue;
      ApplyEntry(event.kv().key(), event.kv().value(), event.kv().mod_revision());
    }
    if (!Unservable().ok()) break;
  }
  {
    absl::MutexLock lock(&log_mu_);
    watch_ = nullptr;
  }
  (*watch)->Cancel();
  absl::Status finished = (*watch)->Finish();
  return ended.ok() ? finished : ended;
}

void EtcdStore::ReplayLoop() {
  absl::Duration backoff = absl::Milliseconds(50);
  while (true) {
    absl::Status status = CatchUpAndFollow();
    {
      absl::MutexLock lock(&log_mu_);
      if (stopping_ || !halted_.ok()) return;
    }
    spdlog::warn("etcd store: replay restarts: {}", status.ToString());
    if (stop_.WaitForNotificationWithTimeout(backoff)) return;
    backoff = std::min(backoff * 2, absl::Seconds(1));
  }
}

// --- Ticker and health ----------------------------------------------------

absl::StatusOr<bool> EtcdStore::AppendAsTicker(InputRecord record) {
  record.set_now_us(
      absl::ToUnixMicros(time_base_ + (MonotonicNow() - monotonic_base_)));
  LogEntry entry;
  entry.set_format(kEtcdLogFormat);
  entry.set_writer(writer_);
  *entry.add_records() = std::move(record);
  uint64_t n;
  {
    absl::MutexLock lock(&log_mu_);
    n = next_tick_key_++;
  }
  etcdserverpb::TxnRequest txn =
      AppendTxn(entry, Key(absl::StrFormat("log/%s/t%016x", writer_, n)));
  *txn.add_compare() = CreatedAt(Key("ticker"), ticker_revision_);
  absl::StatusOr<etcdserverpb::TxnResponse> response =
      client_->Txn(txn, options_.tick_interval * 10);
  if (!response.ok()) return response.status();
  return response->succeeded();
}

void EtcdStore::Depose(const char* why) {
  spdlog::warn("etcd store: no longer the ticker: {}", why);
  absl::MutexLock lock(&log_mu_);
  ticker_ = false;
}

void EtcdStore::Campaign() {
  absl::StatusOr<int64_t> lease =
      client_->LeaseGrant(options_.ticker_ttl, options_.timeout);
  if (!lease.ok()) return;
  etcdserverpb::TxnRequest txn;
  *txn.add_compare() = CreatedAt(Key("ticker"), 0);
  *txn.add_success() = PutOp(Key("ticker"), writer_, *lease);
  absl::StatusOr<etcdserverpb::TxnResponse> won =
      client_->Txn(txn, options_.timeout);
  if (!won.ok() || !won->succeeded()) {
    client_->LeaseRevoke(*lease, options_.timeout).IgnoreError();
    return;
  }
  lease_ = *lease;
  ticker_revision_ = won->header().revision();
  last_keepalive_ = absl::Now();
  // Continue time from the log's: everything before our election first.
  if (!Sync(options_.timeout).ok()) {
    client_->LeaseRevoke(lease_, options_.timeout).IgnoreError();
    lease_ = 0;
    return;
  }
  const absl::Time engine_now = now();
  time_base_ = engine_now == absl::InfinitePast() ? absl::Now() : engine_now;
  monotonic_base_ = MonotonicNow();
  InputRecord resume;
  resume.mutable_resume();
  absl::StatusOr<bool> appended = AppendAsTicker(std::move(resume));
  if (!appended.ok() || !*appended) {
    client_->LeaseRevoke(lease_, options_.timeout).IgnoreError();
    lease_ = 0;
    return;
  }
  spdlog::info("etcd store: this broker is the ticker (election revision {})",
               ticker_revision_);
  absl::MutexLock lock(&log_mu_);
  ticker_ = true;
}

void EtcdStore::CheckHealth() {
  absl::StatusOr<int64_t> head = ReadHead(std::min(options_.timeout, absl::Seconds(2)));
  absl::StatusOr<std::vector<std::string>> alarms =
      head.ok() ? client_->Alarms(absl::Seconds(1))
                : absl::StatusOr<std::vector<std::string>>(std::vector<std::string>());
  absl::MutexLock lock(&log_mu_);
  if (!head.ok()) {
    unreachable_ = head.status();
    return;
  }
  unreachable_ = absl::OkStatus();
  if (alarms.ok()) alarms_ = *alarms;
  // A watch that delivered nothing while behind since the last check is
  // stuck (its member may be cut off): start over from a Range.
  if (applied_ < head_ && applied_ == applied_at_last_check_ && watch_ != nullptr) {
    spdlog::warn("etcd store: replay stuck at revision {} (head {}); restarting it",
                 applied_, head_);
    watch_->Cancel();
  }
  applied_at_last_check_ = applied_ < head_ ? applied_ : -1;
}

void EtcdStore::TickerLoop() {
  absl::Time next_health = absl::InfinitePast();
  absl::Time next_campaign = absl::InfinitePast();
  absl::Time next_keepalive = absl::InfinitePast();
  while (!stop_.WaitForNotificationWithTimeout(options_.tick_interval)) {
    const absl::Time now = absl::Now();
    if (now >= next_health) {
      CheckHealth();
      next_health = now + absl::Seconds(1);
    }
    bool ticker;
    {
      absl::MutexLock lock(&log_mu_);
      ticker = ticker_ && halted_.ok();
    }
    if (!ticker) {
      if (now >= next_campaign) {
        Campaign();
        next_campaign = now + options_.ticker_ttl / 4;
      }
      continue;
    }
    if (now >= next_keepalive) {
      absl::Status renewed = client_->LeaseKeepAlive(lease_, options_.ticker_ttl / 3);
      if (renewed.ok()) {
        last_keepalive_ = now;
      } else if (absl::IsNotFound(renewed) ||
                 now - last_keepalive_ > options_.ticker_ttl) {
        Depose(std::string(renewed.message()).c_str());
        lease_ = 0;
        continue;
      }
      next_keepalive = now + options_.ticker_ttl / 4;
    }
    WriteSnapshot();
    InputRecord tick;
    tick.mutable_tick();
    absl::StatusOr<bool> appended = AppendAsTicker(std::move(tick));
    if (appended.ok() && !*appended) {
      Depose("another broker holds the ticker key");
      lease_ = 0;
    }
  }
}

absl::Status EtcdStore::Health() const {
  absl::MutexLock lock(&log_mu_);
  if (!halted_.ok()) return absl::UnavailableError(halted_.message());
  return unreachable_;
}

bool EtcdStore::DescribeCluster(v1::ClusterStatus& out) const {
  for (const std::string& e : client_->endpoints()) out.add_endpoints(e);
  for (const std::string& e : client_->ReachableEndpoints()) out.add_reachable(e);
  absl::MutexLock lock(&log_mu_);
  out.set_ticker(ticker_);
  out.set_applied_etcd_revision(applied_);
  out.set_head_etcd_revision(head_);
  out.set_lag(std::max<int64_t>(0, head_ - applied_));
  for (const std::string& a : alarms_) out.add_alarms(a);
  return true;
}

// --- Snapshots and truncation ---------------------------------------------

absl::StatusOr<atomix::log::v1::SnapshotMeta> EtcdStore::ReadSnapshotMeta() {
  absl::StatusOr<etcdserverpb::RangeResponse> found =
      client_->Range(GetKey(Key("snapshot")), options_.timeout);
  if (!found.ok()) return found.status();
  atomix::log::v1::SnapshotMeta meta;
  if (found->kvs_size() > 0 && !meta.ParseFromString(found->kvs(0).value())) {
    return absl::DataLossError(absl::StrCat("etcd key ", Key("snapshot"),
                                            " does not hold a snapshot description"));
  }
  return meta;
}

absl::Status EtcdStore::LoadNewestSnapshot() {
  absl::StatusOr<atomix::log::v1::SnapshotMeta> meta = ReadSnapshotMeta();
  if (!meta.ok()) return meta.status();
  if (meta->revision() == 0) return absl::OkStatus();
  if (meta->format() > kEtcdLogFormat) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the cluster's snapshot has format ", meta->format(),
        "; this broker understands up to ", kEtcdLogFormat, ": upgrade it"));
  }
  const std::string chunks = Key(absl::StrFormat("snapshot/%016x/", meta->revision()));
  etcdserverpb::RangeRequest range;
  range.set_key(chunks);
  range.set_range_end(PrefixEnd(chunks));
  absl::StatusOr<etcdserverpb::RangeResponse> found = client_->Range(range, options_.timeout);
  if (!found.ok()) return found.status();
  std::string bytes;
  for (const mvccpb::KeyValue& kv : found->kvs()) bytes += kv.value();
  atomix::log::v1::EngineSnapshot snapshot;
  if (static_cast<uint32_t>(found->kvs_size()) != meta->chunks() ||
      bytes.size() != meta->bytes() || !snapshot.ParseFromString(bytes)) {
    return absl::DataLossError(absl::StrCat(
        "the snapshot at etcd revision ", meta->revision(), " is incomplete: ",
        found->kvs_size(), " of ", meta->chunks(), " chunks, ", bytes.size(), " of ",
        meta->bytes(), " bytes"));
  }
  if (absl::Status loaded = ResetTo(snapshot); !loaded.ok()) return loaded;
  absl::MutexLock lock(&log_mu_);
  applied_ = meta->revision();
  spdlog::info("etcd store: started from the snapshot at etcd revision {} ({} bytes)",
               meta->revision(), meta->bytes());
  return absl::OkStatus();
}

void EtcdStore::WriteSnapshot() {
  std::unique_ptr<atomix::log::v1::EngineSnapshot> snapshot;
  int64_t revision;
  {
    absl::MutexLock lock(&log_mu_);
    if (pending_snapshot_ == nullptr) return;
    snapshot = std::move(pending_snapshot_);
    revision = pending_revision_;
  }
  absl::StatusOr<atomix::log::v1::SnapshotMeta> previous = ReadSnapshotMeta();
  if (!previous.ok()) return;
  const std::string bytes = snapshot->SerializeAsString();
  // Chunks well under etcd's request limit, each written by the ticker only.
  const size_t chunk = options_.max_entry_bytes / 2;
  uint32_t chunks = 0;
  for (size_t at = 0; at == 0 || at < bytes.size(); at += chunk, ++chunks) {
    etcdserverpb::TxnRequest txn;
    *txn.add_compare() = CreatedAt(Key("ticker"), ticker_revision_);
    *txn.add_success() = PutOp(Key(absl::StrFormat("snapshot/%016x/%08x", revision, chunks)),
                               bytes.substr(at, chunk));
    absl::StatusOr<etcdserverpb::TxnResponse> written = client_->Txn(txn, options_.timeout);
    if (!written.ok() || !written->succeeded()) return;
  }
  atomix::log::v1::SnapshotMeta meta;
  meta.set_revision(revision);
  meta.set_chunks(chunks);
  meta.set_bytes(bytes.size());
  meta.set_format(kEtcdLogFormat);
  // The log behind the previous snapshot goes; the one since stays.
  meta.set_truncated(previous->revision());
  etcdserverpb::TxnRequest txn;
  *txn.add_compare() = CreatedAt(Key("ticker"), ticker_revision_);
  *txn.add_success() = PutOp(Key("snapshot"), meta.SerializeAsString());
  absl::StatusOr<etcdserverpb::TxnResponse> written = client_->Txn(txn, options_.timeout);
  if (!written.ok() || !written->succeeded()) return;
  spdlog::info("etcd store: snapshot at etcd revision {} ({} bytes in {} chunks)", revision,
               bytes.size(), chunks);
  if (previous->revision() == 0) return;
  if (absl::Status truncated = Truncate(previous->revision()); !truncated.ok()) {
    spdlog::warn("etcd store: cannot truncate the log: {}", truncated.ToString());
  }
}

absl::Status EtcdStore::Truncate(int64_t through) {
  // Older snapshots' chunks.
  etcdserverpb::DeleteRangeRequest chunks;
  chunks.set_key(Key("snapshot/"));
  chunks.set_range_end(Key(absl::StrFormat("snapshot/%016x/", through + 1)));
  if (auto deleted = client_->DeleteRange(chunks, options_.timeout); !deleted.ok()) {
    return deleted.status();
  }
  // Log entries at or below `through`, a page at a time (etcd takes at
  // most 128 operations per transaction).
  const std::string log_prefix = Key("log/");
  while (true) {
    etcdserverpb::RangeRequest range;
    range.set_key(log_prefix);
    range.set_range_end(PrefixEnd(log_prefix));
    range.set_keys_only(true);
    range.set_max_mod_revision(through);
    range.set_limit(100);
    absl::StatusOr<etcdserverpb::RangeResponse> page = client_->Range(range, options_.timeout);
    if (!page.ok()) return page.status();
    if (page->kvs_size() == 0) break;
    etcdserverpb::TxnRequest txn;
    for (const mvccpb::KeyValue& kv : page->kvs()) {
      txn.add_success()->mutable_request_delete_range()->set_key(kv.key());
    }
    if (auto deleted = client_->Txn(txn, options_.timeout); !deleted.ok()) {
      return deleted.status();
    }
    if (!page->more()) break;
  }
  absl::Status compacted = client_->Compact(through, options_.timeout);
  if (!compacted.ok() && !absl::IsOutOfRange(compacted)) return compacted;
  return absl::OkStatus();
}

}  // namespace atomix::broker
