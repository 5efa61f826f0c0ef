// The broker's logical clock source: a monotonic clock expressed as an
// absl::Time, so wall-clock jumps never expire sessions or TTL entries.
//
// Thread-safety: stateless.
#ifndef ATOMIX_BROKER_SERVER_CLOCK_H_
#define ATOMIX_BROKER_SERVER_CLOCK_H_

#include <chrono>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace atomix::broker {

inline absl::Time MonotonicNow() {
  return absl::UnixEpoch() +
         absl::FromChrono(std::chrono::steady_clock::now().time_since_epoch());
}

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_SERVER_CLOCK_H_
