// CounterMap<K>: named 64-bit signed counters under one name, one per key,
// kept by the broker. Rate limits, quotas, per-user tallies.
//
//   // Each user may make 1000 calls a day.
//   auto calls = atomix::GetCounterMap<std::string>("api-calls/2024-06-01");
//   if (!calls.ok()) return calls.status();
//
//   // Optimistic: count the call, and give it back if it went over.
//   absl::StatusOr<atomix::Versioned<int64_t>> n = calls->Increment(user);
//   if (!n.ok()) return n.status();
//   if (n->value > 1000) {
//     calls->Decrement(user);
//     return absl::ResourceExhaustedError("quota used up");
//   }
//
//   // Strict: never above the limit, even for a moment. A mismatch fails
//   // with FAILED_PRECONDITION and carries the value the key holds now.
//   absl::StatusOr<int64_t> used = calls->Get(user);
//   while (used.ok() && *used < 1000) {
//     auto taken = calls->CompareAndSet(user, *used, *used + 1);
//     if (taken.ok()) break;                                   // admitted
//     if (!absl::IsFailedPrecondition(taken.status())) return taken.status();
//     used = *atomix::CurrentVersion(taken.status());          // lost a race
//   }
//
// Semantics. Every key is its own counter. An absent key reads as 0 and
// exists from its first write on: Set, Increment/Decrement (any delta,
// including 0) and a matching CompareAndSet are writes, always take a new
// revision and return {value after the write, that revision}. A key's
// version is the revision of its last write. Remove deletes the key (it
// reads as 0 again); Clear deletes every key at one revision. Keys travel
// as bytes through the codec KC (see atomix/codec.h) and are kept and
// listed in the byte order of their encodings; a prefix (ListOptions::prefix,
// WatchOptions::prefix) applies to the encoded bytes.
//
// Listing: Entries() yields Entry<K, int64_t>{key, value, version} page by
// page (ListOptions::page_size, default 1000 per page; see
// atomix/stream_range.h for what a listing guarantees while others write).
//
// Watching (atomix/watch.h, docs/watch.md): Watch() follows every key,
// Watch(WithPrefix(p)) the keys whose encoded bytes start with p, and
// Watch(key) one key, as a Channel<CounterMapEvent<K>>:
//
//   auto events = calls->Watch(atomix::WithReplay());
//   for (const auto& e : *events) { /* e.type, e.key, e.previous -> e.value */ }
//
// Errors: INVALID_ARGUMENT for a bad name, an empty encoded key, a key over
// the broker's size limit (4096 bytes by default), a key that KC cannot
// decode, or Decrement(key, INT64_MIN) (refused without a round trip);
// FAILED_PRECONDITION for a name bound to another primitive type, or a
// CompareAndSet mismatch (CurrentVersion(status) holds the key's current
// value, not a version); OUT_OF_RANGE when a result would leave the int64
// range (nothing changes); plus UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED.
//
// Each operation Op has a non-blocking form OpAsync with the same arguments,
// returning a Future of Op's result (atomix/future.h); Op waits for it.
//
// Thread-safety: CounterMap is a cheap, copyable, immutable handle (client +
// name); all methods are safe to call from any thread at the same time. A
// StreamRange returned by Entries() belongs to one thread.
#ifndef ATOMIX_COUNTER_MAP_H_
#define ATOMIX_COUNTER_MAP_H_

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
#include "atomix/future.h"
#include "atomix/internal/counter_map_core.h"
#include "atomix/internal/primitive.h"
#include "atomix/internal/watch_core.h"
#include "atomix/map.h"
#include "atomix/options.h"
#include "atomix/stream_range.h"
#include "atomix/versioned.h"
#include "atomix/watch.h"

namespace atomix {

// One event of a counter map watch (atomix/watch.h).
//   kInserted: `key` got its first value `value` (previous 0). Also each
//              counter of a WithReplay() snapshot, with revision = the
//              snapshot's revision and version = the counter's own.
//   kUpdated:  `key` went from `previous` to `value`.
//   kRemoved:  `key` was removed; it held `previous` and reads 0 (`value`)
//              again.
//   kResync:   `snapshot` holds every (watched) counter at `revision`, in
//              key order; `reason` says why history was lost.
// `version` is the key's version after the event: `revision` for changes.
template <class K>
struct CounterMapEvent {
  EventType type = EventType::kInserted;
  Version revision = 0;
  K key{};
  int64_t value = 0;
  int64_t previous = 0;
  Version version = 0;
  std::vector<Entry<K, int64_t>> snapshot;
  ResyncReason reason = ResyncReason::kNone;

  friend bool operator==(const CounterMapEvent&, const CounterMapEvent&) = default;
};

namespace internal {

// Decodes raw counter map watch items: keys with the codec KC, values as
// 8-byte counters (DecodeCount).
template <class K, class KC>
struct CounterMapWatchDecoder {
  std::string name;

