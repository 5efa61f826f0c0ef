// WatchReactor: serves one Broker.Watch call with gRPC's callback API.
//
// Lifecycle (as StreamReactor): the reactor owns itself and deletes itself in
// OnDone. A request that fails validation, or names a primitive bound to
// another type, ends the call with that status before anything is written.
// Otherwise the reactor registers with the WatchHub under its name (before
// reading the start revision, so no change is missed) and with the
// CallRegistry, then writes the WatchHeader, then any snapshot the request
// asks for (REPLAY, or NEW_BROKER for a foreign broker_id), then events.
//
// Per-watcher state is O(1): a cursor (the next revision to deliver), the
// filter, and at most one message being written. Events are never queued
// per watcher: whenever no write is in flight (after OnWriteDone, or on a
// hub wake-up) the reactor reads the next whole revisions from the store's
// history, up to WatchOptions' budget, and writes them. A reader too slow
// for the bounded history finds its cursor compacted and gets a COMPACTED
// snapshot (split into parts; those parts are the only thing ever queued),
// then continues after the snapshot's revision. So a slow watcher costs the
// broker one message and never delays writers or other watchers.
//
// Finish is called exactly once, never with a write in flight: when the
// call is cancelled or a write fails (CANCELLED), or when the broker shuts
// down (Close: UNAVAILABLE). OnDone unregisters from the hub and the
// registry first, so nothing touches the reactor after it, then runs the
// `on_done` callback given at construction (the per-client watch count).
// Messages are serialized here and written as raw bytes.
//
// Thread-safety: gRPC callbacks and the hub's Wake/Close may run
// concurrently; all mutable state is guarded by one mutex.
#ifndef ATOMIX_BROKER_SERVER_WATCH_REACTOR_H_
#define ATOMIX_BROKER_SERVER_WATCH_REACTOR_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "atomix/v1/broker.grpc.pb.h"
#include "broker-sim/src/core/broker.h"
#include "broker-sim/src/server/call_registry.h"
#include "broker-sim/src/server/watch_hub.h"
#include "broker-sim/src/state/watch_filter.h"

namespace atomix::broker {

struct WatchOptions {
  // A message of events ends before the revision that would take it past
  // either bound (it holds at least one revision).
  size_t max_message_bytes = 1 << 20;
  size_t max_message_events = 1000;
  // Snapshot parts hold about this much.
  size_t max_snapshot_part_bytes = 1 << 20;
  // A revision whose events exceed this cannot be sent (the transport's
  // message limit); the watcher gets a COMPACTED snapshot instead.
  size_t max_revision_bytes = 60 << 20;
  // Watch calls one client (connection) may hold at once; 0: no limit.
  size_t max_watches_per_client = 1000;
};

class WatchReactor final : public grpc::ServerWriteReactor<grpc::ByteBuffer>,
                           public Watcher {
 public:
  WatchReactor(Broker& broker, WatchHub& hub, CallRegistry& calls,
               grpc::CallbackServerContext* context,
               const v1::WatchRequest& request, WatchOptions options,
               std::function<void()> on_done = nullptr);

  void Wake() override ABSL_LOCKS_EXCLUDED(mu_);
  void Close() override ABSL_LOCKS_EXCLUDED(mu_);
  void OnWriteDone(bool ok) override ABSL_LOCKS_EXCLUDED(mu_);
  void OnCancel() override ABSL_LOCKS_EXCLUDED(mu_);
  void OnDone() override;

 private:
  ~WatchReactor() override = default;  // only OnDone deletes

  // Validates and binds the watch; false after finishing the call.
  bool Start(const v1::WatchRequest& request) ABSL_LOCKS_EXCLUDED(mu_);
  // Starts writing the next message, if any and no write is in flight.
  void MaybeWrite() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Queues a snapshot of the current state as parts_ and moves the cursor
  // after it; false after ending the call (the name changed type).
  bool QueueSnapshot(v1::WatchSnapshot::Reason reason)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Serializes out_ and starts writing it.
  void WriteOut() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Calls Finish once the call must end and no write is in flight.
  void MaybeFinish() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Broker& broker_;
  WatchHub& hub_;
  CallRegistry& calls_;
  grpc::CallbackServerContext* const context_;
  const WatchOptions options_;
  const uint64_t watch_id_;
  // Set by the constructor, then read-only.
  std::string name_;
  v1::PrimitiveType type_ = v1::PRIMITIVE_TYPE_UNSPECIFIED;
  WatchFilter filter_;
  bool registered_ = false;
  uint64_t call_id_ = 0;
  std::function<void()> on_done_;  // run by OnDone

  absl::Mutex mu_;
  bool started_ ABSL_GUARDED_BY(mu_) = false;  // header queued
  int64_t cursor_ ABSL_GUARDED_BY(mu_) = 0;
  // Snapshot parts (and the header) still to write.
  std::deque<v1::WatchResponse> parts_ ABSL_GUARDED_BY(mu_);
  // The message being written while writing_.
  v1::WatchResponse out_ ABSL_GUARDED_BY(mu_);
  grpc::ByteBuffer out_bytes_ ABSL_GUARDED_BY(mu_);  // out_, serialized
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;  // cancelled or write failed
  std::optional<grpc::Status> end_ ABSL_GUARDED_BY(mu_);
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t messages_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t snapshots_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_SERVER_WATCH_REACTOR_H_
