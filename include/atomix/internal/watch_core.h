// Internal: the bytes-level watch behind every primitive's Watch(). Not part
// of the public API; see atomix/watch.h for the semantics.
//
// StartWatch() runs the broker's Watch stream (resume, reconnect, snapshot
// assembly, flow control) and hands what arrives, as raw events and
// snapshots, to a WatchOutput. The typed primitives supply the output: a
// ChannelOutput with a decoder that turns raw items into their event type
// and queues them on the app's Channel.
//
// Thread-safety: StartWatch is safe from any thread. A WatchOutput is called
// from one thread at a time (gRPC's), except OnClose's and RoomOrNotify's
// callbacks, which run on whichever thread closes the channel or takes an
// item from it.
#ifndef ATOMIX_INTERNAL_WATCH_CORE_H_
#define ATOMIX_INTERNAL_WATCH_CORE_H_

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "atomix/channel.h"
#include "atomix/export.h"
#include "atomix/internal/map_core.h"
#include "atomix/internal/primitive.h"
#include "atomix/versioned.h"
#include "atomix/watch.h"

namespace atomix::internal {

class ClientCore;

// One change as the broker sent it (atomix.v1.WatchEvent). Primitives with
// entries (Map, Set, Value, ...) use entry/previous (a Set element is the
// key; a Value's key is empty). `detail` is the serialized message of the
// event's per-primitive detail (WatchEvent.detail), nullopt if none is set;
// the primitive that asked for the watch parses it.
struct ATOMIX_EXPORT RawWatchEvent {
  EventType type = EventType::kInserted;
  Version revision = 0;
  std::optional<RawEntry> entry;
  std::optional<RawEntry> previous;
  std::optional<std::string> detail;
};

// A whole snapshot (all of its parts). `replay`: the WithReplay() snapshot,
// to be delivered as kInserted items; otherwise a resync with `reason`.
// `detail` is the serialized WatchSnapshot.detail, as in RawWatchEvent.
struct ATOMIX_EXPORT RawSnapshot {
  bool replay = false;
  ResyncReason reason = ResyncReason::kNone;
  Version revision = 0;
  std::vector<RawEntry> entries;
  std::optional<std::string> detail;
};

// What to watch.
struct ATOMIX_EXPORT WatchTarget {
  PrimitiveKind kind;
  std::string name;
  std::optional<std::string> key;  // keyed primitives only: one key
  std::string prefix;              // keyed primitives only: a key prefix
};

// Where a watch delivers. Events() and Snapshot() return a non-OK status
// for items that cannot be decoded; the watch then ends with that status
// (Close() is called with it) and nothing of that broker message is
// delivered.
class ATOMIX_EXPORT WatchOutput {
 public:
  virtual ~WatchOutput() = default;
  // The events of one broker message (whole revisions, in order).
  virtual absl::Status Events(std::vector<RawWatchEvent> events) = 0;
  virtual absl::Status Snapshot(RawSnapshot snapshot) = 0;
  // See ChannelWriter.
  virtual bool RoomOrNotify(std::function<void()> on_room) = 0;
  virtual void OnClose(std::function<void()> on_close) = 0;
  virtual void Close(absl::Status status) = 0;
};

// Opens the watch and waits (within options' deadline / cancel) for the
// broker to accept it. From then on the watch runs on its own until
// `output` is closed or the client core goes away. UNIMPLEMENTED for a core
// that serves no watches.
ATOMIX_EXPORT absl::Status StartWatch(const std::shared_ptr<ClientCore>& core, WatchTarget target,
                                      const WatchOptions& options,
                                      std::shared_ptr<WatchOutput> output);

// A WatchOutput that decodes with `Decoder` and queues on a Channel<Event>.
// Decoder has
//   absl::Status Events(std::vector<RawWatchEvent>&, std::vector<Event>& out);
//   absl::Status Snapshot(RawSnapshot&, std::vector<Event>& out);
template <class Event, class Decoder>
class ChannelOutput final : public WatchOutput {
 public:
  ChannelOutput(const Channel<Event>& channel, Decoder decoder)
      : writer_(channel), decoder_(std::move(decoder)) {}

  absl::Status Events(std::vector<RawWatchEvent> events) override {
    std::vector<Event> out;
    out.reserve(events.size());
    absl::Status s = decoder_.Events(events, out);
    if (!s.ok()) return s;
    writer_.PushAll(std::move(out));
    return absl::OkStatus();
  }
  absl::Status Snapshot(RawSnapshot snapshot) override {
    std::vector<Event> out;
    absl::Status s = decoder_.Snapshot(snapshot, out);
    if (!s.ok()) return s;
    writer_.PushAll(std::move(out));
    return absl::OkStatus();
  }
  bool RoomOrNotify(std::function<void()> on_room) override {
    return writer_.RoomOrNotify(std::move(on_room));
  }
  void OnClose(std::function<void()> on_close) override { writer_.OnClose(std::move(on_close)); }
  void Close(absl::Status status) override { writer_.Close(std::move(status)); }

 private:
  ChannelWriter<Event> writer_;
  Decoder decoder_;
};

// A Channel<Event> fed by a watch of `target`; the error of StartWatch if
// the watch could not start.
template <class Event, class Decoder>
absl::StatusOr<Channel<Event>> OpenWatch(const std::shared_ptr<ClientCore>& core,
                                         WatchTarget target, const WatchOptions& options,
                                         Decoder decoder) {
  Channel<Event> channel(std::max<size_t>(1, options.capacity));
  auto output = std::make_shared<ChannelOutput<Event, Decoder>>(channel, std::move(decoder));
  absl::Status started = StartWatch(core, std::move(target), options, std::move(output));
  if (!started.ok()) return started;
  return channel;
}

}  // namespace atomix::internal

#endif  // ATOMIX_INTERNAL_WATCH_CORE_H_
