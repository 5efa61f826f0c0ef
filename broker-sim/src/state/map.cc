// Map state machine.
#include "broker-sim/src/state/map.h"

#include <algorithm>
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

std::string QuoteKey(const v1::Request& request, const std::string& key) {
  return absl::StrCat("map ", QuoteName(request.name()), " key ",
                      QuoteBytes(key));
}

void SetNotFound(const v1::Request& request, const std::string& key,
                 v1::Response& response) {
  SetError(response, absl::StatusCode::kNotFound,
           absl::StrCat("map ", QuoteName(request.name()), " has no key ",
                        QuoteBytes(key)));
}

void FillEntry(const std::string& key, MapState::Entry&& entry,
               v1::MapEntry& out) {
  out.set_key(key);
  out.set_value(std::move(entry.value));
  out.set_version(entry.version);
}

// The entry a write stores: ephemeral writes belong to the request's
// session, and a TTL sets the expiry.
MapState::Entry NewEntry(const std::string& value, bool ephemeral,
                         int64_t ttl_ms, const v1::Request& request,
                         const ApplyContext& ctx) {
  MapState::Entry entry{value, ctx.revision, 0, absl::InfiniteFuture()};
  if (ephemeral) entry.session = request.session_id();
  if (ttl_ms > 0) entry.expires = ctx.now + absl::Milliseconds(ttl_ms);
  return entry;
}

// The fence a write carries, or nullptr.
const v1::Fence* MapFence(const v1::Request& request) {
  const v1::MapRequest& op = request.map();
  switch (op.op_case()) {
    case v1::MapRequest::kPut:
      return op.put().has_if_fence() ? &op.put().if_fence() : nullptr;
    case v1::MapRequest::kInsert:
      return op.insert().has_if_fence() ? &op.insert().if_fence() : nullptr;
    case v1::MapRequest::kUpdate:
      return op.update().has_if_fence() ? &op.update().if_fence() : nullptr;
    case v1::MapRequest::kRemove:
      return op.remove().has_if_fence() ? &op.remove().if_fence() : nullptr;
    case v1::MapRequest::kClear:
      return op.clear().has_if_fence() ? &op.clear().if_fence() : nullptr;
    case v1::MapRequest::kRemovePrefix:
      return op.remove_prefix().has_if_fence()
                 ? &op.remove_prefix().if_fence()
                 : nullptr;
    default:
      return nullptr;
  }
}

}  // namespace

void MapState::Index(const std::string& key, const Entry& entry) {
  if (entry.session != 0) by_session_.emplace(entry.session, key);
  if (entry.expires != absl::InfiniteFuture()) {
    expiries_.emplace(entry.expires, key);
  }
}

void MapState::Unindex(const std::string& key, const Entry& entry) {
  if (entry.session != 0) by_session_.erase({entry.session, key});
  if (entry.expires != absl::InfiniteFuture()) {
    expiries_.erase({entry.expires, key});
  }
}

ApplyResult MapState::EndSession(uint64_t session_id,
                                 const ApplyContext& ctx) {
  ApplyResult result;
  locks_.EndSession(session_id, ctx, result);
  std::vector<std::string> keys;
  for (auto it = by_session_.lower_bound({session_id, std::string()});
       it != by_session_.end() && it->first == session_id; ++it) {
    keys.push_back(it->second);
  }
  for (const std::string& key : keys) {
    auto entry = entries_.find(key);
    if (entry == entries_.end()) continue;
    Unindex(key, entry->second);
    AddRemoved(result, v1::WatchEvent::REMOVED, key, std::move(entry->second),
               ctx);
    entries_.erase(entry);
    result.mutated = true;
  }
  return result;
}

absl::Time MapState::NextDeadline() const {
  return std::min(locks_.NextDeadline(), expiries_.empty()
                                             ? absl::InfiniteFuture()
                                             : expiries_.begin()->first);
}

