// Map<K, V>: a named, sorted map of versioned entries kept by the broker.
//
//   auto scores = atomix::GetMap<std::string, int64_t>("scores");
//   if (!scores.ok()) return scores.status();
//   scores->Put("alice", 10);
//   auto e = scores->Get("alice");   // StatusOr<std::optional<Versioned<int64_t>>>
//   if (e.ok() && *e) {
//     // Compare-and-set: write only if nobody wrote since we read.
//     auto w = scores->Put("alice", (*e)->value + 1, atomix::IfVersion((*e)->version));
//     if (absl::IsFailedPrecondition(w.status())) { /* CurrentVersion(w.status()) */ }
//   }
//   for (const auto& entry : scores->Entries(atomix::WithPrefix("a"))) {
//     if (!entry.ok()) { /* entry.status(); the range ends here */ break; }
//     use(entry->key, entry->value, entry->version);
//   }
//
// Keys and values travel as bytes through the codecs KC and VC (see
// atomix/codec.h). Entries are kept and listed in the byte order of their
// encoded keys; the built-in integer codecs make that numeric order. A
// prefix (ListOptions::prefix) applies to the encoded key bytes. An entry's
// version is the broker revision of its last write; every write returns the
// revision at which it was applied.
//
// Listing is paged (ListOptions::page_size, default 1000 per page, and the
// broker ends a page early at about 1 MiB): a map of any size lists holding
// one page in memory. See atomix/stream_range.h for what a listing guarantees
// while others write.
//
// Watching (atomix/watch.h, docs/watch.md): Watch() follows the whole map,
// Watch(WithPrefix(p)) the keys whose encoded bytes start with p, and
// Watch(key) one key, as a Channel<MapEvent<K, V>>:
//
//   auto events = scores->Watch(atomix::WithReplay());
//   for (const auto& e : *events) { /* e.type, e.revision, e.entry, ... */ }
//
// Prefix locks (atomix/prefix_lock.h): LockPrefix("jobs/42/") leases every
// key under a prefix to this client's session; writes by other sessions
// under it fail unless they carry IfFence(guard).
//
// Errors: INVALID_ARGUMENT for a bad name, an empty encoded key, a key or
// value over the broker's size limits, or stored bytes that a codec cannot
// decode (the message names the type, the map and the key);
// FAILED_PRECONDITION for a name bound to another primitive type or an
// IfVersion mismatch (CurrentVersion(status) holds the entry's current
// version) or an IfFence whose grant no longer holds the lock
// (CurrentVersion(status) holds the lock's current fence, 0 if free) or a
// write under another session's prefix lock (CurrentVersion(status) holds
// that lock's fence);
// NOT_FOUND for Update, Remove, or an IfVersion write on an absent
// key; ALREADY_EXISTS for Insert on a present key; plus UNAVAILABLE,
// DEADLINE_EXCEEDED, CANCELLED.
//
// Thread-safety: Map is a cheap, copyable, immutable handle (client + name);
// all methods are safe to call from any thread at the same time. A
// StreamRange returned by Entries() or Keys() belongs to one thread.
#ifndef ATOMIX_MAP_H_
#define ATOMIX_MAP_H_

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
#include "atomix/internal/entry_watch.h"
#include "atomix/internal/map_core.h"
#include "atomix/internal/primitive.h"
#include "atomix/internal/watch_core.h"
#include "atomix/options.h"
#include "atomix/prefix_lock.h"
#include "atomix/stream_range.h"
#include "atomix/versioned.h"
#include "atomix/watch.h"

namespace atomix {

template <class K, class V>
struct Entry {
  K key{};
  V value{};
  Version version = 0;

  friend bool operator==(const Entry&, const Entry&) = default;
};

// One event of a map watch (atomix/watch.h).
//   kInserted: `entry` appeared (also: each entry of a WithReplay() snapshot,
//              with revision = the snapshot's revision).
//   kUpdated:  `entry` replaced `previous`.
//   kRemoved, kExpired: `previous` is gone.
//   kResync:   `snapshot` holds every (watched) entry at `revision`, in key
//              order; `reason` says why history was lost.
// An entry's version is the revision of its own last write.
template <class K, class V>
struct MapEvent {
  EventType type = EventType::kInserted;
  Version revision = 0;
  std::optional<Entry<K, V>> entry;
  std::optional<Entry<K, V>> previous;
  std::vector<Entry<K, V>> snapshot;
  ResyncReason reason = ResyncReason::kNone;
};

namespace internal {

// Decodes raw map watch items with the codecs KC and VC.
template <class K, class V, class KC, class VC>
struct MapWatchDecoder {
  std::string name;

