// Read-write lock state machine.
#include "broker-sim/src/state/read_write_lock.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "broker-sim/src/state/check.h"
#include "broker-sim/src/state/describe.h"
#include "broker-sim/src/state/errors.h"
#include "broker-sim/src/state/registry.h"
#include "broker-sim/src/state/saved_time.h"
#include "broker-sim/src/state/watch_events.h"

namespace atomix::broker {
namespace {

bool IsMode(int64_t mode) { return mode == v1::READ || mode == v1::WRITE; }

std::string Prefix(absl::string_view name) {
  return absl::StrCat("read-write lock ", QuoteName(name));
}

}  // namespace

v1::LockMode ReadWriteLockState::mode() const {
  if (writer_ != 0) return v1::WRITE;
  return readers_ > 0 ? v1::READ : v1::LOCK_MODE_UNSPECIFIED;
}

int64_t ReadWriteLockState::writer_fence() const {
  return writer_ == 0 ? 0 : grants_.at(writer_).fence;
}

bool ReadWriteLockState::Compatible(v1::LockMode mode) const {
  return mode == v1::READ ? writer_ == 0 : grants_.empty();
}

bool ReadWriteLockState::HeadGrantable() const {
  return !queue_.empty() &&
         Compatible(static_cast<v1::LockMode>(queue_.front().amount));
}

std::string ReadWriteLockState::Held() const {
  if (writer_ != 0)
    return absl::StrCat("the writer's fence is ", writer_fence());
  if (readers_ == 0) return "it is free";
  return absl::StrCat("it has ", readers_,
                      readers_ == 1 ? " reader" : " readers");
}

void ReadWriteLockState::FillState(v1::ReadWriteLockResponse& out) const {
  out.set_mode(mode());
  out.set_readers(readers_);
  out.set_writer_fence(writer_fence());
}

ApplyResult ReadWriteLockState::Apply(const v1::Request& request,
                                      const ApplyContext& ctx,
                                      v1::Response& response) {
  if (name_.empty()) name_ = request.name();
  if (!request.has_read_write_lock()) {
    SetError(response, absl::StatusCode::kInvalidArgument,
             absl::StrCat(Prefix(request.name()),
                          ": not a read-write lock operation"));
    return {};
  }
  const v1::ReadWriteLockRequest& op = request.read_write_lock();
  switch (op.op_case()) {
    case v1::ReadWriteLockRequest::kAcquire:
      return ApplyAcquire(request, ctx, response);
    case v1::ReadWriteLockRequest::kRelease:
      return ApplyRelease(request, ctx, response);
    case v1::ReadWriteLockRequest::kGet: {
      const v1::ReadWriteLockGet& get = op.get();
      v1::ReadWriteLockResponse* out = response.mutable_read_write_lock();
      FillState(*out);
      out->set_locked(get.has_with_version() ? FenceHolds(get.with_version())
                                             : !grants_.empty());
      out->set_waiters(static_cast<int64_t>(queue_.size()));
      return {};
    }
    case v1::ReadWriteLockRequest::OP_NOT_SET:
      break;
  }
  SetError(response, absl::StatusCode::kInvalidArgument,
           absl::StrCat(Prefix(request.name()), ": request has no operation"));
  return {};
}

ApplyResult ReadWriteLockState::ApplyAcquire(const v1::Request& request,
                                             const ApplyContext& ctx,
                                             v1::Response& response) {
  const v1::ReadWriteLockAcquire& acquire = request.read_write_lock().acquire();
  if (request.session_id() == 0 || !IsMode(acquire.mode())) {
    SetError(response, absl::StatusCode::kInvalidArgument,
             absl::StrCat(Prefix(request.name()),
                          request.session_id() == 0
                              ? ": acquire needs a session"
                              : ": acquire mode must be READ or WRITE"));
    return {};
  }
  if (grants_.size() + queue_.size() >= kMaxGrantsAndWaiters) {
    SetError(response, absl::StatusCode::kResourceExhausted,
             absl::StrCat(Prefix(name_), " has ", grants_.size(),
                          " grants and ", queue_.size(),
                          " waiters; the limit is ", kMaxGrantsAndWaiters));
    return {};
  }
  v1::ReadWriteLockResponse* out = response.mutable_read_write_lock();
  if (queue_.empty() && Compatible(acquire.mode())) {
    ApplyResult result = Mutated();
    AddGrant(request.session_id(), acquire.mode(), ctx, result);
    out->set_acquired(true);
    out->set_version(ctx.revision);
    FillState(*out);
    return result;
  }
  if (acquire.try_only()) {
    out->set_acquired(false);
    FillState(*out);
    return {};
  }
  queue_.Add(request, ctx, acquire.mode());
  return Deferred();
}

ApplyResult ReadWriteLockState::ApplyRelease(const v1::Request& request,
                                             const ApplyContext& ctx,
                                             v1::Response& response) {
  const v1::ReadWriteLockRelease& release = request.read_write_lock().release();
  if (request.session_id() == 0 || !IsMode(release.mode())) {
    SetError(response, absl::StatusCode::kInvalidArgument,
             absl::StrCat(Prefix(request.name()),
                          request.session_id() == 0
                              ? ": release needs a session"
                              : ": release mode must be READ or WRITE"));
    return {};
  }
  const uint64_t session = request.session_id();
  const int mode = release.mode();
  const int64_t fence = release.has_if_version() ? release.if_version() : 0;
  auto it = owned_.lower_bound(OwnedKey{session, mode, fence, 0});
  const bool found = it != owned_.end() && std::get<0>(*it) == session &&
                     std::get<1>(*it) == mode &&
                     (!release.has_if_version() || std::get<2>(*it) == fence);
  if (!found) {
    SetError(response, absl::StatusCode::kFailedPrecondition,
             absl::StrCat(
                 Prefix(name_), " has no ", v1::LockMode_Name(release.mode()),
                 " grant of session ", session,
                 release.has_if_version() ? absl::StrCat(" with fence ", fence)
                                          : std::string(),
                 "; ", Held()),
             writer_fence());
    return {};
  }
  ApplyResult result = Mutated();
  RemoveGrant(std::get<3>(*it), ctx, result);
  GrantWaiting(ctx, result);
  v1::ReadWriteLockResponse* out = response.mutable_read_write_lock();
  out->set_version(ctx.revision);
  FillState(*out);
  return result;
}

void ReadWriteLockState::Insert(uint64_t id, const Grant& grant) {
  grants_.emplace(id, grant);
  owned_.emplace(grant.session, grant.mode, grant.fence, id);
  ++fences_[grant.fence];
  if (grant.mode == v1::WRITE) {
    writer_ = id;
  } else {
    ++readers_;
  }
}

void ReadWriteLockState::AddGrant(uint64_t session, v1::LockMode mode,
                                  const ApplyContext& ctx,
                                  ApplyResult& result) {
  const uint64_t id = next_grant_++;
  const Grant grant{ctx.revision, session, mode};
  Insert(id, grant);
  Describe(v1::WatchEvent::INSERTED, grant, ctx, result);
}

void ReadWriteLockState::RemoveGrant(uint64_t id, const ApplyContext& ctx,
                                     ApplyResult& result) {
  auto it = grants_.find(id);
  const Grant grant = it->second;
  grants_.erase(it);
  owned_.erase(OwnedKey{grant.session, grant.mode, grant.fence, id});
  auto fence = fences_.find(grant.fence);
  if (--fence->second == 0) fences_.erase(fence);
  if (grant.mode == v1::WRITE) {
    writer_ = 0;
  } else {
    --readers_;
  }
  result.mutated = true;
  Describe(v1::WatchEvent::REMOVED, grant, ctx, result);
}

void ReadWriteLockState::GrantWaiting(const ApplyContext& ctx,
                                      ApplyResult& result) {
  while (HeadGrantable()) {
    const WaitQueue::Waiter waiter = queue_.Remove(queue_.front().order);
    const auto mode = static_cast<v1::LockMode>(waiter.amount);
    result.mutated = true;
    AddGrant(waiter.session, mode, ctx, result);
    v1::Response answer;
    v1::ReadWriteLockResponse* out = answer.mutable_read_write_lock();
    out->set_acquired(true);
    out->set_version(ctx.revision);
    FillState(*out);
    result.answers.push_back(Answer{waiter.token, std::move(answer)});
  }
}

void ReadWriteLockState::Describe(v1::WatchEvent::Type type, const Grant& grant,
                                  const ApplyContext& ctx,
                                  ApplyResult& result) const {
  v1::ReadWriteLockWatch* detail =
      AddEvent(result, type, ctx.revision).mutable_read_write_lock();
  detail->set_mode(mode());
  detail->set_readers(readers_);
  v1::ReadWriteLockGrant* out = detail->mutable_grant();
  out->set_fence(grant.fence);
  out->set_session_id(grant.session);
  out->set_mode(grant.mode);
}

void ReadWriteLockState::Snapshot(const WatchFilter& filter,
                                  v1::WatchSnapshot& out) const {
  (void)filter;
  v1::ReadWriteLockWatch* detail = out.mutable_read_write_lock();
  detail->set_mode(mode());
  detail->set_readers(readers_);
  for (const auto& [id, grant] : grants_) {
    v1::ReadWriteLockGrant* holder = detail->add_holders();
    holder->set_fence(grant.fence);
    holder->set_session_id(grant.session);
    holder->set_mode(grant.mode);
  }
}

ApplyResult ReadWriteLockState::EndSession(uint64_t session_id,
                                           const ApplyContext& ctx) {
  ApplyResult result;
  queue_.AbortSession(session_id,
                      absl::StrCat("session ", session_id,
                                   " ended while waiting for ", Prefix(name_)),
                      result);
  std::vector<uint64_t> ids;
  for (auto it = owned_.lower_bound(OwnedKey{session_id, 0, 0, 0});
       it != owned_.end() && std::get<0>(*it) == session_id; ++it) {
    ids.push_back(std::get<3>(*it));
  }
  // In grant order, so watchers see the oldest grant go first.
  std::sort(ids.begin(), ids.end());
  for (uint64_t id : ids) RemoveGrant(id, ctx, result);
  // A waiter of this session at the head may have held back others.
  GrantWaiting(ctx, result);
  return result;
}

absl::Time ReadWriteLockState::NextDeadline() const {
  // A head that can be granted (its blocker timed out or was cancelled,
  // which takes no revision) is due at once: Advance grants it.
  if (HeadGrantable()) return absl::InfinitePast();
  return queue_.NextDeadline();
}

ApplyResult ReadWriteLockState::Advance(const ApplyContext& ctx) {
  ApplyResult result;
  if (!HeadGrantable()) {
    queue_.ExpireOne(
        ctx.now, absl::StrCat(Prefix(name_), ": timed out waiting; ", Held()),
        result);
  }
  GrantWaiting(ctx, result);
  return result;
}

void ReadWriteLockState::Describe(v1::PrimitiveInfo& out) const {
  const auto mode_name = [](int64_t mode) {
    return std::string(mode == v1::WRITE ? "write" : "read");
  };
  std::string summary = writer_ != 0    ? absl::StrCat("written (fence ", writer_fence(), ")")
                        : readers_ > 0 ? absl::StrCat("read by ", readers_)
                                       : std::string("free");
  if (!queue_.empty()) absl::StrAppend(&summary, ", ", queue_.size(), " waiting");
  out.set_summary(std::move(summary));
  for (auto it = grants_.begin(); it != grants_.end() && HasRoom(out.holders()); ++it) {
    AddHolding(*out.mutable_holders(), it->second.session, mode_name(it->second.mode),
               it->second.fence);
  }
  AddWaiters(queue_, out,
             [&](const WaitQueue::Waiter& waiter) { return mode_name(waiter.amount); });
}

void ReadWriteLockState::Save(atomix::log::v1::PrimitiveSave& out) const {
  auto* save = out.mutable_read_write_lock();
  save->set_name(name_);
  for (const auto& [id, grant] : grants_) {
    auto* g = save->add_grants();
    g->set_id(id);
    g->set_fence(grant.fence);
    g->set_session(grant.session);
    g->set_mode(grant.mode);
  }
  uint64_t next_order = 0;
  queue_.Save(*save->mutable_waiters(), next_order);
  save->set_next_order(next_order);
  save->set_next_grant(next_grant_);
}

absl::Status ReadWriteLockState::Load(
    const atomix::log::v1::PrimitiveSave& in) {
  if (!in.has_read_write_lock()) return WrongSave("read-write lock");
  const auto& save = in.read_write_lock();
  auto bad = [&](absl::string_view why) {
    return absl::DataLossError(absl::StrCat("the saved read-write lock ",
                                            QuoteName(save.name()), " ", why));
  };
  int64_t writers = 0;
  uint64_t last_id = 0;
  int64_t last_fence = 0;
  for (const auto& g : save.grants()) {
    if (!IsMode(g.mode())) return bad("has a grant with no mode");
    if (g.id() <= last_id || g.id() >= save.next_grant()) {
      return bad("has grant ids out of order or past next_grant");
    }
    if (g.fence() <= 0 || g.fence() < last_fence || g.session() == 0) {
      return bad("has a grant with a bad fence or no session");
    }
    last_id = g.id();
    last_fence = g.fence();
    if (g.mode() == v1::WRITE) ++writers;
  }
  if (writers > 1 || (writers == 1 && save.grants_size() > 1)) {
    return bad("has a writer alongside other grants");
  }
  for (const auto& w : save.waiters()) {
    if (!IsMode(w.amount())) return bad("has a waiter with no mode");
  }
  // Checks the waiters' order, tokens and sessions before anything loads.
  absl::Status waiters = queue_.Load(save.waiters(), save.next_order(),
                                     /*need_session=*/true, absl::StrCat("read-write lock ", QuoteName(save.name())));
  if (!waiters.ok()) return waiters;
  name_ = save.name();
  next_grant_ = save.next_grant();
  for (const auto& g : save.grants()) {
    Insert(g.id(),
           Grant{g.fence(), g.session(), static_cast<v1::LockMode>(g.mode())});
  }
  return absl::OkStatus();
}

namespace {

absl::Status CheckMode(v1::LockMode mode, absl::string_view what) {
  if (IsMode(mode)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "read-write lock ", what, " mode is ",
      mode == v1::LOCK_MODE_UNSPECIFIED ? std::string("unspecified")
                                        : absl::StrCat(static_cast<int>(mode)),
      "; it must be READ or WRITE"));
}

absl::Status ValidateReadWriteLock(const v1::Request& request, const Limits&) {
  const v1::ReadWriteLockRequest& op = request.read_write_lock();
  switch (op.op_case()) {
    case v1::ReadWriteLockRequest::kAcquire:
      return Both(NeedsSession(request, "read-write lock acquire"),
                  CheckMode(op.acquire().mode(), "acquire"));
    case v1::ReadWriteLockRequest::kRelease: {
      absl::Status status =
          Both(NeedsSession(request, "read-write lock release"),
               CheckMode(op.release().mode(), "release"));
      if (status.ok() && op.release().has_if_version() &&
          op.release().if_version() <= 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("read-write lock release if_version is ",
                         op.release().if_version(), "; it must be positive"));
      }
      return status;
    }
    case v1::ReadWriteLockRequest::kGet:
      return absl::OkStatus();
    case v1::ReadWriteLockRequest::OP_NOT_SET:
      break;
  }
  return NoOperation("read-write lock");
}

bool ReadWriteLockIsRead(const v1::Request& request) {
  return request.read_write_lock().has_get();
}

}  // namespace

const PrimitiveSpec& ReadWriteLockPrimitive() {
  static const PrimitiveSpec spec{
      .type = v1::READ_WRITE_LOCK,
      .name = "read-write lock",
      .a_name = "a read-write lock",
      .op = v1::Request::kReadWriteLock,
      .make = &Make<ReadWriteLockState>,
      .validate = &ValidateReadWriteLock,
      .grants_fences = true,
      .session_owned = &AlwaysOwned,
      .has_timers = true,
      .is_read = &ReadWriteLockIsRead,
      .right_of = &NeedsLock,
  };
  return spec;
}

}  // namespace atomix::broker
