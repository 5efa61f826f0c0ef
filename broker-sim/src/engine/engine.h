// Engine: all broker state, changed only by ordered input records.
//
// The engine holds the registry of names and their state machines, the
// session table with its exactly-once memory, fences, timers (TTL entries,
// lock waiter timeouts) and deferred answers. Every change is a pure
// function of one input record (atomix/log/v1/record.proto): a request
// batch from an origin, a tick, an origin that went away, or an expire-all,
// each carrying its logical time. Session ids are a keyed pseudo-random
// function of the session key and the open counter (session_ids.h; without
// a key: session_id_base + 1, + 2, ...), and "now" is the record's, so the
// same records in
// the same order give the same state, revisions, answers and watch events
// on any machine. The engine reads no clock, draws no random numbers and
// does no I/O; stores wrap it with a lock, a clock that stamps records, a
// watch history and (for durable stores) a log.
//
//   Engine engine(limits, {.session_id_base = base}, &sink);
//   StoreResult result;
//   engine.ApplyBatch(now, origin, requests, responses, result);
//
// A name is bound by Open or by its first mutation (or waiter); reads of an
// unknown name see an empty primitive and bind nothing. Ending a session
// (close, expiry, expire-all) is one step at one revision, none if the
// session owned nothing. Each step's watch events go to the EventSink with
// the revision they happened at.
//
// Principals (docs/security.md): each batch record names its principal and
// whether it holds the admin right on each request's name. A session
// belongs to the principal that opened it; any request naming another
// principal's session fails with PERMISSION_DENIED and touches nothing.
// Releasing another session's grant by its fence needs the admin right.
// Quotas (Limits: sessions, sessions per principal, primitives per
// namespace, exactly-once bytes, bytes of one batch's answers) refuse a
// request with RESOURCE_EXHAUSTED before anything of it is applied.
//
// Thread-safety: none; the owner serializes every call.
#ifndef ATOMIX_BROKER_ENGINE_ENGINE_H_
#define ATOMIX_BROKER_ENGINE_ENGINE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "absl/status/status.h"
#include "atomix/log/v1/record.pb.h"
#include "atomix/log/v1/snapshot.pb.h"
#include "atomix/v1/broker.pb.h"
#include "broker-sim/src/state/limits.h"
#include "broker-sim/src/state/sessions.h"
#include "broker-sim/src/state/state_machine.h"
#include "broker-sim/src/store/store.h"

namespace atomix::broker {

// Receives each step's watch events, in order, at the step's revision.
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void Record(const std::string& name, int64_t revision,
                      std::vector<v1::WatchEvent>&& events) = 0;
};

// What one input record produced.
struct RecordOutput {
  // For a batch: one response per request (the slots of deferred requests
  // hold nothing useful and are listed in result.deferred).
  std::vector<v1::Response> responses;
  StoreResult result;
};

// Whether every request only reads (PrimitiveSpec::is_read): such a batch
// changes nothing and may be answered by Engine::Read.
bool AllReads(absl::Span<const v1::Request* const> requests);

// Answers `request`, which a batch's answer cap (max_batch_answer_bytes
// `cap`) left out and nothing applied, with RESOURCE_EXHAUSTED.
void RefuseOverAnswerCap(const v1::Request& request, uint64_t cap,
                         int64_t revision, v1::Response& response);

// Fills `record` as the batch record of `requests` from `origin` sent by
// `caller` (its principal, and its admin flags unless they are all true).
void SetBatch(atomix::log::v1::InputRecord& record, uint64_t origin,
              absl::Span<const v1::Request* const> requests,
              const Caller& caller);

// The namespace of a primitive name, for max_primitives_per_namespace: the
// name up to and including its first '/', or "" if it has none.
std::string NamespaceOf(const std::string& name);

// How errors name a principal: principal "alice", or the anonymous
// principal for "".
std::string PrincipalName(const std::string& principal);

class Engine {
 public:
  struct Options {
    // Session ids start above this.
    uint64_t session_id_base = 0;
    // The secret key of session ids (kSessionKeyBytes bytes); empty: ids
    // are session_id_base plus the open counter.
    std::string session_key;
    // Revisions start above this: the first mutation gets first_revision
    // + 1.
    int64_t first_revision = 0;
  };

  // `sink` (may be null) must outlive the engine.
  Engine(Limits limits, Options options, EventSink* sink);

  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Applies one input record.
  void Apply(const atomix::log::v1::InputRecord& record, RecordOutput& out);

