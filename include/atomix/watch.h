// Watches: a Channel of typed events that follows one primitive's changes in
// revision order (docs/watch.md).
//
//   auto jobs = atomix::GetMap<std::string, std::string>("jobs");
//   auto events = jobs->Watch(atomix::WithReplay().Prefix("queued/"));
//   if (!events.ok()) return events.status();   // bad name, type or filter
//   for (const atomix::MapEvent<std::string, std::string>& e : *events) {
//     switch (e.type) {
//       case atomix::EventType::kInserted: ...   // e.entry
//       case atomix::EventType::kUpdated: ...    // e.entry, e.previous
//       case atomix::EventType::kRemoved:        // e.previous
//       case atomix::EventType::kExpired: ...
//       case atomix::EventType::kResync: ...     // e.snapshot: start over
//     }
//   }
//   // The loop ends once the channel is closed: events->status() says why.
//
// Every primitive has a Watch() method returning
// absl::StatusOr<Channel<XEvent>> (MapEvent, SetEvent, ValueEvent,
// CounterEvent, LockEvent; Election::Watch delivers Term). Watch() returns
// once the broker has accepted the watch (its stream header arrived), so a
// bad name (INVALID_ARGUMENT), a name bound to another type
// (FAILED_PRECONDITION) or a bad filter is an error of Watch() itself. The
// CallOptions deadline bounds only that first step; while the broker cannot
// be reached Watch() keeps trying until then (UNAVAILABLE naming the
// endpoint).
//
// Guarantees, after Watch() returned:
//   - Events arrive in revision order, and every revision exactly once: the
//     SDK reconnects by itself (capped backoff) and resumes from the revision
//     after the last one delivered, naming the broker incarnation it came
//     from. All events of one revision arrive back to back.
//   - When the broker cannot replay the missing revisions (it restarted with
//     no history, or its bounded history moved past a slow reader), the
//     channel delivers one kResync event with the whole (filtered) current
//     state at its revision, then live events after it.
//   - Nothing is dropped: while the channel holds `capacity` events the SDK
//     stops reading the stream and HTTP/2 flow control holds the broker
//     back. A channel holds at most `capacity` events plus one broker
//     message (the events of one or more whole revisions, or a snapshot).
//   - A watch whose broker is down keeps retrying until the channel is
//     closed or the client is destroyed; it never ends on its own because
//     of the network.
//
// Ending a watch: Channel::Close(), or dropping every handle of the channel
// (and its subscriptions), cancels it on the broker. Destroying the Client
// (its last handle, primitives included) closes all of its watch channels
// with status CANCELLED "client closed"; queued events stay receivable. A
// watch that cannot go on closes its channel with an error status
// (Channel::status()): INVALID_ARGUMENT for an event the codecs cannot
// decode, FAILED_PRECONDITION when the name was bound to another type, or
// INTERNAL when the broker breaks the watch protocol.
//
// Threads: watch streams are read on gRPC's threads; no watch holds a thread
// of its own. See atomix/channel.h for receiving and callbacks.
//
// Thread-safety: plain value types. Watch methods are safe to call from any
// thread, like every other method of a primitive handle.
#ifndef ATOMIX_WATCH_H_
#define ATOMIX_WATCH_H_

#include <cstddef>
#include <optional>
#include <string>
#include <utility>

#include "atomix/call_options.h"
#include "atomix/export.h"
#include "atomix/options.h"
#include "atomix/versioned.h"

namespace atomix {

enum class EventType {
  // A key, element or value appeared. Lock: granted while it was free.
  // Also every item of a WithReplay() snapshot.
  kInserted,
  // An existing entry changed. Counter: every change. Lock: passed straight
  // to the next waiter.
  kUpdated,
  // An entry was removed (also when its ephemeral owner's session ended).
  // Lock: released with no one waiting.
  kRemoved,
  // An entry was removed because its TTL passed.
  kExpired,
  // History was lost; the event carries the whole current state instead.
  kResync,
};

enum class ResyncReason {
  // Not a kResync event.
  kNone,
  // The broker's bounded history moved past the watcher (it read too slowly
  // or was disconnected too long).
  kCompacted,
  // The broker restarted without history (a new broker incarnation).
  kNewBroker,
};

struct ATOMIX_EXPORT WatchOptions : CallOptions {
  WatchOptions() = default;
  WatchOptions(const CallOptions& call) : CallOptions(call) {}  // NOLINT: implicit by design
  // Takes the listing's prefix (and deadline), so that
  // map.Watch(atomix::WithPrefix("jobs/")) watches a subtree.
  WatchOptions(const ListOptions& list)  // NOLINT: implicit by design
      : CallOptions(list), prefix(list.prefix) {}

  // Start with the current state: kInserted events that all carry the
  // snapshot's revision (each entry keeps its own version; Counter and Lock:
  // one event; Value: one event if it is present), then every change after
  // that revision. Overrides start_version.
  bool replay = false;
  // Start with every change at this revision or later (the revision after
  // the last one an app processed, say). If the broker no longer holds that
  // history, the watch starts with kResync instead.
  std::optional<Version> start_version;
  // Keyed primitives only (Map, IndexedMap, MultiMap, CounterMap): follow only
  // keys whose encoded bytes start with this prefix.
  std::string prefix;
  // Events the channel holds before the SDK stops reading (at least 1).
  size_t capacity = 1024;

  WatchOptions& Replay(bool on = true) & {
    replay = on;
    return *this;
  }
  WatchOptions&& Replay(bool on = true) && { return std::move(Replay(on)); }

  WatchOptions& StartVersion(Version v) & {
    start_version = v;
    return *this;
  }
  WatchOptions&& StartVersion(Version v) && { return std::move(StartVersion(v)); }

  WatchOptions& Prefix(std::string p) & {
    prefix = std::move(p);
    return *this;
  }
  WatchOptions&& Prefix(std::string p) && { return std::move(Prefix(std::move(p))); }

  WatchOptions& Capacity(size_t n) & {
    capacity = n;
    return *this;
  }
  WatchOptions&& Capacity(size_t n) && { return std::move(Capacity(n)); }

  WatchOptions& Timeout(std::chrono::nanoseconds d) & {
    timeout = d;
    return *this;
  }
  WatchOptions&& Timeout(std::chrono::nanoseconds d) && { return std::move(Timeout(d)); }
};

inline WatchOptions WithReplay() { return WatchOptions().Replay(); }

inline WatchOptions WithStartVersion(Version v) { return WatchOptions().StartVersion(v); }

// The event types of Map, Set, Value, Counter and Lock are declared next to
// their primitives: MapEvent in atomix/map.h, SetEvent in atomix/set.h,
// ValueEvent in atomix/value.h, CounterEvent in atomix/counter.h, LockEvent
// in atomix/lock.h.

}  // namespace atomix

#endif  // ATOMIX_WATCH_H_
