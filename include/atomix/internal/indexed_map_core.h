// Internal: the bytes-level IndexedMap behind atomix::IndexedMap<K, V>. Not
// part of the public API. Each method sends one atomix.v1.IndexedMapRequest;
// see atomix/indexed_map.h for the semantics.
//
// Thread-safety: IndexedMapCore is an immutable handle (client core + name);
// copies are cheap and every method is safe to call from any thread. An
// IndexedMapCursor belongs to one thread.
#ifndef ATOMIX_INTERNAL_INDEXED_MAP_CORE_H_
#define ATOMIX_INTERNAL_INDEXED_MAP_CORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "atomix/call_options.h"
#include "atomix/export.h"
#include "atomix/future.h"
#include "atomix/internal/map_core.h"
#include "atomix/internal/primitive.h"
#include "atomix/options.h"
#include "atomix/versioned.h"

namespace atomix::internal {

class ClientCore;

// atomix.v1.INDEXED_MAP = 8.
inline constexpr PrimitiveKind kIndexedMapKind{8, "indexed map", "key"};

// Which entry a Navigate reads (atomix.v1.IndexedMapNavigate.Where).
enum class IndexedMapWhere { kFirst = 1, kLast = 2, kAt = 3, kNext = 4, kPrev = 5 };

class ATOMIX_EXPORT IndexedMapCore {
 public:
  // Opens (creating if needed) the indexed map `name` on the broker.
  static absl::StatusOr<IndexedMapCore> Open(std::shared_ptr<ClientCore> core,
                                             std::string_view name, const CallOptions& options);

  const std::string& name() const { return name_; }
  const std::shared_ptr<ClientCore>& client() const { return core_; }

  // Each operation of atomix::IndexedMap, as bytes, without waiting. Put
  // and Remove take IfVersion only; Insert takes no write option.
  Future<Version> PutAsync(std::string key, std::string value, const WriteOptions& options) const;
  Future<Version> InsertAsync(std::string key, std::string value,
                              const WriteOptions& options) const;
  Future<Version> RemoveAsync(std::string key, const WriteOptions& options) const;
  Future<std::optional<RawEntry>> GetAsync(std::string key, const CallOptions& options) const;
  // FIRST and LAST ignore `index`.
  Future<std::optional<RawEntry>> NavigateAsync(IndexedMapWhere where, int64_t index,
                                                const CallOptions& options) const;
  Future<int64_t> SizeAsync(const CallOptions& options) const;
  Future<Version> ClearAsync(const CallOptions& options) const;

  // One page: entries with an index above `after_index`, in index order, at
  // most `limit` of them (0: the broker default).
  Future<RawEntryPage> ListAsync(int64_t after_index, uint32_t limit,
                                 const CallOptions& options) const;

 private:
  IndexedMapCore(std::shared_ptr<ClientCore> core, std::string name)
      : core_(std::move(core)), name_(std::move(name)) {}

  std::shared_ptr<ClientCore> core_;
  std::string name_;
};

// Walks a listing page by page, each page starting after the last index of
// the one before. Every page is one read with `options` as its CallOptions.
class ATOMIX_EXPORT IndexedMapCursor {
 public:
  IndexedMapCursor(IndexedMapCore map, int64_t after_index, uint32_t page_size, CallOptions options)
      : map_(std::move(map)),
        after_index_(after_index),
        page_size_(page_size),
        options_(std::move(options)) {}

  // The next page (possibly empty once the listing is over). INTERNAL if the
  // broker's page does not move past the previous one.
  absl::StatusOr<std::vector<RawEntry>> Next();

  // True once the last page has been returned.
  bool done() const { return done_; }

 private:
  IndexedMapCore map_;
  int64_t after_index_;
  uint32_t page_size_;
  CallOptions options_;
  bool done_ = false;
};

}  // namespace atomix::internal

#endif  // ATOMIX_INTERNAL_INDEXED_MAP_CORE_H_