  // The same records, without building one: see Store::Apply, Tick, Cancel
  // and ExpireAllSessions. Time first moves to `now` (never backwards) and
  // runs whatever is due.
  void ApplyBatch(absl::Time now, uint64_t origin,
                  absl::Span<const v1::Request* const> requests,
                  absl::Span<v1::Response* const> responses,
                  StoreResult& result);
  // As above, sent by `caller` (a batch record's principal and admin).
  void ApplyBatch(absl::Time now, uint64_t origin,
                  absl::Span<const v1::Request* const> requests,
                  absl::Span<v1::Response* const> responses,
                  const Caller& caller, StoreResult& result);
  void Tick(absl::Time now, StoreResult& result);
  // Answers requests that only read (PrimitiveSpec::is_read) from the
  // current state without changing anything: no time passes, no session is
  // touched, nothing is remembered. Not an input record, so a store may
  // serve such reads without logging them (when its log refuses records).
  // False, answering nothing, if any request is not a read.
  // Like a batch, the answers stop at Limits::max_batch_answer_bytes, and
  // a session of another principal than `principal` is refused.
  bool Read(absl::Span<const v1::Request* const> requests,
            absl::Span<v1::Response* const> responses,
            const std::string& principal = "");
  // Withdraws the waiting requests of a stream that closed, except those
  // that outlive it (OutlivesStream).
  void CancelOrigin(uint64_t origin);
  void ExpireAllSessions(absl::Time now, StoreResult& result);

  // The latest revision handed out (0 before the first mutation).
  int64_t revision() const { return revision_; }
  // Logical time: the latest record time seen.
  absl::Time now() const { return now_; }
  // The earliest logical time at which a tick would change anything (a
  // session or TTL entry expiring, a waiter timing out); InfiniteFuture if
  // nothing is pending. A store with a log skips ticks before it.
  absl::Time NextDue() const;
  // The machine bound to `name`, or nullptr.
  const StateMachine* Find(const std::string& name) const;
  size_t primitive_count() const { return primitives_.size(); }
  size_t session_count() const { return sessions_.size(); }
  // Requests waiting in the queue of a Lock or ReadWriteLock (acquires not
  // granted yet), over all of them; kept as they come and go.
  size_t lock_waiters() const { return lock_waiters_; }

  // The whole state as a snapshot; log_position is left to the caller.
  void Save(atomix::log::v1::EngineSnapshot& out) const;
  // Operators' pages of the state (engine_inspect.cc; see
  // Store::ListSessions). The request's limit must be 1..1000.
  void ListSessions(const v1::ListSessionsRequest& request,
                    v1::ListSessionsResponse& out) const;
  void ListPrimitives(const v1::ListPrimitivesRequest& request,
                      v1::ListPrimitivesResponse& out) const;
  // Gives a fresh engine (no record applied yet) a saved state; its
  // session id base becomes the snapshot's. DATA_LOSS naming what is wrong
  // if the snapshot does not hold a consistent state.
  absl::Status Load(const atomix::log::v1::EngineSnapshot& in);

  // A deterministic serialization of the whole state: revision, time,
  // sessions with their exactly-once memory, waiting requests, and every
  // primitive's snapshot in name order. Equal digests mean equal state.
  std::string Digest() const;

 private:
  // A deferred request, by token.
  struct Pending {
    uint64_t origin = 0;
    uint64_t request_id = 0;
    uint64_t session = 0;
    uint64_t sequence = 0;
    std::string name;
    // Counted in lock_waiters_ (set by AddPending).
    bool lock_waiter = false;
  };
  bool OutlivesStream(const Pending& pending) const;
  // One request of Read.
  void ReadOne(const v1::Request& request, const std::string& principal,
               v1::Response& response);