ApplyResult MapState::Advance(const ApplyContext& ctx) {
  const absl::Time locks_due = locks_.NextDeadline();
  if (locks_due <= ctx.now &&
      (expiries_.empty() || locks_due <= expiries_.begin()->first)) {
    ApplyResult result;
    locks_.Advance(ctx, result);
    return result;
  }
  if (expiries_.empty() || expiries_.begin()->first > ctx.now) return {};
  const std::string key = expiries_.begin()->second;
  expiries_.erase(expiries_.begin());
  auto entry = entries_.find(key);
  if (entry == entries_.end()) return {};
  Unindex(key, entry->second);
  ApplyResult result = Mutated();
  AddRemoved(result, v1::WatchEvent::EXPIRED, key, std::move(entry->second),
             ctx);
  entries_.erase(entry);
  return result;
}

void MapState::AddRemoved(ApplyResult& result, v1::WatchEvent::Type type,
                          const std::string& key, Entry&& entry,
                          const ApplyContext& ctx) {
  v1::WatchEvent& event = AddEvent(result, type, ctx.revision);
  v1::MapEntry* previous = event.mutable_previous();
  previous->set_key(key);
  previous->set_value(std::move(entry.value));
  previous->set_version(entry.version);
}

void MapState::AddWritten(ApplyResult& result, const std::string& key,
                          const Entry& entry, const v1::MapEntry* previous,
                          const ApplyContext& ctx) {
  v1::WatchEvent& event =
      AddEvent(result,
               previous == nullptr ? v1::WatchEvent::INSERTED
                                   : v1::WatchEvent::UPDATED,
               ctx.revision);
  SetEntry(*event.mutable_entry(), key, entry.value, entry.version);
  if (previous != nullptr) *event.mutable_previous() = *previous;
}

ApplyResult MapState::RemoveMatching(const std::string& prefix,
                                     const ApplyContext& ctx,
                                     int64_t& removed) {
  ApplyResult result;
  removed = 0;
  auto it = entries_.lower_bound(prefix);
  while (it != entries_.end() && absl::StartsWith(it->first, prefix)) {
    Unindex(it->first, it->second);
    AddRemoved(result, v1::WatchEvent::REMOVED, it->first,
               std::move(it->second), ctx);
    it = entries_.erase(it);
    ++removed;
  }
  result.mutated = removed > 0;
  return result;
}

void MapState::Snapshot(const WatchFilter& filter,
                        v1::WatchSnapshot& out) const {
  const auto add = [&](const std::string& key, const Entry& entry) {
    SetEntry(*out.add_entries(), key, entry.value, entry.version);
  };
  if (filter.key.has_value()) {
    auto it = entries_.find(*filter.key);
    if (it != entries_.end()) add(it->first, it->second);
    return;
  }
  for (auto it = entries_.lower_bound(filter.prefix);
       it != entries_.end() && absl::StartsWith(it->first, filter.prefix);
       ++it) {
    add(it->first, it->second);
  }
}

