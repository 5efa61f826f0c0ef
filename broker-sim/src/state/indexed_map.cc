// IndexedMap state machine.
#include "broker-sim/src/state/indexed_map.h"

#include <algorithm>
#include <iterator>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
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

using Where = v1::IndexedMapNavigate;

std::string Named(const v1::Request& request) {
  return absl::StrCat("indexed map ", QuoteName(request.name()));
}

void SetEntry(v1::MapEntry& out, const std::string& key,
              const IndexedMapState::Entry& entry) {
  out.set_key(key);
  out.set_value(entry.value);
  out.set_version(entry.version);
  out.set_index(entry.index);
}

// Checks an optional if_version against the entry of `key` (nullptr:
// absent); on failure fills the error and returns false. if_version 0 means
// "only if absent".
bool CheckVersion(const v1::Request& request, const std::string& key,
                  bool has_if_version, int64_t if_version,
                  const IndexedMapState::Entry* entry, v1::Response& response) {
  if (!has_if_version) return true;
  if (if_version == 0) {
    if (entry == nullptr) return true;
    SetError(response, absl::StatusCode::kAlreadyExists,
             absl::StrCat(Named(request), " already has key ", QuoteBytes(key),
                          " (version ", entry->version, ", index ",
                          entry->index, ")"));
    return false;
  }
  if (entry == nullptr) {
    SetError(response, absl::StatusCode::kNotFound,
             absl::StrCat(Named(request), " has no key ", QuoteBytes(key),
                          "; expected version ", if_version));
    return false;
  }
  if (entry->version != if_version) {
    SetError(response, absl::StatusCode::kFailedPrecondition,
             absl::StrCat(Named(request), " key ", QuoteBytes(key),
                          ": expected version ", if_version,
                          ", current version is ", entry->version),
             entry->version);
    return false;
  }
  return true;
}

}  // namespace

ApplyResult IndexedMapState::Apply(const v1::Request& request,
                                   const ApplyContext& ctx,
                                   v1::Response& response) {
  if (!request.has_indexed_map()) {
    SetError(response, absl::StatusCode::kInvalidArgument,
             absl::StrCat(Named(request), ": not an indexed map operation"));
    return {};
  }
  const v1::IndexedMapRequest& op = request.indexed_map();
  switch (op.op_case()) {
    case v1::IndexedMapRequest::kPut:
      return Put(request, ctx, response);
    case v1::IndexedMapRequest::kRemove:
      return Remove(request, ctx, response);
    case v1::IndexedMapRequest::kClear:
      return Clear(ctx, *response.mutable_indexed_map());
    case v1::IndexedMapRequest::kGet:
      Get(op.get(), *response.mutable_indexed_map());
      return {};
    case v1::IndexedMapRequest::kNavigate:
      if (op.navigate().where() == Where::WHERE_UNSPECIFIED ||
          !Where::Where_IsValid(op.navigate().where())) {
        SetError(response, absl::StatusCode::kInvalidArgument,
                 absl::StrCat(Named(request), ": navigate needs a where"));
        return {};
      }
      Navigate(op.navigate(), *response.mutable_indexed_map());
      return {};
    case v1::IndexedMapRequest::kSize:
      response.mutable_indexed_map()->set_size(
          static_cast<int64_t>(by_key_.size()));
      return {};
    case v1::IndexedMapRequest::kList:
      List(op.list(), ctx.limits, *response.mutable_indexed_map());
      return {};
    case v1::IndexedMapRequest::OP_NOT_SET:
      break;
  }
  SetError(response, absl::StatusCode::kInvalidArgument,
           absl::StrCat(Named(request), ": request has no operation"));
  return {};
}

ApplyResult IndexedMapState::Put(const v1::Request& request,
                                 const ApplyContext& ctx,
                                 v1::Response& response) {
  const v1::IndexedMapPut& put = request.indexed_map().put();
  auto it = by_key_.lower_bound(put.key());
  const bool found = it != by_key_.end() && it->first == put.key();
  if (!CheckVersion(request, put.key(), put.has_if_version(), put.if_version(),
                    found ? &it->second : nullptr, response)) {
    return {};
  }
  v1::IndexedMapResponse* out = response.mutable_indexed_map();
  out->set_version(ctx.revision);
  ApplyResult result = Mutated();
  if (found) {
    // A write of a present key keeps its index.
    out->set_present(true);
    SetEntry(*out->mutable_entry(), it->first, it->second);
    it->second.value = put.value();
    it->second.version = ctx.revision;
    v1::WatchEvent& event =
        AddEvent(result, v1::WatchEvent::UPDATED, ctx.revision);
    SetEntry(*event.mutable_entry(), it->first, it->second);
    *event.mutable_previous() = out->entry();
    return result;
  }
  const int64_t index = next_index_++;
  auto added = by_key_.emplace_hint(it, put.key(),
                                    Entry{index, put.value(), ctx.revision});
  by_index_.emplace_hint(by_index_.end(), index, put.key());
  v1::WatchEvent& event =
      AddEvent(result, v1::WatchEvent::INSERTED, ctx.revision);
  SetEntry(*event.mutable_entry(), added->first, added->second);
  return result;
}

