// Wake-ups of watchers.
#include "broker-sim/src/server/watch_hub.h"

#include <utility>
#include <vector>

namespace atomix::broker {

WatchHub::WatchHub() : thread_([this] { Run(); }) {}

WatchHub::~WatchHub() {
  {
    absl::MutexLock lock(&queue_mu_);
    stop_ = true;
  }
  thread_.join();
}

void WatchHub::Register(const std::string& name, Watcher* watcher) {
  absl::MutexLock lock(&mu_);
  watchers_[name].insert(watcher);
  count_.fetch_add(1, std::memory_order_relaxed);
}

void WatchHub::Unregister(const std::string& name, Watcher* watcher) {
  absl::MutexLock lock(&mu_);
  auto it = watchers_.find(name);
  if (it == watchers_.end() || it->second.erase(watcher) == 0) return;
  if (it->second.empty()) watchers_.erase(it);
  count_.fetch_sub(1, std::memory_order_relaxed);
  // A wake-up of this watcher that has already begun ends first.
  struct NotWaking {
    WatchHub* hub;
    Watcher* watcher;
    bool operator()() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(hub->mu_) {
      return hub->waking_ != watcher;
    }
  } not_waking{this, watcher};
  mu_.Await(absl::Condition(&not_waking));
}

void WatchHub::Changed(absl::Span<const std::string> names) {
  // A watcher registers before it reads its start revision, so a change it
  // must hear about always finds it counted here.
  if (count_.load(std::memory_order_relaxed) == 0) return;
  absl::MutexLock lock(&queue_mu_);
  for (const std::string& name : names) dirty_.insert(name);
}

void WatchHub::CloseAll() {
  absl::MutexLock lock(&mu_);
  for (auto& [name, watchers] : watchers_) {
    for (Watcher* watcher : watchers) watcher->Close();
  }
}

bool WatchHub::WaitUntilEmpty(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(
      absl::Condition(
          +[](WatchHub* hub) ABSL_EXCLUSIVE_LOCKS_REQUIRED(hub->mu_) {
            return hub->watchers_.empty();
          },
          this),
      timeout);
}

void WatchHub::Run() {
  std::vector<Watcher*> batch;
  while (true) {
    absl::flat_hash_set<std::string> names;
    {
      absl::MutexLock lock(&queue_mu_);
      queue_mu_.Await(absl::Condition(
          +[](WatchHub* hub) ABSL_EXCLUSIVE_LOCKS_REQUIRED(hub->queue_mu_) {
            return hub->stop_ || !hub->dirty_.empty();
          },
          this));
      if (stop_) return;
      names.swap(dirty_);
    }
    for (const std::string& name : names) {
      batch.clear();
      {
        absl::MutexLock lock(&mu_);
        auto it = watchers_.find(name);
        if (it == watchers_.end()) continue;
        batch.assign(it->second.begin(), it->second.end());
      }
      for (Watcher* watcher : batch) {
        {
          absl::MutexLock lock(&mu_);
          // Skip a watcher that unregistered since the batch was taken.
          auto it = watchers_.find(name);
          if (it == watchers_.end() || !it->second.contains(watcher)) continue;
          waking_ = watcher;
        }
        watcher->Wake();
        absl::MutexLock lock(&mu_);
        waking_ = nullptr;
      }
    }
  }
}

}  // namespace atomix::broker
