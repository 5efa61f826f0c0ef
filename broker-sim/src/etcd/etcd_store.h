// EtcdStore: the engine replicated through an etcd cluster. Several brokers
// share one log of input records kept in etcd (atomix/log/v1/etcd.proto),
// and each replays it, in etcd's revision order, into its own engine; so
// revisions, fences, terms, session ids and exactly-once memory are the
// same on every broker, and a client may move to any of them.
//
// Writes. ApplyAsync turns a batch into an input record and queues it; one
// appender thread writes what is queued as one LogEntry (one etcd key) per
// transaction, so concurrent callers share each etcd round trip, and calls
// are written in the order they were made. The batch is answered, on the
// replayer's thread, with what the engine made of the record when it was
// applied; nothing is applied before etcd committed it. A batch not applied
// within its deadline is answered UNAVAILABLE (it may still be applied
// later: clients retry with the same session and sequence). A record over
// the entry size limit is split (a batch's requests stay in order, in
// consecutive records); a single request over it is refused with
// INVALID_ARGUMENT and never applied.
//
// Reads. A batch that only reads first learns the revision of the newest
// log entry with a linearizable (quorum) etcd read, shared by every read
// queued meanwhile, waits until the engine applied it, then answers from
// the engine. A new watch does the same
// before it takes its start revision and snapshot.
//
// Replay. The replayer catches up with linearizable Ranges over the log
// from the last applied revision, then follows with an etcd Watch; any
// failure (a dead member, a compacted revision) starts over from a Range.
// It does not rely on watch progress notifications. A watch that stays
// behind the log's head for seconds is restarted (a member cut off from its
// quorum delivers nothing). An entry of a newer format, or one that cannot
// be parsed, stops the replay: the broker then reports NOT_SERVING and
// refuses every call, rather than diverge from its peers.
//
// Time. Logical time lives only in the log: batches carry no time, and one
// broker, the ticker, appends tick records. It is elected with an etcd
// lease on PREFIX/ticker, and each of its appends is a transaction that
// compares the key's create revision with its own, so a deposed ticker
// cannot append. A new ticker continues time from the engine's (plus its
// own monotonic clock), so time stands still while there is none, and
// its first record is a Resume that restarts every session's TTL (a grace
// period for clients whose keep-alives could not be applied meanwhile).
// Store::Tick does nothing here. Sessions are never etcd leases.
//
// Thread-safety: thread-safe. Late answers of records that no local call
// waits for go to the completion listener, on the replayer's thread.
#ifndef ATOMIX_BROKER_ETCD_ETCD_STORE_H_
#define ATOMIX_BROKER_ETCD_ETCD_STORE_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "atomix/log/v1/etcd.pb.h"
#include "broker-sim/src/etcd/etcd_client.h"
#include "broker-sim/src/state/limits.h"
#include "broker-sim/src/store/engine_store.h"

namespace atomix::broker {

// The log format this broker writes and the newest it understands.
inline constexpr uint32_t kEtcdLogFormat = 1;

struct EtcdStoreOptions {
  std::vector<std::string> endpoints;
  // Every key of the cluster starts with this (ends with '/').
  std::string prefix = "/atomix/default/";
  Limits limits;
  WatchHistoryOptions history;
  // How often the ticker appends a tick.
  absl::Duration tick_interval = absl::Milliseconds(100);
  // The ticker's lease: a dead ticker is replaced after about this long.
  absl::Duration ticker_ttl = absl::Seconds(2);
  // The longest one etcd call, or one write's wait to be applied, may take.
  absl::Duration timeout = absl::Seconds(5);
  // The largest LogEntry written: etcd's default request limit (1.5 MiB,
  // --max-request-bytes) less room for the key and the transaction.
  size_t max_entry_bytes = (3 << 19) - (16 << 10);
  // The ticker snapshots the engine into etcd after this many log entries,
  // then deletes the entries the previous snapshot covered and compacts
  // etcd there (one snapshot interval of log stays for lagging brokers).
  uint64_t snapshot_entries = 10000;
  // ... or after this many bytes of log entries, whichever comes first.
  uint64_t snapshot_bytes = 32 << 20;
  // Open waits this long for the log to be readable and time to exist.
  absl::Duration open_timeout = absl::Seconds(30);
};

class EtcdStore final : public EngineStore {
 public:
  // Reads (or, for the first broker, creates) the cluster's identity,
  // replays the log, and starts the appender, replayer and ticker threads.
  // Returns once the engine caught up with the log's head and has a time.
  static absl::StatusOr<std::unique_ptr<EtcdStore>> Open(
      EtcdStoreOptions options);
  ~EtcdStore() override;

  // The cluster's id: every broker of the cluster reports it as its
  // broker id, so clients keep sessions and watches across brokers.
  const std::string& cluster_id() const { return meta_.cluster_id(); }
  bool DescribeCluster(v1::ClusterStatus& out) const override
      ABSL_LOCKS_EXCLUDED(log_mu_);

