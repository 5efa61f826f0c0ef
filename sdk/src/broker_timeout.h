// Internal: how long the broker may hold a blocking request.
//
// A little less than the time left before the caller's deadline, so that the
// broker's answer (a grant, or DEADLINE_EXCEEDED) normally arrives before
// the caller stops listening. Computed afresh for every write of the
// request, so a resent or delayed request never outlives its caller by more
// than its time in transit.
//
// Thread-safety: a pure function.
#ifndef ATOMIX_SDK_SRC_BROKER_TIMEOUT_H_
#define ATOMIX_SDK_SRC_BROKER_TIMEOUT_H_

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace atomix::internal {

// Request.timeout_ms for a request whose caller waits until `deadline`:
// 0 (no limit) for a deadline more than a year away, else the time left
// minus a tenth of it (at most 250 ms), and at least 1.
inline int64_t BrokerTimeoutMs(std::chrono::steady_clock::time_point deadline,
                               std::chrono::steady_clock::time_point now) {
  using std::chrono::milliseconds;
  if (deadline - now > std::chrono::hours(24 * 365)) return 0;
  const auto left = std::chrono::duration_cast<milliseconds>(deadline - now);
  const auto margin = std::min(left / 10, milliseconds(250));
  return std::max<int64_t>(1, (left - margin).count());
}

}  // namespace atomix::internal

#endif  // ATOMIX_SDK_SRC_BROKER_TIMEOUT_H_
