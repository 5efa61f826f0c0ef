// List state machine.
#include "broker-sim/src/state/list.h"

#include <algorithm>
#include <utility>

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

void FillItem(int64_t index, const std::string& value, int64_t version,
              v1::MapEntry& out) {
  out.set_value(value);
  out.set_version(version);
  out.set_index(index);
}

int64_t SizeOf(const ListState::Items& items) {
  return static_cast<int64_t>(items.size());
}

}  // namespace

bool ListState::CheckIndex(const v1::Request& request, int64_t index,
                           bool end_ok, v1::Response& response) const {
  const int64_t size = SizeOf(items_);
  if (index < 0) {  // the validator refuses these; never index with one
    SetError(response, absl::StatusCode::kInvalidArgument,
             absl::StrCat("index is ", index, "; it must not be negative"));
    return false;
  }
  if (index < size || (end_ok && index == size)) return true;
  SetError(response, absl::StatusCode::kOutOfRange,
           absl::StrCat("list ", QuoteName(request.name()), " index ", index,
                        " is out of range; the size is ", size));
  return false;
}

bool ListState::CheckVersion(const v1::Request& request, int64_t index,
                             bool has_if_version, int64_t if_version,
                             v1::Response& response) const {
  if (!has_if_version) return true;
  const int64_t current = items_[index].version;
  if (current == if_version) return true;
  SetError(response, absl::StatusCode::kFailedPrecondition,
           absl::StrCat("list ", QuoteName(request.name()), " index ", index,
                        ": expected version ", if_version,
                        ", current version is ", current),
           current);
  return false;
}

ApplyResult ListState::Apply(const v1::Request& request,
                             const ApplyContext& ctx, v1::Response& response) {
  if (!request.has_list()) {
    SetError(response, absl::StatusCode::kInvalidArgument,
             absl::StrCat("list ", QuoteName(request.name()),
                          ": not a list operation"));
    return {};
  }
  const v1::ListRequest& op = request.list();
  switch (op.op_case()) {
    case v1::ListRequest::kAppend:
      if (op.append().values().empty()) break;  // the validator refuses it
      return Append(op.append(), ctx, *response.mutable_list());
    case v1::ListRequest::kInsert:
      return Insert(request, ctx, response);
    case v1::ListRequest::kSet:
      return Set(request, ctx, response);
    case v1::ListRequest::kRemove:
      return Remove(request, ctx, response);
    case v1::ListRequest::kGet:
      Get(request, response);
      return {};
    case v1::ListRequest::kSize:
      response.mutable_list()->set_size(SizeOf(items_));
      return {};
    case v1::ListRequest::kSlice:
      Slice(request, ctx.limits, response);
      return {};
    case v1::ListRequest::kPop:
      return Pop(op.pop(), ctx, *response.mutable_list());
    case v1::ListRequest::kClear:
      return Clear(ctx, *response.mutable_list());
    case v1::ListRequest::OP_NOT_SET:
      break;
  }
  SetError(response, absl::StatusCode::kInvalidArgument,
           absl::StrCat("list ", QuoteName(request.name()),
                        op.has_append() ? ": append has no values"
                                        : ": request has no operation"));
  return {};
}

ApplyResult ListState::Append(const v1::ListAppend& append,
                              const ApplyContext& ctx, v1::ListResponse& out) {
  ApplyResult result = Mutated();
  const int64_t first = SizeOf(items_);
  for (const std::string& value : append.values()) {
    FillItem(SizeOf(items_), value, ctx.revision,
             *AddEvent(result, v1::WatchEvent::INSERTED, ctx.revision)
                  .mutable_entry());
    items_.push_back(Item{value, ctx.revision});
  }
  out.set_version(ctx.revision);
  FillItem(first, items_[first].value, ctx.revision, *out.mutable_entry());
  out.set_size(SizeOf(items_));
  return result;
}

ApplyResult ListState::Insert(const v1::Request& request,
                              const ApplyContext& ctx, v1::Response& response) {
  const v1::ListInsert& insert = request.list().insert();
  if (!CheckIndex(request, insert.index(), /*end_ok=*/true, response)) {
    return {};
  }
  items_.insert(items_.begin() + insert.index(),
                Item{insert.value(), ctx.revision});
  ApplyResult result = Mutated();
  v1::ListResponse* out = response.mutable_list();
  out->set_version(ctx.revision);
  FillItem(insert.index(), insert.value(), ctx.revision, *out->mutable_entry());
  out->set_size(SizeOf(items_));
  *AddEvent(result, v1::WatchEvent::INSERTED, ctx.revision).mutable_entry() =
      out->entry();
  return result;
}

