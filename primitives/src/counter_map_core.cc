#include "atomix/internal/counter_map_core.h"

#include <limits>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "atomix/v1/counter_map.pb.h"
#include "primitives/src/request.h"
#include "primitives/src/send.h"
#include "sdk/src/client_core.h"

namespace atomix::internal {
namespace {

static_assert(kCounterMapKind.wire_type == v1::COUNTER_MAP);
constexpr OpWire<v1::CounterMapRequest, v1::CounterMapResponse> kCounterMapWire{
    kCounterMapKind, &v1::Request::mutable_counter_map, &v1::Response::has_counter_map,
    &v1::Response::mutable_counter_map};

constexpr size_t kCountBytes = 8;
// Longest key shown in an error message, in bytes before escaping.
constexpr size_t kMaxKeyInMessage = 64;

absl::string_view AbslView(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// Writes answer with the counter after them and the revision they took.
Future<Versioned<int64_t>> SendWrite(ClientCore& core, const std::string& name,
                                     v1::CounterMapRequest op, const char* op_name,
                                     const CallOptions& options) {
  return CallOp<Versioned<int64_t>>(core, kCounterMapWire, name, std::move(op), op_name, options,
                                    CallKind{.idempotent = false}, [](v1::CounterMapResponse& r) {
                                      return Versioned<int64_t>{r.value(), r.version()};
                                    });
}

}  // namespace

absl::StatusOr<int64_t> DecodeCount(std::string_view bytes, std::string_view name,
                                    const std::string& key) {
  if (bytes.size() != kCountBytes) {
    const std::string shown =
        absl::CHexEscape(AbslView(std::string_view(key).substr(0, kMaxKeyInMessage)));
    return absl::InternalError(
        absl::StrCat("broker sent counter map \"", AbslView(name), "\" key \"", shown,
                     key.size() > kMaxKeyInMessage ? "\"..." : "\"", " a value of ", bytes.size(),
                     " bytes; a counter is 8"));
  }
  uint64_t bits = 0;
  for (unsigned char c : bytes) bits = (bits << 8) | c;
  return static_cast<int64_t>(bits);
}

absl::StatusOr<CounterMapCore> CounterMapCore::Open(std::shared_ptr<ClientCore> core,
                                                    std::string_view name,
                                                    const CallOptions& options) {
  absl::Status opened = OpenPrimitive(core, kCounterMapKind, name, options);
  if (!opened.ok()) return opened;
  return CounterMapCore(std::move(core), std::string(name));
}

Future<int64_t> CounterMapCore::GetAsync(std::string key, const CallOptions& options) const {
  v1::CounterMapRequest op;
  op.mutable_get()->set_key(std::move(key));
  return CallOp<int64_t>(*core_, kCounterMapWire, name_, std::move(op), "get", options,
                         CallKind{.idempotent = true},
                         [](v1::CounterMapResponse& r) { return r.value(); });
}

Future<Versioned<int64_t>> CounterMapCore::SetAsync(std::string key, int64_t value,
                                                    const CallOptions& options) const {
  v1::CounterMapRequest op;
  op.mutable_set()->set_key(std::move(key));
  op.mutable_set()->set_value(value);
  return SendWrite(*core_, name_, std::move(op), "set", options);
}

Future<Versioned<int64_t>> CounterMapCore::AddAsync(std::string key, int64_t delta,
                                                    const CallOptions& options) const {
  v1::CounterMapRequest op;
  op.mutable_add()->set_key(std::move(key));
  op.mutable_add()->set_delta(delta);
  return SendWrite(*core_, name_, std::move(op), "add", options);
}

Future<Versioned<int64_t>> CounterMapCore::SubtractAsync(std::string key, int64_t delta,
                                                         const CallOptions& options) const {
  if (delta == std::numeric_limits<int64_t>::min()) {
    return Refused<Versioned<int64_t>>(
        core_.get(),
        absl::InvalidArgumentError(absl::StrCat(
            "counter map \"", name_, "\": Decrement: delta must be greater than INT64_MIN")));
  }
  return AddAsync(std::move(key), -delta, options);
}

Future<Versioned<int64_t>> CounterMapCore::CompareAndSetAsync(std::string key, int64_t expect,
                                                              int64_t update,
                                                              const CallOptions& options) const {
  v1::CounterMapRequest op;
  auto* cas = op.mutable_compare_and_set();
  cas->set_key(std::move(key));
  cas->set_expect(expect);
  cas->set_update(update);
  return SendWrite(*core_, name_, std::move(op), "compare_and_set", options);
}

Future<std::optional<Versioned<int64_t>>> CounterMapCore::RemoveAsync(
    std::string key, const CallOptions& options) const {
  v1::CounterMapRequest op;
  op.mutable_remove()->set_key(std::move(key));
  return CallOp<std::optional<Versioned<int64_t>>>(
      *core_, kCounterMapWire, name_, std::move(op), "remove", options,
      CallKind{.idempotent = false},
      [](v1::CounterMapResponse& r) -> std::optional<Versioned<int64_t>> {
        if (!r.present()) return std::nullopt;
        return Versioned<int64_t>{r.value(), r.version()};
      });
}

Future<int64_t> CounterMapCore::SizeAsync(const CallOptions& options) const {
  v1::CounterMapRequest op;
  op.mutable_size();
  return CallOp<int64_t>(*core_, kCounterMapWire, name_, std::move(op), "size", options,
                         CallKind{.idempotent = true},
                         [](v1::CounterMapResponse& r) { return r.size(); });
}

Future<Versioned<int64_t>> CounterMapCore::ClearAsync(const CallOptions& options) const {
  v1::CounterMapRequest op;
  op.mutable_clear();
  return CallOp<Versioned<int64_t>>(*core_, kCounterMapWire, name_, std::move(op), "clear", options,
                                    CallKind{.idempotent = false}, [](v1::CounterMapResponse& r) {
                                      return Versioned<int64_t>{r.size(), r.version()};
                                    });
}

Future<RawCountPage> CounterMapCore::ListAsync(const std::string& prefix,
                                               const std::string& start_after, uint32_t limit,
                                               const CallOptions& options) const {
  v1::CounterMapRequest op;
  auto* list = op.mutable_list();
  list->set_prefix(prefix);
  list->set_start_after(start_after);
  list->set_limit(limit);
  return CallOp<RawCountPage>(
      *core_, kCounterMapWire, name_, std::move(op), "list", options, CallKind{.idempotent = true},
      [name = name_](v1::CounterMapResponse& r) -> absl::StatusOr<RawCountPage> {
        RawCountPage page;
        page.more = r.more();
        page.counts.reserve(r.entries_size());
        for (v1::MapEntry& e : *r.mutable_entries()) {
          absl::StatusOr<int64_t> value = DecodeCount(e.value(), name, e.key());
          if (!value.ok()) return value.status();
          page.counts.push_back(RawCount{std::move(*e.mutable_key()), *value, e.version()});
        }
        return page;
      });
}

absl::StatusOr<std::vector<RawCount>> CounterMapCursor::Next() {
  if (done_) return std::vector<RawCount>();
  // Keys are never empty, so start_after "" (the first page) means "from the
  // start" and every later page starts after a real key.
  auto page = map_.ListAsync(options_.prefix, last_key_, options_.page_size, options_).get();
  if (!page.ok()) {
    done_ = true;
    return page.status();
  }
  std::vector<RawCount>& counts = page->counts;
  // Each page must move past the previous one, or the listing would never end.
  if (!counts.empty() && !last_key_.empty() && counts.front().key <= last_key_) {
    done_ = true;
    return ListedOutOfOrder(kCounterMapKind, map_.name());
  }
  if (page->more && counts.empty()) {
    done_ = true;
    return EmptyPageWithMore(kCounterMapKind, map_.name());
  }
  if (!counts.empty()) last_key_ = counts.back().key;
  done_ = !page->more;
  return std::move(counts);
}

}  // namespace atomix::internal
