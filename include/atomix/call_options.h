// CallOptions: the deadline and cancellation of one call.
//
//   auto v = counter.Increment(1, atomix::WithTimeout(std::chrono::milliseconds(200)));
//   if (absl::IsDeadlineExceeded(v.status())) { ... }
//
// Every SDK call takes a CallOptions (or an options struct derived from it).
// A call with neither timeout nor deadline uses the client's
// ClientOptions::default_call_timeout. When both are set, the earlier one
// wins. A call that is cancelled through `cancel` returns CANCELLED.
//
// A call that cannot reach the broker within its deadline returns
// UNAVAILABLE naming the endpoint; a call that was sent but not answered in
// time returns DEADLINE_EXCEEDED (and may or may not have been applied).
//
// Thread-safety: a plain value type; copies are independent.
#ifndef ATOMIX_CALL_OPTIONS_H_
#define ATOMIX_CALL_OPTIONS_H_

#include <chrono>
#include <optional>
#include <stop_token>

#include "atomix/export.h"

namespace atomix {

struct ATOMIX_EXPORT CallOptions {
  // Time allowed from the start of the call.
  std::optional<std::chrono::nanoseconds> timeout;
  // Absolute deadline on the steady clock.
  std::optional<std::chrono::steady_clock::time_point> deadline;
  // Requests cancellation of the call when stopped.
  std::stop_token cancel;
};

inline CallOptions WithTimeout(std::chrono::nanoseconds timeout) {
  CallOptions o;
  o.timeout = timeout;
  return o;
}

inline CallOptions WithDeadline(std::chrono::steady_clock::time_point deadline) {
  CallOptions o;
  o.deadline = deadline;
  return o;
}

inline CallOptions WithCancel(std::stop_token cancel) {
  CallOptions o;
  o.cancel = std::move(cancel);
  return o;
}

namespace internal {
// `now + timeout`, saturating at time_point::max() for huge timeouts.
inline std::chrono::steady_clock::time_point DeadlineAfter(
    std::chrono::steady_clock::time_point now, std::chrono::nanoseconds timeout) {
  constexpr auto kMax = std::chrono::steady_clock::time_point::max();
  if (timeout > std::chrono::duration_cast<std::chrono::nanoseconds>(kMax - now)) return kMax;
  return now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(timeout);
}

// The deadline a call must respect: the earliest of `timeout` from `now`,
// `deadline`, and `fallback` from `now` when neither is set.
inline std::chrono::steady_clock::time_point EffectiveDeadline(
    const CallOptions& o, std::chrono::nanoseconds fallback,
    std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now()) {
  if (!o.timeout && !o.deadline) return DeadlineAfter(now, fallback);
  auto d = std::chrono::steady_clock::time_point::max();
  if (o.timeout) d = DeadlineAfter(now, *o.timeout);
  if (o.deadline && *o.deadline < d) d = *o.deadline;
  return d;
}
}  // namespace internal

}  // namespace atomix

#endif  // ATOMIX_CALL_OPTIONS_H_
