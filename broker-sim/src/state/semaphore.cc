// Semaphore state machine.
#include "broker-sim/src/state/semaphore.h"

#include <limits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "broker-sim/src/state/check.h"
#include "broker-sim/src/state/describe.h"
#include "broker-sim/src/state/errors.h"
#include "broker-sim/src/state/paging.h"
#include "broker-sim/src/state/registry.h"
#include "broker-sim/src/state/saved_time.h"
#include "broker-sim/src/state/watch_events.h"

namespace atomix::broker {
namespace {

absl::Status CheckCount(absl::string_view what, int64_t permits,
                        const Limits& limits) {
  if (permits >= 1 && permits <= limits.max_permits) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("semaphore ", what, " permits is ", permits,
                   "; it must be 1 to ", limits.max_permits));
}

absl::Status ValidateSemaphore(const v1::Request& request,
                               const Limits& limits) {
  const v1::SemaphoreRequest& op = request.semaphore();
  switch (op.op_case()) {
    case v1::SemaphoreRequest::kInit:
      return CheckCount("init", op.init().permits(), limits);
    case v1::SemaphoreRequest::kAcquire:
      return Both(NeedsSession(request, "semaphore acquire"),
                  CheckCount("acquire", op.acquire().permits(), limits));
    case v1::SemaphoreRequest::kRelease: {
      const v1::SemaphoreRelease& release = op.release();
      if (release.permits() < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("semaphore release permits is ", release.permits(),
                         "; it must be 0 (all) or more"));
      }
      if (release.has_if_version() && release.if_version() <= 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("semaphore release if_version is ",
                         release.if_version(), "; it must be positive"));
      }
      return NeedsSession(request, "semaphore release");
    }
    case v1::SemaphoreRequest::kGet:
      return absl::OkStatus();
    case v1::SemaphoreRequest::kSetPermits:
      return CheckCount("set_permits", op.set_permits().permits(), limits);
    case v1::SemaphoreRequest::kHolders:
      if (op.holders().start_after() < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("semaphore holders start_after is ",
                         op.holders().start_after(), "; it must be 0 or more"));
      }
      return absl::OkStatus();
    case v1::SemaphoreRequest::OP_NOT_SET:
      break;
  }
  return NoOperation("semaphore");
}

void FillGrant(v1::SemaphoreGrant& out, int64_t fence, uint64_t session,
               int64_t permits) {
  out.set_fence(fence);
  out.set_session_id(session);
  out.set_permits(permits);
}

}  // namespace

std::string SemaphoreState::Quoted() const {
  return absl::StrCat("semaphore ", QuoteName(name_));
}

void SemaphoreState::Counts(v1::SemaphoreResponse& out) const {
  out.set_permits(permits_);
  out.set_available(available());
}

ApplyResult SemaphoreState::Apply(const v1::Request& request,
                                  const ApplyContext& ctx,
                                  v1::Response& response) {
  if (name_.empty()) name_ = request.name();
  if (!request.has_semaphore()) {
    SetError(response, absl::StatusCode::kInvalidArgument,
             absl::StrCat(Quoted(), ": not a semaphore operation"));
    return {};
  }
  if (absl::Status valid = ValidateSemaphore(request, ctx.limits);
      !valid.ok()) {
    SetError(response, valid.code(), std::string(valid.message()));
    return {};
  }
  const v1::SemaphoreRequest& op = request.semaphore();
  switch (op.op_case()) {
    case v1::SemaphoreRequest::kInit: {
      const int64_t permits = op.init().permits();
      if (permits_ == 0) return SetCount(request, ctx, response);
      if (permits != permits_) {
        SetError(response, absl::StatusCode::kFailedPrecondition,
                 absl::StrCat(Quoted(), " has ", permits_,
                              " permits; init asked for ", permits),
                 permits_);
        return {};
      }
      Counts(*response.mutable_semaphore());  // version 0: nothing changed
      return {};
    }
    case v1::SemaphoreRequest::kAcquire:
      return Acquire(request, ctx, response);
    case v1::SemaphoreRequest::kRelease:
      return Release(request, ctx, response);
    case v1::SemaphoreRequest::kGet: {
      v1::SemaphoreResponse* out = response.mutable_semaphore();
      Counts(*out);
      out->set_version(NewestFence());
      out->set_waiters(static_cast<int64_t>(queue_.size()));
      return {};
    }
    case v1::SemaphoreRequest::kSetPermits:
      return SetCount(request, ctx, response);
    case v1::SemaphoreRequest::kHolders:
      Holders(op.holders(), ctx.limits, *response.mutable_semaphore());
      return {};
    case v1::SemaphoreRequest::OP_NOT_SET:
      break;
  }
  return {};  // not reached: the validation refused it
}

