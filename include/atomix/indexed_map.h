// IndexedMap<K, V>: a named map that keeps its entries in insertion order,
// each with an index that never moves and is never reused.
//
//   auto jobs = atomix::GetIndexedMap<std::string, std::string>("jobs");
//   if (!jobs.ok()) return jobs.status();
//   jobs->Put("build-17", "queued");                 // index 1
//   jobs->Put("build-18", "queued");                 // index 2
//   jobs->Put("build-17", "running");                // still index 1
//   auto first = jobs->First();   // StatusOr<std::optional<IndexedEntry<K, V>>>
//   if (first.ok() && *first) {
//     use((*first)->index, (*first)->key, (*first)->value, (*first)->version);
//     auto after = jobs->Next((*first)->index);     // the entry after it, if any
//   }
//   for (const auto& e : jobs->Entries()) {          // index order, page by page
//     if (!e.ok()) { /* e.status(); the range ends here */ break; }
//   }
//
// Semantics:
// - Indexes. A key gets an index when it is inserted: 1 for the map's first
//   key, then one more than the last index ever given. Writing a present key
//   keeps its index; removing a key retires its index for good, and putting
//   the key again gives it a new index at the end. Clear() retires every
//   index. On a durable store indexes survive broker restarts and
//   snapshots; they are never handed out twice.
// - Navigation. First() and Last() are the entries with the lowest and
//   highest index; At(i) is the entry with index i; Next(i) and Prev(i) are
//   the nearest entries after and before i, whether or not i itself is
//   still there. Each returns nullopt when there is no such entry. Walking
//   First(), Next(...), Next(...) visits the entries in insertion order.
// - Versions. An entry's version is the broker revision of its last write;
//   every write returns the revision at which it was applied. Put with
//   IfVersion(v) writes only if the key is present at version v; Put with
//   IfVersion(0), or Insert(), only if the key is absent.
// - Keys and values travel as bytes through the codecs KC and VC (see
//   atomix/codec.h). Each operation is one linearizable broker call.
//
// Listing: Entries() pages through the map in index order
// (IndexedListOptions::page_size, default 1000 per page; the broker also
// ends a page at about 1 MiB), holding one page in memory; start after any
// index with AfterIndex(i). See atomix/stream_range.h for what a listing
// guarantees while others write.
//
// Watching (atomix/watch.h, docs/watch.md): Watch() follows the whole map,
// Watch(WithPrefix(p)) the keys whose encoded bytes start with p, and
// Watch(key) one key, as a Channel<IndexedMapEvent<K, V>>. Events carry
// entries with their indexes; a WithReplay() snapshot lists the entries in
// index order.
//
// Errors: INVALID_ARGUMENT for a bad name, an empty encoded key, a key or
// value over the broker's size limits, a negative index or IfVersion, a
// write option the operation does not take (without a round trip), or stored
// bytes that a codec cannot decode (the message names the type, the map and
// the key); FAILED_PRECONDITION for a name bound to another primitive type
// or an IfVersion mismatch (CurrentVersion(status) holds the entry's current
// version); NOT_FOUND for Remove, or Put with IfVersion(v > 0), of an absent
// key; ALREADY_EXISTS for Insert (or IfVersion(0)) of a present key; plus
// UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED.
//
// Thread-safety: IndexedMap is a cheap, copyable, immutable handle (client +
// name); all methods are safe to call from any thread at the same time. A
// StreamRange returned by Entries() belongs to one thread.
#ifndef ATOMIX_INDEXED_MAP_H_
#define ATOMIX_INDEXED_MAP_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "atomix/call_options.h"
#include "atomix/channel.h"
#include "atomix/client.h"
#include "atomix/codec.h"
#include "atomix/export.h"
#include "atomix/internal/entry_watch.h"
#include "atomix/internal/indexed_map_core.h"
#include "atomix/internal/primitive.h"
#include "atomix/internal/watch_core.h"
#include "atomix/options.h"
#include "atomix/stream_range.h"
#include "atomix/versioned.h"
#include "atomix/watch.h"

namespace atomix {

// One entry of an indexed map: its index (its place in insertion order),
// key, value and version (the revision of its last write).
template <class K, class V>
struct IndexedEntry {
  int64_t index = 0;
  K key{};
  V value{};
  Version version = 0;