ApplyResult ListState::Set(const v1::Request& request, const ApplyContext& ctx,
                           v1::Response& response) {
  const v1::ListSet& set = request.list().set();
  const int64_t index = set.index();
  if (!CheckIndex(request, index, /*end_ok=*/false, response) ||
      !CheckVersion(request, index, set.has_if_version(), set.if_version(),
                    response)) {
    return {};
  }
  Item& item = items_[index];
  v1::ListResponse* out = response.mutable_list();
  out->set_version(ctx.revision);
  v1::MapEntry* replaced = out->mutable_entry();
  replaced->set_value(std::move(item.value));
  replaced->set_version(item.version);
  replaced->set_index(index);
  out->set_size(SizeOf(items_));
  item = Item{set.value(), ctx.revision};
  ApplyResult result = Mutated();
  v1::WatchEvent& event =
      AddEvent(result, v1::WatchEvent::UPDATED, ctx.revision);
  FillItem(index, item.value, item.version, *event.mutable_entry());
  *event.mutable_previous() = *replaced;
  return result;
}

ApplyResult ListState::RemoveAt(int64_t index, const ApplyContext& ctx,
                                v1::ListResponse& out) {
  auto it = items_.begin() + index;
  v1::MapEntry* removed = out.mutable_entry();
  removed->set_value(std::move(it->value));
  removed->set_version(it->version);
  removed->set_index(index);
  items_.erase(it);
  out.set_version(ctx.revision);
  out.set_size(SizeOf(items_));
  ApplyResult result = Mutated();
  *AddEvent(result, v1::WatchEvent::REMOVED, ctx.revision).mutable_previous() =
      *removed;
  return result;
}

ApplyResult ListState::Remove(const v1::Request& request,
                              const ApplyContext& ctx, v1::Response& response) {
  const v1::ListRemove& remove = request.list().remove();
  if (!CheckIndex(request, remove.index(), /*end_ok=*/false, response) ||
      !CheckVersion(request, remove.index(), remove.has_if_version(),
                    remove.if_version(), response)) {
    return {};
  }
  return RemoveAt(remove.index(), ctx, *response.mutable_list());
}

ApplyResult ListState::Pop(const v1::ListPop& pop, const ApplyContext& ctx,
                           v1::ListResponse& out) {
  if (items_.empty()) {
    out.set_present(false);
    out.set_size(0);
    return {};
  }
  out.set_present(true);
  return RemoveAt(pop.tail() ? SizeOf(items_) - 1 : 0, ctx, out);
}

ApplyResult ListState::Clear(const ApplyContext& ctx, v1::ListResponse& out) {
  out.set_size(SizeOf(items_));
  if (items_.empty()) return {};  // nothing to clear: no revision
  ApplyResult result = Mutated();
  result.events.reserve(items_.size());
  // Tail first: each event's index is the item's position when applied in
  // order.
  for (int64_t i = SizeOf(items_) - 1; i >= 0; --i) {
    Item& item = items_[i];
    v1::MapEntry* previous =
        AddEvent(result, v1::WatchEvent::REMOVED, ctx.revision)
            .mutable_previous();
    previous->set_value(std::move(item.value));
    previous->set_version(item.version);
    previous->set_index(i);
  }
  items_.clear();
  out.set_version(ctx.revision);
  return result;
}

void ListState::Get(const v1::Request& request, v1::Response& response) const {
  const int64_t index = request.list().get().index();
  if (!CheckIndex(request, index, /*end_ok=*/false, response)) return;
  const Item& item = items_[index];
  FillItem(index, item.value, item.version,
           *response.mutable_list()->mutable_entry());
}

void ListState::Slice(const v1::Request& request, const Limits& limits,
                      v1::Response& response) const {
  const v1::ListSlice& slice = request.list().slice();
  if (!CheckIndex(request, slice.start(), /*end_ok=*/true, response)) return;
  // A stop past the end reads to the end; 0 means the end.
  const int64_t size = SizeOf(items_);
  const int64_t stop = slice.stop() == 0 ? size : std::min(slice.stop(), size);
  const uint32_t limit = PageSize(slice.limit(), limits);
  v1::ListResponse* out = response.mutable_list();
  out->mutable_entries()->Reserve(static_cast<int>(
      std::min<int64_t>(limit, std::max<int64_t>(0, stop - slice.start()))));
  int64_t bytes = 0;
  uint32_t count = 0;
  int64_t i = slice.start();
  for (; i < stop && count < limit; ++i) {
    const Item& item = items_[i];
    const int64_t item_bytes = static_cast<int64_t>(item.value.size());
    if (count > 0 && bytes + item_bytes > limits.max_page_bytes) break;
    FillItem(i, item.value, item.version, *out->add_entries());
    bytes += item_bytes;
    ++count;
  }
  out->set_more(i < stop);
}

