#include "sdk/src/executor.h"

#include <pthread.h>

#include <algorithm>
#include <utility>

namespace atomix::internal {

struct Executor::Shared {
  explicit Shared(int n) : threads_wanted(std::max(1, n)) {}

  void Run() {
    pthread_setname_np(pthread_self(), "atomix-callback");
    std::unique_lock<std::mutex> lock(mu);
    for (;;) {
      cv.wait(lock, [&] { return stopping || !tasks.empty(); });
      if (tasks.empty()) return;  // Stopping, with nothing left.
      Task task = std::move(tasks.front());
      tasks.pop_front();
      lock.unlock();
      std::move(task)();
      task = nullptr;  // Destroy what it captured before taking the lock.
      lock.lock();
    }
  }

  const int threads_wanted;
  mutable std::mutex mu;
  std::condition_variable cv;
  std::deque<Task> tasks ABSL_GUARDED_BY(mu);
  std::vector<std::thread> threads ABSL_GUARDED_BY(mu);
  bool stopping ABSL_GUARDED_BY(mu) = false;
};

Executor::Executor(int threads) : shared_(std::make_shared<Shared>(threads)) {}

Executor::~Executor() { Shutdown(); }

void Executor::Post(Task task) {
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    if (!shared_->stopping) {
      if (shared_->threads.empty()) {
        for (int i = 0; i < shared_->threads_wanted; ++i) {
          shared_->threads.emplace_back([s = shared_] { s->Run(); });
        }
      }
      shared_->tasks.push_back(std::move(task));
      shared_->cv.notify_one();
      return;
    }
  }
  std::move(task)();
}

void Executor::Shutdown() {
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->stopping = true;
    threads.swap(shared_->threads);
  }
  shared_->cv.notify_all();
  for (std::thread& t : threads) {
    if (t.get_id() == std::this_thread::get_id()) {
      t.detach();
    } else {
      t.join();
    }
  }
}

size_t Executor::queued() const {
  std::lock_guard<std::mutex> lock(shared_->mu);
  return shared_->tasks.size();
}

}  // namespace atomix::internal