  absl::StatusOr<Entry<K, int64_t>> Decode(const RawEntry& raw) const {
    auto k = DecodeWith<K, KC>(raw.key, kCounterMapKind, name, &raw.key);
    if (!k.ok()) return k.status();
    auto v = DecodeCount(raw.value, name, raw.key);
    if (!v.ok()) return v.status();
    return Entry<K, int64_t>{*std::move(k), *v, raw.version};
  }

  absl::Status Events(std::vector<RawWatchEvent>& raw, std::vector<CounterMapEvent<K>>& out) const {
    for (RawWatchEvent& r : raw) {
      CounterMapEvent<K> e;
      e.type = r.type;
      e.revision = r.revision;
      e.version = r.revision;
      if (r.previous.has_value()) {
        auto previous = Decode(*r.previous);
        if (!previous.ok()) return previous.status();
        e.key = std::move(previous->key);
        e.previous = previous->value;
      }
      if (r.entry.has_value()) {
        auto entry = Decode(*r.entry);
        if (!entry.ok()) return entry.status();
        e.key = std::move(entry->key);
        e.value = entry->value;
        e.version = entry->version;
      }
      out.push_back(std::move(e));
    }
    return absl::OkStatus();
  }

  absl::Status Snapshot(RawSnapshot& raw, std::vector<CounterMapEvent<K>>& out) const {
    std::vector<Entry<K, int64_t>> entries;
    entries.reserve(raw.entries.size());
    for (const RawEntry& r : raw.entries) {
      auto decoded = Decode(r);
      if (!decoded.ok()) return decoded.status();
      entries.push_back(*std::move(decoded));
    }
    if (raw.replay) {
      for (Entry<K, int64_t>& entry : entries) {
        CounterMapEvent<K> e;
        e.revision = raw.revision;
        e.key = std::move(entry.key);
        e.value = entry.value;
        e.version = entry.version;
        out.push_back(std::move(e));
      }
      return absl::OkStatus();
    }
    CounterMapEvent<K> e;
    e.type = EventType::kResync;
    e.revision = raw.revision;
    e.snapshot = std::move(entries);
    e.reason = raw.reason;
    out.push_back(std::move(e));
    return absl::OkStatus();
  }
};

}  // namespace internal

template <class K, class KC = Codec<K>>
class CounterMap {
 public:
  // Wraps an opened bytes core; use GetCounterMap<K>() instead.
  explicit CounterMap(internal::CounterMapCore core) : core_(std::move(core)) {}

  const std::string& name() const { return core_.name(); }

  // The key's value; 0 if the key is absent.
  absl::StatusOr<int64_t> Get(const K& key, const CallOptions& options = {}) const {
    return GetAsync(key, options).get();
  }

  // Sets the key's value; returns it with the revision of the write.
  absl::StatusOr<Versioned<int64_t>> Set(const K& key, int64_t value,
                                         const CallOptions& options = {}) const {
    return SetAsync(key, value, options).get();
  }

  // Adds `delta` (which may be negative; an absent key starts at 0); returns
  // the new value and its version. OUT_OF_RANGE if the result would
  // overflow int64.
  absl::StatusOr<Versioned<int64_t>> Increment(const K& key, int64_t delta = 1,
                                               const CallOptions& options = {}) const {
    return IncrementAsync(key, delta, options).get();
  }

  // Subtracts `delta`; the same as Increment(key, -delta). INVALID_ARGUMENT
  // (and no round trip) for delta == INT64_MIN, which cannot be negated.
  absl::StatusOr<Versioned<int64_t>> Decrement(const K& key, int64_t delta = 1,
                                               const CallOptions& options = {}) const {
    return DecrementAsync(key, delta, options).get();
  }

  // Sets `update` if the key holds `expect` (an absent key holds 0).
  // Otherwise FAILED_PRECONDITION, and CurrentVersion(status) holds the
  // key's current value.
  absl::StatusOr<Versioned<int64_t>> CompareAndSet(const K& key, int64_t expect, int64_t update,
                                                   const CallOptions& options = {}) const {
    return CompareAndSetAsync(key, expect, update, options).get();
  }

  // Removes the key: returns the value it held with the revision of the
  // removal, or nullopt (and no revision taken) if it was absent.
  absl::StatusOr<std::optional<Versioned<int64_t>>> Remove(const K& key,
                                                           const CallOptions& options = {}) const {
    return RemoveAsync(key, options).get();
  }

  // The number of keys that hold a value.
  absl::StatusOr<int64_t> Size(const CallOptions& options = {}) const {
    return SizeAsync(options).get();
  }

  // Removes every key at one revision. Returns {number removed, that
  // revision}; {0, 0} (and no revision taken) if there was none.
  absl::StatusOr<Versioned<int64_t>> Clear(const CallOptions& options = {}) const {
    return ClearAsync(options).get();
  }

