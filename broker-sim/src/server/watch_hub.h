// WatchHub: wakes the watchers of the primitives that changed.
//
// Each watch reactor registers under the name it watches. The store's change
// listener calls Changed with the names that gained events; that only queues
// them (so it never slows the mutation down), and the hub's own thread then
// calls Wake on every watcher of each queued name. A watcher reads what is
// new from the store's history itself, so a wake-up carries no data and
// repeated or merged wake-ups are harmless.
//
// A pass over the watchers of the queued names holds the registry mutex
// only between wake-ups, never across one: a Wake may read and write a
// whole message, and Register and Unregister (called from gRPC's threads)
// must not wait for a pass over a thousand watchers. Unregister waits only
// while that one watcher is being woken, so once it returns the hub never
// touches that watcher again. Close is called with the registry mutex held.
// Watchers must not call back into the hub from Wake or Close.
//
// Thread-safety: thread-safe. The destructor stops the thread; every watcher
// must have unregistered by then.
#ifndef ATOMIX_BROKER_SERVER_WATCH_HUB_H_
#define ATOMIX_BROKER_SERVER_WATCH_HUB_H_

#include <atomic>
#include <cstddef>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace atomix::broker {

class Watcher {
 public:
  virtual ~Watcher() = default;
  // The watched primitive may have new events.
  virtual void Wake() = 0;
  // The broker is shutting down: end the watch.
  virtual void Close() = 0;
};

class WatchHub {
 public:
  WatchHub();
  ~WatchHub();
  WatchHub(const WatchHub&) = delete;
  WatchHub& operator=(const WatchHub&) = delete;

  void Register(const std::string& name, Watcher* watcher)
      ABSL_LOCKS_EXCLUDED(mu_);
  void Unregister(const std::string& name, Watcher* watcher)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Queues a wake-up of the watchers of `names`; cheap, never blocks on a
  // watcher.
  void Changed(absl::Span<const std::string> names)
      ABSL_LOCKS_EXCLUDED(queue_mu_);

  // Closes every registered watcher.
  void CloseAll() ABSL_LOCKS_EXCLUDED(mu_);
  // Waits until no watcher is registered or `timeout` passes; true if none
  // is.
  bool WaitUntilEmpty(absl::Duration timeout) ABSL_LOCKS_EXCLUDED(mu_);

  size_t watchers() const { return count_.load(std::memory_order_relaxed); }

 private:
  void Run();

  absl::Mutex queue_mu_;
  absl::flat_hash_set<std::string> dirty_ ABSL_GUARDED_BY(queue_mu_);
  bool stop_ ABSL_GUARDED_BY(queue_mu_) = false;

  absl::Mutex mu_;
  absl::flat_hash_map<std::string, absl::flat_hash_set<Watcher*>> watchers_
      ABSL_GUARDED_BY(mu_);
  // The watcher whose Wake runs right now, if any.
  Watcher* waking_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::atomic<size_t> count_{0};

  std::thread thread_;  // last: starts once everything above exists
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_SERVER_WATCH_HUB_H_
