// WaitQueue: the deferred requests of one state machine, in arrival order.
//
// Every blocking operation (lock and semaphore acquires, prefix locks,
// takes, awaits) waits the same way: it joins the queue with its deferred
// token, its session and a deadline from Request.timeout_ms on the broker's
// logical clock; it leaves when the machine grants it, when its deadline
// passes (DEADLINE_EXCEEDED), when its session ends (ABORTED), or when its
// caller cancels it (no answer). The queue keeps those indexes; what a
// waiter asks for (`amount`, `key`) means what its machine says.
//
//   if (cannot grant) { queue_.Add(request, ctx, permits); return Deferred(); }
//   ...
//   for (auto it = queue_.begin(); it != queue_.end();) { ... queue_.Remove(...) }
//
// Thread-safety: none; owned by one state machine.
#ifndef ATOMIX_BROKER_STATE_WAIT_QUEUE_H_
#define ATOMIX_BROKER_STATE_WAIT_QUEUE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "atomix/log/v1/snapshot.pb.h"
#include "broker-sim/src/state/state_machine.h"

namespace atomix::broker {

class WaitQueue {
 public:
  struct Waiter {
    uint64_t order = 0;  // arrival order, unique in the queue
    uint64_t token = 0;  // ApplyContext::token of the deferred request
    uint64_t session = 0;
    absl::Time deadline = absl::InfiniteFuture();
    int64_t amount = 0;  // what it asks for: permits, a mode, a timeout
    std::string key;     // or a key (a prefix)
  };
  using Map = absl::btree_map<uint64_t, Waiter>;

  // Queues the request being applied: ctx.token, request.session_id, and a
  // deadline request.timeout_ms after ctx.now (none for 0). Returns its
  // order.
  uint64_t Add(const v1::Request& request, const ApplyContext& ctx,
               int64_t amount = 0, std::string key = {});

  bool empty() const { return waiters_.empty(); }
  size_t size() const { return waiters_.size(); }
  // In arrival order.
  Map::const_iterator begin() const { return waiters_.begin(); }
  Map::const_iterator end() const { return waiters_.end(); }
  const Waiter& front() const { return waiters_.begin()->second; }
  // Calls fn(const Waiter&) for the first `limit` waiters in arrival order:
  // O(limit), whatever the queue's length.
  template <class Fn>
  void ForEach(size_t limit, Fn&& fn) const {
    for (auto it = waiters_.begin(); it != waiters_.end() && limit > 0;
         ++it, --limit) {
      fn(it->second);
    }
  }

  // Removes the waiter and returns it (granted: the caller answers it).
  Waiter Remove(uint64_t order);

  // Cancel(token): forgets that waiter, unanswered. Whether it was here.
  bool Cancel(uint64_t token);

  // Removes every waiter of `session`, answering each with ABORTED and
  // `message` into result.answers. Whether there was any. Costs the
  // session's own waiters, not the queue's length.
  bool AbortSession(uint64_t session, absl::string_view message,
                    ApplyResult& result);

  // Whether `session` has a waiter here, and the orders of its waiters in
  // arrival order.
  bool Waits(uint64_t session) const;
  std::vector<uint64_t> OrdersOf(uint64_t session) const;

  // The earliest deadline; InfiniteFuture when none.
  absl::Time NextDeadline() const;
  // Removes the waiter whose deadline passed first (<= now) and answers it
  // with DEADLINE_EXCEEDED and `message` into result.answers; returns it, or
  // nullopt when none is due.
  std::optional<Waiter> ExpireOne(absl::Time now, absl::string_view message,
                                  ApplyResult& result);

  // Snapshots: the waiters in arrival order and the next order.
  void Save(google::protobuf::RepeatedPtrField<atomix::log::v1::Waiter>& out,
            uint64_t& next_order) const;
  // DATA_LOSS naming `type` (and loading nothing) unless the orders strictly
  // increase below `next_order`, the tokens are unique and, with
  // `need_session`, every waiter has a session.
  absl::Status Load(
      const google::protobuf::RepeatedPtrField<atomix::log::v1::Waiter>& in,
      uint64_t next_order, bool need_session, absl::string_view type);

 private:
  void Insert(Waiter waiter);

  uint64_t next_order_ = 0;
  Map waiters_;
  absl::flat_hash_map<uint64_t, uint64_t> order_of_token_;
  absl::btree_set<std::pair<absl::Time, uint64_t>> deadlines_;  // (deadline, order)
  absl::btree_set<std::pair<uint64_t, uint64_t>> by_session_;   // (session, order)
};

// An answer to a deferred request that failed with `code` and `message`.
Answer ErrorAnswer(uint64_t token, absl::StatusCode code, std::string message);

// The result of a request that now waits in a queue.
inline ApplyResult Deferred() {
  ApplyResult result;
  result.deferred = true;
  return result;
}

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_STATE_WAIT_QUEUE_H_
