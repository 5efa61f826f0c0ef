// The prefix-lock table of a map.
#include "broker-sim/src/state/prefix_locks.h"

#include <algorithm>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "broker-sim/src/state/describe.h"
#include "broker-sim/src/state/errors.h"
#include "broker-sim/src/state/paging.h"

namespace atomix::broker {
namespace {

v1::Response Granted(int64_t fence) {
  v1::Response response;
  v1::MapResponse* out = response.mutable_map();
  out->set_acquired(true);
  out->set_version(fence);
  return response;
}

absl::Status Lost(absl::string_view problem) {
  return absl::DataLossError(
      absl::StrCat("the saved map's prefix locks are inconsistent: ", problem));
}

}  // namespace

const PrefixLocks::Held::value_type* PrefixLocks::HolderOf(
    absl::string_view key) const {
  // Held prefixes never overlap, so the only one `key` may start with is
  // the greatest one sorting at or before it.
  auto it = held_.upper_bound(key);
  if (it == held_.begin()) return nullptr;
  --it;
  return absl::StartsWith(key, it->first) ? &*it : nullptr;
}

const PrefixLocks::Held::value_type* PrefixLocks::ConflictingHolder(
    absl::string_view prefix) const {
  if (const auto* ancestor = HolderOf(prefix)) return ancestor;
  auto it = held_.lower_bound(prefix);
  if (it != held_.end() && absl::StartsWith(it->first, prefix)) return &*it;
  return nullptr;
}

bool PrefixLocks::Refuses(const v1::Request& request, const v1::Fence* fence,
                          const Held::value_type& h, const std::string& what,
                          std::optional<Refusal>& out) const {
  const Holder& holder = h.second;
  if (request.session_id() != 0 && request.session_id() == holder.session) {
    return false;
  }
  if (fence != nullptr && fence->lock() == name_ &&
      fence->version() == holder.fence) {
    return false;
  }
  out = Refusal{
      absl::StrCat("map ", QuoteName(name_), " ", what, " is under prefix ",
                   QuoteBytes(h.first), ", locked by session ", holder.session,
                   " at fence ", holder.fence,
                   "; write from that session or with that fence"),
      holder.fence};
  return true;
}

std::optional<PrefixLocks::Refusal> PrefixLocks::RefuseKey(
    const v1::Request& request, const std::string& key,
    const v1::Fence* fence) const {
  std::optional<Refusal> out;
  if (const auto* h = HolderOf(key)) {
    Refuses(request, fence, *h, absl::StrCat("key ", QuoteBytes(key)), out);
  }
  return out;
}

std::optional<PrefixLocks::Refusal> PrefixLocks::RefuseRange(
    const v1::Request& request, const std::string& prefix,
    const v1::Fence* fence) const {
  std::optional<Refusal> out;
  const std::string what =
      prefix.empty() ? std::string("range of every key")
                     : absl::StrCat("range of prefix ", QuoteBytes(prefix));
  if (const auto* h = HolderOf(prefix)) {
    Refuses(request, fence, *h, what, out);
    return out;  // an ancestor is held: no descendant can be
  }
  for (auto it = held_.lower_bound(prefix);
       it != held_.end() && absl::StartsWith(it->first, prefix); ++it) {
    if (Refuses(request, fence, *it, what, out)) break;
  }
  return out;
}

void PrefixLocks::Grant(const std::string& prefix, uint64_t session,
                        int64_t fence) {
  held_.emplace(prefix, Holder{session, fence});
  ++by_fence_[fence];
  by_session_.emplace(session, prefix);
}

void PrefixLocks::Release(Held::iterator it) {
  auto fence = by_fence_.find(it->second.fence);
  if (fence != by_fence_.end() && --fence->second == 0) by_fence_.erase(fence);
  by_session_.erase({it->second.session, it->first});
  held_.erase(it);
}

void PrefixLocks::AddWaiting(const std::string& prefix) { ++waiting_[prefix]; }

void PrefixLocks::RemoveWaiting(const std::string& prefix) {
  auto it = waiting_.find(prefix);
  if (it != waiting_.end() && --it->second == 0) waiting_.erase(it);
}

ApplyResult PrefixLocks::Lock(const v1::Request& request,
                              const ApplyContext& ctx, v1::Response& response) {
  const v1::MapLockPrefix& op = request.map().lock_prefix();
  const std::string& prefix = op.prefix();
  const Held::value_type* holder = ConflictingHolder(prefix);
  if (holder == nullptr && !MeetsAny(waiting_, prefix)) {
    Grant(prefix, request.session_id(), ctx.revision);
    *response.mutable_map() = Granted(ctx.revision).map();
    return Mutated();
  }
  if (op.try_only()) {
    v1::MapResponse* out = response.mutable_map();
    out->set_acquired(false);
    out->set_version(holder != nullptr ? holder->second.fence : 0);
    return {};
  }
  queue_.Add(request, ctx, 0, prefix);
  AddWaiting(prefix);
  return Deferred();
}

ApplyResult PrefixLocks::Unlock(const v1::Request& request,
                                const ApplyContext& ctx,
                                v1::Response& response) {
  const v1::MapUnlockPrefix& op = request.map().unlock_prefix();
  auto it = held_.find(op.prefix());
  bool owns = false;
  std::string expected;
  if (op.has_if_version()) {
    owns = it != held_.end() && it->second.fence == op.if_version();
    expected = absl::StrCat("fence ", op.if_version());
  } else {
    owns = it != held_.end() && request.session_id() != 0 &&
           it->second.session == request.session_id();
    expected = absl::StrCat("session ", request.session_id());
  }
  if (!owns) {
    const int64_t current = it != held_.end() ? it->second.fence : 0;
    SetError(
        response, absl::StatusCode::kFailedPrecondition,
        absl::StrCat("map ", QuoteName(name_), " prefix ",
                     QuoteBytes(op.prefix()), " is not locked by ", expected,
                     it != held_.end()
                         ? absl::StrCat("; session ", it->second.session,
                                        " holds it at fence ", current)
                         : std::string("; it is not locked")),
        current);
    return {};
  }
  const std::vector<std::string> freed = {it->first};
  Release(it);
  ApplyResult result = Mutated();
  if (MayGrant(freed)) GrantWaiters(&ctx, &result);
  response.mutable_map()->set_version(ctx.revision);
  return result;
}

bool PrefixLocks::MayGrant(const std::vector<std::string>& freed) const {
  if (scan_due_) return true;
  for (const std::string& prefix : freed) {
    if (MeetsAny(waiting_, prefix)) return true;
  }
  return false;
}

bool PrefixLocks::GrantWaiters(const ApplyContext* ctx, ApplyResult* result) {
  if (ctx != nullptr) scan_due_ = false;
  // The prefixes of earlier waiters that stay waiting.
  absl::btree_set<std::string> blocked;
  std::vector<uint64_t> granted;
  // A dry run (no ctx) stops at the first waiter it would grant.
  for (const auto& [order, waiter] : queue_) {
    if (ConflictingHolder(waiter.key) != nullptr ||
        MeetsAny(blocked, waiter.key)) {
      blocked.insert(waiter.key);
      continue;
    }
    if (ctx == nullptr) return true;
    granted.push_back(order);
    // Later waiters must not overlap it: it counts as held from here.
    Grant(waiter.key, waiter.session, ctx->revision);
  }
  for (uint64_t order : granted) {
    const WaitQueue::Waiter waiter = queue_.Remove(order);
    RemoveWaiting(waiter.key);
    result->answers.push_back(Answer{waiter.token, Granted(ctx->revision)});
    result->mutated = true;
  }
  return !granted.empty();
}

void PrefixLocks::List(const v1::MapPrefixLocks& list, const Limits& limits,
                       v1::MapResponse& out) const {
  const uint32_t limit = PageSize(list.limit(), limits);
  auto it = list.start_after().empty() ? held_.begin()
                                       : held_.upper_bound(list.start_after());
  int64_t bytes = 0;
  uint32_t count = 0;
  for (; it != held_.end() && count < limit; ++it) {
    const int64_t size = static_cast<int64_t>(it->first.size()) + 32;
    if (count > 0 && bytes + size > limits.max_page_bytes) break;
    v1::PrefixLock* lock = out.add_prefix_locks();
    lock->set_prefix(it->first);
    lock->set_fence(it->second.fence);
    lock->set_session_id(it->second.session);
    bytes += size;
    ++count;
  }
  out.set_more(it != held_.end());
}

void PrefixLocks::EndSession(uint64_t session, const ApplyContext& ctx,
                             ApplyResult& result) {
  std::vector<std::string> gone;
  for (const auto& [order, waiter] : queue_) {
    if (waiter.session == session) gone.push_back(waiter.key);
  }
  const bool aborted = queue_.AbortSession(
      session,
      absl::StrCat("session ", session,
                   " ended while waiting for a prefix lock of map ",
                   QuoteName(name_)),
      result);
  for (const std::string& prefix : gone) RemoveWaiting(prefix);
  std::vector<std::string> held;  // btree erasure moves iterators
  for (auto it = by_session_.lower_bound({session, std::string()});
       it != by_session_.end() && it->first == session; ++it) {
    held.push_back(it->second);
  }
  for (const std::string& prefix : held) Release(held_.find(prefix));
  const bool released = !held.empty();
  if (released) result.mutated = true;
  held.insert(held.end(), gone.begin(), gone.end());
  if ((released || aborted) && MayGrant(held)) GrantWaiters(&ctx, &result);
}

absl::Time PrefixLocks::NextDeadline() const {
  return scan_due_ ? absl::InfinitePast() : queue_.NextDeadline();
}

void PrefixLocks::Advance(const ApplyContext& ctx, ApplyResult& result) {
  if (scan_due_) {
    GrantWaiters(&ctx, &result);
    return;
  }
  std::optional<WaitQueue::Waiter> expired =
      queue_.ExpireOne(ctx.now,
                       absl::StrCat("map ", QuoteName(name_),
                                    ": timed out waiting for a prefix lock"),
                       result);
  if (!expired) return;
  RemoveWaiting(expired->key);
  if (MayGrant({expired->key})) GrantWaiters(&ctx, &result);
}

void PrefixLocks::Cancel(uint64_t token) {
  std::optional<std::string> prefix;
  for (const auto& [order, waiter] : queue_) {
    if (waiter.token == token) {
      prefix = waiter.key;
      break;
    }
  }
  if (!prefix || !queue_.Cancel(token)) return;
  RemoveWaiting(*prefix);
  // Whoever waited behind it may be free now; the next Advance grants.
  if (MayGrant({*prefix})) scan_due_ = GrantWaiters(nullptr, nullptr);
}

void PrefixLocks::Describe(v1::PrimitiveInfo& out) const {
  for (auto it = held_.begin(); it != held_.end() && HasRoom(out.holders()); ++it) {
    AddHolding(*out.mutable_holders(), it->second.session,
               absl::StrCat("prefix ", DescribeBytes(it->first)), it->second.fence);
  }
  AddWaiters(queue_, out, [](const WaitQueue::Waiter& waiter) {
    return absl::StrCat("prefix ", DescribeBytes(waiter.key));
  });
}

void PrefixLocks::Save(atomix::log::v1::MapSave& out) const {
  for (const auto& [prefix, holder] : held_) {
    auto* lock = out.add_prefix_locks();
    lock->set_prefix(prefix);
    lock->set_fence(holder.fence);
    lock->set_session(holder.session);
  }
  uint64_t next_order = 0;
  queue_.Save(*out.mutable_prefix_waiters(), next_order);
  out.set_next_order(next_order);
}

absl::Status PrefixLocks::Load(const atomix::log::v1::MapSave& in) {
  for (const auto& lock : in.prefix_locks()) {
    if (lock.session() == 0 || lock.fence() <= 0) {
      return Lost(absl::StrCat("prefix ", QuoteBytes(lock.prefix()),
                               " has session ", lock.session(), " and fence ",
                               lock.fence()));
    }
    if (ConflictingHolder(lock.prefix()) != nullptr) {
      return Lost(absl::StrCat("prefix ", QuoteBytes(lock.prefix()),
                               " at fence ", lock.fence(),
                               " overlaps another lock"));
    }
    Grant(lock.prefix(), lock.session(), lock.fence());
  }
  absl::Status waiters = queue_.Load(in.prefix_waiters(), in.next_order(),
                                     /*need_session=*/true, "map");
  if (!waiters.ok()) return waiters;
  for (const auto& w : in.prefix_waiters()) AddWaiting(w.key());
  // A cancel may have left a grant due; Advance makes it.
  scan_due_ = GrantWaiters(nullptr, nullptr);
  return absl::OkStatus();
}

}  // namespace atomix::broker