  absl::StatusOr<Entry<K, V>> Decode(RawEntry& raw) const {
    auto k = DecodeWith<K, KC>(raw.key, kMapKind, name, &raw.key);
    if (!k.ok()) return k.status();
    auto v = DecodeWith<V, VC>(raw.value, kMapKind, name, &raw.key);
    if (!v.ok()) return v.status();
    return Entry<K, V>{*std::move(k), *std::move(v), raw.version};
  }

  absl::Status Events(std::vector<RawWatchEvent>& raw, std::vector<MapEvent<K, V>>& out) const {
    return DecodeEntryEvents(
        raw, &MapEvent<K, V>::entry, [this](RawEntry& r) { return Decode(r); }, out);
  }

  absl::Status Snapshot(RawSnapshot& raw, std::vector<MapEvent<K, V>>& out) const {
    return DecodeEntrySnapshot(
        raw, &MapEvent<K, V>::entry, [this](RawEntry& r) { return Decode(r); }, out);
  }
};

}  // namespace internal

template <class K, class V, class KC = Codec<K>, class VC = Codec<V>>
class Map {
 public:
  // Wraps an opened bytes core; use GetMap<K, V>() instead.
  explicit Map(internal::MapCore core) : core_(std::move(core)) {}

  const std::string& name() const { return core_.name(); }

  // Inserts or replaces; returns the revision of the write. With
  // IfVersion(v): only if the key is present with version v. With
  // IfFence(lock, fence): only while that grant holds the lock. With
  // WithEphemeral() / WithTTL(d): the entry is deleted when the session ends
  // / after d (see atomix/options.h).
  absl::StatusOr<Version> Put(const K& key, const V& value,
                              const WriteOptions& options = {}) const {
    return PutAsync(key, value, options).get();
  }

  // Inserts only if the key is absent; ALREADY_EXISTS otherwise. Takes
  // WithEphemeral(), WithTTL(d) and IfFence, not IfVersion.
  absl::StatusOr<Version> Insert(const K& key, const V& value,
                                 const WriteOptions& options = {}) const {
    return InsertAsync(key, value, options).get();
  }

  // Replaces only if the key is present (NOT_FOUND otherwise). Takes the
  // same options as Put.
  absl::StatusOr<Version> Update(const K& key, const V& value,
                                 const WriteOptions& options = {}) const {
    return UpdateAsync(key, value, options).get();
  }

  // The entry's value and version, or nullopt when the key is absent.
  absl::StatusOr<std::optional<Versioned<V>>> Get(const K& key,
                                                  const CallOptions& options = {}) const {
    return GetAsync(key, options).get();
  }

  // Removes the key and returns the revision of the removal; NOT_FOUND if
  // absent. With IfVersion(v): only if its version is v. With
  // IfFence(lock, fence): only while that grant holds the lock.
  absl::StatusOr<Version> Remove(const K& key, const WriteOptions& options = {}) const {
    return RemoveAsync(key, options).get();
  }

  absl::StatusOr<bool> Contains(const K& key, const CallOptions& options = {}) const {
    return ContainsAsync(key, options).get();
  }

  // The number of entries.
  absl::StatusOr<int64_t> Size(const CallOptions& options = {}) const {
    return SizeAsync(options).get();
  }

  // Removes every entry at one revision, which it returns; 0 (and no
  // revision taken) if the map was already empty. Takes IfFence only.
  absl::StatusOr<Version> Clear(const WriteOptions& options = {}) const {
    return ClearAsync(options).get();
  }

  // Removes every entry whose encoded key starts with `prefix`, all at one
  // revision (watchers see the removals back to back), and returns how many
  // it removed (0, and no revision taken, if none matched). An empty prefix
  // removes everything, like Clear(). Takes IfFence only.
  absl::StatusOr<int64_t> RemovePrefix(std::string_view prefix,
                                       const WriteOptions& options = {}) const {
    return RemovePrefixAsync(prefix, options).get();
  }