  using Store::Apply;
  using Store::ApplyAsync;
  // Waits for ApplyAsync.
  void Apply(absl::Span<const v1::Request* const> requests,
             absl::Span<v1::Response* const> responses, uint64_t origin,
             const Caller& caller, StoreResult& result) override
      ABSL_LOCKS_EXCLUDED(log_mu_);
  // The batch's answers stop at Limits::max_batch_answer_bytes over all
  // the records it is split into.
  void ApplyAsync(std::vector<v1::Request> requests, uint64_t origin,
                  Caller caller, ApplyDone done) override
      ABSL_LOCKS_EXCLUDED(log_mu_);
  void Tick(absl::Time, StoreResult&) override {}
  void Cancel(uint64_t origin) override ABSL_LOCKS_EXCLUDED(log_mu_);
  void ExpireAllSessions(StoreResult& result) override ABSL_LOCKS_EXCLUDED(log_mu_);
  absl::StatusOr<WatchStart> StartWatch(const std::string& name,
                                        v1::PrimitiveType type,
                                        const WatchFilter& filter,
                                        bool snapshot) override
      ABSL_LOCKS_EXCLUDED(log_mu_);
  void SetCompletionListener(CompletionListener listener) override {
    completion_listener_ = std::move(listener);
  }
  std::string_view kind() const override { return "etcd"; }
  absl::Status Health() const override ABSL_LOCKS_EXCLUDED(log_mu_);

  // Waits until the engine applied every log entry etcd had when this was
  // called (a linearizable read of the log's head), or `timeout` passes.
  absl::Status Sync(absl::Duration timeout) ABSL_LOCKS_EXCLUDED(log_mu_);

 private:
  // What a local call waits for: the engine's output for its record, or
  // why there is none. Called exactly once, without log_mu_ held.
  using RecordDone = std::function<void(absl::Status, RecordOutput&)>;
  struct Waiter {
    absl::Time deadline;
    RecordDone done;
  };
  struct Queued {
    uint64_t id = 0;
    atomix::log::v1::InputRecord record;
    size_t bytes = 0;
    // A caller waits for it: once that caller gave up (its deadline passed)
    // the record is dropped rather than written late.
    bool awaited = false;
  };
  // A batch of reads waiting to learn the log's head (target < 0), then
  // for the engine to apply it.
  struct PendingRead {
    std::vector<v1::Request> requests;
    absl::Time deadline;
    ApplyDone done;
    int64_t target = -1;
    std::string principal;
  };
  // A batch of writes, applied record by record (see ApplyAsync).
  struct WriteCall;

  EtcdStore(EtcdStoreOptions options, std::unique_ptr<EtcdClient> client,
            atomix::log::v1::ClusterMeta meta);
  void Start();

  // Queues `record`; with `done`, it is called once the record is applied
  // (or etcd refused it, or `deadline` passed).
  void Submit(atomix::log::v1::InputRecord record, absl::Time deadline,
              RecordDone done) ABSL_LOCKS_EXCLUDED(log_mu_);
  // Writes the next record of `call`, or answers it if none is left.
  void Continue(std::shared_ptr<WriteCall> call) ABSL_LOCKS_EXCLUDED(log_mu_);
  // Answers the reads whose target the engine has reached, and fails the
  // ones (reads and writes) whose deadline passed.
  void AnswerReads() ABSL_LOCKS_EXCLUDED(log_mu_);
  void ExpireWaiters() ABSL_LOCKS_EXCLUDED(log_mu_);
  // Answers a batch of reads from the engine, or every request with `error`.
  void Answer(std::vector<v1::Request>& requests, const absl::Status& error,
              const ApplyDone& done, const std::string& principal = "");
  // Takes the reads `which` selects out of reads_.
  std::vector<PendingRead> TakeReadsLocked(
      const std::function<bool(const PendingRead&)>& which)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(log_mu_);
  // The etcd revision of the newest log entry, by a linearizable read of
  // PREFIX/head; also raises head_.
  absl::StatusOr<int64_t> ReadHead(absl::Duration timeout) ABSL_LOCKS_EXCLUDED(log_mu_);
  // Fails every waiting call with `why`.
  void FailAll(const absl::Status& why) ABSL_LOCKS_EXCLUDED(log_mu_);
  // The deadline of a batch: the store's timeout, or less if a request's
  // own timeout is shorter.
  absl::Time DeadlineFor(const std::vector<v1::Request>& requests) const;
  // Learns the log's head for queued reads, one etcd read for all.
  void ReadLoop() ABSL_LOCKS_EXCLUDED(log_mu_);

  void AppendLoop() ABSL_LOCKS_EXCLUDED(log_mu_);
  void ReplayLoop() ABSL_LOCKS_EXCLUDED(log_mu_);
  // Catches up from applied_ with Ranges, then follows with a Watch until
  // something fails.
  absl::Status CatchUpAndFollow() ABSL_LOCKS_EXCLUDED(log_mu_);
  // Applies the log entry stored at `key` at etcd revision `revision`.
  void ApplyEntry(const std::string& key, const std::string& value,
                  int64_t revision) ABSL_LOCKS_EXCLUDED(log_mu_);
  // Stops the replay for good: the broker refuses calls from now on.
  void Halt(absl::Status why) ABSL_LOCKS_EXCLUDED(log_mu_);

