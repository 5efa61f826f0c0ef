// Barrier: a cyclic distributed barrier for a fixed number of parties, kept
// by the broker.
//
//   absl::StatusOr<atomix::Barrier> step = atomix::GetBarrier("step", 3);
//   if (!step.ok()) return step.status();
//   for (;;) {
//     compute_my_part();
//     absl::StatusOr<atomix::BarrierPassed> passed =
//         step->Await(atomix::WithTimeout(std::chrono::seconds(30)));
//     if (absl::IsAborted(passed.status())) continue;  // broken: retry this round
//     if (!passed.ok()) return passed.status();
//     // every one of the 3 parties reached generation passed->generation
//   }
//
// GetBarrier(name, parties) opens the barrier and gives it its party count
// (1 .. 2^20) the first time; the count never changes afterwards, and
// opening with another count fails with FAILED_PRECONDITION
// (CurrentVersion(status) = the barrier's count). Await arrives for this
// client's session and waits until `parties` Awaits wait; the broker
// answers all of them in the step of the last arrival, in arrival order:
// each gets the generation that passed (0, 1, ...) and its arrival number
// (0 for the first, parties - 1 for the last), and the next generation
// starts empty. A barrier grants nothing that can be fenced: compare
// generations instead (there is no IfFence for a barrier, and a write
// fenced with a barrier's name fails with FAILED_PRECONDITION).
//
// Await is a blocking call. When its deadline (CallOptions, else
// ClientOptions::default_call_timeout) passes it fails with
// DEADLINE_EXCEEDED, and cancelling it through CallOptions::cancel returns
// CANCELLED at once; either way only this party is withdrawn, and the
// others go on waiting. A withdrawal that crosses the trip cannot be given
// back: the party was counted, and the others passed. A party belongs to
// its session, not to its connection: a reconnect does not withdraw it. If
// the session of a waiting party ends (Close, or expiry after its process died or stalled
// longer than the session TTL), the barrier breaks: every waiting party
// gets ABORTED, with a message naming that session, and the generation
// starts over with no one waiting.
//
// Errors: INVALID_ARGUMENT for a bad name or party count, or an Await
// without a session; FAILED_PRECONDITION for a name bound to another
// primitive type or another party count; DEADLINE_EXCEEDED, CANCELLED and
// ABORTED from Await as above; plus UNAVAILABLE.
//
// Watch() follows arrivals, trips, withdrawals and breaks as a
// Channel<BarrierEvent> (atomix/watch.h).
//
// Thread-safety: Barrier is a cheap, copyable, immutable handle (client +
// name + parties); all methods are safe to call from any thread at the
// same time. Several threads of one client may Await as several parties.
#ifndef ATOMIX_BARRIER_H_
#define ATOMIX_BARRIER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "atomix/call_options.h"
#include "atomix/channel.h"
#include "atomix/client.h"
#include "atomix/export.h"
#include "atomix/future.h"
#include "atomix/versioned.h"
#include "atomix/watch.h"

namespace atomix {

// What an Await returns: the generation that passed, this party's arrival
// number in it, and the revision of the step that tripped the barrier.
struct ATOMIX_EXPORT BarrierPassed {
  int64_t generation = 0;
  int64_t arrival = 0;
  Version revision = 0;
  friend bool operator==(const BarrierPassed&, const BarrierPassed&) = default;
};

// One event of a barrier watch (atomix/watch.h): the state after the change.
//   kInserted: the barrier got its party count (also: the state of a
//              WithReplay() watch, at the snapshot's revision).
//   kUpdated:  a party arrived or was withdrawn (timeout), the barrier
//              tripped (`tripped`; `generation` is then the next one), or it
//              broke (`broken_by` = the session whose end broke it). A
//              cancelled Await leaves without an event; the next event
//              counts without it.
//   kResync:   the state at `revision` after history was lost.
struct ATOMIX_EXPORT BarrierEvent {
  EventType type = EventType::kInserted;
  Version revision = 0;
  int64_t generation = 0;
  int64_t parties = 0;
  int64_t waiting = 0;
  bool tripped = false;
  uint64_t broken_by = 0;
  ResyncReason reason = ResyncReason::kNone;
  friend bool operator==(const BarrierEvent&, const BarrierEvent&) = default;
};

class Barrier;

namespace internal {
class ClientCore;
// Opens a barrier over a client core. Not part of the public API.
ATOMIX_EXPORT absl::StatusOr<Barrier> GetBarrier(std::shared_ptr<ClientCore> core,
                                                 std::string_view name, int64_t parties,
                                                 const CallOptions& options = {});
}  // namespace internal

class ATOMIX_EXPORT Barrier {
 public:
  const std::string& name() const { return name_; }

  // Arrives for this client's session and waits for the other parties; see
  // the header comment.
  absl::StatusOr<BarrierPassed> Await(const CallOptions& options = {}) const;
  // The party count.
  absl::StatusOr<int64_t> Parties(const CallOptions& options = {}) const;
  // How many parties wait now.
  absl::StatusOr<int64_t> Waiting(const CallOptions& options = {}) const;
  // The current generation: how many times the barrier tripped.
  absl::StatusOr<int64_t> Generation(const CallOptions& options = {}) const;

  // The same, without waiting (atomix/future.h).
  Future<BarrierPassed> AwaitAsync(const CallOptions& options = {}) const;
  Future<int64_t> PartiesAsync(const CallOptions& options = {}) const;
  Future<int64_t> WaitingAsync(const CallOptions& options = {}) const;
  Future<int64_t> GenerationAsync(const CallOptions& options = {}) const;

  // Watches the barrier; returns once the broker accepted the watch.
  absl::StatusOr<Channel<BarrierEvent>> Watch(const WatchOptions& options = {}) const;

 private:
  friend absl::StatusOr<Barrier> internal::GetBarrier(std::shared_ptr<internal::ClientCore> core,
                                                      std::string_view name, int64_t parties,
                                                      const CallOptions& options);
  Barrier(std::shared_ptr<internal::ClientCore> core, std::string name)
      : core_(std::move(core)), name_(std::move(name)) {}
  enum class Field { kParties, kWaiting, kGeneration };
  // One field of the barrier's state.
  Future<int64_t> GetField(Field field, const CallOptions& options) const;

  std::shared_ptr<internal::ClientCore> core_;
  std::string name_;
};

// Opens the barrier `name` through `client` and gives it `parties` parties
// if it has no count yet. Fails early, with the broker's status, on a bad
// name or count (INVALID_ARGUMENT), a name bound to another type or a
// barrier with another count (FAILED_PRECONDITION).
ATOMIX_EXPORT absl::StatusOr<Barrier> GetBarrier(const Client& client, std::string_view name,
                                                 int64_t parties, const CallOptions& options = {});
// The same through DefaultClient().
ATOMIX_EXPORT absl::StatusOr<Barrier> GetBarrier(std::string_view name, int64_t parties,
                                                 const CallOptions& options = {});

}  // namespace atomix

#endif  // ATOMIX_BARRIER_H_
