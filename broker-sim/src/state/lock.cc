// Lock state machine.
#include "broker-sim/src/state/lock.h"

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

v1::Response Granted(int64_t fence) {
  v1::Response response;
  v1::LockResponse* out = response.mutable_lock();
  out->set_acquired(true);
  out->set_locked(true);
  out->set_version(fence);
  return response;
}

}  // namespace

ApplyResult LockState::Apply(const v1::Request& request,
                             const ApplyContext& ctx, v1::Response& response) {
  if (name_.empty()) name_ = request.name();
  if (!request.has_lock()) {
    SetError(response, absl::StatusCode::kInvalidArgument,
             absl::StrCat("lock ", QuoteName(request.name()),
                          ": not a lock operation"));
    return {};
  }
  const v1::LockRequest& op = request.lock();
  switch (op.op_case()) {
    case v1::LockRequest::kAcquire: {
      if (request.session_id() == 0) {
        SetError(response, absl::StatusCode::kInvalidArgument,
                 absl::StrCat("lock ", QuoteName(request.name()),
                              ": acquire needs a session"));
        return {};
      }
      if (!holder_ && queue_.empty()) {
        holder_ = Holder{request.session_id(), ctx.revision};
        *response.mutable_lock() = Granted(ctx.revision).lock();
        ApplyResult result = Mutated();
        DescribeEvent(AddEvent(result, v1::WatchEvent::INSERTED, ctx.revision));
        return result;
      }
      if (op.acquire().try_only()) {
        v1::LockResponse* out = response.mutable_lock();
        out->set_acquired(false);
        out->set_locked(holder_.has_value());
        out->set_version(fence());
        return {};
      }
      queue_.Add(request, ctx);
      return Deferred();
    }
    case v1::LockRequest::kRelease: {
      const v1::LockRelease& release = op.release();
      bool owns = false;
      std::string expected;
      if (release.has_if_version()) {
        owns = holder_ && holder_->fence == release.if_version();
        expected = absl::StrCat("fence ", release.if_version());
      } else {
        owns = holder_ && request.session_id() != 0 &&
               holder_->session == request.session_id();
        expected = absl::StrCat("session ", request.session_id());
      }
      if (!owns) {
        SetError(response, absl::StatusCode::kFailedPrecondition,
                 absl::StrCat("lock ", QuoteName(request.name()),
                              " is not held by ", expected,
                              holder_ ? absl::StrCat("; current fence is ",
                                                     holder_->fence)
                                      : std::string("; it is free")),
                 fence());
        return {};
      }
      ApplyResult result = Mutated();
      ReleaseAndGrantNext(ctx, result);
      response.mutable_lock()->set_version(ctx.revision);
      return result;
    }
    case v1::LockRequest::kGet: {
      const v1::LockGet& get = op.get();
      v1::LockResponse* out = response.mutable_lock();
      out->set_locked(holder_.has_value() &&
                      (!get.has_with_version() ||
                       holder_->fence == get.with_version()));
      out->set_version(fence());
      return {};
    }
    case v1::LockRequest::OP_NOT_SET:
      break;
  }
  SetError(response, absl::StatusCode::kInvalidArgument,
           absl::StrCat("lock ", QuoteName(request.name()),
                        ": request has no operation"));
  return {};
}

void LockState::ReleaseAndGrantNext(const ApplyContext& ctx,
                                    ApplyResult& result) {
  holder_.reset();
  result.mutated = true;
  if (queue_.empty()) {
    DescribeEvent(AddEvent(result, v1::WatchEvent::REMOVED, ctx.revision));
    return;
  }
  const WaitQueue::Waiter waiter = queue_.Remove(queue_.front().order);
  holder_ = Holder{waiter.session, ctx.revision};
  result.answers.push_back(Answer{waiter.token, Granted(ctx.revision)});
  DescribeEvent(AddEvent(result, v1::WatchEvent::UPDATED, ctx.revision));
}

void LockState::FillHolder(v1::LockHolder& out) const {
  if (!holder_) return;
  out.set_fence(holder_->fence);
  out.set_session_id(holder_->session);
}

void LockState::DescribeEvent(v1::WatchEvent& event) const {
  FillHolder(*event.mutable_holder());
  *event.mutable_lock() = event.holder();  // the 1.0 form
}

void LockState::Snapshot(const WatchFilter& filter,
                         v1::WatchSnapshot& out) const {
  (void)filter;
  FillHolder(*out.mutable_holder());
  *out.mutable_lock() = out.holder();  // the 1.0 form
}

