// Sessions: the broker's table of client sessions and, per session, the
// exactly-once memory of responses the client has not acknowledged.
//
// Pure bookkeeping: the caller (the store) passes logical time in, decides
// when sessions end and what ending releases. A session expires once `now`
// reaches its deadline, which every request carrying the session (keep-alive
// or any other) pushes to now + ttl.
//
// Opening is idempotent per nonce: an open that repeats the nonce of a live
// session finds that session, so a client may resend an open whose answer
// was lost without leaving a second session behind.
//
// Exactly-once: a request with (session, sequence > 0) looks its sequence up
// first. A remembered response is answered again; a sequence that is still
// waiting (deferred) is attached to the new request; a sequence at or below
// the acknowledged one was forgotten and fails. At most
// Limits::max_unacked_responses responses are remembered per session; a new
// sequence beyond that fails with RESOURCE_EXHAUSTED until the client
// acknowledges (nothing is dropped silently, so a retry never applies twice).
// The same holds for the remembered responses' serialized bytes, per session
// and over every session (Caps): a new sequence is refused while the bytes
// are at or above the cap, so each bound is exceeded by one response at most.
//
// Every session belongs to the principal that opened it ("" is anonymous);
// the table counts sessions per principal for quotas.
//
// Thread-safety: none; the owner serializes every call.
#ifndef ATOMIX_BROKER_STATE_SESSIONS_H_
#define ATOMIX_BROKER_STATE_SESSIONS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "atomix/v1/broker.pb.h"

namespace atomix::broker {

class Sessions {
 public:
  struct Session {
    uint64_t id = 0;
    // SessionOpen.nonce it was opened with (0: none).
    uint64_t nonce = 0;
    absl::Duration ttl;
    absl::Time expires;
    // When it opened (logical time).
    absl::Time opened = absl::InfinitePast();
    // Every sequence <= acked has been acknowledged.
    uint64_t acked = 0;
    // Unacknowledged responses by sequence.
    absl::btree_map<uint64_t, v1::Response> responses;
    // Sequences whose request waits for its answer, and the waiter's token.
    absl::flat_hash_map<uint64_t, uint64_t> pending;
    // Names of the primitives that may hold something of this session
    // (locks, candidacies, ephemeral entries).
    absl::btree_set<std::string> resources;
    // The principal that opened it.
    std::string principal;
    // Serialized bytes of `responses`.
    size_t remembered_bytes = 0;
  };

  // Bounds of the exactly-once memory (0: no bound).
  struct Caps {
    size_t max_unacked = 0;        // entries per session
    size_t max_bytes = 0;          // bytes per session
    size_t max_total_bytes = 0;    // bytes over every session
  };

  // What to do with a request's (session, sequence).
  enum class Replay {
    kApply,         // new sequence (or none): apply it
    kAnswered,      // answered before: send `*cached` again
    kPending,       // still waiting: attach to token `*pending_token`
    kAcknowledged,  // at or below ack_sequence: forgotten, fail it
    kFull,          // too many unacknowledged responses: fail it
    kFullBytes,     // the session remembers max_bytes or more: fail it
    kFullTotal,     // all sessions remember max_total_bytes or more: fail it
  };

  // Opens session `id`; a nonzero `nonce` can find it again (FindByNonce)
  // while it lives.
  Session& Open(uint64_t id, absl::Duration ttl, absl::Time now,
                uint64_t nonce = 0, std::string principal = "");
  // nullptr if there is no such session (never opened, closed or expired).
  Session* Find(uint64_t id);
  const Session* Find(uint64_t id) const;
  // Puts back a session as a snapshot saved it (expiry, memory and all).
  void Restore(Session session);
  // The live session opened with `nonce`, or nullptr (always for 0).
  Session* FindByNonce(uint64_t nonce);
  // Restarts the session's TTL at `now`.
  void Touch(Session& session, absl::Time now);
  // Restarts every session's TTL at `now`.
  void TouchAll(absl::Time now);
  // Forgets responses up to `ack_sequence`.
  void Acknowledge(Session& session, uint64_t ack_sequence);
  Replay Check(const Session& session, uint64_t sequence,
               size_t max_unacked, const v1::Response** cached,
               uint64_t* pending_token) const;
  Replay Check(const Session& session, uint64_t sequence, const Caps& caps,
               const v1::Response** cached, uint64_t* pending_token) const;
  void Remember(Session& session, uint64_t sequence,
                const v1::Response& response);
  void Erase(uint64_t id);

  // (expiry, id) of the session that expires first, if any.
  std::optional<std::pair<absl::Time, uint64_t>> Next() const;
  // Every live session id, ascending.
  std::vector<uint64_t> Ids() const;
  size_t size() const { return sessions_.size(); }
  // Live sessions opened by `principal`.
  size_t CountOf(const std::string& principal) const {
    auto it = by_principal_.find(principal);
    return it == by_principal_.end() ? 0 : it->second;
  }
  // Serialized bytes of every remembered response of every session.
  size_t remembered_bytes() const { return remembered_bytes_; }

 private:
  void Forget(Session& session,
              absl::btree_map<uint64_t, v1::Response>::iterator from,
              absl::btree_map<uint64_t, v1::Response>::iterator to);

  absl::flat_hash_map<std::string, size_t> by_principal_;
  size_t remembered_bytes_ = 0;
  absl::flat_hash_map<uint64_t, Session> sessions_;
  absl::flat_hash_map<uint64_t, uint64_t> by_nonce_;  // nonce -> id
  absl::btree_set<std::pair<absl::Time, uint64_t>> expiries_;
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_STATE_SESSIONS_H_
