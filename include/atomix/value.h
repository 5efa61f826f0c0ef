// Value<T>: a single named, versioned value that may be absent.
//
//   auto leader = atomix::GetValue<std::string>("leader-address");
//   if (!leader.ok()) return leader.status();
//   absl::StatusOr<atomix::Version> v = leader->Insert("10.0.0.7:8080");  // only if absent
//   auto cur = leader->Get();   // StatusOr<std::optional<Versioned<std::string>>>
//   if (cur.ok() && *cur) {
//     // Replace it only if nobody wrote it since we read it.
//     auto w = leader->Set("10.0.0.8:8080", atomix::IfVersion((*cur)->version));
//     if (absl::IsFailedPrecondition(w.status())) { /* CurrentVersion(w.status()) */ }
//   }
//
// T travels as bytes through the codec C (see atomix/codec.h). Versions are
// broker revisions: each write returns the revision at which it was applied,
// and Get returns the revision of the last write.
//
// Errors: INVALID_ARGUMENT for a bad name, a value over the broker's size
// limit, or stored bytes that C cannot decode (the message names the type and
// the value); FAILED_PRECONDITION for a name bound to another primitive type
// or an IfVersion mismatch (CurrentVersion(status) holds the current version)
// or an IfFence whose grant no longer holds the lock (CurrentVersion(status)
// holds the lock's current fence, 0 if free);
// NOT_FOUND for IfVersion or Delete on an absent value; ALREADY_EXISTS for
// Insert on a present value; plus UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED.
//
// Thread-safety: Value is a cheap, copyable, immutable handle (client + name);
// all methods are safe to call from any thread at the same time.
#ifndef ATOMIX_VALUE_H_
#define ATOMIX_VALUE_H_

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
#include "atomix/internal/primitive.h"
#include "atomix/internal/value_core.h"
#include "atomix/internal/watch_core.h"
#include "atomix/options.h"
#include "atomix/versioned.h"
#include "atomix/watch.h"

namespace atomix {

// One event of a value watch (atomix/watch.h).
//   kInserted: `value` appeared (also: the current value of a WithReplay()
//              watch, with revision = the snapshot's revision; an absent
//              value replays as no event).
//   kUpdated:  `value` replaced `previous`.
//   kRemoved, kExpired: `previous` is gone.
//   kResync:   `value` is the value at `revision`, or nullopt if absent;
//              `previous` is not set.
template <class T>
struct ValueEvent {
  EventType type = EventType::kInserted;
  Version revision = 0;
  std::optional<Versioned<T>> value;
  std::optional<Versioned<T>> previous;
  ResyncReason reason = ResyncReason::kNone;
};

namespace internal {

// Decodes raw value watch items with codec C.
template <class T, class C>
struct ValueWatchDecoder {
  std::string name;

  absl::StatusOr<Versioned<T>> Decode(const RawEntry& raw) const {
    auto v = DecodeWith<T, C>(raw.value, kValueKind, name);
    if (!v.ok()) return v.status();
    return Versioned<T>{*std::move(v), raw.version};
  }

  absl::Status Events(std::vector<RawWatchEvent>& raw, std::vector<ValueEvent<T>>& out) const {
    for (RawWatchEvent& r : raw) {
      ValueEvent<T> e;
      e.type = r.type;
      e.revision = r.revision;
      for (auto [from, to] : {std::pair(&r.entry, &e.value), std::pair(&r.previous, &e.previous)}) {
        if (!from->has_value()) continue;
        auto decoded = Decode(**from);
        if (!decoded.ok()) return decoded.status();
        *to = *std::move(decoded);
      }
      out.push_back(std::move(e));
    }
    return absl::OkStatus();
  }

  absl::Status Snapshot(RawSnapshot& raw, std::vector<ValueEvent<T>>& out) const {
    ValueEvent<T> e;
    e.revision = raw.revision;
    if (!raw.entries.empty()) {
      auto decoded = Decode(raw.entries.front());
      if (!decoded.ok()) return decoded.status();
      e.value = *std::move(decoded);
    }
    if (raw.replay) {
      if (e.value.has_value()) out.push_back(std::move(e));
      return absl::OkStatus();
    }
    e.type = EventType::kResync;
    e.reason = raw.reason;
    out.push_back(std::move(e));
    return absl::OkStatus();
  }
};

}  // namespace internal

template <class T, class C = Codec<T>>
class Value {
 public:
  // Wraps an opened bytes core; use GetValue<T>() instead.
  explicit Value(internal::ValueCore core) : core_(std::move(core)) {}

