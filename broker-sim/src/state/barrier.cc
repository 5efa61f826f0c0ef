// Barrier state machine.
#include "broker-sim/src/state/barrier.h"

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

v1::Response Passed(int64_t generation, int64_t parties, int64_t arrival) {
  v1::Response response;
  v1::BarrierResponse* out = response.mutable_barrier();
  out->set_generation(generation);
  out->set_parties(parties);
  out->set_waiting(0);
  out->set_arrival(arrival);
  return response;
}

}  // namespace

void BarrierState::Describe(v1::BarrierWatch& out) const {
  out.set_generation(generation_);
  out.set_parties(parties_);
  out.set_waiting(static_cast<int64_t>(queue_.size()));
}

v1::BarrierWatch& BarrierState::Updated(ApplyResult& result,
                                        int64_t revision) const {
  result.mutated = true;
  v1::BarrierWatch& detail =
      *AddEvent(result, v1::WatchEvent::UPDATED, revision).mutable_barrier();
  Describe(detail);
  return detail;
}

ApplyResult BarrierState::Apply(const v1::Request& request,
                                const ApplyContext& ctx,
                                v1::Response& response) {
  if (name_.empty()) name_ = request.name();
  if (!request.has_barrier()) {
    SetError(response, absl::StatusCode::kInvalidArgument,
             absl::StrCat("barrier ", QuoteName(request.name()),
                          ": not a barrier operation"));
    return {};
  }
  const v1::BarrierRequest& op = request.barrier();
  switch (op.op_case()) {
    case v1::BarrierRequest::kInit: {
      const int64_t parties = op.init().parties();
      if (parties < 1 || parties > ctx.limits.max_parties) {
        SetError(response, absl::StatusCode::kInvalidArgument,
                 absl::StrCat("barrier ", QuoteName(request.name()),
                              ": parties is ", parties, "; it must be 1 .. ",
                              ctx.limits.max_parties));
        return {};
      }
      if (parties_ != 0 && parties_ != parties) {
        SetError(response, absl::StatusCode::kFailedPrecondition,
                 absl::StrCat("barrier ", QuoteName(request.name()), " has ",
                              parties_, " parties, not ", parties),
                 parties_);
        return {};
      }
      ApplyResult result;
      if (parties_ == 0) {
        parties_ = parties;
        result = Mutated();
        Describe(*AddEvent(result, v1::WatchEvent::INSERTED, ctx.revision)
                      .mutable_barrier());
      }
      v1::BarrierResponse* out = response.mutable_barrier();
      out->set_generation(generation_);
      out->set_parties(parties_);
      out->set_waiting(static_cast<int64_t>(queue_.size()));
      return result;
    }
    case v1::BarrierRequest::kAwait:
      return Await(request, ctx, response);
    case v1::BarrierRequest::kGet: {
      v1::BarrierResponse* out = response.mutable_barrier();
      out->set_generation(generation_);
      out->set_parties(parties_);
      out->set_waiting(static_cast<int64_t>(queue_.size()));
      return {};
    }
    case v1::BarrierRequest::OP_NOT_SET:
      break;
  }
  SetError(response, absl::StatusCode::kInvalidArgument,
           absl::StrCat("barrier ", QuoteName(request.name()),
                        ": request has no operation"));
  return {};
}

ApplyResult BarrierState::Await(const v1::Request& request,
                                const ApplyContext& ctx,
                                v1::Response& response) {
  if (request.session_id() == 0) {
    SetError(response, absl::StatusCode::kInvalidArgument,
             absl::StrCat("barrier ", QuoteName(request.name()),
                          ": await needs a session"));
    return {};
  }
  if (parties_ == 0) {
    SetError(response, absl::StatusCode::kFailedPrecondition,
             absl::StrCat("barrier ", QuoteName(request.name()),
                          " has no party count yet; Init it first"),
             0);
    return {};
  }
  if (static_cast<int64_t>(queue_.size()) + 1 < parties_) {
    queue_.Add(request, ctx);
    ApplyResult result = Deferred();
    Updated(result, ctx.revision);
    return result;
  }
  // The last party trips the barrier: everyone of this generation passes,
  // in arrival order, in this one step.
  ApplyResult result = Mutated();
  const int64_t tripped = generation_;
  int64_t arrival = 0;
  while (!queue_.empty()) {
    const WaitQueue::Waiter waiter = queue_.Remove(queue_.front().order);
    result.answers.push_back(
        Answer{waiter.token, Passed(tripped, parties_, arrival++)});
  }
  *response.mutable_barrier() = Passed(tripped, parties_, arrival).barrier();
  ++generation_;
  Updated(result, ctx.revision).set_tripped(true);
  return result;
}

