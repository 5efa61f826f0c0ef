// Internal: the shared state behind atomix::Future<T> (atomix/future.h). Not
// part of the public API.
//
// A FutureSignal is one-shot readiness: producers call SetReady() once, after
// storing their result; consumers wait for it or register one callback,
// which runs on the signal's executor (the client's callback threads), or on
// the thread that makes it ready when the signal has none.
//
// A FutureState<T> pairs a signal with a way to take the result once it is
// ready. ValueState<T> holds a result set by SetValue(); MappedState converts
// another state's result when it is taken, so a conversion costs nothing on
// the thread that completes the call and runs on the consumer's thread.
//
// Thread-safety: FutureSignal is safe from any thread. Take() is called at
// most once, after the signal is ready.
#ifndef ATOMIX_INTERNAL_FUTURE_STATE_H_
#define ATOMIX_INTERNAL_FUTURE_STATE_H_

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "atomix/export.h"

namespace atomix {

template <class T>
class Future;

namespace internal {

class Executor;

// What a Future<T> delivers: absl::StatusOr<T>, or absl::Status for T = void.
template <class T>
struct ResultOf {
  using type = absl::StatusOr<T>;
};
template <>
struct ResultOf<void> {
  using type = absl::Status;
};
template <class T>
using Result = typename ResultOf<T>::type;

class ATOMIX_EXPORT FutureSignal {
 public:
  // Callbacks run on `executor`, or inline without one.
  explicit FutureSignal(std::shared_ptr<Executor> executor = nullptr);
  virtual ~FutureSignal();

  FutureSignal(const FutureSignal&) = delete;
  FutureSignal& operator=(const FutureSignal&) = delete;

  bool ready() const;
  void Wait();
  // False if `deadline` passed first.
  bool WaitUntil(std::chrono::steady_clock::time_point deadline);
  // Runs `callback` once the signal is ready (posted at once if it is). At
  // most one callback per signal.
  void OnReady(absl::AnyInvocable<void() &&> callback);
  // The same, unless the signal is ready already: then it returns false
  // and does nothing with `callback` (co_await goes on at once).
  bool TryOnReady(absl::AnyInvocable<void() &&> callback);
  const std::shared_ptr<Executor>& executor() const { return executor_; }

  // Producers: makes the signal ready, once; the producer keeps the signal
  // alive until it returns (a waiter may drop its own reference as soon as
  // the signal is ready). Signals staged with
  // StageChildren() are made ready too, by a thread that waited for this
  // one if there is one (so that a batch of answers is handed out by the
  // woken threads rather than one by one), or else by this call.
  void SetReady();
  // Before SetReady(): up to two ready-but-unsignalled signals to wake
  // after this one. Each must stay alive until it is woken.
  void StageChildren(FutureSignal* first, FutureSignal* second) {
    children_[0] = first;
    children_[1] = second;
  }

 protected:
  // Called last by SetReady(); it may destroy the object.
  virtual void Released() {}

 private:
  void WakeChildren(FutureSignal* first, FutureSignal* second);
  void TakeChildrenLocked(FutureSignal*& first, FutureSignal*& second)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::shared_ptr<Executor> executor_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool ready_ ABSL_GUARDED_BY(mu_) = false;
  int waiters_ ABSL_GUARDED_BY(mu_) = 0;
  absl::AnyInvocable<void() &&> callback_ ABSL_GUARDED_BY(mu_);
  // Written by the producer before SetReady(), taken under mu_ afterwards.
  FutureSignal* children_[2] = {nullptr, nullptr};
};

template <class T>
class FutureState {
 public:
  virtual ~FutureState() = default;
  virtual FutureSignal& signal() = 0;
  // The result; once, after signal() is ready.
  virtual Result<T> Take() = 0;
};

// A state whose result is set by SetValue().
template <class T>
class ValueState final : public FutureState<T> {
 public:
  explicit ValueState(std::shared_ptr<Executor> executor = nullptr)
      : signal_(std::move(executor)) {}
  FutureSignal& signal() override { return signal_; }
  Result<T> Take() override { return std::move(*value_); }
  void SetValue(Result<T> value) {
    value_.emplace(std::move(value));
    signal_.SetReady();
  }

 private:
  FutureSignal signal_;
  std::optional<Result<T>> value_;
};

// A state that converts `source`'s result with `convert` when it is taken.
template <class T, class S, class F>
class MappedState final : public FutureState<T> {
 public:
  MappedState(std::shared_ptr<FutureState<S>> source, F convert)
      : source_(std::move(source)), convert_(std::move(convert)) {}
  FutureSignal& signal() override { return source_->signal(); }
  Result<T> Take() override { return convert_(source_->Take()); }

 private:
  std::shared_ptr<FutureState<S>> source_;
  F convert_;
};

// Future<T>'s state, for the SDK's own adapters.
template <class T>
std::shared_ptr<FutureState<T>> StateOf(Future<T>&& future);

// A Future<T> whose result is `convert(source's result)`, computed on the
// thread that takes it. `convert` takes Result<S> and returns Result<T>.
template <class T, class S, class F>
Future<T> MapFuture(Future<S> source, F convert) {
  return Future<T>(std::make_shared<MappedState<T, S, std::decay_t<F>>>(
      StateOf(std::move(source)), std::forward<F>(convert)));
}

}  // namespace internal
}  // namespace atomix

#endif  // ATOMIX_INTERNAL_FUTURE_STATE_H_