ApplyResult MapState::Apply(const v1::Request& request,
                            const ApplyContext& ctx, v1::Response& response) {
  if (!request.has_map()) {
    SetError(response, absl::StatusCode::kInvalidArgument,
             absl::StrCat("map ", QuoteName(request.name()),
                          ": not a map operation"));
    return {};
  }
  locks_.set_name(request.name());
  if (std::optional<PrefixLocks::Refusal> refused = RefuseWrite(request)) {
    SetError(response, absl::StatusCode::kFailedPrecondition,
             std::move(refused->message), refused->fence);
    return {};
  }
  const v1::MapRequest& op = request.map();
  switch (op.op_case()) {
    case v1::MapRequest::kLockPrefix:
      return locks_.Lock(request, ctx, response);
    case v1::MapRequest::kUnlockPrefix:
      return locks_.Unlock(request, ctx, response);
    case v1::MapRequest::kPrefixLocks:
      locks_.List(op.prefix_locks(), ctx.limits, *response.mutable_map());
      return {};
    case v1::MapRequest::kPut:
      return Put(request, ctx, response);
    case v1::MapRequest::kInsert:
      return Insert(request, ctx, response);
    case v1::MapRequest::kUpdate:
      return Update(request, ctx, response);
    case v1::MapRequest::kRemove:
      return Remove(request, ctx, response);
    case v1::MapRequest::kGet:
      Get(op.get(), *response.mutable_map());
      return {};
    case v1::MapRequest::kContains:
      response.mutable_map()->set_present(
          entries_.contains(op.contains().key()));
      return {};
    case v1::MapRequest::kSize:
      response.mutable_map()->set_size(static_cast<int64_t>(entries_.size()));
      return {};
    case v1::MapRequest::kClear: {
      v1::MapResponse* out = response.mutable_map();
      // Nothing to clear: no revision.
      int64_t removed = 0;
      ApplyResult result = RemoveMatching("", ctx, removed);
      if (result.mutated) out->set_version(ctx.revision);
      return result;
    }
    case v1::MapRequest::kRemovePrefix: {
      v1::MapResponse* out = response.mutable_map();
      int64_t removed = 0;
      ApplyResult result =
          RemoveMatching(op.remove_prefix().prefix(), ctx, removed);
      out->set_size(removed);
      if (result.mutated) out->set_version(ctx.revision);
      return result;
    }
    case v1::MapRequest::kList:
      List(op.list(), ctx.limits, *response.mutable_map());
      return {};
    case v1::MapRequest::OP_NOT_SET:
      break;
  }
  SetError(response, absl::StatusCode::kInvalidArgument,
           absl::StrCat("map ", QuoteName(request.name()),
                        ": request has no operation"));
  return {};
}

ApplyResult MapState::Put(const v1::Request& request, const ApplyContext& ctx,
                          v1::Response& response) {
  const v1::MapPut& put = request.map().put();
  auto it = entries_.lower_bound(put.key());
  const bool found = it != entries_.end() && it->first == put.key();
  if (!CheckVersion(request, put.key(), put.has_if_version(), put.if_version(),
                    found ? Entries::const_iterator(it) : entries_.cend(),
                    response)) {
    return {};
  }
  v1::MapResponse* out = response.mutable_map();
  out->set_version(ctx.revision);
  Entry entry = NewEntry(put.value(), put.ephemeral(), put.ttl_ms(), request,
                         ctx);
  ApplyResult result = Mutated();
  if (found) {
    out->set_present(true);
    Unindex(it->first, it->second);
    FillEntry(it->first, std::move(it->second), *out->mutable_entry());
    AddWritten(result, it->first, entry, &out->entry(), ctx);
    it->second = std::move(entry);
    Index(it->first, it->second);
  } else {
    AddWritten(result, put.key(), entry, nullptr, ctx);
    Index(put.key(), entry);
    entries_.emplace_hint(it, put.key(), std::move(entry));
  }
  return result;
}

ApplyResult MapState::Insert(const v1::Request& request,
                             const ApplyContext& ctx, v1::Response& response) {
  const v1::MapInsert& insert = request.map().insert();
  auto it = entries_.lower_bound(insert.key());
  if (it != entries_.end() && it->first == insert.key()) {
    SetError(response, absl::StatusCode::kAlreadyExists,
             absl::StrCat("map ", QuoteName(request.name()),
                          " already has key ", QuoteBytes(insert.key()),
                          " (version ", it->second.version, ")"));
    return {};
  }
  Entry entry = NewEntry(insert.value(), insert.ephemeral(), insert.ttl_ms(),
                         request, ctx);
  ApplyResult result = Mutated();
  AddWritten(result, insert.key(), entry, nullptr, ctx);
  Index(insert.key(), entry);
  entries_.emplace_hint(it, insert.key(), std::move(entry));
  response.mutable_map()->set_version(ctx.revision);
  return result;
}

MapState::Entries::iterator MapState::FindForWrite(const v1::Request& request,
                                                  const std::string& key,
                                                  bool has_if_version,
                                                  int64_t if_version,
                                                  v1::Response& response) {
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    SetNotFound(request, key, response);
    return it;
  }
  if (!CheckVersion(request, key, has_if_version, if_version, it, response)) {
    return entries_.end();
  }
  return it;
}

