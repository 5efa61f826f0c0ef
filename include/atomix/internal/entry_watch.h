// Internal: watch decoding shared by the primitives made of entries (Map,
// IndexedMap, MultiMap, List). Not part of the public API.
//
// Each raw entry becomes the primitive's item through `decode`
// (RawEntry& -> absl::StatusOr<Item>); events, replays and resyncs then take
// one shape. The event type has `type`, `revision`, an std::optional<Item>
// for the entry after the change (named by `current`: entry, item, ...),
// `previous`, a std::vector<Item> `snapshot` and `reason`.
//
// Thread-safety: pure functions.
#ifndef ATOMIX_INTERNAL_ENTRY_WATCH_H_
#define ATOMIX_INTERNAL_ENTRY_WATCH_H_

#include <optional>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "atomix/internal/watch_core.h"

namespace atomix::internal {

// The events of one broker message, each entry decoded; stops at the first
// entry that does not decode.
template <class Event, class Item, class Decode>
absl::Status DecodeEntryEvents(std::vector<RawWatchEvent>& raw,
                               std::optional<Item> Event::*current, const Decode& decode,
                               std::vector<Event>& out) {
  for (RawWatchEvent& r : raw) {
    Event e;
    e.type = r.type;
    e.revision = r.revision;
    for (auto [from, to] : {std::pair(&r.entry, &(e.*current)), std::pair(&r.previous, &e.previous)}) {
      if (!from->has_value()) continue;
      auto decoded = decode(**from);
      if (!decoded.ok()) return decoded.status();
      *to = *std::move(decoded);
    }
    out.push_back(std::move(e));
  }
  return absl::OkStatus();
}

// A whole snapshot: one kInserted event per entry for a replay, otherwise
// one kResync event holding every entry.
template <class Event, class Item, class Decode>
absl::Status DecodeEntrySnapshot(RawSnapshot& raw, std::optional<Item> Event::*current,
                                 const Decode& decode, std::vector<Event>& out) {
  std::vector<Item> items;
  items.reserve(raw.entries.size());
  for (RawEntry& r : raw.entries) {
    auto decoded = decode(r);
    if (!decoded.ok()) return decoded.status();
    items.push_back(*std::move(decoded));
  }
  if (raw.replay) {
    for (Item& item : items) {
      Event e;
      e.revision = raw.revision;
      e.*current = std::move(item);
      out.push_back(std::move(e));
    }
    return absl::OkStatus();
  }
  Event e;
  e.type = EventType::kResync;
  e.revision = raw.revision;
  e.snapshot = std::move(items);
  e.reason = raw.reason;
  out.push_back(std::move(e));
  return absl::OkStatus();
}

}  // namespace atomix::internal

#endif  // ATOMIX_INTERNAL_ENTRY_WATCH_H_