ApplyResult SemaphoreState::Acquire(const v1::Request& request,
                                    const ApplyContext& ctx,
                                    v1::Response& response) {
  const v1::SemaphoreAcquire& acquire = request.semaphore().acquire();
  if (permits_ == 0) {
    SetError(response, absl::StatusCode::kFailedPrecondition,
             absl::StrCat(Quoted(), " has no permit count yet; init sets it"),
             0);
    return {};
  }
  if (acquire.permits() > permits_) {
    SetError(response, absl::StatusCode::kFailedPrecondition,
             absl::StrCat(Quoted(), ": acquire asks for ", acquire.permits(),
                          " permits; its count is ", permits_),
             permits_);
    return {};
  }
  v1::SemaphoreResponse* out = response.mutable_semaphore();
  if (queue_.empty() && acquire.permits() <= available()) {
    ApplyResult result;
    Grant(request.session_id(), acquire.permits(), ctx, result);
    FinishEvents(result);
    out->set_acquired(true);
    out->set_version(ctx.revision);
    Counts(*out);
    return result;
  }
  if (acquire.try_only()) {
    out->set_acquired(false);
    out->set_version(NewestFence());
    Counts(*out);
    out->set_waiters(static_cast<int64_t>(queue_.size()));
    return {};
  }
  queue_.Add(request, ctx, acquire.permits());
  return Deferred();
}

ApplyResult SemaphoreState::Release(const v1::Request& request,
                                    const ApplyContext& ctx,
                                    v1::Response& response) {
  const v1::SemaphoreRelease& release = request.semaphore().release();
  const uint64_t session = request.session_id();
  auto owner = by_session_.find(session);
  const int64_t holds = owner == by_session_.end() ? 0 : owner->second.held;
  ApplyResult result;
  if (release.has_if_version()) {
    const GrantKey key{release.if_version(), session};
    auto it = grants_.find(key);
    if (it == grants_.end()) {
      SetError(response, absl::StatusCode::kFailedPrecondition,
               absl::StrCat(Quoted(), " has no grant at fence ",
                            release.if_version(), " for session ", session,
                            "; the session holds ", holds, " permits"),
               NewestFence());
      return {};
    }
    if (release.permits() > it->second) {
      SetError(
          response, absl::StatusCode::kFailedPrecondition,
          absl::StrCat(Quoted(), ": the grant at fence ", key.first, " holds ",
                       it->second, " permits, not ", release.permits()),
          it->second);
      return {};
    }
    Take(key, release.permits(), ctx, result);
  } else {
    if (holds == 0 || release.permits() > holds) {
      SetError(
          response, absl::StatusCode::kFailedPrecondition,
          absl::StrCat(Quoted(), ": session ", session, " holds ", holds,
                       " permits",
                       holds == 0 ? std::string()
                                  : absl::StrCat(", not ", release.permits())),
          holds);
      return {};
    }
    int64_t remaining = release.permits() == 0 ? holds : release.permits();
    while (remaining > 0) {
      const int64_t newest = *by_session_.at(session).fences.rbegin();
      remaining -= Take({newest, session}, remaining, ctx, result);
    }
  }
  GrantWaiters(ctx, result);
  FinishEvents(result);
  v1::SemaphoreResponse* out = response.mutable_semaphore();
  out->set_version(ctx.revision);
  Counts(*out);
  return result;
}

