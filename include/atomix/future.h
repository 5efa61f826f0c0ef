// Future<T>: the result of an asynchronous call, on its way.
//
//   atomix::Future<atomix::Versioned<int64_t>> f = jobs.IncrementAsync();
//   ...                                              // do other work
//   absl::StatusOr<atomix::Versioned<int64_t>> n = f.get();
//
//   // Or a continuation, on the client's callback threads:
//   jobs.IncrementAsync().then([](absl::StatusOr<atomix::Versioned<int64_t>> n) {
//     if (n.ok()) std::cout << n->value << "\n";
//   });
//
//   // Or a C++20 coroutine: a function returning Future<T> may co_await
//   // futures and co_return its result.
//   atomix::Future<int64_t> Twice(atomix::Counter c) {
//     auto a = co_await c.IncrementAsync();
//     if (!a.ok()) co_return a.status();
//     auto b = co_await c.IncrementAsync();
//     if (!b.ok()) co_return b.status();
//     co_return b->value;
//   }
//
// Every primitive operation Op has a form OpAsync taking the same arguments
// and returning a Future of what Op returns; Op is OpAsync(...).get(). Both
// forms share the client's session stream: async calls are coalesced into
// the same batches, get the same deadlines (CallOptions, else the client's
// default_call_timeout), the same cancellation, and the same retry and
// exactly-once rules. A call is complete, successfully or not, by its
// deadline, whether or not anyone waits for it; dropping a Future neither
// cancels nor waits for its call.
//
// What a Future<T> delivers is absl::StatusOr<T>, or absl::Status for
// Future<void>.
//
// Threads. get(), wait(), wait_for() and wait_until() block the calling
// thread and are woken directly by the thread that receives the answer.
// Callbacks given to then(), and coroutines resumed by co_await, run on the
// client's callback executor: ClientOptions::callback_threads threads
// (default 2) that the client starts on its first asynchronous callback,
// never on gRPC's threads nor on the SDK's reader and writer threads. A
// callback for a future that is already complete is posted to that executor
// too. Callbacks should not block; one that does holds one of those
// threads, and a callback that waits for a future whose own continuation
// needs the executor can deadlock a client with one callback thread.
// Futures made by the application (a coroutine's result, MakeReadyFuture)
// have no executor: their callbacks run on the thread that completes them.
//
// Thread-safety: a Future is a move-only handle used by one thread at a
// time. get(), then() and co_await consume it (valid() is false afterwards);
// the waits may be called by its owner any number of times before that.
// Every method but valid() needs a valid future, as with std::future.
#ifndef ATOMIX_FUTURE_H_
#define ATOMIX_FUTURE_H_

#include <chrono>
#include <coroutine>
#include <future>
#include <memory>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "atomix/internal/future_state.h"

namespace atomix {

namespace internal {
// The T of the Future that then() returns for a callback returning R.
template <class R>
struct ThenValue {
  using type = R;
};
template <>
struct ThenValue<void> {
  using type = void;
};
template <>
struct ThenValue<absl::Status> {
  using type = void;
};
template <class U>
struct ThenValue<absl::StatusOr<U>> {
  using type = U;
};
}  // namespace internal

template <class T>
class Future {
 public:
  using Result = internal::Result<T>;

  // An invalid future (valid() is false).
  Future() = default;
  // For the SDK's adapters; applications get futures from OpAsync calls,
  // coroutines and MakeReadyFuture.
  explicit Future(std::shared_ptr<internal::FutureState<T>> state) : state_(std::move(state)) {}

  Future(Future&&) noexcept = default;
  Future& operator=(Future&&) noexcept = default;

  bool valid() const { return state_ != nullptr; }
  // Whether the result is there (get() would not block).
  bool ready() const { return state_->signal().ready(); }

  // Waits for the result and returns it. Consumes the future.
  Result get() {
    state_->signal().Wait();
    return std::exchange(state_, nullptr)->Take();
  }

  void wait() const { state_->signal().Wait(); }
  template <class Rep, class Period>
  std::future_status wait_for(std::chrono::duration<Rep, Period> timeout) const {
    return wait_until(std::chrono::steady_clock::now() + timeout);
  }
  template <class Clock, class Duration>
  std::future_status wait_until(std::chrono::time_point<Clock, Duration> deadline) const {
    const auto steady = std::chrono::steady_clock::now() + (deadline - Clock::now());
    return state_->signal().WaitUntil(
               std::chrono::time_point_cast<std::chrono::steady_clock::duration>(steady))
               ? std::future_status::ready
               : std::future_status::timeout;
  }

  // Runs `callback(Result)` once the result is there, on the client's
  // callback executor, and returns a Future of what it returns: Future<U>
  // for U or absl::StatusOr<U>, Future<void> for void or absl::Status.
  // Consumes the future.
  template <class F>
  auto then(F&& callback) -> Future<typename internal::ThenValue<std::invoke_result_t<F&, Result>>::type> {
    using R = std::invoke_result_t<F&, Result>;
    using U = typename internal::ThenValue<R>::type;
    std::shared_ptr<internal::FutureState<T>> source = std::exchange(state_, nullptr);
    auto out = std::make_shared<internal::ValueState<U>>(source->signal().executor());
    internal::FutureSignal& signal = source->signal();
    signal.OnReady([source, out, f = std::forward<F>(callback)]() mutable {
      if constexpr (std::is_void_v<R>) {
        f(source->Take());
        out->SetValue(absl::OkStatus());
      } else {
        out->SetValue(internal::Result<U>(f(source->Take())));
      }
    });
    return Future<U>(std::move(out));
  }

  // co_await: suspends until the result is there, then resumes on the
  // client's callback executor (or goes on at once if it is there already).
  bool await_ready() const { return ready(); }
  bool await_suspend(std::coroutine_handle<> waiting) {
    // False (go on at once) if the result came after await_ready(). After
    // registering, nothing here touches the coroutine: another thread may
    // resume it before this returns.
    return state_->signal().TryOnReady([waiting] { waiting.resume(); });
  }
  Result await_resume() { return std::exchange(state_, nullptr)->Take(); }

  // Makes Future<T> a coroutine's return type: the coroutine runs at once,
  // and its co_return value (Result, or what converts to it) completes the
  // future.
  struct promise_type {
    std::shared_ptr<internal::ValueState<T>> state = std::make_shared<internal::ValueState<T>>();
    Future get_return_object() { return Future(state); }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_value(Result value) { state->SetValue(std::move(value)); }
    void unhandled_exception() {
      state->SetValue(absl::InternalError("exception thrown in a coroutine returning atomix::Future"));
    }
  };

 private:
  friend std::shared_ptr<internal::FutureState<T>> internal::StateOf<T>(Future<T>&& future);

  std::shared_ptr<internal::FutureState<T>> state_;
};

// A future that is complete already.
template <class T>
Future<T> MakeReadyFuture(internal::Result<T> result) {
  auto state = std::make_shared<internal::ValueState<T>>();
  state->SetValue(std::move(result));
  return Future<T>(std::move(state));
}

namespace internal {
template <class T>
std::shared_ptr<FutureState<T>> StateOf(Future<T>&& future) {
  return std::exchange(future.state_, nullptr);
}
}  // namespace internal

}  // namespace atomix

#endif  // ATOMIX_FUTURE_H_