void MapState::TakePrevious(Entries::iterator it, const ApplyContext& ctx,
                            v1::Response& response) {
  v1::MapResponse* out = response.mutable_map();
  out->set_version(ctx.revision);
  out->set_present(true);
  Unindex(it->first, it->second);
  FillEntry(it->first, std::move(it->second), *out->mutable_entry());
}

ApplyResult MapState::Update(const v1::Request& request,
                             const ApplyContext& ctx, v1::Response& response) {
  const v1::MapUpdate& update = request.map().update();
  auto it = FindForWrite(request, update.key(), update.has_if_version(),
                         update.if_version(), response);
  if (it == entries_.end()) return {};
  TakePrevious(it, ctx, response);
  it->second = NewEntry(update.value(), update.ephemeral(), update.ttl_ms(),
                        request, ctx);
  Index(it->first, it->second);
  ApplyResult result = Mutated();
  AddWritten(result, it->first, it->second, &response.map().entry(), ctx);
  return result;
}

ApplyResult MapState::Remove(const v1::Request& request,
                             const ApplyContext& ctx, v1::Response& response) {
  const v1::MapRemove& remove = request.map().remove();
  auto it = FindForWrite(request, remove.key(), remove.has_if_version(),
                         remove.if_version(), response);
  if (it == entries_.end()) return {};
  TakePrevious(it, ctx, response);
  entries_.erase(it);
  ApplyResult result = Mutated();
  v1::WatchEvent& event =
      AddEvent(result, v1::WatchEvent::REMOVED, ctx.revision);
  *event.mutable_previous() = response.map().entry();
  return result;
}

void MapState::Get(const v1::MapGet& get, v1::MapResponse& out) const {
  auto it = entries_.find(get.key());
  if (it == entries_.end()) return;
  out.set_present(true);
  v1::MapEntry* entry = out.mutable_entry();
  entry->set_key(it->first);
  entry->set_value(it->second.value);
  entry->set_version(it->second.version);
}

void MapState::List(const v1::MapList& list, const Limits& limits,
                    v1::MapResponse& out) const {
  const std::string& prefix = list.prefix();
  const std::string& after = list.start_after();
  // Keys after `after` that start with `prefix` all sort at or after both.
  auto it = (!after.empty() && after >= prefix) ? entries_.upper_bound(after)
                                                : entries_.lower_bound(prefix);
  const uint32_t limit = PageSize(list.limit(), limits);
  auto matches = [&](Entries::const_iterator i) {
    return i != entries_.end() && absl::StartsWith(i->first, prefix);
  };
  out.mutable_entries()->Reserve(
      static_cast<int>(std::min<size_t>(limit, entries_.size())));
  int64_t bytes = 0;
  uint32_t count = 0;
  for (; matches(it) && count < limit; ++it) {
    const int64_t size = static_cast<int64_t>(
        it->first.size() + (list.keys_only() ? 0 : it->second.value.size()));
    if (count > 0 && bytes + size > limits.max_page_bytes) break;
    v1::MapEntry* entry = out.add_entries();
    entry->set_key(it->first);
    if (!list.keys_only()) entry->set_value(it->second.value);
    entry->set_version(it->second.version);
    bytes += size;
    ++count;
  }
  out.set_more(matches(it));
}

bool MapState::CheckVersion(const v1::Request& request, const std::string& key,
                            bool has_if_version, int64_t if_version,
                            Entries::const_iterator it,
                            v1::Response& response) const {
  if (!has_if_version) return true;
  if (it == entries_.end()) {
    SetError(response, absl::StatusCode::kNotFound,
             absl::StrCat("map ", QuoteName(request.name()), " has no key ",
                          QuoteBytes(key), "; expected version ", if_version));
    return false;
  }
  if (it->second.version != if_version) {
    SetError(response, absl::StatusCode::kFailedPrecondition,
             absl::StrCat(QuoteKey(request, key), ": expected version ",
                          if_version, ", current version is ",
                          it->second.version),
             it->second.version);
    return false;
  }
  return true;
}

