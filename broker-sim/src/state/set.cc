// Set state machine.
#include "broker-sim/src/state/set.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "broker-sim/src/state/check.h"
#include "broker-sim/src/state/describe.h"
#include "broker-sim/src/state/errors.h"
#include "broker-sim/src/state/paging.h"
#include "broker-sim/src/state/registry.h"
#include "broker-sim/src/state/saved_time.h"
#include "broker-sim/src/state/watch_events.h"

namespace atomix::broker {

ApplyResult SetState::Apply(const v1::Request& request,
                            const ApplyContext& ctx, v1::Response& response) {
  if (!request.has_set()) {
    SetError(response, absl::StatusCode::kInvalidArgument,
             absl::StrCat("set ", QuoteName(request.name()),
                          ": not a set operation"));
    return {};
  }
  const v1::SetRequest& op = request.set();
  v1::SetResponse* out = nullptr;
  switch (op.op_case()) {
    case v1::SetRequest::kAdd: {
      out = response.mutable_set();
      const std::string& element = op.add().element();
      auto it = elements_.lower_bound(element);
      if (it != elements_.end() && it->first == element) {
        out->set_version(it->second);  // already present: no revision
        out->set_size(static_cast<int64_t>(elements_.size()));
        return {};
      }
      elements_.emplace_hint(it, element, ctx.revision);
      out->set_changed(true);
      out->set_version(ctx.revision);
      out->set_size(static_cast<int64_t>(elements_.size()));
      ApplyResult result = Mutated();
      SetEntry(*AddEvent(result, v1::WatchEvent::INSERTED, ctx.revision)
                    .mutable_entry(),
               element, "", ctx.revision);
      return result;
    }
    case v1::SetRequest::kRemove: {
      out = response.mutable_set();
      auto it = elements_.find(op.remove().element());
      if (it == elements_.end()) {
        out->set_size(static_cast<int64_t>(elements_.size()));
        return {};
      }
      ApplyResult result = Mutated();
      SetEntry(*AddEvent(result, v1::WatchEvent::REMOVED, ctx.revision)
                    .mutable_previous(),
               it->first, "", it->second);
      elements_.erase(it);
      out->set_changed(true);
      out->set_version(ctx.revision);
      out->set_size(static_cast<int64_t>(elements_.size()));
      return result;
    }
    case v1::SetRequest::kContains:
      response.mutable_set()->set_contains(
          elements_.contains(op.contains().element()));
      return {};
    case v1::SetRequest::kSize:
      response.mutable_set()->set_size(
          static_cast<int64_t>(elements_.size()));
      return {};
    case v1::SetRequest::kClear: {
      out = response.mutable_set();
      if (elements_.empty()) return {};
      ApplyResult result = Mutated();
      for (const auto& [element, version] : elements_) {
        SetEntry(*AddEvent(result, v1::WatchEvent::REMOVED, ctx.revision)
                      .mutable_previous(),
                 element, "", version);
      }
      elements_.clear();
      out->set_changed(true);
      out->set_version(ctx.revision);
      return result;
    }
    case v1::SetRequest::kList:
      List(op.list(), ctx.limits, *response.mutable_set());
      return {};
    case v1::SetRequest::OP_NOT_SET:
      break;
  }
  SetError(response, absl::StatusCode::kInvalidArgument,
           absl::StrCat("set ", QuoteName(request.name()),
                        ": request has no operation"));
  return {};
}

void SetState::Snapshot(const WatchFilter& filter,
                        v1::WatchSnapshot& out) const {
  (void)filter;  // only map watches filter
  for (const auto& [element, version] : elements_) {
    SetEntry(*out.add_entries(), element, "", version);
  }
}

void SetState::List(const v1::SetList& list, const Limits& limits,
                    v1::SetResponse& out) const {
  auto it = list.start_after().empty()
                ? elements_.begin()
                : elements_.upper_bound(list.start_after());
  const uint32_t limit = PageSize(list.limit(), limits);
  out.mutable_elements()->Reserve(
      static_cast<int>(std::min<size_t>(limit, elements_.size())));
  int64_t bytes = 0;
  uint32_t count = 0;
  for (; it != elements_.end() && count < limit; ++it) {
    const int64_t size = static_cast<int64_t>(it->first.size());
    if (count > 0 && bytes + size > limits.max_page_bytes) break;
    v1::SetElement* element = out.add_elements();
    element->set_element(it->first);
    element->set_version(it->second);
    bytes += size;
    ++count;
  }
  out.set_more(it != elements_.end());
  out.set_size(static_cast<int64_t>(elements_.size()));
}

void SetState::Describe(v1::PrimitiveInfo& out) const {
  out.set_summary(Counted(static_cast<int64_t>(elements_.size()), "element", "elements"));
}

void SetState::Save(atomix::log::v1::PrimitiveSave& out) const {
  auto* save = out.mutable_set();
  for (const auto& [element, version] : elements_) {
    auto* e = save->add_elements();
    e->set_element(element);
    e->set_version(version);
  }
}

absl::Status SetState::Load(const atomix::log::v1::PrimitiveSave& in) {
  if (!in.has_set()) return WrongSave("set");
  for (const auto& e : in.set().elements()) elements_[e.element()] = e.version();
  return absl::OkStatus();
}

namespace {

absl::Status CheckElement(const std::string& element, const Limits& limits) {
  return CheckBytes("element", element, limits.max_key_bytes, false);
}

absl::Status ValidateSet(const v1::Request& request, const Limits& limits) {
  const v1::SetRequest& op = request.set();
  switch (op.op_case()) {
    case v1::SetRequest::kAdd:
      return CheckElement(op.add().element(), limits);
    case v1::SetRequest::kRemove:
      return CheckElement(op.remove().element(), limits);
    case v1::SetRequest::kContains:
      return CheckElement(op.contains().element(), limits);
    case v1::SetRequest::kList:
      return CheckBytes("start_after", op.list().start_after(),
                        limits.max_key_bytes, true);
    case v1::SetRequest::kSize:
    case v1::SetRequest::kClear:
      return absl::OkStatus();
    case v1::SetRequest::OP_NOT_SET:
      break;
  }
  return NoOperation("set");
}

bool SetIsRead(const v1::Request& request) {
  const v1::SetRequest& op = request.set();
  return op.has_contains() || op.has_size() || op.has_list();
}

}  // namespace

const PrimitiveSpec& SetPrimitive() {
  static const PrimitiveSpec spec{
      .type = v1::SET,
      .name = "set",
      .a_name = "a set",
      .op = v1::Request::kSet,
      .make = &Make<SetState>,
      .validate = &ValidateSet,
      .is_read = &SetIsRead,
  };
  return spec;
}

}  // namespace atomix::broker