void ListState::Snapshot(const WatchFilter& filter,
                         v1::WatchSnapshot& out) const {
  (void)filter;  // list watches take no filter
  out.mutable_entries()->Reserve(static_cast<int>(items_.size()));
  for (int64_t i = 0; i < SizeOf(items_); ++i) {
    FillItem(i, items_[i].value, items_[i].version, *out.add_entries());
  }
}

void ListState::Describe(v1::PrimitiveInfo& out) const {
  out.set_summary(Counted(static_cast<int64_t>(items_.size()), "item", "items"));
}

void ListState::Save(atomix::log::v1::PrimitiveSave& out) const {
  auto* save = out.mutable_list();
  save->mutable_items()->Reserve(static_cast<int>(items_.size()));
  for (const Item& item : items_) {
    auto* saved = save->add_items();
    saved->set_value(item.value);
    saved->set_version(item.version);
  }
}

absl::Status ListState::Load(const atomix::log::v1::PrimitiveSave& in) {
  if (!in.has_list()) return WrongSave("list");
  items_.clear();
  for (const auto& saved : in.list().items()) {
    items_.push_back(Item{saved.value(), saved.version()});
  }
  return absl::OkStatus();
}

namespace {

absl::Status CheckIndexArg(const char* what, int64_t index) {
  if (index >= 0) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(what, " is ", index, "; it must not be negative"));
}

absl::Status CheckValue(const std::string& value, const Limits& limits) {
  return CheckBytes("value", value, limits.max_value_bytes, true);
}

absl::Status CheckAppend(const v1::ListAppend& append, const Limits& limits) {
  if (append.values().empty()) {
    return absl::InvalidArgumentError("values is empty");
  }
  if (static_cast<uint32_t>(append.values_size()) > limits.max_page_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("values has ", append.values_size(),
                     " items; the limit is ", limits.max_page_size));
  }
  for (int i = 0; i < append.values_size(); ++i) {
    absl::Status status =
        CheckBytes(absl::StrCat("values[", i, "]"), append.values(i),
                   limits.max_value_bytes, true);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status CheckSlice(const v1::ListSlice& slice) {
  absl::Status status = Both(CheckIndexArg("start", slice.start()),
                             CheckIndexArg("stop", slice.stop()));
  if (!status.ok()) return status;
  if (slice.stop() != 0 && slice.stop() < slice.start()) {
    return absl::InvalidArgumentError(
        absl::StrCat("stop is ", slice.stop(), "; it must not be before start ",
                     slice.start(), " (0 means the end of the list)"));
  }
  return absl::OkStatus();
}

absl::Status ValidateList(const v1::Request& request, const Limits& limits) {
  const v1::ListRequest& op = request.list();
  switch (op.op_case()) {
    case v1::ListRequest::kAppend:
      return CheckAppend(op.append(), limits);
    case v1::ListRequest::kInsert:
      return Both(CheckIndexArg("index", op.insert().index()),
                  CheckValue(op.insert().value(), limits));
    case v1::ListRequest::kSet:
      return Both(CheckIndexArg("index", op.set().index()),
                  CheckValue(op.set().value(), limits));
    case v1::ListRequest::kRemove:
      return CheckIndexArg("index", op.remove().index());
    case v1::ListRequest::kGet:
      return CheckIndexArg("index", op.get().index());
    case v1::ListRequest::kSlice:
      return CheckSlice(op.slice());
    case v1::ListRequest::kSize:
    case v1::ListRequest::kPop:
    case v1::ListRequest::kClear:
      return absl::OkStatus();
    case v1::ListRequest::OP_NOT_SET:
      break;
  }
  return NoOperation("list");
}

bool ListIsRead(const v1::Request& request) {
  const v1::ListRequest& op = request.list();
  return op.has_get() || op.has_size() || op.has_slice();
}

}  // namespace

const PrimitiveSpec& ListPrimitive() {
  static const PrimitiveSpec spec{
      .type = v1::LIST,
      .name = "list",
      .a_name = "a list",
      .op = v1::Request::kList,
      .make = &Make<ListState>,
      .validate = &ValidateList,
      .is_read = &ListIsRead,
  };
  return spec;
}

}  // namespace atomix::broker
