// Value state machine.
#include "broker-sim/src/state/value.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "broker-sim/src/state/check.h"
#include "broker-sim/src/state/describe.h"
#include "broker-sim/src/state/errors.h"
#include "broker-sim/src/state/registry.h"
#include "broker-sim/src/state/saved_time.h"
#include "broker-sim/src/state/watch_events.h"

namespace atomix::broker {
namespace {

uint64_t Owner(bool ephemeral, const v1::Request& request) {
  return ephemeral ? request.session_id() : 0;
}

absl::Time Expiry(int64_t ttl_ms, const ApplyContext& ctx) {
  return ttl_ms > 0 ? ctx.now + absl::Milliseconds(ttl_ms)
                    : absl::InfiniteFuture();
}

}  // namespace

ApplyResult ValueState::EndSession(uint64_t session_id,
                                   const ApplyContext& ctx) {
  if (!present_ || session_ != session_id) return {};
  ApplyResult result = Mutated();
  TakeRemoved(result, v1::WatchEvent::REMOVED, ctx);
  return result;
}

absl::Time ValueState::NextDeadline() const {
  return present_ ? expires_ : absl::InfiniteFuture();
}

ApplyResult ValueState::Advance(const ApplyContext& ctx) {
  if (!present_ || expires_ > ctx.now) return {};
  ApplyResult result = Mutated();
  TakeRemoved(result, v1::WatchEvent::EXPIRED, ctx);
  return result;
}

void ValueState::TakeRemoved(ApplyResult& result, v1::WatchEvent::Type type,
                             const ApplyContext& ctx) {
  v1::MapEntry* previous =
      AddEvent(result, type, ctx.revision).mutable_previous();
  previous->set_value(std::move(value_));
  previous->set_version(version_);
  Clear();
}

ApplyResult ValueState::Write(std::string value, uint64_t owner,
                              int64_t ttl_ms, const ApplyContext& ctx,
                              v1::Response& response) {
  ApplyResult result = Mutated();
  v1::WatchEvent& event = AddEvent(
      result, present_ ? v1::WatchEvent::UPDATED : v1::WatchEvent::INSERTED,
      ctx.revision);
  if (present_) {
    event.mutable_previous()->set_value(std::move(value_));
    event.mutable_previous()->set_version(version_);
  }
  present_ = true;
  value_ = std::move(value);
  version_ = ctx.revision;
  session_ = owner;
  expires_ = Expiry(ttl_ms, ctx);
  event.mutable_entry()->set_value(value_);
  event.mutable_entry()->set_version(version_);
  response.mutable_value()->set_version(version_);
  return result;
}

void ValueState::Snapshot(const WatchFilter& filter,
                          v1::WatchSnapshot& out) const {
  (void)filter;  // only map watches filter
  if (!present_) return;
  SetEntry(*out.add_entries(), "", value_, version_);
}

void ValueState::Clear() {
  present_ = false;
  value_.clear();
  version_ = 0;
  session_ = 0;
  expires_ = absl::InfiniteFuture();
}

ApplyResult ValueState::Apply(const v1::Request& request,
                              const ApplyContext& ctx,
                              v1::Response& response) {
  if (!request.has_value()) {
    SetError(response, absl::StatusCode::kInvalidArgument,
             absl::StrCat("value ", QuoteName(request.name()),
                          ": not a value operation"));
    return {};
  }
  const v1::ValueRequest& op = request.value();
  switch (op.op_case()) {
    case v1::ValueRequest::kGet: {
      v1::ValueResponse* out = response.mutable_value();
      out->set_present(present_);
      if (present_) {
        out->set_value(value_);
        out->set_version(version_);
      }
      return {};
    }
    case v1::ValueRequest::kSet: {
      const v1::ValueSet& set = op.set();
      if (!CheckVersion(request, set.has_if_version(), set.if_version(),
                        response)) {
        return {};
      }
      return Write(set.value(), Owner(set.ephemeral(), request), set.ttl_ms(),
                   ctx, response);
    }
    case v1::ValueRequest::kInsert: {
      if (present_) {
        SetError(response, absl::StatusCode::kAlreadyExists,
                 absl::StrCat("value ", QuoteName(request.name()),
                              " already exists at version ", version_));
        return {};
      }
      return Write(op.insert().value(), Owner(op.insert().ephemeral(), request),
                   op.insert().ttl_ms(), ctx, response);
    }
    case v1::ValueRequest::kDelete: {
      const v1::ValueDelete& del = op.delete_();
      if (!present_) {
        SetError(response, absl::StatusCode::kNotFound,
                 absl::StrCat("value ", QuoteName(request.name()),
                              " is absent"));
        return {};
      }
      if (!CheckVersion(request, del.has_if_version(), del.if_version(),
                        response)) {
        return {};
      }
      v1::ValueResponse* out = response.mutable_value();
      out->set_present(true);
      out->set_value(value_);
      out->set_version(ctx.revision);
      ApplyResult result = Mutated();
      TakeRemoved(result, v1::WatchEvent::REMOVED, ctx);
      return result;
    }
    case v1::ValueRequest::OP_NOT_SET:
      break;
  }
  SetError(response, absl::StatusCode::kInvalidArgument,
           absl::StrCat("value ", QuoteName(request.name()),
                        ": request has no operation"));
  return {};
}

bool ValueState::CheckVersion(const v1::Request& request, bool has_if_version,
                              int64_t if_version,
                              v1::Response& response) const {
  if (!has_if_version) return true;
  if (!present_) {
    SetError(response, absl::StatusCode::kNotFound,
             absl::StrCat("value ", QuoteName(request.name()),
                          " is absent; expected version ", if_version));
    return false;
  }
  if (version_ != if_version) {
    SetError(response, absl::StatusCode::kFailedPrecondition,
             absl::StrCat("value ", QuoteName(request.name()),
                          ": expected version ", if_version,
                          ", current version is ", version_),
             version_);
    return false;
  }
  return true;
}

void ValueState::Describe(v1::PrimitiveInfo& out) const {
  if (!present_) {
    out.set_summary("absent");
    return;
  }
  out.set_summary(absl::StrCat(DescribeQuoted(value_), " (version ", version_, ")"));
  if (session_ != 0) AddHolding(*out.mutable_holders(), session_, "value");
}

void ValueState::Save(atomix::log::v1::PrimitiveSave& out) const {
  auto* save = out.mutable_value();
  save->set_present(present_);
  save->set_value(value_);
  save->set_version(version_);
  save->set_session(session_);
  save->set_expires_us(SaveTime(expires_));
}

absl::Status ValueState::Load(const atomix::log::v1::PrimitiveSave& in) {
  if (!in.has_value()) return WrongSave("value");
  const auto& save = in.value();
  present_ = save.present();
  value_ = save.value();
  version_ = save.version();
  session_ = save.session();
  expires_ = LoadTime(save.expires_us());
  return absl::OkStatus();
}

namespace {

absl::Status ValidateValue(const v1::Request& request, const Limits& limits) {
  const v1::ValueRequest& op = request.value();
  switch (op.op_case()) {
    case v1::ValueRequest::kSet: {
      const v1::ValueSet& set = op.set();
      return Both(
          CheckBytes("value", set.value(), limits.max_value_bytes, true),
          CheckWriteOptions(request, set.ephemeral(), set.ttl_ms(),
                            set.has_if_fence() ? &set.if_fence() : nullptr,
                            limits));
    }
    case v1::ValueRequest::kInsert:
      return Both(CheckBytes("value", op.insert().value(),
                             limits.max_value_bytes, true),
                  CheckWriteOptions(request, op.insert().ephemeral(),
                                    op.insert().ttl_ms(), nullptr, limits));
    case v1::ValueRequest::kDelete:
      return op.delete_().has_if_fence()
                 ? CheckFence(op.delete_().if_fence(), limits)
                 : absl::OkStatus();
    case v1::ValueRequest::kGet:
      return absl::OkStatus();
    case v1::ValueRequest::OP_NOT_SET:
      break;
  }
  return NoOperation("value");
}

const v1::Fence* ValueFence(const v1::Request& request) {
  const v1::ValueRequest& op = request.value();
  if (op.has_set() && op.set().has_if_fence()) return &op.set().if_fence();
  if (op.has_delete_() && op.delete_().has_if_fence()) {
    return &op.delete_().if_fence();
  }
  return nullptr;
}

bool ValueEphemeral(const v1::Request& request) {
  const v1::ValueRequest& op = request.value();
  return (op.has_set() && op.set().ephemeral()) ||
         (op.has_insert() && op.insert().ephemeral());
}

bool ValueIsRead(const v1::Request& request) {
  return request.value().has_get();
}

}  // namespace

const PrimitiveSpec& ValuePrimitive() {
  static const PrimitiveSpec spec{
      .type = v1::VALUE,
      .name = "value",
      .a_name = "a value",
      .op = v1::Request::kValue,
      .make = &Make<ValueState>,
      .validate = &ValidateValue,
      .fence_of = &ValueFence,
      .session_owned = &ValueEphemeral,
      .has_timers = true,
      .is_read = &ValueIsRead,
  };
  return spec;
}

}  // namespace atomix::broker
