// FutureSignal (atomix/internal/future_state.h): one-shot readiness with
// waiters, one callback, and a tree of signals to wake after it.
#include <utility>

#include "atomix/internal/future_state.h"
#include "sdk/src/executor.h"

namespace atomix::internal {

FutureSignal::FutureSignal(std::shared_ptr<Executor> executor) : executor_(std::move(executor)) {}

FutureSignal::~FutureSignal() = default;

bool FutureSignal::ready() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ready_;
}

void FutureSignal::TakeChildrenLocked(FutureSignal*& first, FutureSignal*& second) {
  first = std::exchange(children_[0], nullptr);
  second = std::exchange(children_[1], nullptr);
}

void FutureSignal::WakeChildren(FutureSignal* first, FutureSignal* second) {
  if (first != nullptr) first->SetReady();
  if (second != nullptr) second->SetReady();
}

void FutureSignal::Wait() {
  FutureSignal* first = nullptr;
  FutureSignal* second = nullptr;
  {
    std::unique_lock<std::mutex> lock(mu_);
    ++waiters_;
    cv_.wait(lock, [&] { return ready_; });
    --waiters_;
    TakeChildrenLocked(first, second);
  }
  WakeChildren(first, second);
}

bool FutureSignal::WaitUntil(std::chrono::steady_clock::time_point deadline) {
  FutureSignal* first = nullptr;
  FutureSignal* second = nullptr;
  bool ready = false;
  {
    std::unique_lock<std::mutex> lock(mu_);
    ++waiters_;
    ready = cv_.wait_until(lock, deadline, [&] { return ready_; });
    --waiters_;
    if (ready) TakeChildrenLocked(first, second);
  }
  WakeChildren(first, second);
  return ready;
}

void FutureSignal::OnReady(absl::AnyInvocable<void() &&> callback) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!ready_) {
      callback_ = std::move(callback);
      return;
    }
  }
  if (executor_ != nullptr) {
    executor_->Post(std::move(callback));
  } else {
    std::move(callback)();
  }
}

bool FutureSignal::TryOnReady(absl::AnyInvocable<void() &&> callback) {
  std::lock_guard<std::mutex> lock(mu_);
  if (ready_) return false;
  callback_ = std::move(callback);
  return true;
}

void FutureSignal::SetReady() {
  absl::AnyInvocable<void() &&> callback;
  FutureSignal* first = nullptr;
  FutureSignal* second = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ready_ = true;
    callback = std::move(callback_);
    if (waiters_ > 0) {
      // A waiter wakes the children once it runs; notify under the lock, as
      // a waiter may destroy the signal as soon as it sees it ready.
      cv_.notify_all();
    } else {
      TakeChildrenLocked(first, second);
    }
  }
  WakeChildren(first, second);
  if (callback) {
    if (executor_ != nullptr) {
      executor_->Post(std::move(callback));
    } else {
      std::move(callback)();
    }
  }
  Released();
}

}  // namespace atomix::internal