  // The same, without waiting (atomix/future.h).
  Future<Version> PutAsync(const K& key, const V& value, const WriteOptions& options = {}) const {
    return core_.PutAsync(KC::Encode(key), VC::Encode(value), options);
  }
  Future<Version> InsertAsync(const K& key, const V& value,
                              const WriteOptions& options = {}) const {
    return core_.InsertAsync(KC::Encode(key), VC::Encode(value), options);
  }
  Future<Version> UpdateAsync(const K& key, const V& value,
                              const WriteOptions& options = {}) const {
    return core_.UpdateAsync(KC::Encode(key), VC::Encode(value), options);
  }
  Future<std::optional<Versioned<V>>> GetAsync(const K& key,
                                               const CallOptions& options = {}) const {
    std::string k = KC::Encode(key);
    auto raw = core_.GetAsync(k, options);
    return internal::MapFuture<std::optional<Versioned<V>>>(
        std::move(raw),
        [name = core_.name(),
         k = std::move(k)](absl::StatusOr<std::optional<Versioned<std::string>>> raw)
            -> absl::StatusOr<std::optional<Versioned<V>>> {
          if (!raw.ok()) return raw.status();
          if (!raw->has_value()) return std::optional<Versioned<V>>();
          auto v = internal::DecodeWith<V, VC>((*raw)->value, internal::kMapKind, name, &k);
          if (!v.ok()) return v.status();
          return std::optional<Versioned<V>>(Versioned<V>{*std::move(v), (*raw)->version});
        });
  }
  Future<Version> RemoveAsync(const K& key, const WriteOptions& options = {}) const {
    return core_.RemoveAsync(KC::Encode(key), options);
  }
  Future<bool> ContainsAsync(const K& key, const CallOptions& options = {}) const {
    return core_.ContainsAsync(KC::Encode(key), options);
  }
  Future<int64_t> SizeAsync(const CallOptions& options = {}) const {
    return core_.SizeAsync(options);
  }
  Future<Version> ClearAsync(const WriteOptions& options = {}) const {
    return core_.ClearAsync(options);
  }
  Future<int64_t> RemovePrefixAsync(std::string_view prefix,
                                    const WriteOptions& options = {}) const {
    return core_.RemovePrefixAsync(std::string(prefix), options);
  }

  // LockPrefix: waits in arrival order until this client's session holds
  // an exclusive lock on every key whose encoded bytes start with `prefix`
  // (see atomix/prefix_lock.h), and returns the guard that unlocks it. Waits
  // until the call's deadline, then fails with DEADLINE_EXCEEDED; a cancel
  // through CallOptions::cancel returns CANCELLED at once. Either way the
  // client withdraws the request, and unlocks a grant that crossed that.
  absl::StatusOr<PrefixLockGuard> LockPrefix(std::string_view prefix,
                                             const CallOptions& options = {}) const {
    auto grant = LockPrefixAsync(prefix, options).get();
    if (!grant.ok()) return grant.status();
    return PrefixLockGuard(core_, *std::move(grant));
  }

  // The guard if the prefix could be locked at once, else nullopt (someone
  // holds an overlapping prefix, or waits for one).
  absl::StatusOr<std::optional<PrefixLockGuard>> TryLockPrefix(
      std::string_view prefix, const CallOptions& options = {}) const {
    auto grant = TryLockPrefixAsync(prefix, options).get();
    if (!grant.ok()) return grant.status();
    if (!grant->has_value()) return std::optional<PrefixLockGuard>();
    return std::optional<PrefixLockGuard>(PrefixLockGuard(core_, **std::move(grant)));
  }

  // Unlocks `prefix`, held by this client's session; with IfVersion(fence),
  // the grant with that fence, whichever session holds it. Waiters it frees
  // are granted at once. FAILED_PRECONDITION (CurrentVersion(status) = the
  // fence holding it, 0 if none) if it is not held that way.
  absl::Status UnlockPrefix(std::string_view prefix, const WriteOptions& options = {}) const {
    return UnlockPrefixAsync(prefix, options).get();
  }

  // The held prefix locks in prefix order, page by page (page_size of
  // `options`; its prefix must be empty).
  StreamRange<PrefixLock> PrefixLocks(const ListOptions& options = {}) const {
    return internal::PrefixLockRange(core_, options);
  }

  // The same, without waiting; wrap a grant in PrefixLockGuard(core(),
  // grant) to unlock it by scope. A grant whose future is dropped stays
  // held until it is unlocked or the session ends.
  Future<PrefixLock> LockPrefixAsync(std::string_view prefix,
                                     const CallOptions& options = {}) const {
    return internal::MapFuture<PrefixLock>(
        internal::LockPrefixAsync(core_, std::string(prefix), /*try_only=*/false, options),
        [](absl::StatusOr<std::optional<PrefixLock>> g) -> absl::StatusOr<PrefixLock> {
          if (!g.ok()) return g.status();
          return **std::move(g);
        });
  }
  Future<std::optional<PrefixLock>> TryLockPrefixAsync(std::string_view prefix,
                                                       const CallOptions& options = {}) const {
    return internal::LockPrefixAsync(core_, std::string(prefix), /*try_only=*/true, options);
  }
  Future<void> UnlockPrefixAsync(std::string_view prefix,
                                 const WriteOptions& options = {}) const {
    return internal::UnlockPrefixAsync(core_, std::string(prefix), options);
  }

