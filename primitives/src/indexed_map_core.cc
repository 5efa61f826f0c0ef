#include "atomix/internal/indexed_map_core.h"

#include "absl/strings/str_cat.h"
#include "primitives/src/request.h"
#include "primitives/src/send.h"
#include "sdk/src/client_core.h"

namespace atomix::internal {
namespace {

static_assert(kIndexedMapKind.wire_type == v1::INDEXED_MAP);
constexpr OpWire<v1::IndexedMapRequest, v1::IndexedMapResponse> kIndexedMapWire{
    kIndexedMapKind, &v1::Request::mutable_indexed_map, &v1::Response::has_indexed_map,
    &v1::Response::mutable_indexed_map};

static_assert(static_cast<int>(IndexedMapWhere::kFirst) == v1::IndexedMapNavigate::FIRST);
static_assert(static_cast<int>(IndexedMapWhere::kLast) == v1::IndexedMapNavigate::LAST);
static_assert(static_cast<int>(IndexedMapWhere::kAt) == v1::IndexedMapNavigate::AT);
static_assert(static_cast<int>(IndexedMapWhere::kNext) == v1::IndexedMapNavigate::NEXT);
static_assert(static_cast<int>(IndexedMapWhere::kPrev) == v1::IndexedMapNavigate::PREV);

RawEntry FromWire(v1::MapEntry& e) {
  return RawEntry{std::move(*e.mutable_key()), std::move(*e.mutable_value()), e.version(),
                  e.index()};
}

// Put and Remove take IfVersion and nothing else; Insert takes nothing.
absl::Status CheckOptions(const WriteOptions& options, bool if_version, const std::string& name,
                          const char* op) {
  if (options.if_fence) {
    return absl::InvalidArgumentError(
        absl::StrCat("indexed map \"", name, "\": ", op, " does not take IfFence"));
  }
  return CheckWriteOptions(options, {.conditions = if_version, .lifetime = false}, kIndexedMapKind,
                           name, op);
}

Future<Version> SendWrite(ClientCore& core, const std::string& name, v1::IndexedMapRequest op,
                          const char* op_name, const CallOptions& options) {
  return CallOp<Version>(core, kIndexedMapWire, name, std::move(op), op_name, options,
                         CallKind{.idempotent = false},
                         [](v1::IndexedMapResponse& r) { return r.version(); });
}

// A read whose answer is one entry, if present.
Future<std::optional<RawEntry>> SendEntryRead(ClientCore& core, const std::string& name,
                                              v1::IndexedMapRequest op, const char* op_name,
                                              const CallOptions& options) {
  return CallOp<std::optional<RawEntry>>(core, kIndexedMapWire, name, std::move(op), op_name,
                                         options, CallKind{.idempotent = true},
                                         [](v1::IndexedMapResponse& r) -> std::optional<RawEntry> {
                                           if (!r.present()) return std::nullopt;
                                           return FromWire(*r.mutable_entry());
                                         });
}

}  // namespace

absl::StatusOr<IndexedMapCore> IndexedMapCore::Open(std::shared_ptr<ClientCore> core,
                                                    std::string_view name,
                                                    const CallOptions& options) {
  absl::Status opened = OpenPrimitive(core, kIndexedMapKind, name, options);
  if (!opened.ok()) return opened;
  return IndexedMapCore(std::move(core), std::string(name));
}

Future<Version> IndexedMapCore::PutAsync(std::string key, std::string value,
                                         const WriteOptions& options) const {
  absl::Status ok = CheckOptions(options, /*if_version=*/true, name_, "Put");
  if (!ok.ok()) return Refused<Version>(core_.get(), std::move(ok));
  v1::IndexedMapRequest op;
  auto* put = op.mutable_put();
  put->set_key(std::move(key));
  put->set_value(std::move(value));
  if (options.if_version) put->set_if_version(*options.if_version);
  return SendWrite(*core_, name_, std::move(op), "put", options);
}

Future<Version> IndexedMapCore::InsertAsync(std::string key, std::string value,
                                            const WriteOptions& options) const {
  absl::Status ok = CheckOptions(options, /*if_version=*/false, name_, "Insert");
  if (!ok.ok()) return Refused<Version>(core_.get(), std::move(ok));
  v1::IndexedMapRequest op;
  auto* put = op.mutable_put();
  put->set_key(std::move(key));
  put->set_value(std::move(value));
  put->set_if_version(0);  // only if absent
  return SendWrite(*core_, name_, std::move(op), "insert", options);
}

Future<Version> IndexedMapCore::RemoveAsync(std::string key, const WriteOptions& options) const {
  absl::Status ok = CheckOptions(options, /*if_version=*/true, name_, "Remove");
  if (!ok.ok()) return Refused<Version>(core_.get(), std::move(ok));
  v1::IndexedMapRequest op;
  auto* remove = op.mutable_remove();
  remove->set_key(std::move(key));
  if (options.if_version) remove->set_if_version(*options.if_version);
  return SendWrite(*core_, name_, std::move(op), "remove", options);
}

Future<std::optional<RawEntry>> IndexedMapCore::GetAsync(std::string key,
                                                         const CallOptions& options) const {
  v1::IndexedMapRequest op;
  op.mutable_get()->set_key(std::move(key));
  return SendEntryRead(*core_, name_, std::move(op), "get", options);
}

Future<std::optional<RawEntry>> IndexedMapCore::NavigateAsync(IndexedMapWhere where, int64_t index,
                                                              const CallOptions& options) const {
  v1::IndexedMapRequest op;
  auto* navigate = op.mutable_navigate();
  navigate->set_where(static_cast<v1::IndexedMapNavigate::Where>(where));
  navigate->set_index(index);
  return SendEntryRead(*core_, name_, std::move(op), "navigate", options);
}

Future<int64_t> IndexedMapCore::SizeAsync(const CallOptions& options) const {
  v1::IndexedMapRequest op;
  op.mutable_size();
  return CallOp<int64_t>(*core_, kIndexedMapWire, name_, std::move(op), "size", options,
                         CallKind{.idempotent = true},
                         [](v1::IndexedMapResponse& r) { return r.size(); });
}

Future<Version> IndexedMapCore::ClearAsync(const CallOptions& options) const {
  v1::IndexedMapRequest op;
  op.mutable_clear();
  return SendWrite(*core_, name_, std::move(op), "clear", options);
}

Future<RawEntryPage> IndexedMapCore::ListAsync(int64_t after_index, uint32_t limit,
                                               const CallOptions& options) const {
  v1::IndexedMapRequest op;
  auto* list = op.mutable_list();
  list->set_after_index(after_index);
  list->set_limit(limit);
  return CallOp<RawEntryPage>(*core_, kIndexedMapWire, name_, std::move(op), "list", options,
                              CallKind{.idempotent = true}, [](v1::IndexedMapResponse& r) {
                                RawEntryPage page;
                                page.more = r.more();
                                page.entries.reserve(r.entries_size());
                                for (v1::MapEntry& e : *r.mutable_entries()) {
                                  page.entries.push_back(FromWire(e));
                                }
                                return page;
                              });
}

absl::StatusOr<std::vector<RawEntry>> IndexedMapCursor::Next() {
  if (done_) return std::vector<RawEntry>();
  auto page = map_.ListAsync(after_index_, page_size_, options_).get();
  if (!page.ok()) return page.status();
  std::vector<RawEntry>& entries = page->entries;
  // Each page must move past the previous one, in index order, or the
  // listing would never end.
  int64_t last = after_index_;
  for (const RawEntry& e : entries) {
    if (e.index <= last) {
      done_ = true;
      return absl::InternalError(absl::StrCat("broker listed indexed map \"", map_.name(),
                                              "\" out of order (index ", e.index, " after ", last,
                                              ")"));
    }
    last = e.index;
  }
  if (page->more && entries.empty()) {
    done_ = true;
    return EmptyPageWithMore(kIndexedMapKind, map_.name());
  }
  after_index_ = last;
  done_ = !page->more;
  return std::move(entries);
}

}  // namespace atomix::internal
