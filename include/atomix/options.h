// Per-operation options for writes and listings. Each derives from
// CallOptions, so a deadline travels with it.
//
//   map.Update("k", v, atomix::IfVersion(7));
//   for (auto& e : map.Entries(atomix::WithPrefix("jobs/"))) { ... }
//
//   atomix::WriteOptions w = atomix::IfVersion(7);
//   w.timeout = std::chrono::seconds(1);
//
// Thread-safety: plain value types.
#ifndef ATOMIX_OPTIONS_H_
#define ATOMIX_OPTIONS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "atomix/call_options.h"
#include "atomix/versioned.h"

namespace atomix {

struct WriteOptions : CallOptions {
  WriteOptions() = default;
  WriteOptions(const CallOptions& call) : CallOptions(call) {}  // NOLINT: implicit by design

  // Apply only if the entry's current version equals this.
  std::optional<Version> if_version;
};

inline WriteOptions IfVersion(Version v) {
  WriteOptions o;
  o.if_version = v;
  return o;
}

struct ListOptions : CallOptions {
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
