// Internal: the bytes-level CounterMap behind atomix::CounterMap<K>. Not part
// of the public API. Each method sends one atomix.v1.CounterMapRequest; see
// atomix/counter_map.h for the semantics.
//
// Thread-safety: CounterMapCore is an immutable handle (client core + name);
// copies are cheap and every method is safe to call from any thread. A
// CounterMapCursor belongs to one thread.
#ifndef ATOMIX_INTERNAL_COUNTER_MAP_CORE_H_
#define ATOMIX_INTERNAL_COUNTER_MAP_CORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "atomix/call_options.h"
#include "atomix/export.h"
#include "atomix/future.h"
#include "atomix/internal/primitive.h"
#include "atomix/options.h"
#include "atomix/versioned.h"

namespace atomix::internal {

class ClientCore;

// atomix.v1.COUNTER_MAP = 10.
inline constexpr PrimitiveKind kCounterMapKind{10, "counter map", "key"};

// One counter of a listing page: its key bytes, value and version.
struct ATOMIX_EXPORT RawCount {
  std::string key;
  int64_t value = 0;
  Version version = 0;
};

struct ATOMIX_EXPORT RawCountPage {
  std::vector<RawCount> counts;
  // Whether counters after the page's last key follow.
  bool more = false;
};

// A counter as the broker sends it in MapEntry.value (listings, watch
// events, snapshots): 8 bytes, big-endian two's complement. INTERNAL naming
// the counter map and `key` for any other size.
ATOMIX_EXPORT absl::StatusOr<int64_t> DecodeCount(std::string_view bytes, std::string_view name,
                                                  const std::string& key);

class ATOMIX_EXPORT CounterMapCore {
 public:
  // Opens (creating if needed) the counter map `name` on the broker.
  static absl::StatusOr<CounterMapCore> Open(std::shared_ptr<ClientCore> core,
                                             std::string_view name, const CallOptions& options);

  const std::string& name() const { return name_; }
  const std::shared_ptr<ClientCore>& client() const { return core_; }

  // Each operation of atomix::CounterMap, as bytes, without waiting.
  Future<int64_t> GetAsync(std::string key, const CallOptions& options) const;
  Future<Versioned<int64_t>> SetAsync(std::string key, int64_t value,
                                      const CallOptions& options) const;
  Future<Versioned<int64_t>> AddAsync(std::string key, int64_t delta,
                                      const CallOptions& options) const;
  // Add(-delta); INVALID_ARGUMENT without a round trip for INT64_MIN.
  Future<Versioned<int64_t>> SubtractAsync(std::string key, int64_t delta,
                                           const CallOptions& options) const;
  Future<Versioned<int64_t>> CompareAndSetAsync(std::string key, int64_t expect, int64_t update,
                                                const CallOptions& options) const;
  // The value the key held and the revision of its removal; nullopt if
  // the key was absent.
  Future<std::optional<Versioned<int64_t>>> RemoveAsync(std::string key,
                                                        const CallOptions& options) const;
  Future<int64_t> SizeAsync(const CallOptions& options) const;
  // {number removed, revision of the removal (0 if none)}.
  Future<Versioned<int64_t>> ClearAsync(const CallOptions& options) const;

  // One page: keys starting with `prefix` that sort after `start_after`, at
  // most `limit` of them (0: the broker default).
  Future<RawCountPage> ListAsync(const std::string& prefix, const std::string& start_after,
                                 uint32_t limit, const CallOptions& options) const;

 private:
  CounterMapCore(std::shared_ptr<ClientCore> core, std::string name)
      : core_(std::move(core)), name_(std::move(name)) {}

  std::shared_ptr<ClientCore> core_;
  std::string name_;
};

// Walks a listing page by page, each page starting after the last key of the
// one before. Every page is one read with `options` as its CallOptions.
class ATOMIX_EXPORT CounterMapCursor {
 public:
  CounterMapCursor(CounterMapCore map, ListOptions options)
      : map_(std::move(map)), options_(std::move(options)) {}

  // The next page (possibly empty once the listing is over). INTERNAL if the
  // broker's page does not move past the previous one.
  absl::StatusOr<std::vector<RawCount>> Next();

  // True once the last page has been returned.
  bool done() const { return done_; }

 private:
  CounterMapCore map_;
  ListOptions options_;
  std::string last_key_;
  bool done_ = false;
};

}  // namespace atomix::internal

#endif  // ATOMIX_INTERNAL_COUNTER_MAP_CORE_H_
