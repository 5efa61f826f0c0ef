// Internal: the bytes-level List behind atomix::List<T>. Not part of the
// public API. Each method sends one atomix.v1.ListRequest; see atomix/list.h
// for the semantics.
//
// Thread-safety: ListCore is an immutable handle (client core + name); copies
// are cheap and every method is safe to call from any thread. A ListCursor
// belongs to one thread.
#ifndef ATOMIX_INTERNAL_LIST_CORE_H_
#define ATOMIX_INTERNAL_LIST_CORE_H_

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

namespace atomix::internal {

class ClientCore;

// atomix.v1.LIST = 7.
inline constexpr PrimitiveKind kListKind{7, "list", "index"};

// What a write answered: its revision, the index of the (first) item it
// wrote, and the list's size after it.
struct ATOMIX_EXPORT RawListWrite {
  Version version = 0;
  int64_t index = 0;
  int64_t size = 0;
};

// One page of a slice: items (RawEntry with an empty key, `index` set) and
// whether more items follow before the slice's stop.
struct ATOMIX_EXPORT RawListPage {
  std::vector<RawEntry> items;
  bool more = false;
};

class ATOMIX_EXPORT ListCore {
 public:
  // Opens (creating if needed) the list `name` on the broker.
  static absl::StatusOr<ListCore> Open(std::shared_ptr<ClientCore> core, std::string_view name,
                                       const CallOptions& options);

  const std::string& name() const { return name_; }
  const std::shared_ptr<ClientCore>& client() const { return core_; }

  // Each operation of atomix::List, as bytes, without waiting.
  Future<RawListWrite> AppendAsync(std::vector<std::string> values,
                                   const CallOptions& options) const;
  Future<RawListWrite> InsertAsync(int64_t index, std::string value,
                                   const CallOptions& options) const;
  // Takes IfVersion only.
  Future<RawListWrite> SetAsync(int64_t index, std::string value,
                                const WriteOptions& options) const;
  // The removed item. Takes IfVersion only.
  Future<RawEntry> RemoveAsync(int64_t index, const WriteOptions& options) const;
  Future<RawEntry> GetAsync(int64_t index, const CallOptions& options) const;
  Future<int64_t> SizeAsync(const CallOptions& options) const;
  // The head (or, with `tail`, the last item), removed; nullopt if empty.
  Future<std::optional<RawEntry>> PopAsync(bool tail, const CallOptions& options) const;
  Future<Version> ClearAsync(const CallOptions& options) const;

  // One page of the items from `start` up to, not including, `stop`
  // (nullopt: the end of the list), at most options.page_size of them (0:
  // the broker default). An empty page without a round trip when stop is 0;
  // INVALID_ARGUMENT without one for a prefix (lists have none).
  Future<RawListPage> SliceAsync(int64_t start, std::optional<int64_t> stop,
                                 const ListOptions& options) const;

 private:
  ListCore(std::shared_ptr<ClientCore> core, std::string name)
      : core_(std::move(core)), name_(std::move(name)) {}

  std::shared_ptr<ClientCore> core_;
  std::string name_;
};

// Walks [start, stop) page by page, each page starting at the index after
// the last item of the one before. Every page is one read with `options`.
// A list that shrank below the cursor between pages ends the walk (the
// broker answers OUT_OF_RANGE for a start past the end).
class ATOMIX_EXPORT ListCursor {
 public:
  ListCursor(ListCore list, int64_t start, std::optional<int64_t> stop, ListOptions options)
      : list_(std::move(list)), next_(start), stop_(stop), options_(std::move(options)) {}

  // The next page (possibly empty once the walk is over). INTERNAL if the
  // broker's page does not start where asked.
  absl::StatusOr<std::vector<RawEntry>> Next();

  bool done() const { return done_; }

 private:
  ListCore list_;
  int64_t next_;
  std::optional<int64_t> stop_;
  ListOptions options_;
  bool first_ = true;
  bool done_ = false;
};

}  // namespace atomix::internal

#endif  // ATOMIX_INTERNAL_LIST_CORE_H_
