// Per-operation options for writes and listings. Each derives from
// CallOptions, so a deadline travels with it.
//
//   map.Update("k", v, atomix::IfVersion(7));
//   for (auto& e : map.Entries(atomix::WithPrefix("jobs/"))) { ... }
//
// Write options compose: every helper returns a WriteOptions, and the
// WriteOptions members of the same names add to it.
//
//   map.Put("workers/a", addr, atomix::WithEphemeral());          // dies with the session
//   map.Put("cache/k", v, atomix::WithTTL(std::chrono::seconds(30)));
//   map.Update("k", v, atomix::IfVersion(7).Ephemeral().TTL(std::chrono::seconds(5)));
//   map.Put("k", v, atomix::IfFence(lock, fence));                // atomix/lock.h
//
//   atomix::WriteOptions w = atomix::IfVersion(7);
//   w.timeout = std::chrono::seconds(1);
//
// Which write takes which option (INVALID_ARGUMENT, without a round trip,
// for an option the write does not take):
//
//                      if_version  if_fence  ephemeral  ttl
//   Map Put, Update        x          x          x       x
//   Map Insert                                   x       x
//   Map Remove             x          x
//   Value Set              x          x          x       x
//   Value Insert                                 x       x
//   Value Delete           x          x
//   IndexedMap Put, Remove x
//
// Thread-safety: plain value types.
#ifndef ATOMIX_OPTIONS_H_
#define ATOMIX_OPTIONS_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "atomix/call_options.h"
#include "atomix/export.h"
#include "atomix/versioned.h"

namespace atomix {

// Names one lock grant: the lock's name and the fence its Acquire returned
// (see atomix/lock.h).
struct ATOMIX_EXPORT FenceRef {
  std::string lock;
  Version version = 0;

  friend bool operator==(const FenceRef&, const FenceRef&) = default;
};

struct ATOMIX_EXPORT WriteOptions : CallOptions {
  WriteOptions() = default;
  WriteOptions(const CallOptions& call) : CallOptions(call) {}  // NOLINT: implicit by design

  // Apply only if the entry's current version equals this.
  std::optional<Version> if_version;
  // Apply only while this lock grant still holds its lock; otherwise
  // FAILED_PRECONDITION, with CurrentVersion(status) = the lock's current
  // fence (0 if free).
  std::optional<FenceRef> if_fence;
  // The entry belongs to the client's session and is deleted when the
  // session ends (closed, or expired without keep-alives). A later write
  // without it makes the entry permanent again.
  bool ephemeral = false;
  // The broker deletes the entry this long after the write (a mutation with
  // its own revision). Must be positive.
  std::optional<std::chrono::milliseconds> ttl;

  // Fluent setters: atomix::IfVersion(3).Ephemeral().TTL(5s).
  WriteOptions& IfVersion(Version v) & {
    if_version = v;
    return *this;
  }
  WriteOptions&& IfVersion(Version v) && { return std::move(IfVersion(v)); }

  WriteOptions& IfFence(std::string lock, Version fence) & {
    if_fence = FenceRef{std::move(lock), fence};
    return *this;
  }
  WriteOptions&& IfFence(std::string lock, Version fence) && {
    return std::move(IfFence(std::move(lock), fence));
  }

  WriteOptions& Ephemeral(bool on = true) & {
    ephemeral = on;
    return *this;
  }
  WriteOptions&& Ephemeral(bool on = true) && { return std::move(Ephemeral(on)); }

  WriteOptions& TTL(std::chrono::milliseconds d) & {
    ttl = d;
    return *this;
  }
  WriteOptions&& TTL(std::chrono::milliseconds d) && { return std::move(TTL(d)); }

  WriteOptions& Timeout(std::chrono::nanoseconds d) & {
    timeout = d;
    return *this;
  }
  WriteOptions&& Timeout(std::chrono::nanoseconds d) && { return std::move(Timeout(d)); }
};

inline WriteOptions IfVersion(Version v) { return WriteOptions().IfVersion(v); }

// The entry lives only as long as the client's session.
inline WriteOptions WithEphemeral() { return WriteOptions().Ephemeral(); }

// The broker deletes the entry `ttl` after the write.
inline WriteOptions WithTTL(std::chrono::milliseconds ttl) { return WriteOptions().TTL(ttl); }

struct ATOMIX_EXPORT ListOptions : CallOptions {
  ListOptions() = default;
  ListOptions(const CallOptions& call) : CallOptions(call) {}  // NOLINT: implicit by design

  // Only keys whose encoded bytes start with this prefix. With '/'-separated
  // string keys, "a/b/" lists the subtree under a/b.
  std::string prefix;
  // Entries fetched per round trip; 0 means the broker default (1000). Each
  // page is its own call with its own timeout.
  uint32_t page_size = 0;
};

inline ListOptions WithPrefix(std::string prefix) {
  ListOptions o;
  o.prefix = std::move(prefix);
  return o;
}

}  // namespace atomix

#endif  // ATOMIX_OPTIONS_H_