ApplyResult IndexedMapState::Remove(const v1::Request& request,
                                    const ApplyContext& ctx,
                                    v1::Response& response) {
  const v1::IndexedMapRemove& remove = request.indexed_map().remove();
  auto it = by_key_.find(remove.key());
  if (it == by_key_.end()) {
    SetError(
        response, absl::StatusCode::kNotFound,
        absl::StrCat(Named(request), " has no key ", QuoteBytes(remove.key())));
    return {};
  }
  if (!CheckVersion(request, remove.key(), remove.has_if_version(),
                    remove.if_version(), &it->second, response)) {
    return {};
  }
  v1::IndexedMapResponse* out = response.mutable_indexed_map();
  out->set_version(ctx.revision);
  out->set_present(true);
  v1::MapEntry* previous = out->mutable_entry();
  previous->set_key(it->first);
  previous->set_value(std::move(it->second.value));
  previous->set_version(it->second.version);
  previous->set_index(it->second.index);
  by_index_.erase(it->second.index);
  by_key_.erase(it);
  ApplyResult result = Mutated();
  *AddEvent(result, v1::WatchEvent::REMOVED, ctx.revision).mutable_previous() =
      *previous;
  return result;
}

ApplyResult IndexedMapState::Clear(const ApplyContext& ctx,
                                   v1::IndexedMapResponse& out) {
  ApplyResult result;
  if (by_index_.empty()) return result;  // nothing to clear: no revision
  result.mutated = true;
  result.events.reserve(by_index_.size());
  for (const auto& [index, key] : by_index_) {
    auto it = by_key_.find(key);
    v1::MapEntry* previous =
        AddEvent(result, v1::WatchEvent::REMOVED, ctx.revision)
            .mutable_previous();
    previous->set_key(key);
    previous->set_value(std::move(it->second.value));
    previous->set_version(it->second.version);
    previous->set_index(index);
  }
  out.set_size(static_cast<int64_t>(by_index_.size()));
  out.set_version(ctx.revision);
  by_index_.clear();
  by_key_.clear();
  return result;
}

void IndexedMapState::Get(const v1::IndexedMapGet& get,
                          v1::IndexedMapResponse& out) const {
  auto it = by_key_.find(get.key());
  if (it == by_key_.end()) return;
  out.set_present(true);
  SetEntry(*out.mutable_entry(), it->first, it->second);
}

void IndexedMapState::FillAt(ByIndex::const_iterator at,
                             v1::IndexedMapResponse& out) const {
  if (at == by_index_.end()) return;
  auto it = by_key_.find(at->second);
  out.set_present(true);
  SetEntry(*out.mutable_entry(), it->first, it->second);
}

void IndexedMapState::Navigate(const v1::IndexedMapNavigate& navigate,
                               v1::IndexedMapResponse& out) const {
  const int64_t index = navigate.index();
  switch (navigate.where()) {
    case Where::FIRST:
      FillAt(by_index_.begin(), out);
      return;
    case Where::LAST:
      FillAt(by_index_.empty() ? by_index_.end() : std::prev(by_index_.end()),
             out);
      return;
    case Where::AT:
      FillAt(by_index_.find(index), out);
      return;
    case Where::NEXT:
      FillAt(by_index_.upper_bound(index), out);
      return;
    case Where::PREV: {
      auto it = by_index_.lower_bound(index);
      FillAt(it == by_index_.begin() ? by_index_.end() : std::prev(it), out);
      return;
    }
    default:
      return;
  }
}

void IndexedMapState::List(const v1::IndexedMapList& list, const Limits& limits,
                           v1::IndexedMapResponse& out) const {
  const uint32_t limit = PageSize(list.limit(), limits);
  auto at = by_index_.upper_bound(list.after_index());
  out.mutable_entries()->Reserve(
      static_cast<int>(std::min<size_t>(limit, by_index_.size())));
  int64_t bytes = 0;
  uint32_t count = 0;
  for (; at != by_index_.end() && count < limit; ++at) {
    auto it = by_key_.find(at->second);
    const int64_t size =
        static_cast<int64_t>(it->first.size() + it->second.value.size());
    if (count > 0 && bytes + size > limits.max_page_bytes) break;
    SetEntry(*out.add_entries(), it->first, it->second);
    bytes += size;
    ++count;
  }
  out.set_more(at != by_index_.end());
}

void IndexedMapState::Snapshot(const WatchFilter& filter,
                               v1::WatchSnapshot& out) const {
  if (filter.key.has_value()) {
    auto it = by_key_.find(*filter.key);
    if (it != by_key_.end())
      SetEntry(*out.add_entries(), it->first, it->second);
    return;
  }
  if (filter.prefix.empty()) {
    out.mutable_entries()->Reserve(static_cast<int>(by_index_.size()));
    for (const auto& [index, key] : by_index_) {
      auto it = by_key_.find(key);
      SetEntry(*out.add_entries(), it->first, it->second);
    }
    return;
  }
  // The keys with the prefix are one range of by_key_; put them in index
  // order.
  std::vector<ByKey::const_iterator> matched;
  for (auto it = by_key_.lower_bound(filter.prefix);
       it != by_key_.end() && absl::StartsWith(it->first, filter.prefix);
       ++it) {
    matched.push_back(it);
  }
  std::sort(matched.begin(), matched.end(),
            [](ByKey::const_iterator a, ByKey::const_iterator b) {
              return a->second.index < b->second.index;
            });
  for (ByKey::const_iterator it : matched) {
    SetEntry(*out.add_entries(), it->first, it->second);
  }
}