  // The machine bound to the request's name, or else a new unbound one
  // left in `fresh`. Null, with the error in `response`, if the name is
  // bound to another type or the type is unknown.
  StateMachine* MachineFor(const v1::Request& request,
                           std::unique_ptr<StateMachine>& fresh,
                           v1::Response& response);
  // Returns true if the response is deferred.
  bool ApplyOne(const v1::Request& request, uint64_t origin,
                const std::string& principal, bool admin,
                v1::Response& response, StoreResult& result);
  void ApplySession(const v1::Request& request, const std::string& principal,
                    v1::Response& response, StoreResult& result);
  // False, with PERMISSION_DENIED in `response`, if `session` belongs to
  // another principal than `principal`.
  bool CheckOwner(const Sessions::Session& session,
                  const std::string& principal, v1::Response& response) const;
  // False, with RESOURCE_EXHAUSTED in `response`, if the exactly-once
  // check said the session's memory is full (for a CancelRequest's
  // `sequence` if `cancel`).
  bool CheckReplayRoom(Sessions::Replay replay, const Sessions::Session& session,
                       uint64_t sequence, bool cancel,
                       v1::Response& response) const;
  // The next session id: a PRF of the key and the open counter, never 0
  // and never a live session's.
  uint64_t NextSessionId();
  // False, with RESOURCE_EXHAUSTED in `response`, if binding `extra` more
  // names in `name`'s namespace would pass max_primitives_per_namespace.
  bool NamespaceHasRoom(const std::string& name, size_t extra,
                        v1::Response& response) const;
  // Binds `name` to `machine` (counting its namespace).
  void Bind(const std::string& name, std::unique_ptr<StateMachine> machine);
  // A CancelRequest: withdraws the waiting request it names, or remembers
  // a sequence that has not arrived yet as cancelled.
  void ApplyCancel(const v1::Request& request, uint64_t origin,
                   const std::string& principal, v1::Response& response,
                   StoreResult& result);
  // Takes waiting request `token` out of its machine and the session. With
  // an `answer`, that is its final response: remembered for exactly-once
  // and sent to its origin as a completion. Without, it is never answered.
  void Withdraw(uint64_t token, const v1::Response* answer,
                StoreResult& result);
  // A transaction (engine_txn.cc): comparisons, then one branch's writes
  // at one revision, all or none.
  void ApplyTxn(const v1::Request& request, Sessions::Session* session,
                v1::Response& response);
  // Fails `response` unless every write of the branch, made by
  // `session_id`, can be applied.
  bool CheckTxnWrites(
      const google::protobuf::RepeatedPtrField<v1::TxnWrite>& writes,
      const char* branch, uint64_t session_id, v1::Response& response);
  // Applies the read `read` to the machine bound to its name, or to an
  // empty one if none is; false, with the message, if the name is bound to
  // another type.
  bool ReadBound(const v1::Request& read, v1::Response& answer,
                 std::string& wrong_type);
  // Fails `response` if the request's if_fence no longer holds its lock.
  bool CheckFence(const v1::Request& request, v1::Response& response);
  // Moves time forward and runs whatever is due.
  void AdvanceTo(absl::Time now, StoreResult& result);
  // Ends a session in one step at one new revision.
  void EndSession(uint64_t id, StoreResult& result);
  // Turns machine answers into completions (at the current revision).
  void Complete(std::vector<Answer>& answers, StoreResult& result);
  // Hands a step's watch events (at the current revision) to the sink.
  void Record(const std::string& name, std::vector<v1::WatchEvent>& events);
  // Re-reads the machine's next deadline into timers_.
  void Schedule(const std::string& name, const StateMachine& machine);
  // Adds, re-addresses and removes a waiting request (pending_ and
  // by_origin_ together).
  void AddPending(uint64_t token, Pending pending);
  void Readdress(uint64_t token, uint64_t origin, uint64_t request_id);
  Pending TakePending(uint64_t token);

  const Limits limits_;
  uint64_t session_id_base_;
  std::string session_key_;
  EventSink* const sink_;
  // Bound names per namespace (NamespaceOf).
  absl::flat_hash_map<std::string, size_t> namespaces_;
  absl::flat_hash_map<std::string, std::unique_ptr<StateMachine>> primitives_;
  int64_t revision_ = 0;
  absl::Time now_ = absl::InfinitePast();
  Sessions sessions_;
  uint64_t sessions_opened_ = 0;
  uint64_t next_token_ = 1;
  absl::flat_hash_map<uint64_t, Pending> pending_;
  size_t lock_waiters_ = 0;
  // The same waiting requests by (origin, request id): CancelOrigin and a
  // cancel by request id find theirs without a scan.
  absl::btree_map<std::pair<uint64_t, uint64_t>, uint64_t> by_origin_;
  absl::btree_set<std::pair<absl::Time, std::string>> timers_;
  absl::flat_hash_map<std::string, absl::Time> scheduled_;
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_ENGINE_ENGINE_H_
