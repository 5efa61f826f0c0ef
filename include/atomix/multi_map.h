// MultiMap<K, V>: a named map from keys to sets of values, kept by the broker.
//
//   auto roles = atomix::GetMultiMap<std::string, std::string>("roles");
//   if (!roles.ok()) return roles.status();
//   roles->Put("alice", "admin");                  // StatusOr<Change>: {true, revision}
//   roles->Put("alice", "dev");
//   roles->Put("alice", "admin");                  // {false, the version that added it}
//   for (const auto& v : roles->Get("alice")) {    // StatusOr<Versioned<std::string>>
//     if (!v.ok()) { /* v.status(); the range ends here */ break; }
//     use(v->value, v->version);                   // "admin", then "dev"
//   }
//   auto gone = roles->RemoveAll("alice");         // StatusOr<RemovedPairs>: {2, revision}
//
// Semantics: a key holds each value at most once (a set of values per key),
// and a key with no values does not exist: removing its last value removes
// the key. Every (key, value) pair is versioned by the broker revision that
// added it. Keys and values travel as bytes through the codecs KC and VC
// (atomix/codec.h); pairs are kept and listed in (key, value) order of
// their encoded bytes. Encoded keys and values are never empty.
//
// Put and Remove return a Change: `changed` tells whether the multimap
// changed; `version` is the revision at which it did. When nothing changed,
// `version` is the pair's version for Put (it was already there) and 0 for
// Remove (it was not). Neither is an error. RemoveAll(key) and Clear()
// remove every pair of the key (of the multimap) at one revision and return
// RemovedPairs{count, version}; {0, 0} (no revision taken) when there was
// nothing to remove.
//
// Listings are paged (ListOptions::page_size, default 1000 per page; the
// broker ends a page early at about 1 MiB): Get(key) lists one key's values,
// Entries() every pair, or with WithPrefix(p) the pairs whose encoded key
// starts with p. See atomix/stream_range.h for what a listing guarantees
// while others write.
//
// Watching (atomix/watch.h, docs/watch.md): Watch() follows the whole
// multimap, Watch(WithPrefix(p)) the keys whose encoded bytes start with p,
// and Watch(key) one key, as a Channel<MultiMapEvent<K, V>>: one kInserted
// per pair added and one kRemoved per pair removed (RemoveAll and Clear: one
// per pair, all at their one revision, back to back).
//
// Errors: INVALID_ARGUMENT for a bad name, an empty encoded key or value, a
// key over 4096 bytes or a value over the broker's --max-value-bytes, a
// prefix given to Get, or stored bytes that a codec cannot decode (the
// message names the type, the multimap and the key); FAILED_PRECONDITION for
// a name bound to another primitive type; plus UNAVAILABLE,
// DEADLINE_EXCEEDED, CANCELLED.
//
// Thread-safety: MultiMap is a cheap, copyable, immutable handle (client +
// name); all methods are safe to call from any thread at the same time. A
// StreamRange returned by Get() or Entries() belongs to one thread.
#ifndef ATOMIX_MULTI_MAP_H_
#define ATOMIX_MULTI_MAP_H_

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
#include "atomix/internal/multi_map_core.h"
#include "atomix/internal/primitive.h"
#include "atomix/internal/watch_core.h"
#include "atomix/map.h"
#include "atomix/options.h"
#include "atomix/stream_range.h"
#include "atomix/versioned.h"
#include "atomix/watch.h"

namespace atomix {

// One event of a multimap watch (atomix/watch.h). A pair's version is the
// revision that added it.
//   kInserted: the pair `entry` was added (also: each pair of a WithReplay()
//              snapshot, with revision = the snapshot's revision).
//   kRemoved:  the pair `previous` was removed.
//   kResync:   `snapshot` holds every (watched) pair at `revision`, in
//              (key, value) order; `reason` says why history was lost.
template <class K, class V>
struct MultiMapEvent {
  EventType type = EventType::kInserted;
  Version revision = 0;
  std::optional<Entry<K, V>> entry;
  std::optional<Entry<K, V>> previous;
  std::vector<Entry<K, V>> snapshot;
  ResyncReason reason = ResyncReason::kNone;
};

namespace internal {

// Decodes one raw pair with the codecs KC and VC.
template <class K, class V, class KC, class VC>
absl::StatusOr<Entry<K, V>> DecodePair(RawEntry& raw, std::string_view name) {
  auto k = DecodeWith<K, KC>(raw.key, kMultiMapKind, name, &raw.key);
  if (!k.ok()) return k.status();
  auto v = DecodeWith<V, VC>(raw.value, kMultiMapKind, name, &raw.key);
  if (!v.ok()) return v.status();
  return Entry<K, V>{*std::move(k), *std::move(v), raw.version};
}

// Decodes raw multimap watch items.
template <class K, class V, class KC, class VC>
struct MultiMapWatchDecoder {
  std::string name;