  friend bool operator==(const IndexedEntry&, const IndexedEntry&) = default;
};

// One event of an indexed map watch (atomix/watch.h).
//   kInserted: `entry` appeared at the end (also: each entry of a
//              WithReplay() snapshot, in index order, with revision = the
//              snapshot's revision).
//   kUpdated:  `entry` replaced `previous`; both have the same index.
//   kRemoved:  `previous` is gone (Clear(): one per entry, in index order,
//              all at one revision).
//   kResync:   `snapshot` holds every (watched) entry at `revision`, in
//              index order; `reason` says why history was lost.
template <class K, class V>
struct IndexedMapEvent {
  EventType type = EventType::kInserted;
  Version revision = 0;
  std::optional<IndexedEntry<K, V>> entry;
  std::optional<IndexedEntry<K, V>> previous;
  std::vector<IndexedEntry<K, V>> snapshot;
  ResyncReason reason = ResyncReason::kNone;
};

// Where an Entries() listing starts, and its page size.
struct ATOMIX_EXPORT IndexedListOptions : CallOptions {
  IndexedListOptions() = default;
  IndexedListOptions(const CallOptions& call) : CallOptions(call) {}  // NOLINT: implicit

  // Only entries with an index above this (0: from the first entry).
  int64_t after_index = 0;
  // Entries fetched per round trip; 0 means the broker default (1000). Each
  // page is its own call with its own timeout.
  uint32_t page_size = 0;
};

// Lists the entries after `index`: map.Entries(atomix::AfterIndex(i)).
inline IndexedListOptions AfterIndex(int64_t index) {
  IndexedListOptions o;
  o.after_index = index;
  return o;
}

namespace internal {

// Decodes raw indexed map items (entries, pages, watch events) with the
// codecs KC and VC.
template <class K, class V, class KC, class VC>
struct IndexedMapDecoder {
  std::string name;

  absl::StatusOr<IndexedEntry<K, V>> Decode(RawEntry& raw) const {
    auto k = DecodeWith<K, KC>(raw.key, kIndexedMapKind, name, &raw.key);
    if (!k.ok()) return k.status();
    auto v = DecodeWith<V, VC>(raw.value, kIndexedMapKind, name, &raw.key);
    if (!v.ok()) return v.status();
    return IndexedEntry<K, V>{raw.index, *std::move(k), *std::move(v), raw.version};
  }

  absl::StatusOr<std::optional<IndexedEntry<K, V>>> DecodeOptional(
      absl::StatusOr<std::optional<RawEntry>> raw) const {
    if (!raw.ok()) return raw.status();
    if (!raw->has_value()) return std::optional<IndexedEntry<K, V>>();
    auto decoded = Decode(**raw);
    if (!decoded.ok()) return decoded.status();
    return std::optional<IndexedEntry<K, V>>(*std::move(decoded));
  }

  absl::Status Events(std::vector<RawWatchEvent>& raw,
                      std::vector<IndexedMapEvent<K, V>>& out) const {
    return DecodeEntryEvents(
        raw, &IndexedMapEvent<K, V>::entry, [this](RawEntry& r) { return Decode(r); }, out);
  }

  absl::Status Snapshot(RawSnapshot& raw, std::vector<IndexedMapEvent<K, V>>& out) const {
    return DecodeEntrySnapshot(
        raw, &IndexedMapEvent<K, V>::entry, [this](RawEntry& r) { return Decode(r); }, out);
  }
};

}  // namespace internal

template <class K, class V, class KC = Codec<K>, class VC = Codec<V>>
class IndexedMap {
 public:
  using EntryType = IndexedEntry<K, V>;
  using MaybeEntry = std::optional<EntryType>;

  // Wraps an opened bytes core; use GetIndexedMap<K, V>() instead.
  explicit IndexedMap(internal::IndexedMapCore core) : core_(std::move(core)) {}

  const std::string& name() const { return core_.name(); }

