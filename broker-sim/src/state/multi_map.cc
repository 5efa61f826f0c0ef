// MultiMap state machine.
#include "broker-sim/src/state/multi_map.h"

#include <algorithm>
#include <utility>

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

using Pair = std::pair<std::string, std::string>;

// Fills `out` with one page of the pairs from `it` on while `matches(it)`:
// at most PageSize(limit) pairs and about max_page_bytes of keys and values
// (always at least one pair), and says whether more follow.
template <class Iterator, class Matches>
void FillPage(Iterator it, Matches matches, uint32_t requested,
              const Limits& limits, v1::MultiMapResponse& out) {
  const uint32_t limit = PageSize(requested, limits);
  int64_t bytes = 0;
  uint32_t count = 0;
  for (; matches(it) && count < limit; ++it) {
    const auto& [key, value] = it->first;
    const int64_t size = static_cast<int64_t>(key.size() + value.size());
    if (count > 0 && bytes + size > limits.max_page_bytes) break;
    SetEntry(*out.add_entries(), key, value, it->second);
    bytes += size;
    ++count;
  }
  out.set_more(matches(it));
}

}  // namespace

MultiMapState::Pairs::const_iterator MultiMapState::KeyBegin(
    const std::string& key) const {
  // Values are never empty, so (key, "") sorts before every pair of key.
  return pairs_.lower_bound(Pair(key, std::string()));
}

MultiMapState::Pairs::iterator MultiMapState::KeyBegin(const std::string& key) {
  return pairs_.lower_bound(Pair(key, std::string()));
}

MultiMapState::Pairs::iterator MultiMapState::KeyEnd(Pairs::iterator from,
                                                     const std::string& key) {
  while (from != pairs_.end() && from->first.first == key) ++from;
  return from;
}

ApplyResult MultiMapState::Apply(const v1::Request& request,
                                 const ApplyContext& ctx,
                                 v1::Response& response) {
  if (!request.has_multi_map()) {
    SetError(response, absl::StatusCode::kInvalidArgument,
             absl::StrCat("multimap ", QuoteName(request.name()),
                          ": not a multimap operation"));
    return {};
  }
  const v1::MultiMapRequest& op = request.multi_map();
  switch (op.op_case()) {
    case v1::MultiMapRequest::kPut:
      return Put(op.put(), ctx, *response.mutable_multi_map());
    case v1::MultiMapRequest::kRemove:
      return Remove(op.remove(), ctx, *response.mutable_multi_map());
    case v1::MultiMapRequest::kRemoveKey: {
      const std::string& key = op.remove_key().key();
      auto first = KeyBegin(key);
      return RemoveRange(first, KeyEnd(first, key), ctx,
                         *response.mutable_multi_map());
    }
    case v1::MultiMapRequest::kContains:
      response.mutable_multi_map()->set_contains(Contains(op.contains()));
      return {};
    case v1::MultiMapRequest::kGet:
      Get(op.get(), ctx.limits, *response.mutable_multi_map());
      return {};
    case v1::MultiMapRequest::kSize:
      response.mutable_multi_map()->set_size(
          static_cast<int64_t>(pairs_.size()));
      return {};
    case v1::MultiMapRequest::kList:
      List(op.list(), ctx.limits, *response.mutable_multi_map());
      return {};
    case v1::MultiMapRequest::kClear:
      return RemoveRange(pairs_.begin(), pairs_.end(), ctx,
                         *response.mutable_multi_map());
    case v1::MultiMapRequest::OP_NOT_SET:
      break;
  }
  SetError(response, absl::StatusCode::kInvalidArgument,
           absl::StrCat("multimap ", QuoteName(request.name()),
                        ": request has no operation"));
  return {};
}

