#include "atomix/internal/multi_map_core.h"

#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "primitives/src/request.h"
#include "primitives/src/send.h"
#include "sdk/src/client_core.h"

namespace atomix::internal {
namespace {

static_assert(kMultiMapKind.wire_type == v1::MULTI_MAP);
constexpr OpWire<v1::MultiMapRequest, v1::MultiMapResponse> kMultiMapWire{
    kMultiMapKind, &v1::Request::mutable_multi_map, &v1::Response::has_multi_map,
    &v1::Response::mutable_multi_map};

Change ToChange(v1::MultiMapResponse& r) { return Change{r.changed(), r.version()}; }

RemovedPairs ToRemoved(v1::MultiMapResponse& r) { return RemovedPairs{r.size(), r.version()}; }

RawEntryPage ToPage(v1::MultiMapResponse& r) {
  RawEntryPage page;
  page.more = r.more();
  page.entries.reserve(r.entries_size());
  for (v1::MapEntry& e : *r.mutable_entries()) {
    page.entries.push_back(
        RawEntry{std::move(*e.mutable_key()), std::move(*e.mutable_value()), e.version()});
  }
  return page;
}

// multimap "name", for messages.
std::string Named(const std::string& name) { return absl::StrCat("multimap \"", name, "\""); }

}  // namespace

absl::StatusOr<MultiMapCore> MultiMapCore::Open(std::shared_ptr<ClientCore> core,
                                                std::string_view name, const CallOptions& options) {
  absl::Status opened = OpenPrimitive(core, kMultiMapKind, name, options);
  if (!opened.ok()) return opened;
  return MultiMapCore(std::move(core), std::string(name));
}

Future<Change> MultiMapCore::PutAsync(std::string key, std::string value,
                                      const CallOptions& options) const {
  v1::MultiMapRequest op;
  op.mutable_put()->set_key(std::move(key));
  op.mutable_put()->set_value(std::move(value));
  return CallOp<Change>(*core_, kMultiMapWire, name_, std::move(op), "put", options,
                        CallKind{.idempotent = false}, ToChange);
}

Future<Change> MultiMapCore::RemoveAsync(std::string key, std::string value,
                                         const CallOptions& options) const {
  v1::MultiMapRequest op;
  op.mutable_remove()->set_key(std::move(key));
  op.mutable_remove()->set_value(std::move(value));
  return CallOp<Change>(*core_, kMultiMapWire, name_, std::move(op), "remove", options,
                        CallKind{.idempotent = false}, ToChange);
}

Future<RemovedPairs> MultiMapCore::RemoveAllAsync(std::string key,
                                                  const CallOptions& options) const {
  v1::MultiMapRequest op;
  op.mutable_remove_key()->set_key(std::move(key));
  return CallOp<RemovedPairs>(*core_, kMultiMapWire, name_, std::move(op), "remove_key", options,
                              CallKind{.idempotent = false}, ToRemoved);
}

Future<bool> MultiMapCore::ContainsKeyAsync(std::string key, const CallOptions& options) const {
  v1::MultiMapRequest op;
  op.mutable_contains()->set_key(std::move(key));
  return CallOp<bool>(*core_, kMultiMapWire, name_, std::move(op), "contains", options,
                      CallKind{.idempotent = true},
                      [](v1::MultiMapResponse& r) { return r.contains(); });
}

Future<bool> MultiMapCore::ContainsAsync(std::string key, std::string value,
                                         const CallOptions& options) const {
  v1::MultiMapRequest op;
  op.mutable_contains()->set_key(std::move(key));
  op.mutable_contains()->set_value(std::move(value));
  return CallOp<bool>(*core_, kMultiMapWire, name_, std::move(op), "contains", options,
                      CallKind{.idempotent = true},
                      [](v1::MultiMapResponse& r) { return r.contains(); });
}

Future<int64_t> MultiMapCore::SizeAsync(const CallOptions& options) const {
  v1::MultiMapRequest op;
  op.mutable_size();
  return CallOp<int64_t>(*core_, kMultiMapWire, name_, std::move(op), "size", options,
                         CallKind{.idempotent = true},
                         [](v1::MultiMapResponse& r) { return r.size(); });
}

Future<RemovedPairs> MultiMapCore::ClearAsync(const CallOptions& options) const {
  v1::MultiMapRequest op;
  op.mutable_clear();
  return CallOp<RemovedPairs>(*core_, kMultiMapWire, name_, std::move(op), "clear", options,
                              CallKind{.idempotent = false}, ToRemoved);
}

Future<RawEntryPage> MultiMapCore::GetAsync(const std::string& key, const std::string& start_after,
                                            uint32_t limit, const CallOptions& options) const {
  v1::MultiMapRequest op;
  auto* get = op.mutable_get();
  get->set_key(key);
  get->set_start_after(start_after);
  get->set_limit(limit);
  return CallOp<RawEntryPage>(*core_, kMultiMapWire, name_, std::move(op), "get", options,
                              CallKind{.idempotent = true}, ToPage);
}

Future<RawEntryPage> MultiMapCore::ListAsync(const std::string& prefix,
                                             const std::string& after_key,
                                             const std::string& after_value, uint32_t limit,
                                             const CallOptions& options) const {
  v1::MultiMapRequest op;
  auto* list = op.mutable_list();
  list->set_prefix(prefix);
  list->set_start_after_key(after_key);
  list->set_start_after_value(after_value);
  list->set_limit(limit);
  return CallOp<RawEntryPage>(*core_, kMultiMapWire, name_, std::move(op), "list", options,
                              CallKind{.idempotent = true}, ToPage);
}

absl::Status MultiMapCursor::CheckPage(const RawEntryPage& page) const {
  const std::string where = Named(multimap_.name());
  // Each page must move past the previous one, or the listing would never end.
  // Keys and values are never empty, so ("", "") is before every pair.
  const std::vector<RawEntry>& entries = page.entries;
  if (!entries.empty() &&
      std::tie(entries.front().key, entries.front().value) <= std::tie(last_key_, last_value_)) {
    return ListedOutOfOrder(kMultiMapKind, multimap_.name());
  }
  if (key_.has_value()) {
    for (const RawEntry& e : entries) {
      if (e.key != *key_) {
        return absl::InternalError(absl::StrCat("broker listed another key's values for ", where));
      }
    }
  }
  if (page.more && entries.empty()) {
    return EmptyPageWithMore(kMultiMapKind, multimap_.name());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<RawEntry>> MultiMapCursor::Next() {
  if (done_) return std::vector<RawEntry>();
  if (key_.has_value() && !options_.prefix.empty()) {
    done_ = true;
    return absl::InvalidArgumentError(
        absl::StrCat(Named(multimap_.name()), ": Get lists one key's values and takes no prefix"));
  }
  if (key_.has_value()) last_key_ = *key_;
  auto page =
      key_.has_value()
          ? multimap_.GetAsync(*key_, last_value_, options_.page_size, options_).get()
          : multimap_
                .ListAsync(options_.prefix, last_key_, last_value_, options_.page_size, options_)
                .get();
  if (!page.ok()) return page.status();
  absl::Status checked = CheckPage(*page);
  if (!checked.ok()) {
    done_ = true;
    return checked;
  }
  std::vector<RawEntry>& entries = page->entries;
  if (!entries.empty()) {
    last_key_ = entries.back().key;
    last_value_ = entries.back().value;
  }
  done_ = !page->more;
  return std::move(entries);
}

}  // namespace atomix::internal
