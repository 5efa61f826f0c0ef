// Value state machine.
#include "broker-sim/src/state/value.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "broker-sim/src/state/errors.h"

namespace atomix::broker {

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
      present_ = true;
      value_ = set.value();
      version_ = ctx.revision;
      response.mutable_value()->set_version(version_);
      return Mutated();
    }
    case v1::ValueRequest::kInsert: {
      if (present_) {
        SetError(response, absl::StatusCode::kAlreadyExists,
                 absl::StrCat("value ", QuoteName(request.name()),
                              " already exists at version ", version_));
        return {};
      }
      present_ = true;
      value_ = op.insert().value();
      version_ = ctx.revision;
      response.mutable_value()->set_version(version_);
      return Mutated();
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
      out->set_value(std::move(value_));
      out->set_version(ctx.revision);
      present_ = false;
      value_.clear();
      version_ = 0;
      return Mutated();
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

}  // namespace atomix::broker