ApplyResult BarrierState::EndSession(uint64_t session_id,
                                     const ApplyContext& ctx) {
  if (!queue_.Waits(session_id)) return {};
  // The barrier breaks: every party of this generation is let go.
  ApplyResult result;
  const std::string message =
      absl::StrCat("barrier ", QuoteName(name_), " broke: session ", session_id,
                   " ended while waiting");
  while (!queue_.empty()) {
    const WaitQueue::Waiter waiter = queue_.Remove(queue_.front().order);
    result.answers.push_back(
        ErrorAnswer(waiter.token, absl::StatusCode::kAborted, message));
  }
  Updated(result, ctx.revision).set_broken_by(session_id);
  return result;
}

absl::Time BarrierState::NextDeadline() const { return queue_.NextDeadline(); }

ApplyResult BarrierState::Advance(const ApplyContext& ctx) {
  ApplyResult result;
  const auto expired = queue_.ExpireOne(
      ctx.now,
      absl::StrCat("barrier ", QuoteName(name_), ": timed out waiting; ",
                   queue_.size(), " of ", parties_, " parties arrived"),
      result);
  if (expired) Updated(result, ctx.revision);
  return result;
}

void BarrierState::Cancel(uint64_t token) { queue_.Cancel(token); }

void BarrierState::Snapshot(const WatchFilter& filter,
                            v1::WatchSnapshot& out) const {
  (void)filter;
  Describe(*out.mutable_barrier());
}

void BarrierState::Describe(v1::PrimitiveInfo& out) const {
  out.set_summary(
      parties_ == 0
          ? absl::StrCat("no parties set (generation ", generation_, ")")
          : absl::StrCat(queue_.size(), " of ", parties_, " parties waiting (generation ",
                         generation_, ")"));
  AddWaiters(queue_, out, [](const WaitQueue::Waiter&) { return std::string("await"); });
}

void BarrierState::Save(atomix::log::v1::PrimitiveSave& out) const {
  auto* save = out.mutable_barrier();
  save->set_name(name_);
  save->set_parties(parties_);
  save->set_generation(generation_);
  uint64_t next_order = 0;
  queue_.Save(*save->mutable_waiters(), next_order);
  save->set_next_order(next_order);
}

absl::Status BarrierState::Load(const atomix::log::v1::PrimitiveSave& in) {
  if (!in.has_barrier()) return WrongSave("barrier");
  const auto& save = in.barrier();
  if (save.parties() < 0 || save.generation() < 0 ||
      (save.parties() == 0 && save.generation() != 0)) {
    return absl::DataLossError(
        absl::StrCat("the saved barrier holds ", save.parties(),
                     " parties at generation ", save.generation()));
  }
  if (save.waiters_size() >= save.parties() && save.waiters_size() > 0) {
    return absl::DataLossError(
        absl::StrCat("the saved barrier holds ", save.waiters_size(),
                     " waiters for ", save.parties(), " parties"));
  }
  absl::Status waiters = queue_.Load(save.waiters(), save.next_order(),
                                     /*need_session=*/true, absl::StrCat("barrier ", QuoteName(save.name())));
  if (!waiters.ok()) return waiters;
  name_ = save.name();
  parties_ = save.parties();
  generation_ = save.generation();
  return absl::OkStatus();
}

namespace {

absl::Status ValidateBarrier(const v1::Request& request, const Limits& limits) {
  const v1::BarrierRequest& op = request.barrier();
  switch (op.op_case()) {
    case v1::BarrierRequest::kInit: {
      const int64_t parties = op.init().parties();
      if (parties < 1 || parties > limits.max_parties) {
        return absl::InvalidArgumentError(
            absl::StrCat("barrier init: parties is ", parties,
                         "; it must be 1 .. ", limits.max_parties));
      }
      return absl::OkStatus();
    }
    case v1::BarrierRequest::kAwait:
      return NeedsSession(request, "barrier await");
    case v1::BarrierRequest::kGet:
      return absl::OkStatus();
    case v1::BarrierRequest::OP_NOT_SET:
      break;
  }
  return NoOperation("barrier");
}

bool BarrierIsRead(const v1::Request& request) {
  return request.barrier().has_get();
}

// A waiting party belongs to its session: its end breaks the barrier.
bool BarrierSessionOwned(const v1::Request& request) {
  return request.barrier().has_await();
}

}  // namespace

const PrimitiveSpec& BarrierPrimitive() {
  static const PrimitiveSpec spec{
      .type = v1::BARRIER,
      .name = "barrier",
      .a_name = "a barrier",
      .op = v1::Request::kBarrier,
      .make = &Make<BarrierState>,
      .validate = &ValidateBarrier,
      .session_owned = &BarrierSessionOwned,
      .has_timers = true,
      .waits_outlive_streams = true,
      .is_read = &BarrierIsRead,
      .right_of = &NeedsLock,
  };
  return spec;
}

}  // namespace atomix::broker