  // Inserts at the end or replaces (keeping the index); returns the revision
  // of the write. With IfVersion(v): only if the key is present at version
  // v (FAILED_PRECONDITION, or NOT_FOUND if absent); IfVersion(0): only if
  // absent (ALREADY_EXISTS if present). Takes no other write option.
  absl::StatusOr<Version> Put(const K& key, const V& value,
                              const WriteOptions& options = {}) const {
    return PutAsync(key, value, options).get();
  }

  // Inserts at the end only if the key is absent; ALREADY_EXISTS otherwise.
  // The same as Put(key, value, IfVersion(0)). Takes no write option.
  absl::StatusOr<Version> Insert(const K& key, const V& value,
                                 const WriteOptions& options = {}) const {
    return InsertAsync(key, value, options).get();
  }

  // Removes the key, retiring its index, and returns the revision of the
  // removal; NOT_FOUND if absent. With IfVersion(v): only if its version is
  // v.
  absl::StatusOr<Version> Remove(const K& key, const WriteOptions& options = {}) const {
    return RemoveAsync(key, options).get();
  }

  // The entry of `key`, or nullopt when absent.
  absl::StatusOr<MaybeEntry> Get(const K& key, const CallOptions& options = {}) const {
    return GetAsync(key, options).get();
  }

  // The entry with the lowest index (the oldest insertion), or nullopt.
  absl::StatusOr<MaybeEntry> First(const CallOptions& options = {}) const {
    return FirstAsync(options).get();
  }

  // The entry with the highest index (the newest insertion), or nullopt.
  absl::StatusOr<MaybeEntry> Last(const CallOptions& options = {}) const {
    return LastAsync(options).get();
  }

  // The entry with index `index`, or nullopt.
  absl::StatusOr<MaybeEntry> At(int64_t index, const CallOptions& options = {}) const {
    return AtAsync(index, options).get();
  }

  // The entry with the smallest index above `index` (which need not exist),
  // or nullopt. Next(0) is First().
  absl::StatusOr<MaybeEntry> Next(int64_t index, const CallOptions& options = {}) const {
    return NextAsync(index, options).get();
  }

  // The entry with the largest index below `index` (which need not exist),
  // or nullopt.
  absl::StatusOr<MaybeEntry> Prev(int64_t index, const CallOptions& options = {}) const {
    return PrevAsync(index, options).get();
  }

  // The number of entries.
  absl::StatusOr<int64_t> Size(const CallOptions& options = {}) const {
    return SizeAsync(options).get();
  }

  // Removes every entry at one revision, which it returns; 0 (and no
  // revision taken) if the map was already empty. Indexes are not reused.
  absl::StatusOr<Version> Clear(const CallOptions& options = {}) const {
    return ClearAsync(options).get();
  }

  // The same, without waiting (atomix/future.h).
  Future<Version> PutAsync(const K& key, const V& value, const WriteOptions& options = {}) const {
    return core_.PutAsync(KC::Encode(key), VC::Encode(value), options);
  }
  Future<Version> InsertAsync(const K& key, const V& value,
                              const WriteOptions& options = {}) const {
    return core_.InsertAsync(KC::Encode(key), VC::Encode(value), options);
  }
  Future<Version> RemoveAsync(const K& key, const WriteOptions& options = {}) const {
    return core_.RemoveAsync(KC::Encode(key), options);
  }
  Future<MaybeEntry> GetAsync(const K& key, const CallOptions& options = {}) const {
    return Typed(core_.GetAsync(KC::Encode(key), options));
  }
  Future<MaybeEntry> FirstAsync(const CallOptions& options = {}) const {
    return Typed(core_.NavigateAsync(internal::IndexedMapWhere::kFirst, 0, options));
  }
  Future<MaybeEntry> LastAsync(const CallOptions& options = {}) const {
    return Typed(core_.NavigateAsync(internal::IndexedMapWhere::kLast, 0, options));
  }
  Future<MaybeEntry> AtAsync(int64_t index, const CallOptions& options = {}) const {
    return Typed(core_.NavigateAsync(internal::IndexedMapWhere::kAt, index, options));
  }
  Future<MaybeEntry> NextAsync(int64_t index, const CallOptions& options = {}) const {
    return Typed(core_.NavigateAsync(internal::IndexedMapWhere::kNext, index, options));
  }
  Future<MaybeEntry> PrevAsync(int64_t index, const CallOptions& options = {}) const {
    return Typed(core_.NavigateAsync(internal::IndexedMapWhere::kPrev, index, options));
  }
  Future<int64_t> SizeAsync(const CallOptions& options = {}) const {
    return core_.SizeAsync(options);
  }
  Future<Version> ClearAsync(const CallOptions& options = {}) const {
    return core_.ClearAsync(options);
  }