std::optional<PrefixLocks::Refusal> MapState::RefuseWrite(
    const v1::Request& request) const {
  const v1::MapRequest& op = request.map();
  const v1::Fence* fence = MapFence(request);
  switch (op.op_case()) {
    case v1::MapRequest::kPut:
      return locks_.RefuseKey(request, op.put().key(), fence);
    case v1::MapRequest::kInsert:
      return locks_.RefuseKey(request, op.insert().key(), fence);
    case v1::MapRequest::kUpdate:
      return locks_.RefuseKey(request, op.update().key(), fence);
    case v1::MapRequest::kRemove:
      return locks_.RefuseKey(request, op.remove().key(), fence);
    case v1::MapRequest::kClear:
      return locks_.RefuseRange(request, "", fence);
    case v1::MapRequest::kRemovePrefix:
      return locks_.RefuseRange(request, op.remove_prefix().prefix(), fence);
    default:
      return std::nullopt;
  }
}

absl::Status MapState::CheckTxnWrite(const v1::Request& request) const {
  if (!request.has_map()) return absl::OkStatus();
  if (std::optional<PrefixLocks::Refusal> refused = RefuseWrite(request)) {
    return absl::FailedPreconditionError(refused->message);
  }
  return absl::OkStatus();
}

void MapState::Describe(v1::PrimitiveInfo& out) const {
  std::string summary = Counted(static_cast<int64_t>(entries_.size()), "entry", "entries");
  if (!locks_.held().empty()) {
    absl::StrAppend(&summary, ", ",
                    Counted(static_cast<int64_t>(locks_.held().size()), "prefix lock",
                            "prefix locks"));
  }
  if (locks_.waiters() > 0) absl::StrAppend(&summary, ", ", locks_.waiters(), " waiting");
  out.set_summary(std::move(summary));
  locks_.Describe(out);
  for (auto it = by_session_.begin(); it != by_session_.end() && HasRoom(out.holders());
       ++it) {
    AddHolding(*out.mutable_holders(), it->first,
               absl::StrCat("entry ", DescribeBytes(it->second)));
  }
}

void MapState::Save(atomix::log::v1::PrimitiveSave& out) const {
  auto* save = out.mutable_map();
  save->mutable_entries()->Reserve(static_cast<int>(entries_.size()));
  for (const auto& [key, entry] : entries_) {
    auto* e = save->add_entries();
    e->set_key(key);
    e->set_value(entry.value);
    e->set_version(entry.version);
    e->set_session(entry.session);
    e->set_expires_us(SaveTime(entry.expires));
  }
  locks_.Save(*save);
}

absl::Status MapState::Load(const atomix::log::v1::PrimitiveSave& in) {
  if (!in.has_map()) return WrongSave("map");
  locks_.set_name(in.name());
  if (absl::Status loaded = locks_.Load(in.map()); !loaded.ok()) {
    return loaded;
  }
  for (const auto& e : in.map().entries()) {
    Entry entry{e.value(), e.version(), e.session(), LoadTime(e.expires_us())};
    Index(e.key(), entry);
    entries_.insert_or_assign(e.key(), std::move(entry));
  }
  return absl::OkStatus();
}

