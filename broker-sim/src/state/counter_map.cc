// CounterMap state machine.
#include "broker-sim/src/state/counter_map.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "broker-sim/src/state/check.h"
#include "broker-sim/src/state/errors.h"
#include "broker-sim/src/state/paging.h"
#include "broker-sim/src/state/registry.h"
#include "broker-sim/src/state/saved_time.h"
#include "broker-sim/src/state/watch_events.h"

namespace atomix::broker {
namespace {

constexpr int64_t kCountBytes = 8;

// `counter map "quotas" key "alice"`, for messages.
std::string QuoteKey(const v1::Request& request, const std::string& key) {
  return absl::StrCat("counter map ", QuoteName(request.name()), " key ",
                      QuoteBytes(key));
}

void FillEntry(v1::MapEntry& out, const std::string& key,
               const CounterMapState::Count& count) {
  SetEntry(out, key, EncodeCount(count.value), count.version);
}

}  // namespace

std::string EncodeCount(int64_t value) {
  const auto bits = static_cast<uint64_t>(value);
  std::string out(kCountBytes, '\0');
  for (int i = 0; i < kCountBytes; ++i) {
    out[i] = static_cast<char>(bits >> (8 * (kCountBytes - 1 - i)));
  }
  return out;
}

ApplyResult CounterMapState::Apply(const v1::Request& request,
                                   const ApplyContext& ctx,
                                   v1::Response& response) {
  if (!request.has_counter_map()) {
    SetError(response, absl::StatusCode::kInvalidArgument,
             absl::StrCat("counter map ", QuoteName(request.name()),
                          ": not a counter map operation"));
    return {};
  }
  const v1::CounterMapRequest& op = request.counter_map();
  switch (op.op_case()) {
    case v1::CounterMapRequest::kGet:
      Get(op.get().key(), *response.mutable_counter_map());
      return {};
    case v1::CounterMapRequest::kSet: {
      const std::string& key = op.set().key();
      return Write(key, counts_.find(key), op.set().value(), ctx, response);
    }
    case v1::CounterMapRequest::kAdd:
      return Add(request, ctx, response);
    case v1::CounterMapRequest::kCompareAndSet:
      return CompareAndSet(request, ctx, response);
    case v1::CounterMapRequest::kRemove:
      return Remove(request, ctx, response);
    case v1::CounterMapRequest::kSize:
      response.mutable_counter_map()->set_size(
          static_cast<int64_t>(counts_.size()));
      return {};
    case v1::CounterMapRequest::kList:
      List(op.list(), ctx.limits, *response.mutable_counter_map());
      return {};
    case v1::CounterMapRequest::kClear:
      return Clear(ctx, response);
    case v1::CounterMapRequest::OP_NOT_SET:
      break;
  }
  SetError(response, absl::StatusCode::kInvalidArgument,
           absl::StrCat("counter map ", QuoteName(request.name()),
                        ": request has no operation"));
  return {};
}

ApplyResult CounterMapState::Write(const std::string& key, Counts::iterator it,
                                   int64_t value, const ApplyContext& ctx,
                                   v1::Response& response) {
  ApplyResult result = Mutated();
  const Count written{value, ctx.revision};
  if (it == counts_.end()) {
    FillEntry(*AddEvent(result, v1::WatchEvent::INSERTED, ctx.revision)
                   .mutable_entry(),
              key, written);
    counts_.emplace(key, written);
  } else {
    v1::WatchEvent& event =
        AddEvent(result, v1::WatchEvent::UPDATED, ctx.revision);
    FillEntry(*event.mutable_entry(), key, written);
    FillEntry(*event.mutable_previous(), key, it->second);
    it->second = written;
  }
  v1::CounterMapResponse* out = response.mutable_counter_map();
  out->set_value(value);
  out->set_version(ctx.revision);
  out->set_present(true);
  return result;
}

ApplyResult CounterMapState::Add(const v1::Request& request,
                                 const ApplyContext& ctx,
                                 v1::Response& response) {
  const v1::CounterMapAdd& add = request.counter_map().add();
  auto it = counts_.find(add.key());
  const int64_t current = it == counts_.end() ? 0 : it->second.value;
  int64_t sum = 0;
  if (__builtin_add_overflow(current, add.delta(), &sum)) {
    SetError(response, absl::StatusCode::kOutOfRange,
             absl::StrCat(QuoteKey(request, add.key()), ": adding ",
                          add.delta(), " to ", current, " overflows int64"));
    return {};
  }
  return Write(add.key(), it, sum, ctx, response);
}

ApplyResult CounterMapState::CompareAndSet(const v1::Request& request,
                                           const ApplyContext& ctx,
                                           v1::Response& response) {
  const v1::CounterMapCompareAndSet& cas =
      request.counter_map().compare_and_set();
  auto it = counts_.find(cas.key());
  const int64_t current = it == counts_.end() ? 0 : it->second.value;
  if (cas.expect() != current) {
    SetError(response, absl::StatusCode::kFailedPrecondition,
             absl::StrCat(QuoteKey(request, cas.key()), ": expected ",
                          cas.expect(), ", current value is ", current),
             current);
    return {};
  }
  return Write(cas.key(), it, cas.update(), ctx, response);
}

ApplyResult CounterMapState::Remove(const v1::Request& request,
                                    const ApplyContext& ctx,
                                    v1::Response& response) {
  v1::CounterMapResponse* out = response.mutable_counter_map();
  auto it = counts_.find(request.counter_map().remove().key());
  if (it == counts_.end()) return {};  // present = false; no revision
  ApplyResult result = Mutated();
  FillEntry(*AddEvent(result, v1::WatchEvent::REMOVED, ctx.revision)
                 .mutable_previous(),
            it->first, it->second);
  out->set_value(it->second.value);
  out->set_version(ctx.revision);
  out->set_present(true);
  counts_.erase(it);
  return result;
}

ApplyResult CounterMapState::Clear(const ApplyContext& ctx,
                                   v1::Response& response) {
  v1::CounterMapResponse* out = response.mutable_counter_map();
  if (counts_.empty()) return {};  // nothing to clear: no revision
  ApplyResult result = Mutated();
  result.events.reserve(counts_.size());
  for (const auto& [key, count] : counts_) {
    FillEntry(*AddEvent(result, v1::WatchEvent::REMOVED, ctx.revision)
                   .mutable_previous(),
              key, count);
  }
  out->set_size(static_cast<int64_t>(counts_.size()));
  out->set_version(ctx.revision);
  counts_.clear();
  return result;
}

void CounterMapState::Get(const std::string& key,
                          v1::CounterMapResponse& out) const {
  auto it = counts_.find(key);
  if (it == counts_.end()) return;  // reads as 0, version 0, absent
  out.set_value(it->second.value);
  out.set_version(it->second.version);
  out.set_present(true);
}

void CounterMapState::List(const v1::CounterMapList& list, const Limits& limits,
                           v1::CounterMapResponse& out) const {
  const std::string& prefix = list.prefix();
  const std::string& after = list.start_after();
  // Keys after `after` that start with `prefix` all sort at or after both.
  auto it = (!after.empty() && after >= prefix) ? counts_.upper_bound(after)
                                                : counts_.lower_bound(prefix);
  const uint32_t limit = PageSize(list.limit(), limits);
  auto matches = [&](Counts::const_iterator i) {
    return i != counts_.end() && absl::StartsWith(i->first, prefix);
  };
  out.mutable_entries()->Reserve(
      static_cast<int>(std::min<size_t>(limit, counts_.size())));
  int64_t bytes = 0;
  uint32_t count = 0;
  for (; matches(it) && count < limit; ++it) {
    const int64_t size = static_cast<int64_t>(it->first.size()) + kCountBytes;
    if (count > 0 && bytes + size > limits.max_page_bytes) break;
    FillEntry(*out.add_entries(), it->first, it->second);
    bytes += size;
    ++count;
  }
  out.set_more(matches(it));
}

void CounterMapState::Snapshot(const WatchFilter& filter,
                               v1::WatchSnapshot& out) const {
  if (filter.key.has_value()) {
    auto it = counts_.find(*filter.key);
    if (it != counts_.end())
      FillEntry(*out.add_entries(), it->first, it->second);
    return;
  }
  for (auto it = counts_.lower_bound(filter.prefix);
       it != counts_.end() && absl::StartsWith(it->first, filter.prefix);
       ++it) {
    FillEntry(*out.add_entries(), it->first, it->second);
  }
}

void CounterMapState::Save(atomix::log::v1::PrimitiveSave& out) const {
  auto* save = out.mutable_counter_map();
  save->mutable_entries()->Reserve(static_cast<int>(counts_.size()));
  for (const auto& [key, count] : counts_) {
    auto* e = save->add_entries();
    e->set_key(key);
    e->set_value(count.value);
    e->set_version(count.version);
  }
}

absl::Status CounterMapState::Load(const atomix::log::v1::PrimitiveSave& in) {
  if (!in.has_counter_map()) return WrongSave("counter map");
  for (const auto& e : in.counter_map().entries()) {
    if (e.key().empty()) {
      return absl::DataLossError("the saved counter map holds an empty key");
    }
    if (!counts_.try_emplace(e.key(), Count{e.value(), e.version()}).second) {
      return absl::DataLossError(absl::StrCat(
          "the saved counter map holds key ", QuoteBytes(e.key()), " twice"));
    }
  }
  return absl::OkStatus();
}

namespace {

absl::Status ValidateCounterMap(const v1::Request& request,
                                const Limits& limits) {
  const v1::CounterMapRequest& op = request.counter_map();
  switch (op.op_case()) {
    case v1::CounterMapRequest::kGet:
      return CheckKey(op.get().key(), limits);
    case v1::CounterMapRequest::kSet:
      return CheckKey(op.set().key(), limits);
    case v1::CounterMapRequest::kAdd:
      return CheckKey(op.add().key(), limits);
    case v1::CounterMapRequest::kCompareAndSet:
      return CheckKey(op.compare_and_set().key(), limits);
    case v1::CounterMapRequest::kRemove:
      return CheckKey(op.remove().key(), limits);
    case v1::CounterMapRequest::kList:
      return Both(
          CheckBytes("prefix", op.list().prefix(), limits.max_key_bytes, true),
          CheckBytes("start_after", op.list().start_after(),
                     limits.max_key_bytes, true));
    case v1::CounterMapRequest::kSize:
    case v1::CounterMapRequest::kClear:
      return absl::OkStatus();
    case v1::CounterMapRequest::OP_NOT_SET:
      break;
  }
  return NoOperation("counter map");
}

bool CounterMapIsRead(const v1::Request& request) {
  const v1::CounterMapRequest& op = request.counter_map();
  return op.has_get() || op.has_size() || op.has_list();
}

}  // namespace

const PrimitiveSpec& CounterMapPrimitive() {
  static const PrimitiveSpec spec{
      .type = v1::COUNTER_MAP,
      .name = "counter map",
      .a_name = "a counter map",
      .op = v1::Request::kCounterMap,
      .make = &Make<CounterMapState>,
      .validate = &ValidateCounterMap,
      .key_filters = true,
      .is_read = &CounterMapIsRead,
  };
  return spec;
}

}  // namespace atomix::broker