  absl::Status Events(std::vector<RawWatchEvent>& raw,
                      std::vector<MultiMapEvent<K, V>>& out) const {
    return DecodeEntryEvents(
        raw, &MultiMapEvent<K, V>::entry,
        [this](RawEntry& r) { return DecodePair<K, V, KC, VC>(r, name); }, out);
  }

  absl::Status Snapshot(RawSnapshot& raw, std::vector<MultiMapEvent<K, V>>& out) const {
    return DecodeEntrySnapshot(
        raw, &MultiMapEvent<K, V>::entry,
        [this](RawEntry& r) { return DecodePair<K, V, KC, VC>(r, name); }, out);
  }
};

}  // namespace internal

template <class K, class V, class KC = Codec<K>, class VC = Codec<V>>
class MultiMap {
 public:
  // Wraps an opened bytes core; use GetMultiMap<K, V>() instead.
  explicit MultiMap(internal::MultiMapCore core) : core_(std::move(core)) {}

  const std::string& name() const { return core_.name(); }

  // Adds `value` to `key`'s values. changed == false if it was there.
  absl::StatusOr<Change> Put(const K& key, const V& value, const CallOptions& options = {}) const {
    return PutAsync(key, value, options).get();
  }

  // Removes `value` from `key`'s values. changed == false (version 0) if it
  // was not there.
  absl::StatusOr<Change> Remove(const K& key, const V& value,
                                const CallOptions& options = {}) const {
    return RemoveAsync(key, value, options).get();
  }

  // Removes every value of `key` at one revision.
  absl::StatusOr<RemovedPairs> RemoveAll(const K& key, const CallOptions& options = {}) const {
    return RemoveAllAsync(key, options).get();
  }

  // Whether `key` has any value.
  absl::StatusOr<bool> Contains(const K& key, const CallOptions& options = {}) const {
    return ContainsAsync(key, options).get();
  }

  // Whether `key` has `value`.
  absl::StatusOr<bool> Contains(const K& key, const V& value,
                                const CallOptions& options = {}) const {
    return ContainsAsync(key, value, options).get();
  }

  // The number of (key, value) pairs.
  absl::StatusOr<int64_t> Size(const CallOptions& options = {}) const {
    return SizeAsync(options).get();
  }

  // Removes every pair at one revision.
  absl::StatusOr<RemovedPairs> Clear(const CallOptions& options = {}) const {
    return ClearAsync(options).get();
  }

  // The same, without waiting (atomix/future.h).
  Future<Change> PutAsync(const K& key, const V& value, const CallOptions& options = {}) const {
    return core_.PutAsync(KC::Encode(key), VC::Encode(value), options);
  }
  Future<Change> RemoveAsync(const K& key, const V& value, const CallOptions& options = {}) const {
    return core_.RemoveAsync(KC::Encode(key), VC::Encode(value), options);
  }
  Future<RemovedPairs> RemoveAllAsync(const K& key, const CallOptions& options = {}) const {
    return core_.RemoveAllAsync(KC::Encode(key), options);
  }
  Future<bool> ContainsAsync(const K& key, const CallOptions& options = {}) const {
    return core_.ContainsKeyAsync(KC::Encode(key), options);
  }
  Future<bool> ContainsAsync(const K& key, const V& value, const CallOptions& options = {}) const {
    return core_.ContainsAsync(KC::Encode(key), VC::Encode(value), options);
  }
  Future<int64_t> SizeAsync(const CallOptions& options = {}) const {
    return core_.SizeAsync(options);
  }
  Future<RemovedPairs> ClearAsync(const CallOptions& options = {}) const {
    return core_.ClearAsync(options);
  }

