// Internal: the client's callback executor, where continuations of
// asynchronous calls run (atomix/future.h).
//
// A fixed number of threads, started on the first Post(), run tasks in the
// order they were posted (several at a time with more than one thread).
// Shutdown() runs what is queued and joins the threads; a thread that calls
// it from inside a task is detached instead of joined. Tasks posted after
// Shutdown() run on the posting thread.
//
// Thread-safety: every method is safe from any thread.
#ifndef ATOMIX_SDK_SRC_EXECUTOR_H_
#define ATOMIX_SDK_SRC_EXECUTOR_H_

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"

namespace atomix::internal {

class Executor {
 public:
  using Task = absl::AnyInvocable<void() &&>;

  explicit Executor(int threads);
  ~Executor();

  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  void Post(Task task);
  void Shutdown();

  // Tasks queued and not started yet (for tests and metrics).
  size_t queued() const;

 private:
  struct Shared;
  // The threads own the queue with the executor, so that a thread that
  // outlives a Shutdown() called from inside it still has it.
  std::shared_ptr<Shared> shared_;
};

}  // namespace atomix::internal

#endif  // ATOMIX_SDK_SRC_EXECUTOR_H_
