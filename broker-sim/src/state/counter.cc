// Counter state machine.
#include "broker-sim/src/state/counter.h"

#include "absl/strings/str_cat.h"
#include "broker-sim/src/state/check.h"
#include "broker-sim/src/state/describe.h"
#include "broker-sim/src/state/errors.h"
#include "broker-sim/src/state/registry.h"
#include "broker-sim/src/state/saved_time.h"
#include "broker-sim/src/state/watch_events.h"

namespace atomix::broker {

ApplyResult CounterState::Apply(const v1::Request& request,
                                const ApplyContext& ctx,
                                v1::Response& response) {
  if (!request.has_counter()) {
    SetError(response, absl::StatusCode::kInvalidArgument,
             absl::StrCat("counter ", QuoteName(request.name()),
                          ": not a counter operation"));
    return {};
  }
  const v1::CounterRequest& op = request.counter();
  switch (op.op_case()) {
    case v1::CounterRequest::kGet: {
      v1::CounterResponse* out = response.mutable_counter();
      out->set_value(value_);
      out->set_version(version_);
      return {};
    }
    case v1::CounterRequest::kSet:
      return Write(op.set().value(), ctx, response);
    case v1::CounterRequest::kAdd: {
      int64_t sum = 0;
      if (__builtin_add_overflow(value_, op.add().delta(), &sum)) {
        SetError(response, absl::StatusCode::kOutOfRange,
                 absl::StrCat("counter ", QuoteName(request.name()),
                              ": adding ", op.add().delta(), " to ", value_,
                              " overflows int64"));
        return {};
      }
      return Write(sum, ctx, response);
    }
    case v1::CounterRequest::kCompareAndSet: {
      const v1::CounterCompareAndSet& cas = op.compare_and_set();
      if (cas.expect() != value_) {
        SetError(response, absl::StatusCode::kFailedPrecondition,
                 absl::StrCat("counter ", QuoteName(request.name()),
                              ": expected ", cas.expect(),
                              ", current value is ", value_),
                 value_);
        return {};
      }
      return Write(cas.update(), ctx, response);
    }
    case v1::CounterRequest::OP_NOT_SET:
      break;
  }
  SetError(response, absl::StatusCode::kInvalidArgument,
           absl::StrCat("counter ", QuoteName(request.name()),
                        ": request has no operation"));
  return {};
}

ApplyResult CounterState::Write(int64_t value, const ApplyContext& ctx,
                                v1::Response& response) {
  ApplyResult result = Mutated();
  v1::WatchEvent& event =
      AddEvent(result, v1::WatchEvent::UPDATED, ctx.revision);
  event.mutable_counter()->set_previous_value(value_);
  event.mutable_counter()->set_value(value);
  event.set_previous_value(value_);  // the 1.0 form
  event.set_value(value);
  value_ = value;
  version_ = ctx.revision;
  v1::CounterResponse* out = response.mutable_counter();
  out->set_value(value_);
  out->set_version(version_);
  return result;
}

void CounterState::Snapshot(const WatchFilter& filter,
                            v1::WatchSnapshot& out) const {
  (void)filter;
  out.mutable_counter()->set_value(value_);
  out.mutable_counter()->set_version(version_);
  out.set_value(value_);  // the 1.0 form
  out.set_version(version_);
}

void CounterState::Describe(v1::PrimitiveInfo& out) const {
  out.set_summary(absl::StrCat(value_));
}

void CounterState::Save(atomix::log::v1::PrimitiveSave& out) const {
  auto* save = out.mutable_counter();
  save->set_value(value_);
  save->set_version(version_);
}

absl::Status CounterState::Load(const atomix::log::v1::PrimitiveSave& in) {
  if (!in.has_counter()) return WrongSave("counter");
  value_ = in.counter().value();
  version_ = in.counter().version();
  return absl::OkStatus();
}

namespace {

absl::Status ValidateCounter(const v1::Request& request, const Limits&) {
  if (request.counter().op_case() == v1::CounterRequest::OP_NOT_SET) {
    return NoOperation("counter");
  }
  return absl::OkStatus();
}

bool CounterIsRead(const v1::Request& request) {
  return request.counter().has_get();
}

}  // namespace

const PrimitiveSpec& CounterPrimitive() {
  static const PrimitiveSpec spec{
      .type = v1::COUNTER,
      .name = "counter",
      .a_name = "a counter",
      .op = v1::Request::kCounter,
      .make = &Make<CounterState>,
      .validate = &ValidateCounter,
      .is_read = &CounterIsRead,
  };
  return spec;
}

}  // namespace atomix::broker