void LockState::Describe(v1::PrimitiveInfo& out) const {
  std::string summary =
      holder_ ? absl::StrCat("held by session ", holder_->session, " (fence ",
                             holder_->fence, ")")
              : std::string("free");
  if (!queue_.empty()) absl::StrAppend(&summary, ", ", queue_.size(), " waiting");
  out.set_summary(std::move(summary));
  if (holder_) AddHolding(*out.mutable_holders(), holder_->session, "lock", holder_->fence);
  AddWaiters(queue_, out, [](const WaitQueue::Waiter&) { return std::string("lock"); });
}

ApplyResult LockState::EndSession(uint64_t session_id,
                                  const ApplyContext& ctx) {
  ApplyResult result;
  queue_.AbortSession(session_id,
                      absl::StrCat("session ", session_id,
                                   " ended while waiting for lock ", QuoteName(name_)),
                      result);
  if (holder_ && holder_->session == session_id) {
    ReleaseAndGrantNext(ctx, result);
  }
  return result;
}

absl::Time LockState::NextDeadline() const { return queue_.NextDeadline(); }

ApplyResult LockState::Advance(const ApplyContext& ctx) {
  ApplyResult result;
  queue_.ExpireOne(ctx.now,
                   absl::StrCat("lock ", QuoteName(name_),
                                ": timed out waiting; current fence is ", fence()),
                   result);
  return result;
}

void LockState::Cancel(uint64_t token) { queue_.Cancel(token); }

void LockState::Save(atomix::log::v1::PrimitiveSave& out) const {
  auto* save = out.mutable_lock();
  save->set_name(name_);
  save->set_held(holder_.has_value());
  if (holder_) {
    save->set_holder_session(holder_->session);
    save->set_holder_fence(holder_->fence);
  }
  google::protobuf::RepeatedPtrField<atomix::log::v1::Waiter> waiters;
  uint64_t next_order = 0;
  queue_.Save(waiters, next_order);
  save->set_next_order(next_order);
  for (const atomix::log::v1::Waiter& waiter : waiters) {
    auto* w = save->add_waiters();
    w->set_order(waiter.order());
    w->set_token(waiter.token());
    w->set_session(waiter.session());
    w->set_deadline_us(waiter.deadline_us());
  }
}

absl::Status LockState::Load(const atomix::log::v1::PrimitiveSave& in) {
  if (!in.has_lock()) return WrongSave("lock");
  const auto& save = in.lock();
  name_ = save.name();
  if (save.held()) holder_ = Holder{save.holder_session(), save.holder_fence()};
  google::protobuf::RepeatedPtrField<atomix::log::v1::Waiter> waiters;
  for (const auto& w : save.waiters()) {
    atomix::log::v1::Waiter* waiter = waiters.Add();
    waiter->set_order(w.order());
    waiter->set_token(w.token());
    waiter->set_session(w.session());
    waiter->set_deadline_us(w.deadline_us());
  }
  return queue_.Load(waiters, save.next_order(), /*need_session=*/true,
                     absl::StrCat("lock ", QuoteName(save.name())));
}

namespace {

absl::Status ValidateLock(const v1::Request& request, const Limits&) {
  const v1::LockRequest& op = request.lock();
  switch (op.op_case()) {
    case v1::LockRequest::kAcquire:
      return NeedsSession(request, "lock acquire");
    case v1::LockRequest::kRelease:
      if (op.release().has_if_version()) return absl::OkStatus();
      return NeedsSession(request, "lock release without if_version");
    case v1::LockRequest::kGet:
      return absl::OkStatus();
    case v1::LockRequest::OP_NOT_SET:
      break;
  }
  return NoOperation("lock");
}

bool LockIsRead(const v1::Request& request) {
  return request.lock().has_get();
}

}  // namespace

const PrimitiveSpec& LockPrimitive() {
  static const PrimitiveSpec spec{
      .type = v1::LOCK,
      .name = "lock",
      .a_name = "a lock",
      .op = v1::Request::kLock,
      .make = &Make<LockState>,
      .validate = &ValidateLock,
      .grants_fences = true,
      .session_owned = &AlwaysOwned,
      .has_timers = true,
      .is_read = &LockIsRead,
      .right_of = &NeedsLock,
  };
  return spec;
}

}  // namespace atomix::broker