void IndexedMapState::Describe(v1::PrimitiveInfo& out) const {
  out.set_summary(Counted(static_cast<int64_t>(by_key_.size()), "entry", "entries"));
}

void IndexedMapState::Save(atomix::log::v1::PrimitiveSave& out) const {
  auto* save = out.mutable_indexed_map();
  save->set_next_index(next_index_);
  save->mutable_entries()->Reserve(static_cast<int>(by_index_.size()));
  for (const auto& [index, key] : by_index_) {
    const Entry& entry = by_key_.find(key)->second;
    auto* e = save->add_entries();
    e->set_index(index);
    e->set_key(key);
    e->set_value(entry.value);
    e->set_version(entry.version);
  }
}

absl::Status IndexedMapState::Load(const atomix::log::v1::PrimitiveSave& in) {
  if (!in.has_indexed_map()) return WrongSave("indexed map");
  const auto& save = in.indexed_map();
  ByKey by_key;
  ByIndex by_index;
  int64_t last = 0;
  for (const auto& e : save.entries()) {
    if (e.index() <= last) {
      return absl::DataLossError(absl::StrCat(
          "saved indexed map: index ", e.index(), " follows index ", last,
          "; indexes must be positive and increasing"));
    }
    if (e.key().empty() ||
        !by_key.emplace(e.key(), Entry{e.index(), e.value(), e.version()})
             .second) {
      return absl::DataLossError(
          absl::StrCat("saved indexed map: key ", QuoteBytes(e.key()),
                       " at index ", e.index(), " is empty or repeated"));
    }
    by_index.emplace_hint(by_index.end(), e.index(), e.key());
    last = e.index();
  }
  if (save.next_index() <= last) {
    return absl::DataLossError(
        absl::StrCat("saved indexed map: next_index ", save.next_index(),
                     " is not above its last index ", last));
  }
  by_key_ = std::move(by_key);
  by_index_ = std::move(by_index);
  next_index_ = save.next_index();
  return absl::OkStatus();
}

namespace {

absl::Status NotNegative(absl::string_view what, int64_t n) {
  if (n >= 0) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(what, " is ", n, "; it must not be negative"));
}

absl::Status CheckNavigate(const v1::IndexedMapNavigate& navigate) {
  switch (navigate.where()) {
    case Where::FIRST:
    case Where::LAST:
      return absl::OkStatus();  // the index is ignored
    case Where::AT:
    case Where::NEXT:
    case Where::PREV:
      return NotNegative("index", navigate.index());
    case Where::WHERE_UNSPECIFIED:
      return absl::InvalidArgumentError("where is unspecified");
    default:
      break;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "where ", static_cast<int>(navigate.where()), " is unknown"));
}

absl::Status ValidateIndexedMap(const v1::Request& request,
                                const Limits& limits) {
  const v1::IndexedMapRequest& op = request.indexed_map();
  switch (op.op_case()) {
    case v1::IndexedMapRequest::kPut: {
      const v1::IndexedMapPut& put = op.put();
      return Both(
          Both(CheckKey(put.key(), limits),
               CheckBytes("value", put.value(), limits.max_value_bytes, true)),
          NotNegative("if_version", put.if_version()));
    }
    case v1::IndexedMapRequest::kGet:
      return CheckKey(op.get().key(), limits);
    case v1::IndexedMapRequest::kRemove:
      return Both(CheckKey(op.remove().key(), limits),
                  NotNegative("if_version", op.remove().if_version()));
    case v1::IndexedMapRequest::kNavigate:
      return CheckNavigate(op.navigate());
    case v1::IndexedMapRequest::kList:
      return NotNegative("after_index", op.list().after_index());
    case v1::IndexedMapRequest::kSize:
    case v1::IndexedMapRequest::kClear:
      return absl::OkStatus();
    case v1::IndexedMapRequest::OP_NOT_SET:
      break;
  }
  return NoOperation("indexed map");
}

bool IndexedMapIsRead(const v1::Request& request) {
  const v1::IndexedMapRequest& op = request.indexed_map();
  return op.has_get() || op.has_navigate() || op.has_size() || op.has_list();
}

}  // namespace

const PrimitiveSpec& IndexedMapPrimitive() {
  static const PrimitiveSpec spec{
      .type = v1::INDEXED_MAP,
      .name = "indexed map",
      .a_name = "an indexed map",
      .op = v1::Request::kIndexedMap,
      .make = &Make<IndexedMapState>,
      .validate = &ValidateIndexedMap,
      .key_filters = true,
      .is_read = &IndexedMapIsRead,
  };
  return spec;
}

}  // namespace atomix::broker