  const std::string& name() const { return core_.name(); }

  // The value and its version, or nullopt when absent.
  absl::StatusOr<std::optional<Versioned<T>>> Get(const CallOptions& options = {}) const {
    return GetAsync(options).get();
  }

  // Sets the value (creating it if absent) and returns the revision of the
  // write. With IfVersion(v): only if the value is present with version v.
  // With IfFence(lock, fence): only while that grant holds the lock. With
  // WithEphemeral() / WithTTL(d): the value is deleted when the session ends
  // / after d (see atomix/options.h).
  absl::StatusOr<Version> Set(const T& value, const WriteOptions& options = {}) const {
    return SetAsync(value, options).get();
  }

  // Sets the value only if it is absent; ALREADY_EXISTS otherwise. Takes
  // WithEphemeral() and WithTTL(d), not IfVersion or IfFence.
  absl::StatusOr<Version> Insert(const T& value, const WriteOptions& options = {}) const {
    return InsertAsync(value, options).get();
  }

  // Deletes the value and returns the revision of the delete; NOT_FOUND if
  // absent. With IfVersion(v): only if the value has version v. With
  // IfFence(lock, fence): only while that grant holds the lock.
  absl::StatusOr<Version> Delete(const WriteOptions& options = {}) const {
    return DeleteAsync(options).get();
  }

  // The same, without waiting (atomix/future.h).
  Future<std::optional<Versioned<T>>> GetAsync(const CallOptions& options = {}) const {
    return internal::MapFuture<std::optional<Versioned<T>>>(
        core_.GetAsync(options),
        [name = core_.name()](absl::StatusOr<std::optional<Versioned<std::string>>> raw)
            -> absl::StatusOr<std::optional<Versioned<T>>> {
          if (!raw.ok()) return raw.status();
          if (!raw->has_value()) return std::optional<Versioned<T>>();
          auto v = internal::DecodeWith<T, C>((*raw)->value, internal::kValueKind, name);
          if (!v.ok()) return v.status();
          return std::optional<Versioned<T>>(Versioned<T>{*std::move(v), (*raw)->version});
        });
  }
  Future<Version> SetAsync(const T& value, const WriteOptions& options = {}) const {
    return core_.SetAsync(C::Encode(value), options);
  }
  Future<Version> InsertAsync(const T& value, const WriteOptions& options = {}) const {
    return core_.InsertAsync(C::Encode(value), options);
  }
  Future<Version> DeleteAsync(const WriteOptions& options = {}) const {
    return core_.DeleteAsync(options);
  }

  // Watches the value (atomix/watch.h); returns once the broker accepted
  // the watch.
  absl::StatusOr<Channel<ValueEvent<T>>> Watch(const WatchOptions& options = {}) const {
    internal::WatchTarget target;
    target.kind = internal::kValueKind;
    target.name = core_.name();
    return internal::OpenWatch<ValueEvent<T>>(core_.client(), std::move(target), options,
                                              internal::ValueWatchDecoder<T, C>{core_.name()});
  }

 private:
  internal::ValueCore core_;
};

namespace internal {
// Opens a value over a client core. Not part of the public API.
template <class T, class C = Codec<T>>
absl::StatusOr<Value<T, C>> GetValue(std::shared_ptr<ClientCore> core, std::string_view name,
                                     const CallOptions& options = {}) {
  auto opened = ValueCore::Open(std::move(core), name, options);
  if (!opened.ok()) return opened.status();
  return Value<T, C>(*std::move(opened));
}
}  // namespace internal

// Opens the value `name` through `client`, creating it (absent) if it does
// not exist. Fails early, with the broker's status, on a bad name
// (INVALID_ARGUMENT) or a name bound to another type (FAILED_PRECONDITION).
template <class T, class C = Codec<T>>
absl::StatusOr<Value<T, C>> GetValue(const Client& client, std::string_view name,
                                     const CallOptions& options = {}) {
  return internal::GetValue<T, C>(internal_core(client), name, options);
}

// The same through DefaultClient().
template <class T, class C = Codec<T>>
absl::StatusOr<Value<T, C>> GetValue(std::string_view name, const CallOptions& options = {}) {
  return GetValue<T, C>(DefaultClient(), name, options);
}

}  // namespace atomix

#endif  // ATOMIX_VALUE_H_
