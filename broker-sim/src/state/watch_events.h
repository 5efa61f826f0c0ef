// Builders for the watch events state machines emit (see watch.proto).
//
// Thread-safety: stateless.
#ifndef ATOMIX_BROKER_STATE_WATCH_EVENTS_H_
#define ATOMIX_BROKER_STATE_WATCH_EVENTS_H_

#include <cstdint>
#include <string>

#include "atomix/v1/watch.pb.h"
#include "broker-sim/src/state/state_machine.h"

namespace atomix::broker {

// Appends an event of `type` at `revision` to `result` and returns it.
inline v1::WatchEvent& AddEvent(ApplyResult& result, v1::WatchEvent::Type type,
                                int64_t revision) {
  v1::WatchEvent& event = result.events.emplace_back();
  event.set_type(type);
  event.set_revision(revision);
  return event;
}

inline void SetEntry(v1::MapEntry& out, const std::string& key,
                     const std::string& value, int64_t version) {
  out.set_key(key);
  out.set_value(value);
  out.set_version(version);
}

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_STATE_WATCH_EVENTS_H_
