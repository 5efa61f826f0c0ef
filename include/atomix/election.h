// Election: leader election among candidates, kept by the broker.
//
//   absl::StatusOr<atomix::Election> e =
//       atomix::GetElection("scheduler", atomix::WithCandidateID("node-1"));
//   if (!e.ok()) return e.status();
//   absl::StatusOr<atomix::Term> t = e->Enter();
//   if (t.ok() && t->leader == e->ID()) { /* lead, with t->term as the fence */ }
//   e->Leave();
//
// Candidates are kept in priority order; the first one is the leader. Each
// operation returns the Term after it: the leader (empty when there is
// none), the term number, and every candidate in priority order, the leader
// first. The term number is the broker revision at which the leader last
// changed, so it rises strictly with every change of leader and can fence
// writes made on the leader's behalf (see atomix/fence_validator.h).
//
// A candidacy belongs to the client's session (see atomix/client.h): when the
// session ends (Close, or expiry), the broker withdraws it, and the next
// candidate becomes leader.
//
// A candidate is named by its ID: the one given with WithCandidateID(), or
// else "session-<id>" from the client's session at the time of the call.
//
// Watch() delivers every term change in order as a Channel<Term> (see
// atomix/watch.h): each change of leader, term or candidates once. When
// history was lost (a resync) it delivers the current Term, unless it equals
// the last Term delivered; WithReplay() starts with the current Term.
//
// Errors: INVALID_ARGUMENT for a bad name or an empty candidate id;
// FAILED_PRECONDITION for a name bound to another primitive type, or a Leave
// of a candidacy another session owns; NOT_FOUND for an operation on a
// candidate that is absent; ALREADY_EXISTS for Enter with an id that another
// session holds; ABORTED for a lost session; plus UNAVAILABLE,
// DEADLINE_EXCEEDED and CANCELLED.
//
// Thread-safety: Election is a cheap, copyable, immutable handle (client +
// name + candidate id); all methods are safe to call from any thread.
#ifndef ATOMIX_ELECTION_H_
#define ATOMIX_ELECTION_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "atomix/call_options.h"
#include "atomix/channel.h"
#include "atomix/client.h"
#include "atomix/export.h"
#include "atomix/future.h"
#include "atomix/versioned.h"
#include "atomix/watch.h"

namespace atomix {

struct ATOMIX_EXPORT Term {
  // The leader's candidate id; empty when there is no leader.
  std::string leader;
  // The revision at which the leader last changed; 0 if there never was one.
  Version term = 0;
  // Every candidate in priority order, the leader first.
  std::vector<std::string> candidates;

  friend bool operator==(const Term&, const Term&) = default;
};

// Options for opening an election.
struct ATOMIX_EXPORT ElectionOptions : CallOptions {
  ElectionOptions() = default;
  ElectionOptions(const CallOptions& call) : CallOptions(call) {}  // NOLINT: implicit by design

  // The id this handle enters as. Empty: "session-<id>" from the session.
  std::string candidate_id;
};

inline ElectionOptions WithCandidateID(std::string id) {
  ElectionOptions o;
  o.candidate_id = std::move(id);
  return o;
}

class Election;

namespace internal {
class ClientCore;
// Opens an election over a client core. Not part of the public API.
ATOMIX_EXPORT absl::StatusOr<Election> GetElection(std::shared_ptr<ClientCore> core,
                                                   std::string_view name,
                                                   const ElectionOptions& options = {});
}  // namespace internal

class ATOMIX_EXPORT Election {
 public:
  const std::string& name() const { return name_; }

  // This handle's candidate id: the WithCandidateID() one, or
  // "session-<id>" for the client's current session (empty while the client
  // has none).
  std::string ID() const;

  // Adds this candidate, last in priority (the leader if there was none).
  // Entering again from the same session changes nothing.
  absl::StatusOr<Term> Enter(const CallOptions& options = {}) const;

  // Withdraws this candidate; the next one leads if it was the leader.
  absl::StatusOr<Term> Leave(const CallOptions& options = {}) const;

  // Makes `id` the leader (a new term).
  absl::StatusOr<Term> Anoint(std::string_view id, const CallOptions& options = {}) const;

  // Moves `id` to the top of the non-leader candidates, next in line.
  // Leadership does not change.
  absl::StatusOr<Term> Promote(std::string_view id, const CallOptions& options = {}) const;

  // Moves `id` last. A demoted leader is replaced by the next candidate.
  absl::StatusOr<Term> Demote(std::string_view id, const CallOptions& options = {}) const;

  // Removes `id`, whichever session entered it.
  absl::StatusOr<Term> Evict(std::string_view id, const CallOptions& options = {}) const;

  // The current term.
  absl::StatusOr<Term> GetTerm(const CallOptions& options = {}) const;

  // The same, without waiting (atomix/future.h). EnterAsync and LeaveAsync
  // of a session-named candidate need the client's session for its id: a
  // client made with Client::Create that has not connected yet has none,
  // and they wait for it on the calling thread (until the deadline) before
  // they send. Client::Connect returns with a session.
  Future<Term> EnterAsync(const CallOptions& options = {}) const;
  Future<Term> LeaveAsync(const CallOptions& options = {}) const;
  Future<Term> AnointAsync(std::string_view id, const CallOptions& options = {}) const;
  Future<Term> PromoteAsync(std::string_view id, const CallOptions& options = {}) const;
  Future<Term> DemoteAsync(std::string_view id, const CallOptions& options = {}) const;
  Future<Term> EvictAsync(std::string_view id, const CallOptions& options = {}) const;
  Future<Term> GetTermAsync(const CallOptions& options = {}) const;

  // Watches the election's terms; returns once the broker accepted the
  // watch.
  absl::StatusOr<Channel<Term>> Watch(const WatchOptions& options = {}) const;

 private:
  friend absl::StatusOr<Election> internal::GetElection(std::shared_ptr<internal::ClientCore> core,
                                                        std::string_view name,
                                                        const ElectionOptions& options);
  Election(std::shared_ptr<internal::ClientCore> core, std::string name, std::string candidate_id)
      : core_(std::move(core)), name_(std::move(name)), candidate_id_(std::move(candidate_id)) {}

  // Enter (or Leave) as this handle's candidate.
  Future<Term> SendAsCandidate(bool enter, const CallOptions& options) const;
  // ID(), waiting for the client's session if it has none yet.
  absl::StatusOr<std::string> ResolveID(const CallOptions& options) const;

  std::shared_ptr<internal::ClientCore> core_;
  std::string name_;
  std::string candidate_id_;  // empty: derived from the session
};

// Opens the election `name` through `client`, creating it (empty) if it does
// not exist. Fails early, with the broker's status, on a bad name
// (INVALID_ARGUMENT) or a name bound to another type (FAILED_PRECONDITION).
ATOMIX_EXPORT absl::StatusOr<Election> GetElection(const Client& client, std::string_view name,
                                                   const ElectionOptions& options = {});

// The same through DefaultClient().
ATOMIX_EXPORT absl::StatusOr<Election> GetElection(std::string_view name,
                                                   const ElectionOptions& options = {});

}  // namespace atomix

#endif  // ATOMIX_ELECTION_H_
