// Internal: the bytes-level Map behind atomix::Map<K, V>. Not part of the
// public API. Each method sends one atomix.v1.MapRequest; see atomix/map.h for
// the semantics.
//
// Thread-safety: MapCore is an immutable handle (client core + name); copies
// are cheap and every method is safe to call from any thread. A MapCursor
// belongs to one thread.
#ifndef ATOMIX_INTERNAL_MAP_CORE_H_
#define ATOMIX_INTERNAL_MAP_CORE_H_

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

// atomix.v1.MAP = 3.
inline constexpr PrimitiveKind kMapKind{3, "map", "key"};

// One entry of a listing page, as bytes. `value` is empty for keys-only pages.
struct ATOMIX_EXPORT RawEntry {
  std::string key;
  std::string value;
  Version version = 0;
  // List: the item's position; IndexedMap: the entry's index; 0 otherwise.
  int64_t index = 0;
};

struct ATOMIX_EXPORT RawEntryPage {
  std::vector<RawEntry> entries;
  // Whether entries after the page's last key follow.
  bool more = false;
};

class ATOMIX_EXPORT MapCore {
 public:
  // Opens (creating if needed) the map `name` on the broker.
  static absl::StatusOr<MapCore> Open(std::shared_ptr<ClientCore> core, std::string_view name,
                                      const CallOptions& options);

  const std::string& name() const { return name_; }
  const std::shared_ptr<ClientCore>& client() const { return core_; }

  // Each operation of atomix::Map, as bytes, without waiting.
  Future<Version> PutAsync(std::string key, std::string value, const WriteOptions& options) const;
  Future<Version> InsertAsync(std::string key, std::string value,
                              const WriteOptions& options) const;
  Future<Version> UpdateAsync(std::string key, std::string value,
                              const WriteOptions& options) const;
  Future<std::optional<Versioned<std::string>>> GetAsync(std::string key,
                                                         const CallOptions& options) const;
  Future<Version> RemoveAsync(std::string key, const WriteOptions& options) const;
  Future<bool> ContainsAsync(std::string key, const CallOptions& options) const;
  Future<int64_t> SizeAsync(const CallOptions& options) const;
  // Clear and RemovePrefix take IfFence only.
  Future<Version> ClearAsync(const WriteOptions& options) const;
  // The number of entries removed.
  Future<int64_t> RemovePrefixAsync(std::string prefix, const WriteOptions& options) const;

  // One page: keys starting with `prefix` that sort after `start_after`, at
  // most `limit` of them (0: the broker default).
  Future<RawEntryPage> ListAsync(const std::string& prefix, const std::string& start_after,
                                 uint32_t limit, bool keys_only,
                                 const CallOptions& options) const;

 private:
  MapCore(std::shared_ptr<ClientCore> core, std::string name)
      : core_(std::move(core)), name_(std::move(name)) {}

  std::shared_ptr<ClientCore> core_;
  std::string name_;
};

// Walks a listing page by page, each page starting after the last key of the
// one before. Every page is one read with `options` as its CallOptions.
class ATOMIX_EXPORT MapCursor {
 public:
  MapCursor(MapCore map, ListOptions options, bool keys_only)
      : map_(std::move(map)), options_(std::move(options)), keys_only_(keys_only) {}

  // The next page (possibly empty once the listing is over). INTERNAL if the
  // broker's page does not move past the previous one.
  absl::StatusOr<std::vector<RawEntry>> Next();

  // True once the last page has been returned.
  bool done() const { return done_; }

 private:
  MapCore map_;
  ListOptions options_;
  bool keys_only_;
  std::string last_key_;
  bool done_ = false;
};

}  // namespace atomix::internal

#endif  // ATOMIX_INTERNAL_MAP_CORE_H_
