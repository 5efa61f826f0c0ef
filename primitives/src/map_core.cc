#include "atomix/internal/map_core.h"

#include "absl/strings/str_cat.h"
#include "primitives/src/request.h"
#include "sdk/src/client_core.h"

namespace atomix::internal {
namespace {

absl::StatusOr<v1::MapResponse> CallMap(ClientCore& core, const std::string& name,
                                        v1::MapRequest op, const char* op_name,
                                        const CallOptions& options, bool idempotent) {
  v1::Request request = NewRequest(PrimitiveKind::kMap, name);
  *request.mutable_map() = std::move(op);
  absl::StatusOr<v1::Response> response = core.Call(std::move(request), options, idempotent);
  if (!response.ok()) return response.status();
  if (!response->has_map()) return MissingResult(PrimitiveKind::kMap, name, op_name);
  return std::move(*response->mutable_map());
}

absl::StatusOr<Version> WriteVersion(absl::StatusOr<v1::MapResponse> r) {
  if (!r.ok()) return r.status();
  return r->version();
}

}  // namespace

absl::StatusOr<MapCore> MapCore::Open(std::shared_ptr<ClientCore> core, std::string_view name,
                                      const CallOptions& options) {
  absl::Status opened = OpenPrimitive(core, PrimitiveKind::kMap, name, options);
  if (!opened.ok()) return opened;
  return MapCore(std::move(core), std::string(name));
}

absl::StatusOr<Version> MapCore::Put(std::string key, std::string value,
                                     const WriteOptions& options) const {
  absl::Status ok = CheckWriteOptions(options, {.conditions = true, .lifetime = true},
                                      PrimitiveKind::kMap, name_, "Put");
  if (!ok.ok()) return ok;
  v1::MapRequest op;
  auto* put = op.mutable_put();
  put->set_key(std::move(key));
  put->set_value(std::move(value));
  SetConditions(options, *put);
  SetLifetime(options, *put);
  return WriteVersion(CallMap(*core_, name_, std::move(op), "put", options, false));
}

absl::StatusOr<Version> MapCore::Insert(std::string key, std::string value,
                                        const WriteOptions& options) const {
  absl::Status ok = CheckWriteOptions(options, {.conditions = false, .lifetime = true},
                                      PrimitiveKind::kMap, name_, "Insert");
  if (!ok.ok()) return ok;
  v1::MapRequest op;
  auto* insert = op.mutable_insert();
  insert->set_key(std::move(key));
  insert->set_value(std::move(value));
  SetLifetime(options, *insert);
  return WriteVersion(CallMap(*core_, name_, std::move(op), "insert", options, false));
}

absl::StatusOr<Version> MapCore::Update(std::string key, std::string value,
                                        const WriteOptions& options) const {
  absl::Status ok = CheckWriteOptions(options, {.conditions = true, .lifetime = true},
                                      PrimitiveKind::kMap, name_, "Update");
  if (!ok.ok()) return ok;
  v1::MapRequest op;
  auto* update = op.mutable_update();
  update->set_key(std::move(key));
  update->set_value(std::move(value));
  SetConditions(options, *update);
  SetLifetime(options, *update);
  return WriteVersion(CallMap(*core_, name_, std::move(op), "update", options, false));
}

absl::StatusOr<std::optional<Versioned<std::string>>> MapCore::Get(
    std::string key, const CallOptions& options) const {
  v1::MapRequest op;
  op.mutable_get()->set_key(std::move(key));
  auto r = CallMap(*core_, name_, std::move(op), "get", options, /*idempotent=*/true);
  if (!r.ok()) return r.status();
  if (!r->present()) return std::optional<Versioned<std::string>>();
  return std::optional<Versioned<std::string>>(Versioned<std::string>{
      std::move(*r->mutable_entry()->mutable_value()), r->entry().version()});
}

absl::StatusOr<Version> MapCore::Remove(std::string key, const WriteOptions& options) const {
  absl::Status ok = CheckWriteOptions(options, {.conditions = true, .lifetime = false},
                                      PrimitiveKind::kMap, name_, "Remove");
  if (!ok.ok()) return ok;
  v1::MapRequest op;
  auto* remove = op.mutable_remove();
  remove->set_key(std::move(key));
  SetConditions(options, *remove);
  return WriteVersion(CallMap(*core_, name_, std::move(op), "remove", options, false));
}

absl::StatusOr<bool> MapCore::Contains(std::string key, const CallOptions& options) const {
  v1::MapRequest op;
  op.mutable_contains()->set_key(std::move(key));
  auto r = CallMap(*core_, name_, std::move(op), "contains", options, /*idempotent=*/true);
  if (!r.ok()) return r.status();
  return r->present();
}

absl::StatusOr<int64_t> MapCore::Size(const CallOptions& options) const {
  v1::MapRequest op;
  op.mutable_size();
  auto r = CallMap(*core_, name_, std::move(op), "size", options, /*idempotent=*/true);
  if (!r.ok()) return r.status();
  return r->size();
}

absl::StatusOr<Version> MapCore::Clear(const CallOptions& options) const {
  v1::MapRequest op;
  op.mutable_clear();
  return WriteVersion(CallMap(*core_, name_, std::move(op), "clear", options, false));
}

absl::StatusOr<int64_t> MapCore::RemovePrefix(std::string prefix,
                                              const CallOptions& options) const {
  v1::MapRequest op;
  op.mutable_remove_prefix()->set_prefix(std::move(prefix));
  auto r = CallMap(*core_, name_, std::move(op), "remove_prefix", options, false);
  if (!r.ok()) return r.status();
  return r->size();
}

absl::StatusOr<RawEntryPage> MapCore::List(const std::string& prefix,
                                           const std::string& start_after, uint32_t limit,
                                           bool keys_only, const CallOptions& options) const {
  v1::MapRequest op;
  auto* list = op.mutable_list();
  list->set_prefix(prefix);
  list->set_start_after(start_after);
  list->set_limit(limit);
  list->set_keys_only(keys_only);
  auto r = CallMap(*core_, name_, std::move(op), "list", options, /*idempotent=*/true);
  if (!r.ok()) return r.status();
  RawEntryPage page;
  page.more = r->more();
  page.entries.reserve(r->entries_size());
  for (v1::MapEntry& e : *r->mutable_entries()) {
    page.entries.push_back(
        RawEntry{std::move(*e.mutable_key()), std::move(*e.mutable_value()), e.version()});
  }
  return page;
}

absl::StatusOr<std::vector<RawEntry>> MapCursor::Next() {
  if (done_) return std::vector<RawEntry>();
  // Keys are never empty, so start_after "" (the first page) means "from the
  // start" and every later page starts after a real key.
  auto page = map_.List(options_.prefix, last_key_, options_.page_size, keys_only_, options_);
  if (!page.ok()) return page.status();
  std::vector<RawEntry>& entries = page->entries;
  // Each page must move past the previous one, or the listing would never end.
  if (!entries.empty() && !last_key_.empty() && entries.front().key <= last_key_) {
    done_ = true;
    return absl::InternalError(
        absl::StrCat("broker listed map \"", map_.name(), "\" out of order"));
  }
  if (page->more && entries.empty()) {
    done_ = true;
    return absl::InternalError(absl::StrCat("broker returned an empty page of map \"", map_.name(),
                                            "\" with more to follow"));
  }
  if (!entries.empty()) last_key_ = entries.back().key;
  done_ = !page->more;
  return std::move(entries);
}

}  // namespace atomix::internal