  // The bytes-level map, for PrefixLockGuard(map.core(), grant).
  const internal::MapCore& core() const { return core_; }

  // Watches the map (atomix/watch.h): every key, or with options.prefix
  // (e.g. Watch(atomix::WithPrefix("jobs/"))) the keys whose encoded bytes
  // start with it. Returns once the broker accepted the watch.
  absl::StatusOr<Channel<MapEvent<K, V>>> Watch(const WatchOptions& options = {}) const {
    return WatchWith(std::nullopt, options);
  }

  // Watches one key.
  absl::StatusOr<Channel<MapEvent<K, V>>> Watch(const K& key,
                                                const WatchOptions& options = {}) const {
    return WatchWith(KC::Encode(key), options);
  }

  // The entries in key order, page by page; see ListOptions for prefix and
  // page size. The range ends with a non-OK status on the first failed page
  // or undecodable entry.
  StreamRange<Entry<K, V>> Entries(const ListOptions& options = {}) const {
    std::string name = core_.name();
    return internal::TranscodeRange<Entry<K, V>>(
        internal::MapCursor(core_, options, /*keys_only=*/false),
        [name](internal::RawEntry& raw) -> absl::StatusOr<Entry<K, V>> {
          auto k = internal::DecodeWith<K, KC>(raw.key, internal::kMapKind, name, &raw.key);
          if (!k.ok()) return k.status();
          auto v = internal::DecodeWith<V, VC>(raw.value, internal::kMapKind, name, &raw.key);
          if (!v.ok()) return v.status();
          return Entry<K, V>{*std::move(k), *std::move(v), raw.version};
        });
  }

  // The keys in order, page by page; values are not transferred.
  StreamRange<K> Keys(const ListOptions& options = {}) const {
    std::string name = core_.name();
    auto decode = [name](internal::RawEntry& raw) -> absl::StatusOr<K> {
      return internal::DecodeWith<K, KC>(raw.key, internal::kMapKind, name, &raw.key);
    };
    return internal::TranscodeRange<K>(internal::MapCursor(core_, options, /*keys_only=*/true),
                                       std::move(decode));
  }

 private:
  absl::StatusOr<Channel<MapEvent<K, V>>> WatchWith(std::optional<std::string> key,
                                                    const WatchOptions& options) const {
    internal::WatchTarget target;
    target.kind = internal::kMapKind;
    target.name = core_.name();
    target.key = std::move(key);
    target.prefix = options.prefix;
    return internal::OpenWatch<MapEvent<K, V>>(
        core_.client(), std::move(target), options,
        internal::MapWatchDecoder<K, V, KC, VC>{core_.name()});
  }

  internal::MapCore core_;
};

namespace internal {
// Opens a map over a client core. Not part of the public API.
template <class K, class V, class KC = Codec<K>, class VC = Codec<V>>
absl::StatusOr<Map<K, V, KC, VC>> GetMap(std::shared_ptr<ClientCore> core, std::string_view name,
                                         const CallOptions& options = {}) {
  auto opened = MapCore::Open(std::move(core), name, options);
  if (!opened.ok()) return opened.status();
  return Map<K, V, KC, VC>(*std::move(opened));
}
}  // namespace internal

// Opens the map `name` through `client`, creating it (empty) if it does not
// exist. Fails early, with the broker's status, on a bad name
// (INVALID_ARGUMENT) or a name bound to another type (FAILED_PRECONDITION).
template <class K, class V, class KC = Codec<K>, class VC = Codec<V>>
absl::StatusOr<Map<K, V, KC, VC>> GetMap(const Client& client, std::string_view name,
                                         const CallOptions& options = {}) {
  return internal::GetMap<K, V, KC, VC>(internal_core(client), name, options);
}

// The same through DefaultClient().
template <class K, class V, class KC = Codec<K>, class VC = Codec<V>>
absl::StatusOr<Map<K, V, KC, VC>> GetMap(std::string_view name, const CallOptions& options = {}) {
  return GetMap<K, V, KC, VC>(DefaultClient(), name, options);
}

}  // namespace atomix

#endif  // ATOMIX_MAP_H_