ApplyResult MultiMapState::Put(const v1::MultiMapPut& put,
                               const ApplyContext& ctx,
                               v1::MultiMapResponse& out) {
  Pair pair(put.key(), put.value());
  auto it = pairs_.lower_bound(pair);
  if (it != pairs_.end() && it->first == pair) {
    out.set_version(it->second);  // already there: no revision
    return {};
  }
  ApplyResult result = Mutated();
  SetEntry(
      *AddEvent(result, v1::WatchEvent::INSERTED, ctx.revision).mutable_entry(),
      pair.first, pair.second, ctx.revision);
  pairs_.emplace_hint(it, std::move(pair), ctx.revision);
  out.set_changed(true);
  out.set_version(ctx.revision);
  return result;
}

ApplyResult MultiMapState::Remove(const v1::MultiMapRemove& remove,
                                  const ApplyContext& ctx,
                                  v1::MultiMapResponse& out) {
  auto it = pairs_.find(Pair(remove.key(), remove.value()));
  if (it == pairs_.end()) return {};
  ApplyResult result = Mutated();
  SetEntry(*AddEvent(result, v1::WatchEvent::REMOVED, ctx.revision)
                .mutable_previous(),
           it->first.first, it->first.second, it->second);
  pairs_.erase(it);
  out.set_changed(true);
  out.set_version(ctx.revision);
  return result;
}

ApplyResult MultiMapState::RemoveRange(Pairs::iterator first,
                                       Pairs::iterator last,
                                       const ApplyContext& ctx,
                                       v1::MultiMapResponse& out) {
  ApplyResult result;
  int64_t removed = 0;
  for (auto it = first; it != last; ++it) {
    SetEntry(*AddEvent(result, v1::WatchEvent::REMOVED, ctx.revision)
                  .mutable_previous(),
             it->first.first, it->first.second, it->second);
    ++removed;
  }
  out.set_size(removed);
  if (removed == 0) return result;  // nothing to remove: no revision
  pairs_.erase(first, last);
  result.mutated = true;
  out.set_version(ctx.revision);
  return result;
}

bool MultiMapState::Contains(const v1::MultiMapContains& contains) const {
  if (contains.has_value()) {
    return pairs_.contains(Pair(contains.key(), contains.value()));
  }
  auto it = KeyBegin(contains.key());
  return it != pairs_.end() && it->first.first == contains.key();
}

void MultiMapState::Get(const v1::MultiMapGet& get, const Limits& limits,
                        v1::MultiMapResponse& out) const {
  const std::string& key = get.key();
  // An empty start_after sorts before every value: the first page.
  auto it = pairs_.upper_bound(Pair(key, get.start_after()));
  FillPage(
      it,
      [&](Pairs::const_iterator i) {
        return i != pairs_.end() && i->first.first == key;
      },
      get.limit(), limits, out);
}

void MultiMapState::List(const v1::MultiMapList& list, const Limits& limits,
                         v1::MultiMapResponse& out) const {
  const std::string& prefix = list.prefix();
  const Pair after(list.start_after_key(), list.start_after_value());
  // Pairs after `after` whose key starts with `prefix` sort after both
  // `after` and (prefix, ""); start at the later of the two.
  auto it = after >= Pair(prefix, std::string()) ? pairs_.upper_bound(after)
                                                 : KeyBegin(prefix);
  FillPage(
      it,
      [&](Pairs::const_iterator i) {
        return i != pairs_.end() && absl::StartsWith(i->first.first, prefix);
      },
      list.limit(), limits, out);
}

void MultiMapState::Snapshot(const WatchFilter& filter,
                             v1::WatchSnapshot& out) const {
  const std::string& from =
      filter.key.has_value() ? *filter.key : filter.prefix;
  for (auto it = KeyBegin(from);
       it != pairs_.end() && filter.MatchesKey(it->first.first); ++it) {
    SetEntry(*out.add_entries(), it->first.first, it->first.second, it->second);
  }
}

void MultiMapState::Describe(v1::PrimitiveInfo& out) const {
  out.set_summary(Counted(static_cast<int64_t>(pairs_.size()), "value", "values"));
}

