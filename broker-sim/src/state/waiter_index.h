// WaiterIndex: which waiters of a WaitQueue belong to which session, so a
// session's end finds its own waiters without scanning everyone's (a
// session end costs its own waiters, not the queue's length).
//
// The owner reports every waiter that joins (Add) and leaves (Forget) the
// queue; waiters without a session are not indexed.
//
// Thread-safety: none; owned by one state machine.
#ifndef ATOMIX_BROKER_STATE_WAITER_INDEX_H_
#define ATOMIX_BROKER_STATE_WAITER_INDEX_H_

#include <cstdint>
#include <utility>
#include <vector>

#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "broker-sim/src/state/wait_queue.h"

namespace atomix::broker {

class WaiterIndex {
 public:
  void Add(const WaitQueue::Waiter& waiter) {
    if (waiter.session == 0) return;
    by_token_[waiter.token] = {waiter.session, waiter.order};
    by_session_[waiter.session].insert(waiter.order);
  }
  void Forget(uint64_t token) {
    auto it = by_token_.find(token);
    if (it == by_token_.end()) return;
    const auto [session, order] = it->second;
    by_token_.erase(it);
    auto s = by_session_.find(session);
    s->second.erase(order);
    if (s->second.empty()) by_session_.erase(s);
  }
  bool Waits(uint64_t session) const { return by_session_.contains(session); }
  // The orders of `session`'s waiters, in arrival order.
  std::vector<uint64_t> OrdersOf(uint64_t session) const {
    auto it = by_session_.find(session);
    if (it == by_session_.end()) return {};
    return std::vector<uint64_t>(it->second.begin(), it->second.end());
  }
  void Clear() {
    by_token_.clear();
    by_session_.clear();
  }

 private:
  absl::flat_hash_map<uint64_t, std::pair<uint64_t, uint64_t>> by_token_;
  absl::flat_hash_map<uint64_t, absl::btree_set<uint64_t>> by_session_;
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_STATE_WAITER_INDEX_H_
