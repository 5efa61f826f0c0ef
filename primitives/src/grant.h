// Internal to primitives/: pieces shared by the primitives that grant
// something to a session (Lock, Semaphore, ReadWriteLock, prefix locks) and
// by every primitive whose watch events carry one detail message (Counter,
// Lock and the recipes).
//
// Thread-safety: GrantSession is safe from any thread; a DetailDecoder is
// used by one watch at a time.
#ifndef ATOMIX_PRIMITIVES_SRC_GRANT_H_
#define ATOMIX_PRIMITIVES_SRC_GRANT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "atomix/internal/watch_core.h"
#include "sdk/src/client_core.h"

namespace atomix::internal {

// The session a grant belongs to: the one in place when its request was sent
// (`before`), or, if there was none yet, the one the request opened. If the
// session changes meanwhile, the old one is lost, and so is its grant.
inline uint64_t GrantSession(const std::weak_ptr<ClientCore>& core, uint64_t before) {
  if (before != 0) return before;
  if (auto c = core.lock()) return c->session_id();
  return 0;
}

// A watch decoder for a primitive whose events and snapshots carry one
// `Detail` message in the `detail` oneof: `on_event(detail, raw_event)` and
// `on_snapshot(detail, type, raw_snapshot)` build the public event, where
// `type` is kInserted for a replay and kResync otherwise. A missing or
// unparseable detail is INTERNAL, naming the primitive and the revision.
template <class Event, class Detail, class OnEvent, class OnSnapshot>
struct DetailDecoder {
  const PrimitiveKind* kind;
  OnEvent on_event;
  OnSnapshot on_snapshot;

  absl::Status Events(std::vector<RawWatchEvent>& raw, std::vector<Event>& out) const {
    for (const RawWatchEvent& r : raw) {
      Detail detail;
      if (!r.detail.has_value() || !detail.ParseFromString(*r.detail)) {
        return BadWatchDetail(*kind, r.revision);
      }
      out.push_back(on_event(detail, r));
    }
    return absl::OkStatus();
  }
  absl::Status Snapshot(RawSnapshot& raw, std::vector<Event>& out) const {
    Detail detail;
    if (!raw.detail.has_value() || !detail.ParseFromString(*raw.detail)) {
      return BadWatchDetail(*kind, raw.revision);
    }
    out.push_back(on_snapshot(detail, raw.replay ? EventType::kInserted : EventType::kResync, raw));
    return absl::OkStatus();
  }
};

template <class Event, class Detail, class OnEvent, class OnSnapshot>
DetailDecoder<Event, Detail, OnEvent, OnSnapshot> DecodeDetail(const PrimitiveKind& kind,
                                                               OnEvent on_event,
                                                               OnSnapshot on_snapshot) {
  return {&kind, std::move(on_event), std::move(on_snapshot)};
}

}  // namespace atomix::internal

#endif  // ATOMIX_PRIMITIVES_SRC_GRANT_H_