namespace {

absl::Status CheckKeyAndValue(const std::string& key, const std::string& value,
                              const Limits& limits) {
  absl::Status status = CheckBytes("key", key, limits.max_key_bytes, false);
  if (!status.ok()) return status;
  return CheckBytes("value", value, limits.max_value_bytes, true);
}

absl::Status ValidateMap(const v1::Request& request, const Limits& limits) {
  const v1::MapRequest& op = request.map();
  switch (op.op_case()) {
    case v1::MapRequest::kPut: {
      const v1::MapPut& put = op.put();
      return Both(CheckKeyAndValue(put.key(), put.value(), limits),
                  CheckWriteOptions(
                      request, put.ephemeral(), put.ttl_ms(),
                      put.has_if_fence() ? &put.if_fence() : nullptr, limits));
    }
    case v1::MapRequest::kInsert: {
      const v1::MapInsert& insert = op.insert();
      return Both(
          CheckKeyAndValue(insert.key(), insert.value(), limits),
          CheckWriteOptions(
              request, insert.ephemeral(), insert.ttl_ms(),
              insert.has_if_fence() ? &insert.if_fence() : nullptr, limits));
    }
    case v1::MapRequest::kUpdate: {
      const v1::MapUpdate& update = op.update();
      return Both(
          CheckKeyAndValue(update.key(), update.value(), limits),
          CheckWriteOptions(
              request, update.ephemeral(), update.ttl_ms(),
              update.has_if_fence() ? &update.if_fence() : nullptr, limits));
    }
    case v1::MapRequest::kGet:
      return CheckKey(op.get().key(), limits);
    case v1::MapRequest::kRemove:
      return Both(CheckKey(op.remove().key(), limits),
                  op.remove().has_if_fence()
                      ? CheckFence(op.remove().if_fence(), limits)
                      : absl::OkStatus());
    case v1::MapRequest::kContains:
      return CheckKey(op.contains().key(), limits);
    case v1::MapRequest::kList: {
      absl::Status status = CheckBytes("prefix", op.list().prefix(),
                                       limits.max_key_bytes, true);
      if (!status.ok()) return status;
      return CheckBytes("start_after", op.list().start_after(),
                        limits.max_key_bytes, true);
    }
    case v1::MapRequest::kRemovePrefix:
      return Both(CheckBytes("prefix", op.remove_prefix().prefix(),
                             limits.max_key_bytes, true),
                  op.remove_prefix().has_if_fence()
                      ? CheckFence(op.remove_prefix().if_fence(), limits)
                      : absl::OkStatus());
    case v1::MapRequest::kClear:
      return op.clear().has_if_fence()
                 ? CheckFence(op.clear().if_fence(), limits)
                 : absl::OkStatus();
    case v1::MapRequest::kLockPrefix:
      return Both(NeedsSession(request, "map lock_prefix"),
                  CheckBytes("prefix", op.lock_prefix().prefix(),
                             limits.max_key_bytes, true));
    case v1::MapRequest::kUnlockPrefix:
      return Both(op.unlock_prefix().has_if_version()
                      ? absl::OkStatus()
                      : NeedsSession(request,
                                     "map unlock_prefix without if_version"),
                  CheckBytes("prefix", op.unlock_prefix().prefix(),
                             limits.max_key_bytes, true));
    case v1::MapRequest::kPrefixLocks:
      return CheckBytes("start_after", op.prefix_locks().start_after(),
                        limits.max_key_bytes, true);
    case v1::MapRequest::kSize:
      return absl::OkStatus();
    case v1::MapRequest::OP_NOT_SET:
      break;
  }
  return NoOperation("map");
}

// Ephemeral entries and prefix locks (held or waited for) belong to the
// session.
bool MapSessionOwned(const v1::Request& request) {
  const v1::MapRequest& op = request.map();
  return op.has_lock_prefix() || (op.has_put() && op.put().ephemeral()) ||
         (op.has_insert() && op.insert().ephemeral()) ||
         (op.has_update() && op.update().ephemeral());
}

bool MapIsRead(const v1::Request& request) {
  const v1::MapRequest& op = request.map();
  return op.has_get() || op.has_contains() || op.has_size() ||
         op.has_list() || op.has_prefix_locks();
}

// Prefix locks are grants (lock); every other change is a write.
AccessRight MapRight(const v1::Request& request) {
  const v1::MapRequest& op = request.map();
  return op.has_lock_prefix() || op.has_unlock_prefix() ? AccessRight::kLock
                                                        : AccessRight::kWrite;
}

}  // namespace

const PrimitiveSpec& MapPrimitive() {
  static const PrimitiveSpec spec{
      .type = v1::MAP,
      .name = "map",
      .a_name = "a map",
      .op = v1::Request::kMap,
      .make = &Make<MapState>,
      .validate = &ValidateMap,
      .fence_of = &MapFence,
      .grants_fences = true,
      .session_owned = &MapSessionOwned,
      .key_filters = true,
      .has_timers = true,
      .is_read = &MapIsRead,
      .right_of = &MapRight,
  };
  return spec;
}

}  // namespace atomix::broker
