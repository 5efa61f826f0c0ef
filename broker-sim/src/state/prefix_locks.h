// PrefixLocks: the prefix-lock table of one map (MapLockPrefix and friends).
//
// A prefix lock is an exclusive, fenced lease over every key that starts
// with its prefix, held by one session. Two prefixes conflict when one
// starts with the other, so the held prefixes never overlap; that makes the
// holder of a key (or of any prefix's ancestors) the greatest held prefix
// sorting at or before it, found in O(log n), and a held descendant the
// first held prefix at or after it.
//
// Requests that cannot be granted wait in a WaitQueue. A waiter is granted
// when it conflicts with no holder and with no earlier waiter still
// waiting, so a stream of short child locks cannot starve a parent that
// waits for them. A grant's fence is the revision of the step that granted
// it; the disjoint prefixes one step grants share it. When something leaves
// (an unlock, a session's end, a waiter that times out, is aborted or is
// cancelled) and a waiter overlaps what left, the waiters are scanned once
// in arrival order; a cancel has no step of its own, so it only marks the
// table as due (NextDeadline is then InfinitePast) and the next Advance
// grants.
//
// Costs: a key's holder O(log n); a lock request O(len * log w) (its
// ancestors among the waiters); an unlock, expiry or cancel that frees no
// waiter O(len * log w); one that may, a scan O(w * len * log w); a range
// check (Clear, RemovePrefix) O(log n + the locks it meets).
//
// The table reports no watch events: map watches carry entries only.
//
// Thread-safety: none; owned by one MapState.
#ifndef ATOMIX_BROKER_STATE_PREFIX_LOCKS_H_
#define ATOMIX_BROKER_STATE_PREFIX_LOCKS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "broker-sim/src/state/state_machine.h"
#include "broker-sim/src/state/wait_queue.h"

namespace atomix::broker {

class PrefixLocks {
 public:
  struct Holder {
    uint64_t session = 0;
    int64_t fence = 0;
  };
  using Held = absl::btree_map<std::string, Holder>;

  // Why a write is refused: the message and the holder's fence.
  struct Refusal {
    std::string message;
    int64_t fence = 0;
  };

  // The map's name, for messages.
  void set_name(const std::string& name) { name_ = name; }

  // Whether `request` (of the map's session, with its if_fence `fence` or
  // nullptr) may write `key`, or every key starting with `prefix` (a
  // range: Clear is the prefix ""). nullopt when it may.
  std::optional<Refusal> RefuseKey(const v1::Request& request,
                                   const std::string& key,
                                   const v1::Fence* fence) const;
  std::optional<Refusal> RefuseRange(const v1::Request& request,
                                     const std::string& prefix,
                                     const v1::Fence* fence) const;

  // The operations: MapLockPrefix (deferred when it waits), MapUnlockPrefix
  // and MapPrefixLocks.
  ApplyResult Lock(const v1::Request& request, const ApplyContext& ctx,
                   v1::Response& response);
  ApplyResult Unlock(const v1::Request& request, const ApplyContext& ctx,
                     v1::Response& response);
  void List(const v1::MapPrefixLocks& list, const Limits& limits,
            v1::MapResponse& out) const;

  // Releases every lock of `session` and aborts its waiters, then grants
  // whom that frees, all into `result` at ctx.revision.
  void EndSession(uint64_t session, const ApplyContext& ctx,
                  ApplyResult& result);
  // InfinitePast while a grant scan is due (after a cancel), else the
  // earliest waiter deadline.
  absl::Time NextDeadline() const;
  // The due scan, or one expired waiter (and the scan it makes due).
  void Advance(const ApplyContext& ctx, ApplyResult& result);
  void Cancel(uint64_t token);

  bool FenceHolds(int64_t fence) const { return by_fence_.contains(fence); }
  int64_t NewestFence() const {
    return by_fence_.empty() ? 0 : by_fence_.rbegin()->first;
  }

  // Adds the held prefixes in prefix order to out.holders ("prefix jobs/",
  // with its fence) and the waiters in arrival order to out.waiters, each
  // until it holds kMaxDescribed.
  void Describe(v1::PrimitiveInfo& out) const;

  void Save(atomix::log::v1::MapSave& out) const;
  // DATA_LOSS for overlapping or repeated prefixes, a lock without a
  // session or fence, or waiters without a session or with orders or
  // tokens that do not fit.
  absl::Status Load(const atomix::log::v1::MapSave& in);

  const Held& held() const { return held_; }
  size_t waiters() const { return queue_.size(); }

 private:
  // The held prefix that conflicts with `prefix`, or nullptr.
  const Held::value_type* ConflictingHolder(absl::string_view prefix) const;
  // The held prefix `key` starts with, or nullptr.
  const Held::value_type* HolderOf(absl::string_view key) const;
  // Whether `refuse` would refuse `request` the holder `h`; fills `out`.
  bool Refuses(const v1::Request& request, const v1::Fence* fence,
               const Held::value_type& h, const std::string& what,
               std::optional<Refusal>& out) const;

  void Grant(const std::string& prefix, uint64_t session, int64_t fence);
  void Release(Held::iterator it);
  void AddWaiting(const std::string& prefix);
  void RemoveWaiting(const std::string& prefix);
  // Grants, at ctx.revision, every waiter that conflicts with no holder and
  // no earlier waiter; with ctx null only says whether one would be.
  bool GrantWaiters(const ApplyContext* ctx, ApplyResult* result);
  // Whether a scan is worth making after `freed` prefixes were released or
  // left the queue: only a waiter that overlaps one of them can have become
  // grantable (or any, while a scan is already due). O(len * log w) each.
  bool MayGrant(const std::vector<std::string>& freed) const;

  std::string name_;
  Held held_;
  // How many held locks have each fence: one step's grants (the waiters
  // one unlock frees) share its revision.
  absl::btree_map<int64_t, int> by_fence_;
  absl::btree_set<std::pair<uint64_t, std::string>> by_session_;
  WaitQueue queue_;
  // The waiters' prefixes, with how many wait for each.
  absl::btree_map<std::string, int> waiting_;
  bool scan_due_ = false;
};

// Whether some prefix in `prefixes` conflicts with `prefix` (one starts
// with the other): its ancestors by lookup, a descendant by lower_bound.
template <class Ordered>
bool MeetsAny(const Ordered& prefixes, absl::string_view prefix) {
  for (size_t n = 0; n <= prefix.size(); ++n) {
    if (prefixes.contains(prefix.substr(0, n))) return true;
  }
  auto it = prefixes.lower_bound(prefix);
  if (it == prefixes.end()) return false;
  const auto& first = *it;
  absl::string_view key;
  if constexpr (requires { first.first; }) {
    key = first.first;
  } else {
    key = first;
  }
  return key.substr(0, prefix.size()) == prefix;
}

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_STATE_PREFIX_LOCKS_H_
