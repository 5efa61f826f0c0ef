#include "atomix/internal/map_core.h"

#include "absl/strings/str_cat.h"
#include "primitives/src/request.h"
#include "primitives/src/send.h"
#include "sdk/src/client_core.h"

namespace atomix::internal {
namespace {

static_assert(kMapKind.wire_type == v1::MAP);
constexpr OpWire<v1::MapRequest, v1::MapResponse> kMapWire{
    kMapKind, &v1::Request::mutable_map, &v1::Response::has_map, &v1::Response::mutable_map};

// Copies if_fence into an op that takes no if_version.
template <class Op>
void SetFence(const WriteOptions& options, Op& op) {
  if (!options.if_fence) return;
  op.mutable_if_fence()->set_lock(options.if_fence->lock);
  op.mutable_if_fence()->set_version(options.if_fence->version);
}

// What Insert, Clear and RemovePrefix accept: IfFence, never IfVersion.
absl::Status CheckFenceOnly(const WriteOptions& options, bool lifetime, const std::string& name,
                            const char* op) {
  if (options.if_version) {
    return absl::InvalidArgumentError(
        absl::StrCat("map \"", name, "\": ", op, " does not take IfVersion"));
  }
  return CheckWriteOptions(options, {.conditions = true, .lifetime = lifetime}, kMapKind, name,
                           op);
}

Future<Version> SendWrite(ClientCore& core, const std::string& name, v1::MapRequest op,
                          const char* op_name, const CallOptions& options) {
  return CallOp<Version>(core, kMapWire, name, std::move(op), op_name, options,
                         CallKind{.idempotent = false},
                         [](v1::MapResponse& r) { return r.version(); });
}

}  // namespace

absl::StatusOr<MapCore> MapCore::Open(std::shared_ptr<ClientCore> core, std::string_view name,
                                      const CallOptions& options) {
  absl::Status opened = OpenPrimitive(core, kMapKind, name, options);
  if (!opened.ok()) return opened;
  return MapCore(std::move(core), std::string(name));
}

Future<Version> MapCore::PutAsync(std::string key, std::string value,
                                  const WriteOptions& options) const {
  absl::Status ok =
      CheckWriteOptions(options, {.conditions = true, .lifetime = true}, kMapKind, name_, "Put");
  if (!ok.ok()) return Refused<Version>(core_.get(), std::move(ok));
  v1::MapRequest op;
  auto* put = op.mutable_put();
  put->set_key(std::move(key));
  put->set_value(std::move(value));
  SetConditions(options, *put);
  SetLifetime(options, *put);
  return SendWrite(*core_, name_, std::move(op), "put", options);
}

Future<Version> MapCore::InsertAsync(std::string key, std::string value,
                                     const WriteOptions& options) const {
  absl::Status ok = CheckFenceOnly(options, /*lifetime=*/true, name_, "Insert");
  if (!ok.ok()) return Refused<Version>(core_.get(), std::move(ok));
  v1::MapRequest op;
  auto* insert = op.mutable_insert();
  insert->set_key(std::move(key));
  insert->set_value(std::move(value));
  SetLifetime(options, *insert);
  SetFence(options, *insert);
  return SendWrite(*core_, name_, std::move(op), "insert", options);
}

Future<Version> MapCore::UpdateAsync(std::string key, std::string value,
                                     const WriteOptions& options) const {
  absl::Status ok =
      CheckWriteOptions(options, {.conditions = true, .lifetime = true}, kMapKind, name_, "Update");
  if (!ok.ok()) return Refused<Version>(core_.get(), std::move(ok));
  v1::MapRequest op;
  auto* update = op.mutable_update();
  update->set_key(std::move(key));
  update->set_value(std::move(value));
  SetConditions(options, *update);
  SetLifetime(options, *update);
  return SendWrite(*core_, name_, std::move(op), "update", options);
}

Future<std::optional<Versioned<std::string>>> MapCore::GetAsync(std::string key,
                                                                const CallOptions& options) const {
  v1::MapRequest op;
  op.mutable_get()->set_key(std::move(key));
  return CallOp<std::optional<Versioned<std::string>>>(
      *core_, kMapWire, name_, std::move(op), "get", options, CallKind{.idempotent = true},
      [](v1::MapResponse& r) -> std::optional<Versioned<std::string>> {
        if (!r.present()) return std::nullopt;
        return Versioned<std::string>{std::move(*r.mutable_entry()->mutable_value()),
                                      r.entry().version()};
      });
}

Future<Version> MapCore::RemoveAsync(std::string key, const WriteOptions& options) const {
  absl::Status ok = CheckWriteOptions(options, {.conditions = true, .lifetime = false}, kMapKind,
                                      name_, "Remove");
  if (!ok.ok()) return Refused<Version>(core_.get(), std::move(ok));
  v1::MapRequest op;
  auto* remove = op.mutable_remove();
  remove->set_key(std::move(key));
  SetConditions(options, *remove);
  return SendWrite(*core_, name_, std::move(op), "remove", options);
}

Future<bool> MapCore::ContainsAsync(std::string key, const CallOptions& options) const {
  v1::MapRequest op;
  op.mutable_contains()->set_key(std::move(key));
  return CallOp<bool>(*core_, kMapWire, name_, std::move(op), "contains", options,
                      CallKind{.idempotent = true}, [](v1::MapResponse& r) { return r.present(); });
}

Future<int64_t> MapCore::SizeAsync(const CallOptions& options) const {
  v1::MapRequest op;
  op.mutable_size();
  return CallOp<int64_t>(*core_, kMapWire, name_, std::move(op), "size", options,
                         CallKind{.idempotent = true}, [](v1::MapResponse& r) { return r.size(); });
}

Future<Version> MapCore::ClearAsync(const WriteOptions& options) const {
  absl::Status ok = CheckFenceOnly(options, /*lifetime=*/false, name_, "Clear");
  if (!ok.ok()) return Refused<Version>(core_.get(), std::move(ok));
  v1::MapRequest op;
  SetFence(options, *op.mutable_clear());
  return SendWrite(*core_, name_, std::move(op), "clear", options);
}

Future<int64_t> MapCore::RemovePrefixAsync(std::string prefix,
                                           const WriteOptions& options) const {
  absl::Status ok = CheckFenceOnly(options, /*lifetime=*/false, name_, "RemovePrefix");
  if (!ok.ok()) return Refused<int64_t>(core_.get(), std::move(ok));
  v1::MapRequest op;
  op.mutable_remove_prefix()->set_prefix(std::move(prefix));
  SetFence(options, *op.mutable_remove_prefix());
  return CallOp<int64_t>(*core_, kMapWire, name_, std::move(op), "remove_prefix", options,
                         CallKind{.idempotent = false},
                         [](v1::MapResponse& r) { return r.size(); });
}

Future<RawEntryPage> MapCore::ListAsync(const std::string& prefix, const std::string& start_after,
                                        uint32_t limit, bool keys_only,
                                        const CallOptions& options) const {
  v1::MapRequest op;
  auto* list = op.mutable_list();
  list->set_prefix(prefix);
  list->set_start_after(start_after);
  list->set_limit(limit);
  list->set_keys_only(keys_only);
  return CallOp<RawEntryPage>(
      *core_, kMapWire, name_, std::move(op), "list", options, CallKind{.idempotent = true},
      [](v1::MapResponse& r) {
        RawEntryPage page;
        page.more = r.more();
        page.entries.reserve(r.entries_size());
        for (v1::MapEntry& e : *r.mutable_entries()) {
          page.entries.push_back(
              RawEntry{std::move(*e.mutable_key()), std::move(*e.mutable_value()), e.version()});
        }
        return page;
      });
}

absl::StatusOr<std::vector<RawEntry>> MapCursor::Next() {
  if (done_) return std::vector<RawEntry>();
  // Keys are never empty, so start_after "" (the first page) means "from the
  // start" and every later page starts after a real key.
  auto page =
      map_.ListAsync(options_.prefix, last_key_, options_.page_size, keys_only_, options_).get();
  if (!page.ok()) return page.status();
  std::vector<RawEntry>& entries = page->entries;
  // Each page must move past the previous one, or the listing would never end.
  if (!entries.empty() && !last_key_.empty() && entries.front().key <= last_key_) {
    done_ = true;
    return ListedOutOfOrder(kMapKind, map_.name());
  }
  if (page->more && entries.empty()) {
    done_ = true;
    return EmptyPageWithMore(kMapKind, map_.name());
  }
  if (!entries.empty()) last_key_ = entries.back().key;
  done_ = !page->more;
  return std::move(entries);
}

}  // namespace atomix::internal