ApplyResult SemaphoreState::SetCount(const v1::Request& request,
                                     const ApplyContext& ctx,
                                     v1::Response& response) {
  const v1::SemaphoreRequest& op = request.semaphore();
  const int64_t before = permits_;
  permits_ = op.has_init() ? op.init().permits() : op.set_permits().permits();
  ApplyResult result = Mutated();
  AddEvent(result, v1::WatchEvent::UPDATED, ctx.revision);
  std::vector<uint64_t> too_big;
  if (permits_ < before) {  // only a lowered count can leave a waiter too big
    for (const auto& [order, waiter] : queue_) {
      if (waiter.amount > permits_) too_big.push_back(order);
    }
  }
  for (uint64_t order : too_big) {
    const WaitQueue::Waiter waiter = queue_.Remove(order);
    result.answers.push_back(
        ErrorAnswer(waiter.token, absl::StatusCode::kFailedPrecondition,
                    absl::StrCat(Quoted(), ": its count was set to ", permits_,
                                 ", below the ", waiter.amount,
                                 " permits this acquire asks for")));
  }
  GrantWaiters(ctx, result);
  FinishEvents(result);
  v1::SemaphoreResponse* out = response.mutable_semaphore();
  out->set_version(ctx.revision);
  Counts(*out);
  return result;
}

void SemaphoreState::Holders(const v1::SemaphoreHolders& op,
                             const Limits& limits,
                             v1::SemaphoreResponse& out) const {
  Counts(out);
  const uint32_t limit = PageSize(op.limit(), limits);
  uint32_t count = 0;
  int64_t bytes = 0;
  int64_t last_fence = -1;
  auto it = grants_.upper_bound(
      {op.start_after(), std::numeric_limits<uint64_t>::max()});
  for (; it != grants_.end(); ++it) {
    const auto& [key, permits] = *it;
    v1::SemaphoreGrant grant;
    FillGrant(grant, key.first, key.second, permits);
    const int64_t size = static_cast<int64_t>(grant.ByteSizeLong()) + 2;
    // A page ends between fences, never inside the grants of one step.
    const bool full =
        count >= limit || (count > 0 && bytes + size > limits.max_page_bytes);
    if (full && key.first != last_fence) break;
    *out.add_holders() = std::move(grant);
    ++count;
    bytes += size;
    last_fence = key.first;
  }
  out.set_more(it != grants_.end());
}

void SemaphoreState::Grant(uint64_t session, int64_t permits,
                           const ApplyContext& ctx, ApplyResult& result) {
  result.mutated = true;
  const GrantKey key{ctx.revision, session};
  auto [it, added] = grants_.try_emplace(key, 0);
  it->second += permits;
  held_ += permits;
  Owner& owner = by_session_[session];
  owner.held += permits;
  if (added) {
    ++fences_[ctx.revision];
    owner.fences.insert(ctx.revision);
  }
  v1::WatchEvent& event = AddEvent(
      result, added ? v1::WatchEvent::INSERTED : v1::WatchEvent::UPDATED,
      ctx.revision);
  FillGrant(*event.mutable_semaphore()->mutable_grant(), key.first, session,
            it->second);
}

int64_t SemaphoreState::Take(GrantKey key, int64_t permits,
                             const ApplyContext& ctx, ApplyResult& result) {
  result.mutated = true;
  auto it = grants_.find(key);
  const int64_t had = it->second;
  const int64_t take = permits <= 0 || permits >= had ? had : permits;
  held_ -= take;
  auto owner = by_session_.find(key.second);
  owner->second.held -= take;
  v1::WatchEvent& event = AddEvent(
      result, take == had ? v1::WatchEvent::REMOVED : v1::WatchEvent::UPDATED,
      ctx.revision);
  FillGrant(*event.mutable_semaphore()->mutable_grant(), key.first, key.second,
            take == had ? had : had - take);
  if (take < had) {
    it->second -= take;
    return take;
  }
  grants_.erase(it);
  auto fence = fences_.find(key.first);
  if (--fence->second == 0) fences_.erase(fence);
  owner->second.fences.erase(key.first);
  if (owner->second.fences.empty()) by_session_.erase(owner);
  return take;
}