  // The same, without waiting (atomix/future.h).
  Future<int64_t> GetAsync(const K& key, const CallOptions& options = {}) const {
    return core_.GetAsync(KC::Encode(key), options);
  }
  Future<Versioned<int64_t>> SetAsync(const K& key, int64_t value,
                                      const CallOptions& options = {}) const {
    return core_.SetAsync(KC::Encode(key), value, options);
  }
  Future<Versioned<int64_t>> IncrementAsync(const K& key, int64_t delta = 1,
                                            const CallOptions& options = {}) const {
    return core_.AddAsync(KC::Encode(key), delta, options);
  }
  Future<Versioned<int64_t>> DecrementAsync(const K& key, int64_t delta = 1,
                                            const CallOptions& options = {}) const {
    return core_.SubtractAsync(KC::Encode(key), delta, options);
  }
  Future<Versioned<int64_t>> CompareAndSetAsync(const K& key, int64_t expect, int64_t update,
                                                const CallOptions& options = {}) const {
    return core_.CompareAndSetAsync(KC::Encode(key), expect, update, options);
  }
  Future<std::optional<Versioned<int64_t>>> RemoveAsync(const K& key,
                                                        const CallOptions& options = {}) const {
    return core_.RemoveAsync(KC::Encode(key), options);
  }
  Future<int64_t> SizeAsync(const CallOptions& options = {}) const {
    return core_.SizeAsync(options);
  }
  Future<Versioned<int64_t>> ClearAsync(const CallOptions& options = {}) const {
    return core_.ClearAsync(options);
  }

  // The counters in key order, page by page; see ListOptions for prefix and
  // page size. The range ends with a non-OK status on the first failed page
  // or undecodable key.
  StreamRange<Entry<K, int64_t>> Entries(const ListOptions& options = {}) const {
    std::string name = core_.name();
    return internal::TranscodeRange<Entry<K, int64_t>>(
        internal::CounterMapCursor(core_, options),
        [name](internal::RawCount& raw) -> absl::StatusOr<Entry<K, int64_t>> {
          auto k = internal::DecodeWith<K, KC>(raw.key, internal::kCounterMapKind, name, &raw.key);
          if (!k.ok()) return k.status();
          return Entry<K, int64_t>{*std::move(k), raw.value, raw.version};
        });
  }

  // Watches the counters (atomix/watch.h): every key, or with
  // options.prefix (e.g. Watch(atomix::WithPrefix("user/"))) the keys whose
  // encoded bytes start with it. Returns once the broker accepted the watch.
  absl::StatusOr<Channel<CounterMapEvent<K>>> Watch(const WatchOptions& options = {}) const {
    return WatchWith(std::nullopt, options);
  }

  // Watches one key.
  absl::StatusOr<Channel<CounterMapEvent<K>>> Watch(const K& key,
                                                    const WatchOptions& options = {}) const {
    return WatchWith(KC::Encode(key), options);
  }

 private:
  absl::StatusOr<Channel<CounterMapEvent<K>>> WatchWith(std::optional<std::string> key,
                                                        const WatchOptions& options) const {
    internal::WatchTarget target;
    target.kind = internal::kCounterMapKind;
    target.name = core_.name();
    target.key = std::move(key);
    target.prefix = options.prefix;
    return internal::OpenWatch<CounterMapEvent<K>>(
        core_.client(), std::move(target), options,
        internal::CounterMapWatchDecoder<K, KC>{core_.name()});
  }

  internal::CounterMapCore core_;
};

namespace internal {
// Opens a counter map over a client core. Not part of the public API.
template <class K, class KC = Codec<K>>
absl::StatusOr<CounterMap<K, KC>> GetCounterMap(std::shared_ptr<ClientCore> core,
                                                std::string_view name,
                                                const CallOptions& options = {}) {
  auto opened = CounterMapCore::Open(std::move(core), name, options);
  if (!opened.ok()) return opened.status();
  return CounterMap<K, KC>(*std::move(opened));
}
}  // namespace internal

// Opens the counter map `name` through `client`, creating it (empty) if it
// does not exist. Fails early, with the broker's status, on a bad name
// (INVALID_ARGUMENT) or a name bound to another type (FAILED_PRECONDITION).
template <class K, class KC = Codec<K>>
absl::StatusOr<CounterMap<K, KC>> GetCounterMap(const Client& client, std::string_view name,
                                                const CallOptions& options = {}) {
  return internal::GetCounterMap<K, KC>(internal_core(client), name, options);
}

// The same through DefaultClient().
template <class K, class KC = Codec<K>>
absl::StatusOr<CounterMap<K, KC>> GetCounterMap(std::string_view name,
                                                const CallOptions& options = {}) {
  return GetCounterMap<K, KC>(DefaultClient(), name, options);
}

}  // namespace atomix

#endif  // ATOMIX_COUNTER_MAP_H_
