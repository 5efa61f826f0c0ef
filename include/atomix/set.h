// Set<E>: a named, sorted set of elements kept by the broker.
//
//   auto online = atomix::GetSet<std::string>("online-workers");
//   if (!online.ok()) return online.status();
//   absl::StatusOr<atomix::Change> c = online->Add("worker-7");
//   if (c.ok() && !c->changed) { /* it was already there, added at c->version */ }
//   for (const auto& e : online->Elements()) {   // StatusOr<Versioned<std::string>>
//     if (!e.ok()) { /* e.status(); the range ends here */ break; }
//     use(e->value, e->version);
//   }
//
// Elements travel as bytes through the codec C (see atomix/codec.h) and are
// kept and listed in the byte order of their encodings. Each element is
// versioned by the broker revision that added it.
//
// Add and Remove return a Change: `changed` tells whether the set changed;
// `version` is the revision at which it did. When nothing changed, `version`
// is the element's current version for Add (it was already present) and 0 for
// Remove (it was absent). Neither is an error.
//
// Elements() lists Versioned<E> (the element and the revision that added it)
// page by page. ListOptions::prefix applies to the encoded element bytes;
// because the wire protocol has no prefix for sets, the client starts the
// listing just before the prefix and stops at the first element past it.
//
// Errors: INVALID_ARGUMENT for a bad name, an empty encoded element, an
// element over the broker's size limit, or stored bytes that C cannot decode
// (the message names the type, the set and the element bytes);
// FAILED_PRECONDITION for a name bound to another primitive type; plus
// UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED.
//
// Thread-safety: Set is a cheap, copyable, immutable handle (client + name);
// all methods are safe to call from any thread at the same time. A
// StreamRange returned by Elements() belongs to one thread.
#ifndef ATOMIX_SET_H_
#define ATOMIX_SET_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "atomix/call_options.h"
#include "atomix/channel.h"
#include "atomix/client.h"
#include "atomix/codec.h"
#include "atomix/internal/primitive.h"
#include "atomix/internal/set_core.h"
#include "atomix/internal/watch_core.h"
#include "atomix/options.h"
#include "atomix/stream_range.h"
#include "atomix/versioned.h"
#include "atomix/watch.h"

namespace atomix {

// One event of a set watch (atomix/watch.h). An element's version is the
// revision that added it.
//   kInserted: `element` was added (also: each element of a WithReplay()
//              snapshot, with revision = the snapshot's revision).
//   kRemoved:  `previous` was removed (kExpired: its TTL passed).
//   kResync:   `snapshot` holds every element at `revision`, in order.
template <class E>
struct SetEvent {
  EventType type = EventType::kInserted;
  Version revision = 0;
  std::optional<Versioned<E>> element;
  std::optional<Versioned<E>> previous;
  std::vector<Versioned<E>> snapshot;
  ResyncReason reason = ResyncReason::kNone;
};

namespace internal {

// Decodes raw set watch items (elements travel as keys) with codec C.
template <class E, class C>
struct SetWatchDecoder {
  std::string name;

  absl::StatusOr<Versioned<E>> Decode(RawEntry& raw) const {
    auto e = DecodeWith<E, C>(raw.key, kSetKind, name, &raw.key);
    if (!e.ok()) return e.status();
    return Versioned<E>{*std::move(e), raw.version};
  }

  absl::Status Events(std::vector<RawWatchEvent>& raw, std::vector<SetEvent<E>>& out) const {
    for (RawWatchEvent& r : raw) {
      SetEvent<E> e;
      e.type = r.type;
      e.revision = r.revision;
      for (auto [from, to] :
           {std::pair(&r.entry, &e.element), std::pair(&r.previous, &e.previous)}) {
        if (!from->has_value()) continue;
        auto decoded = Decode(**from);
        if (!decoded.ok()) return decoded.status();
        *to = *std::move(decoded);
      }
      out.push_back(std::move(e));
    }
    return absl::OkStatus();
  }

  absl::Status Snapshot(RawSnapshot& raw, std::vector<SetEvent<E>>& out) const {
    std::vector<Versioned<E>> elements;
    elements.reserve(raw.entries.size());
    for (RawEntry& r : raw.entries) {
      auto decoded = Decode(r);
      if (!decoded.ok()) return decoded.status();
      elements.push_back(*std::move(decoded));
    }
    if (raw.replay) {
      for (Versioned<E>& element : elements) {
        SetEvent<E> e;
        e.revision = raw.revision;
        e.element = std::move(element);
        out.push_back(std::move(e));
      }
      return absl::OkStatus();
    }
    SetEvent<E> e;
    e.type = EventType::kResync;
    e.revision = raw.revision;
    e.snapshot = std::move(elements);
    e.reason = raw.reason;
    out.push_back(std::move(e));
    return absl::OkStatus();
  }
};

}  // namespace internal

template <class E, class C = Codec<E>>
class Set {
 public:
  // Wraps an opened bytes core; use GetSet<E>() instead.
  explicit Set(internal::SetCore core) : core_(std::move(core)) {}

