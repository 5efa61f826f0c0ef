// WatchFilter: the part of a primitive a watcher selects. Only map watches
// may narrow it, to one key or to the keys with a prefix; every other watch
// selects the whole primitive.
//
// Thread-safety: a plain value type.
#ifndef ATOMIX_BROKER_STATE_WATCH_FILTER_H_
#define ATOMIX_BROKER_STATE_WATCH_FILTER_H_

#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "atomix/v1/watch.pb.h"

namespace atomix::broker {

struct WatchFilter {
  // Only this exact key.
  std::optional<std::string> key;
  // Only keys that start with this (empty: every key).
  std::string prefix;

  bool MatchesKey(const std::string& k) const {
    if (key.has_value()) return k == *key;
    return absl::StartsWith(k, prefix);
  }
  // Whether a watcher with this filter gets `event`. Events of other
  // primitives than maps carry an empty key and match an empty filter.
  bool Matches(const v1::WatchEvent& event) const {
    if (!key.has_value() && prefix.empty()) return true;
    return MatchesKey(event.has_entry() ? event.entry().key()
                                        : event.previous().key());
  }
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_STATE_WATCH_FILTER_H_
