// Latch state machine.
#include "broker-sim/src/state/latch.h"

#include "absl/strings/str_cat.h"
#include "broker-sim/src/state/check.h"
#include "broker-sim/src/state/describe.h"
#include "broker-sim/src/state/errors.h"
#include "broker-sim/src/state/registry.h"
#include "broker-sim/src/state/saved_time.h"
#include "broker-sim/src/state/watch_events.h"

namespace atomix::broker {

v1::LatchResponse LatchState::Current() const {
  v1::LatchResponse out;
  out.set_count(count_);
  out.set_generation(generation_);
  return out;
}

void LatchState::Describe(v1::LatchWatch& out) const {
  out.set_count(count_);
  out.set_generation(generation_);
}

ApplyResult LatchState::Apply(const v1::Request& request,
                              const ApplyContext& ctx, v1::Response& response) {
  if (name_.empty()) name_ = request.name();
  if (!request.has_latch()) {
    SetError(response, absl::StatusCode::kInvalidArgument,
             absl::StrCat("latch ", QuoteName(request.name()),
                          ": not a latch operation"));
    return {};
  }
  const v1::LatchRequest& op = request.latch();
  switch (op.op_case()) {
    case v1::LatchRequest::kTrySetCount: {
      const int64_t count = op.try_set_count().count();
      if (count < 1 || count > ctx.limits.max_latch_count) {
        SetError(response, absl::StatusCode::kInvalidArgument,
                 absl::StrCat("latch ", QuoteName(request.name()),
                              ": count is ", count, "; it must be 1 .. ",
                              ctx.limits.max_latch_count));
        return {};
      }
      if (count_ != 0) {
        *response.mutable_latch() = Current();
        return {};
      }
      count_ = count;
      ++generation_;
      *response.mutable_latch() = Current();
      response.mutable_latch()->set_set(true);
      ApplyResult result = Mutated();
      Describe(*AddEvent(result, v1::WatchEvent::INSERTED, ctx.revision)
                    .mutable_latch());
      return result;
    }
    case v1::LatchRequest::kCountDown: {
      if (count_ == 0) {
        *response.mutable_latch() = Current();
        return {};
      }
      --count_;
      ApplyResult result = Mutated();
      Describe(*AddEvent(result, v1::WatchEvent::UPDATED, ctx.revision)
                    .mutable_latch());
      if (count_ == 0) {
        // Every waiter is answered in this step, in arrival order.
        while (!queue_.empty()) {
          const WaitQueue::Waiter waiter = queue_.Remove(queue_.front().order);
          v1::Response done;
          *done.mutable_latch() = Current();
          result.answers.push_back(Answer{waiter.token, std::move(done)});
        }
      }
      *response.mutable_latch() = Current();
      return result;
    }
    case v1::LatchRequest::kAwait: {
      if (count_ == 0) {
        *response.mutable_latch() = Current();
        return {};
      }
      queue_.Add(request, ctx);
      return Deferred();
    }
    case v1::LatchRequest::kGet: {
      *response.mutable_latch() = Current();
      response.mutable_latch()->set_waiters(
          static_cast<int64_t>(queue_.size()));
      return {};
    }
    case v1::LatchRequest::OP_NOT_SET:
      break;
  }
  SetError(response, absl::StatusCode::kInvalidArgument,
           absl::StrCat("latch ", QuoteName(request.name()),
                        ": request has no operation"));
  return {};
}

ApplyResult LatchState::EndSession(uint64_t session_id,
                                   const ApplyContext& ctx) {
  (void)ctx;
  ApplyResult result;
  queue_.AbortSession(session_id,
                      absl::StrCat("session ", session_id,
                                   " ended while waiting for latch ",
                                   QuoteName(name_)),
                      result);
  return result;
}

absl::Time LatchState::NextDeadline() const { return queue_.NextDeadline(); }

ApplyResult LatchState::Advance(const ApplyContext& ctx) {
  ApplyResult result;
  queue_.ExpireOne(ctx.now,
                   absl::StrCat("latch ", QuoteName(name_),
                                ": timed out waiting; count is ", count_),
                   result);
  return result;
}

void LatchState::Cancel(uint64_t token) { queue_.Cancel(token); }

void LatchState::Snapshot(const WatchFilter& filter,
                          v1::WatchSnapshot& out) const {
  (void)filter;
  Describe(*out.mutable_latch());
}

void LatchState::Describe(v1::PrimitiveInfo& out) const {
  std::string summary = absl::StrCat("count ", count_, " (generation ", generation_, ")");
  if (!queue_.empty()) absl::StrAppend(&summary, ", ", queue_.size(), " waiting");
  out.set_summary(std::move(summary));
  AddWaiters(queue_, out, [](const WaitQueue::Waiter&) { return std::string("await"); });
}

void LatchState::Save(atomix::log::v1::PrimitiveSave& out) const {
  auto* save = out.mutable_latch();
  save->set_name(name_);
  save->set_count(count_);
  save->set_generation(generation_);
  uint64_t next_order = 0;
  queue_.Save(*save->mutable_waiters(), next_order);
  save->set_next_order(next_order);
}

absl::Status LatchState::Load(const atomix::log::v1::PrimitiveSave& in) {
  if (!in.has_latch()) return WrongSave("latch");
  const auto& save = in.latch();
  if (save.count() < 0 || save.generation() < 0 ||
      (save.count() > 0 && save.generation() == 0)) {
    return absl::DataLossError(absl::StrCat("the saved latch holds count ",
                                            save.count(), " at generation ",
                                            save.generation()));
  }
  if (save.count() == 0 && save.waiters_size() > 0) {
    return absl::DataLossError(
        "the saved latch holds waiters while its count is zero");
  }
  absl::Status waiters = queue_.Load(save.waiters(), save.next_order(),
                                     /*need_session=*/false, absl::StrCat("latch ", QuoteName(save.name())));
  if (!waiters.ok()) return waiters;
  name_ = save.name();
  count_ = save.count();
  generation_ = save.generation();
  return absl::OkStatus();
}

namespace {

absl::Status ValidateLatch(const v1::Request& request, const Limits& limits) {
  const v1::LatchRequest& op = request.latch();
  switch (op.op_case()) {
    case v1::LatchRequest::kTrySetCount: {
      const int64_t count = op.try_set_count().count();
      if (count < 1 || count > limits.max_latch_count) {
        return absl::InvalidArgumentError(
            absl::StrCat("latch try_set_count: count is ", count,
                         "; it must be 1 .. ", limits.max_latch_count));
      }
      return absl::OkStatus();
    }
    case v1::LatchRequest::kCountDown:
    case v1::LatchRequest::kAwait:
    case v1::LatchRequest::kGet:
      return absl::OkStatus();
    case v1::LatchRequest::OP_NOT_SET:
      break;
  }
  return NoOperation("latch");
}

bool LatchIsRead(const v1::Request& request) {
  return request.latch().has_get();
}

// An await with a session waits as that session's: its end withdraws it.
bool LatchSessionOwned(const v1::Request& request) {
  return request.latch().has_await();
}

}  // namespace

const PrimitiveSpec& LatchPrimitive() {
  static const PrimitiveSpec spec{
      .type = v1::LATCH,
      .name = "latch",
      .a_name = "a latch",
      .op = v1::Request::kLatch,
      .make = &Make<LatchState>,
      .validate = &ValidateLatch,
      .session_owned = &LatchSessionOwned,
      .has_timers = true,
      .waits_outlive_streams = true,
      .is_read = &LatchIsRead,
      .right_of = &NeedsLock,
  };
  return spec;
}

}  // namespace atomix::broker