  const std::string& name() const { return core_.name(); }

  // Adds the element. changed == false if it was already present.
  absl::StatusOr<Change> Add(const E& element, const CallOptions& options = {}) const {
    return AddAsync(element, options).get();
  }

  // Removes the element. changed == false (version 0) if it was absent.
  absl::StatusOr<Change> Remove(const E& element, const CallOptions& options = {}) const {
    return RemoveAsync(element, options).get();
  }

  absl::StatusOr<bool> Contains(const E& element, const CallOptions& options = {}) const {
    return ContainsAsync(element, options).get();
  }

  // The number of elements.
  absl::StatusOr<int64_t> Size(const CallOptions& options = {}) const {
    return SizeAsync(options).get();
  }

  // Removes every element at one revision, which it returns; 0 (and no
  // revision taken) if the set was already empty.
  absl::StatusOr<Version> Clear(const CallOptions& options = {}) const {
    return ClearAsync(options).get();
  }

  // The same, without waiting (atomix/future.h).
  Future<Change> AddAsync(const E& element, const CallOptions& options = {}) const {
    return core_.AddAsync(C::Encode(element), options);
  }
  Future<Change> RemoveAsync(const E& element, const CallOptions& options = {}) const {
    return core_.RemoveAsync(C::Encode(element), options);
  }
  Future<bool> ContainsAsync(const E& element, const CallOptions& options = {}) const {
    return core_.ContainsAsync(C::Encode(element), options);
  }
  Future<int64_t> SizeAsync(const CallOptions& options = {}) const {
    return core_.SizeAsync(options);
  }
  Future<Version> ClearAsync(const CallOptions& options = {}) const {
    return core_.ClearAsync(options);
  }

  // Watches the set (atomix/watch.h); returns once the broker accepted the
  // watch.
  absl::StatusOr<Channel<SetEvent<E>>> Watch(const WatchOptions& options = {}) const {
    internal::WatchTarget target;
    target.kind = internal::kSetKind;
    target.name = core_.name();
    return internal::OpenWatch<SetEvent<E>>(core_.client(), std::move(target), options,
                                            internal::SetWatchDecoder<E, C>{core_.name()});
  }

  // The elements in order with the revision that added each, page by page.
  // The range ends with a non-OK status on the first failed page or
  // undecodable element.
  StreamRange<Versioned<E>> Elements(const ListOptions& options = {}) const {
    std::string name = core_.name();
    return internal::TranscodeRange<Versioned<E>>(
        internal::SetCursor(core_, options),
        [name](Versioned<std::string>& raw) -> absl::StatusOr<Versioned<E>> {
          auto e = internal::DecodeWith<E, C>(raw.value, internal::kSetKind, name,
                                              &raw.value);
          if (!e.ok()) return e.status();
          return Versioned<E>{*std::move(e), raw.version};
        });
  }

 private:
  internal::SetCore core_;
};

namespace internal {
// Opens a set over a client core. Not part of the public API.
template <class E, class C = Codec<E>>
absl::StatusOr<Set<E, C>> GetSet(std::shared_ptr<ClientCore> core, std::string_view name,
                                 const CallOptions& options = {}) {
  auto opened = SetCore::Open(std::move(core), name, options);
  if (!opened.ok()) return opened.status();
  return Set<E, C>(*std::move(opened));
}
}  // namespace internal

// Opens the set `name` through `client`, creating it (empty) if it does not
// exist. Fails early, with the broker's status, on a bad name
// (INVALID_ARGUMENT) or a name bound to another type (FAILED_PRECONDITION).
template <class E, class C = Codec<E>>
absl::StatusOr<Set<E, C>> GetSet(const Client& client, std::string_view name,
                                 const CallOptions& options = {}) {
  return internal::GetSet<E, C>(internal_core(client), name, options);
}

// The same through DefaultClient().
template <class E, class C = Codec<E>>
absl::StatusOr<Set<E, C>> GetSet(std::string_view name, const CallOptions& options = {}) {
  return GetSet<E, C>(DefaultClient(), name, options);
}

}  // namespace atomix

#endif  // ATOMIX_SET_H_
