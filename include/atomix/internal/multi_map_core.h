// Internal: the bytes-level MultiMap behind atomix::MultiMap<K, V>. Not part
// of the public API. Each method sends one atomix.v1.MultiMapRequest; see
// atomix/multi_map.h for the semantics.
//
// Thread-safety: MultiMapCore is an immutable handle (client core + name);
// copies are cheap and every method is safe to call from any thread. A
// MultiMapCursor belongs to one thread.
#ifndef ATOMIX_INTERNAL_MULTI_MAP_CORE_H_
#define ATOMIX_INTERNAL_MULTI_MAP_CORE_H_

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
#include "atomix/internal/map_core.h"
#include "atomix/internal/primitive.h"
#include "atomix/options.h"
#include "atomix/versioned.h"

namespace atomix {

// What a MultiMap RemoveAll or Clear removed: the number of (key, value)
// pairs, and the revision at which it removed them all (0, and no revision
// taken, when there was nothing to remove).
struct ATOMIX_EXPORT RemovedPairs {
  int64_t count = 0;
  Version version = 0;

  friend bool operator==(const RemovedPairs&, const RemovedPairs&) = default;
};

}  // namespace atomix

namespace atomix::internal {

class ClientCore;

// atomix.v1.MULTI_MAP = 9.
inline constexpr PrimitiveKind kMultiMapKind{9, "multimap", "key"};

class ATOMIX_EXPORT MultiMapCore {
 public:
  // Opens (creating if needed) the multimap `name` on the broker.
  static absl::StatusOr<MultiMapCore> Open(std::shared_ptr<ClientCore> core, std::string_view name,
                                           const CallOptions& options);

  const std::string& name() const { return name_; }
  const std::shared_ptr<ClientCore>& client() const { return core_; }

  // Each operation of atomix::MultiMap, as bytes, without waiting.
  Future<Change> PutAsync(std::string key, std::string value, const CallOptions& options) const;
  Future<Change> RemoveAsync(std::string key, std::string value, const CallOptions& options) const;
  Future<RemovedPairs> RemoveAllAsync(std::string key, const CallOptions& options) const;
  // Whether `key` has any value.
  Future<bool> ContainsKeyAsync(std::string key, const CallOptions& options) const;
  // Whether `key` has `value`.
  Future<bool> ContainsAsync(std::string key, std::string value, const CallOptions& options) const;
  Future<int64_t> SizeAsync(const CallOptions& options) const;
  Future<RemovedPairs> ClearAsync(const CallOptions& options) const;

  // One page of `key`'s values (as entries with that key) that sort after
  // `start_after` ("": from the first), at most `limit` (0: the broker
  // default).
  Future<RawEntryPage> GetAsync(const std::string& key, const std::string& start_after,
                                uint32_t limit, const CallOptions& options) const;
  // One page of pairs whose key starts with `prefix`, after the pair
  // (after_key, after_value) in (key, value) order.
  Future<RawEntryPage> ListAsync(const std::string& prefix, const std::string& after_key,
                                 const std::string& after_value, uint32_t limit,
                                 const CallOptions& options) const;

 private:
  MultiMapCore(std::shared_ptr<ClientCore> core, std::string name)
      : core_(std::move(core)), name_(std::move(name)) {}

  std::shared_ptr<ClientCore> core_;
  std::string name_;
};

// Walks a listing page by page, each page starting after the last pair of
// the one before: one key's values (`key` set; ListOptions::prefix must then
// be empty) or every pair whose key starts with options.prefix. Every page
// is one read with `options` as its CallOptions.
class ATOMIX_EXPORT MultiMapCursor {
 public:
  MultiMapCursor(MultiMapCore multimap, std::optional<std::string> key, ListOptions options)
      : multimap_(std::move(multimap)), key_(std::move(key)), options_(std::move(options)) {}

  // The next page (possibly empty once the listing is over).
  // INVALID_ARGUMENT for a prefix on one key's listing; INTERNAL if the
  // broker's page does not move past the previous one or strays from the
  // key.
  absl::StatusOr<std::vector<RawEntry>> Next();

  // True once the last page has been returned.
  bool done() const { return done_; }

 private:
  absl::Status CheckPage(const RawEntryPage& page) const;

  MultiMapCore multimap_;
  std::optional<std::string> key_;
  ListOptions options_;
  std::string last_key_;
  std::string last_value_;
  bool done_ = false;
};

}  // namespace atomix::internal

#endif  // ATOMIX_INTERNAL_MULTI_MAP_CORE_H_