  void TickerLoop() ABSL_LOCKS_EXCLUDED(log_mu_);
  void Campaign() ABSL_LOCKS_EXCLUDED(log_mu_);
  // Appends `record` guarded by the ticker key; false if deposed.
  absl::StatusOr<bool> AppendAsTicker(atomix::log::v1::InputRecord record)
      ABSL_LOCKS_EXCLUDED(log_mu_);
  void Depose(const char* why) ABSL_LOCKS_EXCLUDED(log_mu_);
  void CheckHealth() ABSL_LOCKS_EXCLUDED(log_mu_);

  // Snapshots (ticker thread): writes the pending snapshot's chunks and
  // meta, guarded by the ticker key, then truncates the log and compacts.
  void WriteSnapshot() ABSL_LOCKS_EXCLUDED(log_mu_);
  absl::Status Truncate(int64_t through);
  // Replaces the engine's state with the newest snapshot, if any: at Open,
  // and when this broker fell behind the log's truncation.
  absl::Status LoadNewestSnapshot() ABSL_LOCKS_EXCLUDED(log_mu_);
  // The snapshot meta in etcd; revision 0 if there is none.
  absl::StatusOr<atomix::log::v1::SnapshotMeta> ReadSnapshotMeta();

  // The etcd transaction writing `entry` at a new log key (and the head).
  etcdserverpb::TxnRequest AppendTxn(const atomix::log::v1::LogEntry& entry,
                                     const std::string& key) const;
  std::string Key(std::string_view suffix) const {
    return options_.prefix + std::string(suffix);
  }
  // The status calls get while the store cannot serve; OK if it can.
  absl::Status Unservable() const ABSL_LOCKS_EXCLUDED(log_mu_);

  const EtcdStoreOptions options_;
  const std::unique_ptr<EtcdClient> client_;
  const atomix::log::v1::ClusterMeta meta_;
  // This process's writer id: its log keys and waiters are its own.
  const std::string writer_;
  CompletionListener completion_listener_;  // set before the store is shared

  mutable absl::Mutex log_mu_;
  std::deque<Queued> queue_ ABSL_GUARDED_BY(log_mu_);
  absl::flat_hash_map<uint64_t, Waiter> waiters_ ABSL_GUARDED_BY(log_mu_);
  std::vector<PendingRead> reads_ ABSL_GUARDED_BY(log_mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(log_mu_) = 1;
  uint64_t next_tick_key_ ABSL_GUARDED_BY(log_mu_) = 1;
  // Every log entry at an etcd revision up to this one is applied.
  int64_t applied_ ABSL_GUARDED_BY(log_mu_) = 0;
  int64_t head_ ABSL_GUARDED_BY(log_mu_) = 0;
  // The applied revision at the previous health check, while behind.
  int64_t applied_at_last_check_ ABSL_GUARDED_BY(log_mu_) = -1;
  absl::Status halted_ ABSL_GUARDED_BY(log_mu_);
  absl::Status unreachable_ ABSL_GUARDED_BY(log_mu_);
  std::vector<std::string> alarms_ ABSL_GUARDED_BY(log_mu_);
  EtcdClient::WatchStream* watch_ ABSL_GUARDED_BY(log_mu_) = nullptr;
  bool stopping_ ABSL_GUARDED_BY(log_mu_) = false;
  // Entries applied since the last snapshot, and a snapshot taken by the
  // replayer (as of etcd revision pending_revision_) for the ticker to write.
  uint64_t entries_since_snapshot_ ABSL_GUARDED_BY(log_mu_) = 0;
  uint64_t bytes_since_snapshot_ ABSL_GUARDED_BY(log_mu_) = 0;
  std::unique_ptr<atomix::log::v1::EngineSnapshot> pending_snapshot_
      ABSL_GUARDED_BY(log_mu_);
  int64_t pending_revision_ ABSL_GUARDED_BY(log_mu_) = 0;

  // The ticker's state (the ticker thread's alone, but status() reads it).
  bool ticker_ ABSL_GUARDED_BY(log_mu_) = false;
  int64_t ticker_revision_ = 0;  // create revision of our PREFIX/ticker
  int64_t lease_ = 0;
  absl::Time time_base_;          // engine time when we became ticker
  absl::Time monotonic_base_;     // our monotonic clock then
  absl::Time last_keepalive_;     // the last renewal etcd confirmed

  absl::Notification stop_;
  std::thread appender_;
  std::thread replayer_;
  std::thread reader_;
  std::thread sweeper_;  // fails waiters whose deadline passed
  std::thread ticker_thread_;
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_ETCD_ETCD_STORE_H_