void SemaphoreState::GrantWaiters(const ApplyContext& ctx,
                                  ApplyResult& result) {
  while (!queue_.empty() && queue_.front().amount <= available()) {
    const WaitQueue::Waiter waiter = queue_.Remove(queue_.front().order);
    Grant(waiter.session, waiter.amount, ctx, result);
    Answer answer{waiter.token, {}};
    v1::SemaphoreResponse* out = answer.response.mutable_semaphore();
    out->set_acquired(true);
    out->set_version(ctx.revision);
    Counts(*out);
    result.answers.push_back(std::move(answer));
  }
}

void SemaphoreState::FinishEvents(ApplyResult& result) const {
  for (v1::WatchEvent& event : result.events) {
    v1::SemaphoreWatch* detail = event.mutable_semaphore();
    detail->set_permits(permits_);
    detail->set_available(available());
  }
}

ApplyResult SemaphoreState::EndSession(uint64_t session_id,
                                       const ApplyContext& ctx) {
  ApplyResult result;
  queue_.AbortSession(session_id,
                      absl::StrCat("session ", session_id,
                                   " ended while waiting for ", Quoted()),
                      result);
  auto owner = by_session_.find(session_id);
  if (owner != by_session_.end()) {
    // Newest first, as a release without if_version.
    const std::vector<int64_t> fences(owner->second.fences.rbegin(),
                                      owner->second.fences.rend());
    for (int64_t fence : fences) Take({fence, session_id}, 0, ctx, result);
  }
  GrantWaiters(ctx, result);
  FinishEvents(result);
  return result;
}

absl::Time SemaphoreState::NextDeadline() const {
  // A waiter that fits at the head (its elder was cancelled): grant at once.
  if (!queue_.empty() && queue_.front().amount <= available()) {
    return absl::InfinitePast();
  }
  return queue_.NextDeadline();
}

ApplyResult SemaphoreState::Advance(const ApplyContext& ctx) {
  ApplyResult result;
  if (queue_.empty() || queue_.front().amount > available()) {
    queue_.ExpireOne(
        ctx.now,
        absl::StrCat(Quoted(), ": timed out waiting; ", available(), " of ",
                     permits_, " permits are available"),
        result);
  }
  GrantWaiters(ctx, result);
  FinishEvents(result);
  return result;
}

bool SemaphoreState::FenceHolds(int64_t fence) const {
  return fences_.contains(fence);
}

int64_t SemaphoreState::NewestFence() const {
  return fences_.empty() ? 0 : fences_.rbegin()->first;
}

void SemaphoreState::Snapshot(const WatchFilter& filter,
                              v1::WatchSnapshot& out) const {
  (void)filter;
  v1::SemaphoreWatch* detail = out.mutable_semaphore();
  detail->set_permits(permits_);
  detail->set_available(available());
  for (const auto& [key, permits] : grants_) {
    FillGrant(*detail->add_holders(), key.first, key.second, permits);
  }
}

void SemaphoreState::Describe(v1::PrimitiveInfo& out) const {
  std::string summary = absl::StrCat(available(), " of ", permits_, " permits available");
  if (!queue_.empty()) absl::StrAppend(&summary, ", ", queue_.size(), " waiting");
  out.set_summary(std::move(summary));
  for (auto it = grants_.begin(); it != grants_.end() && HasRoom(out.holders()); ++it) {
    AddHolding(*out.mutable_holders(), it->first.second,
               Counted(it->second, "permit", "permits"), it->first.first);
  }
  AddWaiters(queue_, out, [](const WaitQueue::Waiter& waiter) {
    return Counted(waiter.amount, "permit", "permits");
  });
}

