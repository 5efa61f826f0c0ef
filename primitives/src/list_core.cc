#include "atomix/internal/list_core.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "primitives/src/request.h"
#include "primitives/src/send.h"
#include "sdk/src/client_core.h"

namespace atomix::internal {
namespace {

static_assert(kListKind.wire_type == v1::LIST);
constexpr OpWire<v1::ListRequest, v1::ListResponse> kListWire{
    kListKind, &v1::Request::mutable_list, &v1::Response::has_list, &v1::Response::mutable_list};

RawEntry ItemFromWire(v1::MapEntry& e) {
  return RawEntry{std::string(), std::move(*e.mutable_value()), e.version(), e.index()};
}

RawListWrite WriteFromWire(v1::ListResponse& r) {
  return RawListWrite{r.version(), r.entry().index(), r.size()};
}

Future<RawListWrite> SendWrite(ClientCore& core, const std::string& name, v1::ListRequest op,
                               const char* op_name, const CallOptions& options) {
  return CallOp<RawListWrite>(core, kListWire, name, std::move(op), op_name, options,
                              CallKind{.idempotent = false}, WriteFromWire);
}

// Lists take IfVersion on Set and Remove, and nothing else of WriteOptions.
absl::Status CheckListWrite(const WriteOptions& options, const std::string& name,
                            std::string_view op) {
  if (options.if_fence) {
    return absl::InvalidArgumentError(
        absl::StrCat("list \"", name, "\": ", std::string(op), " does not take IfFence"));
  }
  return CheckWriteOptions(options, {.conditions = true, .lifetime = false}, kListKind, name, op);
}

// A future that already holds `value`; its continuations run on `core`'s
// executor like any call's.
template <class T>
Future<T> Ready(const ClientCore* core, T value) {
  auto state = std::make_shared<ValueState<T>>(core != nullptr ? core->executor() : nullptr);
  state->SetValue(std::move(value));
  return Future<T>(std::move(state));
}

}  // namespace

absl::StatusOr<ListCore> ListCore::Open(std::shared_ptr<ClientCore> core, std::string_view name,
                                        const CallOptions& options) {
  absl::Status opened = OpenPrimitive(core, kListKind, name, options);
  if (!opened.ok()) return opened;
  return ListCore(std::move(core), std::string(name));
}

Future<RawListWrite> ListCore::AppendAsync(std::vector<std::string> values,
                                           const CallOptions& options) const {
  v1::ListRequest op;
  auto* append = op.mutable_append();
  append->mutable_values()->Reserve(static_cast<int>(values.size()));
  for (std::string& v : values) append->add_values(std::move(v));
  return SendWrite(*core_, name_, std::move(op), "append", options);
}

Future<RawListWrite> ListCore::InsertAsync(int64_t index, std::string value,
                                           const CallOptions& options) const {
  v1::ListRequest op;
  auto* insert = op.mutable_insert();
  insert->set_index(index);
  insert->set_value(std::move(value));
  return SendWrite(*core_, name_, std::move(op), "insert", options);
}

Future<RawListWrite> ListCore::SetAsync(int64_t index, std::string value,
                                        const WriteOptions& options) const {
  absl::Status ok = CheckListWrite(options, name_, "Set");
  if (!ok.ok()) return Refused<RawListWrite>(core_.get(), std::move(ok));
  v1::ListRequest op;
  auto* set = op.mutable_set();
  set->set_index(index);
  set->set_value(std::move(value));
  if (options.if_version) set->set_if_version(*options.if_version);
  return SendWrite(*core_, name_, std::move(op), "set", options);
}

Future<RawEntry> ListCore::RemoveAsync(int64_t index, const WriteOptions& options) const {
  absl::Status ok = CheckListWrite(options, name_, "Remove");
  if (!ok.ok()) return Refused<RawEntry>(core_.get(), std::move(ok));
  v1::ListRequest op;
  auto* remove = op.mutable_remove();
  remove->set_index(index);
  if (options.if_version) remove->set_if_version(*options.if_version);
  return CallOp<RawEntry>(*core_, kListWire, name_, std::move(op), "remove", options,
                          CallKind{.idempotent = false},
                          [](v1::ListResponse& r) { return ItemFromWire(*r.mutable_entry()); });
}

Future<RawEntry> ListCore::GetAsync(int64_t index, const CallOptions& options) const {
  v1::ListRequest op;
  op.mutable_get()->set_index(index);
  return CallOp<RawEntry>(*core_, kListWire, name_, std::move(op), "get", options,
                          CallKind{.idempotent = true},
                          [](v1::ListResponse& r) { return ItemFromWire(*r.mutable_entry()); });
}

Future<int64_t> ListCore::SizeAsync(const CallOptions& options) const {
  v1::ListRequest op;
  op.mutable_size();
  return CallOp<int64_t>(*core_, kListWire, name_, std::move(op), "size", options,
                         CallKind{.idempotent = true},
                         [](v1::ListResponse& r) { return r.size(); });
}

Future<std::optional<RawEntry>> ListCore::PopAsync(bool tail, const CallOptions& options) const {
  v1::ListRequest op;
  op.mutable_pop()->set_tail(tail);
  return CallOp<std::optional<RawEntry>>(
      *core_, kListWire, name_, std::move(op), tail ? "pop_back" : "pop_front", options,
      CallKind{.idempotent = false}, [](v1::ListResponse& r) -> std::optional<RawEntry> {
        if (!r.present()) return std::nullopt;
        return ItemFromWire(*r.mutable_entry());
      });
}

Future<Version> ListCore::ClearAsync(const CallOptions& options) const {
  v1::ListRequest op;
  op.mutable_clear();
  return CallOp<Version>(*core_, kListWire, name_, std::move(op), "clear", options,
                         CallKind{.idempotent = false},
                         [](v1::ListResponse& r) { return r.version(); });
}

Future<RawListPage> ListCore::SliceAsync(int64_t start, std::optional<int64_t> stop,
                                         const ListOptions& options) const {
  if (!options.prefix.empty()) {
    return Refused<RawListPage>(core_.get(), absl::InvalidArgumentError(absl::StrCat(
                                                 "list \"", name_, "\": a slice takes no prefix")));
  }
  // On the wire stop 0 means the end of the list, so an explicit stop of 0
  // is answered here.
  if (stop == 0 && start == 0) return Ready(core_.get(), RawListPage{});
  if (stop == 0 && start > 0) {
    return Refused<RawListPage>(
        core_.get(),
        absl::InvalidArgumentError(absl::StrCat("stop is 0; it must not be before start ", start)));
  }
  v1::ListRequest op;
  auto* slice = op.mutable_slice();
  slice->set_start(start);
  slice->set_stop(stop.value_or(0));
  slice->set_limit(options.page_size);
  return CallOp<RawListPage>(*core_, kListWire, name_, std::move(op), "slice", options,
                             CallKind{.idempotent = true}, [](v1::ListResponse& r) {
                               RawListPage page;
                               page.more = r.more();
                               page.items.reserve(r.entries_size());
                               for (v1::MapEntry& e : *r.mutable_entries()) {
                                 page.items.push_back(ItemFromWire(e));
                               }
                               return page;
                             });
}

absl::StatusOr<std::vector<RawEntry>> ListCursor::Next() {
  if (done_) return std::vector<RawEntry>();
  auto page = list_.SliceAsync(next_, stop_, options_).get();
  const bool first = std::exchange(first_, false);
  if (!page.ok()) {
    done_ = true;
    // The list shrank below the cursor since the last page: nothing is left.
    if (!first && absl::IsOutOfRange(page.status())) return std::vector<RawEntry>();
    return page.status();
  }
  std::vector<RawEntry>& items = page->items;
  if (!items.empty() && items.front().index != next_) {
    done_ = true;
    return absl::InternalError(absl::StrCat("broker sliced list \"", list_.name(), "\" from index ",
                                            items.front().index, " when asked for ", next_));
  }
  if (page->more && items.empty()) {
    done_ = true;
    return EmptyPageWithMore(kListKind, list_.name());
  }
  if (!items.empty()) next_ = items.back().index + 1;
  done_ = !page->more;
  return std::move(items);
}

}  // namespace atomix::internal