  // `key`'s values in order, each with the revision that added it, page by
  // page (ListOptions::page_size; a prefix is INVALID_ARGUMENT). Empty when
  // the key has no values. The range ends with a non-OK status on the first
  // failed page or undecodable value.
  StreamRange<Versioned<V>> Get(const K& key, const ListOptions& options = {}) const {
    std::string name = core_.name();
    return internal::TranscodeRange<Versioned<V>>(
        internal::MultiMapCursor(core_, KC::Encode(key), options),
        [name](internal::RawEntry& raw) -> absl::StatusOr<Versioned<V>> {
          auto v = internal::DecodeWith<V, VC>(raw.value, internal::kMultiMapKind, name, &raw.key);
          if (!v.ok()) return v.status();
          return Versioned<V>{*std::move(v), raw.version};
        });
  }

  // Every pair in (key, value) order, or with ListOptions::prefix the pairs
  // whose encoded key starts with it, page by page. The range ends with a
  // non-OK status on the first failed page or undecodable pair.
  StreamRange<Entry<K, V>> Entries(const ListOptions& options = {}) const {
    std::string name = core_.name();
    return internal::TranscodeRange<Entry<K, V>>(
        internal::MultiMapCursor(core_, std::nullopt, options),
        [name](internal::RawEntry& raw) { return internal::DecodePair<K, V, KC, VC>(raw, name); });
  }

  // Watches the multimap (atomix/watch.h): every key, or with
  // options.prefix (e.g. Watch(atomix::WithPrefix("team/"))) the keys whose
  // encoded bytes start with it. Returns once the broker accepted the watch.
  absl::StatusOr<Channel<MultiMapEvent<K, V>>> Watch(const WatchOptions& options = {}) const {
    return WatchWith(std::nullopt, options);
  }

  // Watches one key's values.
  absl::StatusOr<Channel<MultiMapEvent<K, V>>> Watch(const K& key,
                                                     const WatchOptions& options = {}) const {
    return WatchWith(KC::Encode(key), options);
  }

 private:
  absl::StatusOr<Channel<MultiMapEvent<K, V>>> WatchWith(std::optional<std::string> key,
                                                         const WatchOptions& options) const {
    internal::WatchTarget target;
    target.kind = internal::kMultiMapKind;
    target.name = core_.name();
    target.key = std::move(key);
    target.prefix = options.prefix;
    return internal::OpenWatch<MultiMapEvent<K, V>>(
        core_.client(), std::move(target), options,
        internal::MultiMapWatchDecoder<K, V, KC, VC>{core_.name()});
  }

  internal::MultiMapCore core_;
};

namespace internal {
// Opens a multimap over a client core. Not part of the public API.
template <class K, class V, class KC = Codec<K>, class VC = Codec<V>>
absl::StatusOr<MultiMap<K, V, KC, VC>> GetMultiMap(std::shared_ptr<ClientCore> core,
                                                   std::string_view name,
                                                   const CallOptions& options = {}) {
  auto opened = MultiMapCore::Open(std::move(core), name, options);
  if (!opened.ok()) return opened.status();
  return MultiMap<K, V, KC, VC>(*std::move(opened));
}
}  // namespace internal

// Opens the multimap `name` through `client`, creating it (empty) if it does
// not exist. Fails early, with the broker's status, on a bad name
// (INVALID_ARGUMENT) or a name bound to another type (FAILED_PRECONDITION).
template <class K, class V, class KC = Codec<K>, class VC = Codec<V>>
absl::StatusOr<MultiMap<K, V, KC, VC>> GetMultiMap(const Client& client, std::string_view name,
                                                   const CallOptions& options = {}) {
  return internal::GetMultiMap<K, V, KC, VC>(internal_core(client), name, options);
}

// The same through DefaultClient().
template <class K, class V, class KC = Codec<K>, class VC = Codec<V>>
absl::StatusOr<MultiMap<K, V, KC, VC>> GetMultiMap(std::string_view name,
                                                   const CallOptions& options = {}) {
  return GetMultiMap<K, V, KC, VC>(DefaultClient(), name, options);
}

}  // namespace atomix

#endif  // ATOMIX_MULTI_MAP_H_