void SemaphoreState::Save(atomix::log::v1::PrimitiveSave& out) const {
  auto* save = out.mutable_semaphore();
  save->set_name(name_);
  save->set_permits(permits_);
  for (const auto& [key, permits] : grants_) {
    auto* grant = save->add_grants();
    grant->set_fence(key.first);
    grant->set_session(key.second);
    grant->set_permits(permits);
  }
  uint64_t next_order = 0;
  queue_.Save(*save->mutable_waiters(), next_order);
  save->set_next_order(next_order);
}

absl::Status SemaphoreState::Load(const atomix::log::v1::PrimitiveSave& in) {
  if (!in.has_semaphore()) return WrongSave("semaphore");
  const auto& save = in.semaphore();
  const std::string what =
      absl::StrCat("saved semaphore ", QuoteName(save.name()));
  if (save.permits() < 0 ||
      (save.permits() == 0 &&
       (save.grants_size() > 0 || save.waiters_size() > 0))) {
    return absl::DataLossError(absl::StrCat(
        what, " has a permit count of ", save.permits(), " with ",
        save.grants_size(), " grants and ", save.waiters_size(), " waiters"));
  }
  SemaphoreState loaded;
  loaded.name_ = save.name();
  loaded.permits_ = save.permits();
  for (const auto& g : save.grants()) {
    const GrantKey key{g.fence(), g.session()};
    if (g.fence() <= 0 || g.session() == 0 || g.permits() <= 0 ||
        (!loaded.grants_.empty() && loaded.grants_.rbegin()->first >= key)) {
      return absl::DataLossError(absl::StrCat(
          what, " has a bad grant (fence ", g.fence(), ", session ",
          g.session(), ", permits ", g.permits(), ")"));
    }
    loaded.grants_.emplace(key, g.permits());
    loaded.held_ += g.permits();
    ++loaded.fences_[key.first];
    Owner& owner = loaded.by_session_[key.second];
    owner.held += g.permits();
    owner.fences.insert(key.first);
  }
  for (const auto& w : save.waiters()) {
    if (w.amount() < 1 || w.amount() > save.permits()) {
      return absl::DataLossError(absl::StrCat(
          what, " has a waiter asking for ", w.amount(), " permits"));
    }
  }
  // Checks the waiters' order, tokens and sessions.
  absl::Status waiters =
      loaded.queue_.Load(save.waiters(), save.next_order(),
                         /*need_session=*/true, absl::StrCat("semaphore ", QuoteName(save.name())));
  if (!waiters.ok()) return waiters;
  *this = std::move(loaded);
  return absl::OkStatus();
}

namespace {

bool SemaphoreIsRead(const v1::Request& request) {
  return request.semaphore().has_get() || request.semaphore().has_holders();
}

bool SemaphoreOwned(const v1::Request& request) {
  return request.semaphore().has_acquire();
}

// Changing the permit count acts on every holder; the rest is taking part.
AccessRight SemaphoreRight(const v1::Request& request) {
  return request.semaphore().has_set_permits() ? AccessRight::kAdmin
                                               : AccessRight::kLock;
}

}  // namespace

const PrimitiveSpec& SemaphorePrimitive() {
  static const PrimitiveSpec spec{
      .type = v1::SEMAPHORE,
      .name = "semaphore",
      .a_name = "a semaphore",
      .op = v1::Request::kSemaphore,
      .make = &Make<SemaphoreState>,
      .validate = &ValidateSemaphore,
      .grants_fences = true,
      .session_owned = &SemaphoreOwned,
      .has_timers = true,
      .is_read = &SemaphoreIsRead,
      .right_of = &SemaphoreRight,
  };
  return spec;
}

}  // namespace atomix::broker