  // The entries in index order, page by page, starting after
  // options.after_index. The range ends with a non-OK status on the first
  // failed page or undecodable entry.
  StreamRange<EntryType> Entries(const IndexedListOptions& options = {}) const {
    Decoder decoder{core_.name()};
    return internal::TranscodeRange<EntryType>(
        internal::IndexedMapCursor(core_, options.after_index, options.page_size, options),
        [decoder](internal::RawEntry& raw) { return decoder.Decode(raw); });
  }

  // Watches the map (atomix/watch.h): every key, or with options.prefix
  // (e.g. Watch(atomix::WithPrefix("jobs/"))) the keys whose encoded bytes
  // start with it. Returns once the broker accepted the watch.
  absl::StatusOr<Channel<IndexedMapEvent<K, V>>> Watch(const WatchOptions& options = {}) const {
    return WatchWith(std::nullopt, options);
  }

  // Watches one key.
  absl::StatusOr<Channel<IndexedMapEvent<K, V>>> Watch(const K& key,
                                                       const WatchOptions& options = {}) const {
    return WatchWith(KC::Encode(key), options);
  }

 private:
  using Decoder = internal::IndexedMapDecoder<K, V, KC, VC>;

  Future<MaybeEntry> Typed(Future<std::optional<internal::RawEntry>> raw) const {
    return internal::MapFuture<MaybeEntry>(
        std::move(raw),
        [decoder = Decoder{core_.name()}](absl::StatusOr<std::optional<internal::RawEntry>> r) {
          return decoder.DecodeOptional(std::move(r));
        });
  }

  absl::StatusOr<Channel<IndexedMapEvent<K, V>>> WatchWith(std::optional<std::string> key,
                                                           const WatchOptions& options) const {
    internal::WatchTarget target;
    target.kind = internal::kIndexedMapKind;
    target.name = core_.name();
    target.key = std::move(key);
    target.prefix = options.prefix;
    return internal::OpenWatch<IndexedMapEvent<K, V>>(core_.client(), std::move(target), options,
                                                      Decoder{core_.name()});
  }

  internal::IndexedMapCore core_;
};

namespace internal {
// Opens an indexed map over a client core. Not part of the public API.
template <class K, class V, class KC = Codec<K>, class VC = Codec<V>>
absl::StatusOr<IndexedMap<K, V, KC, VC>> GetIndexedMap(std::shared_ptr<ClientCore> core,
                                                       std::string_view name,
                                                       const CallOptions& options = {}) {
  auto opened = IndexedMapCore::Open(std::move(core), name, options);
  if (!opened.ok()) return opened.status();
  return IndexedMap<K, V, KC, VC>(*std::move(opened));
}
}  // namespace internal

// Opens the indexed map `name` through `client`, creating it (empty) if it
// does not exist. Fails early, with the broker's status, on a bad name
// (INVALID_ARGUMENT) or a name bound to another type (FAILED_PRECONDITION).
template <class K, class V, class KC = Codec<K>, class VC = Codec<V>>
absl::StatusOr<IndexedMap<K, V, KC, VC>> GetIndexedMap(const Client& client, std::string_view name,
                                                       const CallOptions& options = {}) {
  return internal::GetIndexedMap<K, V, KC, VC>(internal_core(client), name, options);
}

// The same through DefaultClient().
template <class K, class V, class KC = Codec<K>, class VC = Codec<V>>
absl::StatusOr<IndexedMap<K, V, KC, VC>> GetIndexedMap(std::string_view name,
                                                       const CallOptions& options = {}) {
  return GetIndexedMap<K, V, KC, VC>(DefaultClient(), name, options);
}

}  // namespace atomix

#endif  // ATOMIX_INDEXED_MAP_H_