void MultiMapState::Save(atomix::log::v1::PrimitiveSave& out) const {
  auto* save = out.mutable_multi_map();
  save->mutable_pairs()->Reserve(static_cast<int>(pairs_.size()));
  for (const auto& [pair, version] : pairs_) {
    auto* p = save->add_pairs();
    p->set_key(pair.first);
    p->set_value(pair.second);
    p->set_version(version);
  }
}

absl::Status MultiMapState::Load(const atomix::log::v1::PrimitiveSave& in) {
  if (!in.has_multi_map()) return WrongSave("multimap");
  for (const auto& p : in.multi_map().pairs()) {
    // Pairs are never empty (an empty value is the listing's "from the
    // start") and never saved twice.
    if (p.key().empty() || p.value().empty()) {
      return absl::DataLossError(
          "the saved multimap holds a pair with an empty key or value");
    }
    const bool added =
        pairs_.try_emplace(Pair(p.key(), p.value()), p.version()).second;
    if (!added) {
      return absl::DataLossError(absl::StrCat(
          "the saved multimap holds the pair of key ", QuoteBytes(p.key()),
          " twice"));
    }
  }
  return absl::OkStatus();
}

namespace {

// Values are never empty: an empty start_after means "from the start".
absl::Status CheckPair(const std::string& key, const std::string& value,
                       const Limits& limits) {
  return Both(CheckKey(key, limits),
              CheckBytes("value", value, limits.max_value_bytes, false));
}

absl::Status ValidateMultiMap(const v1::Request& request,
                              const Limits& limits) {
  const v1::MultiMapRequest& op = request.multi_map();
  switch (op.op_case()) {
    case v1::MultiMapRequest::kPut:
      return CheckPair(op.put().key(), op.put().value(), limits);
    case v1::MultiMapRequest::kRemove:
      return CheckPair(op.remove().key(), op.remove().value(), limits);
    case v1::MultiMapRequest::kRemoveKey:
      return CheckKey(op.remove_key().key(), limits);
    case v1::MultiMapRequest::kContains: {
      const v1::MultiMapContains& contains = op.contains();
      return contains.has_value()
                 ? CheckPair(contains.key(), contains.value(), limits)
                 : CheckKey(contains.key(), limits);
    }
    case v1::MultiMapRequest::kGet:
      return Both(CheckKey(op.get().key(), limits),
                  CheckBytes("start_after", op.get().start_after(),
                             limits.max_value_bytes, true));
    case v1::MultiMapRequest::kList: {
      const v1::MultiMapList& list = op.list();
      return Both(
          Both(CheckBytes("prefix", list.prefix(), limits.max_key_bytes, true),
               CheckBytes("start_after_key", list.start_after_key(),
                          limits.max_key_bytes, true)),
          CheckBytes("start_after_value", list.start_after_value(),
                     limits.max_value_bytes, true));
    }
    case v1::MultiMapRequest::kSize:
    case v1::MultiMapRequest::kClear:
      return absl::OkStatus();
    case v1::MultiMapRequest::OP_NOT_SET:
      break;
  }
  return NoOperation("multimap");
}

bool MultiMapIsRead(const v1::Request& request) {
  const v1::MultiMapRequest& op = request.multi_map();
  return op.has_contains() || op.has_get() || op.has_size() || op.has_list();
}

}  // namespace

const PrimitiveSpec& MultiMapPrimitive() {
  static const PrimitiveSpec spec{
      .type = v1::MULTI_MAP,
      .name = "multimap",
      .a_name = "a multimap",
      .op = v1::Request::kMultiMap,
      .make = &Make<MultiMapState>,
      .validate = &ValidateMultiMap,
      .key_filters = true,
      .is_read = &MultiMapIsRead,
  };
  return spec;
}

}  // namespace atomix::broker
