// FaultInjector: deliberate misbehaviour for testing clients, off by
// default. It drops a fraction of responses after their requests were
// applied (to exercise exactly-once retries) and delays responses. Its
// random choices come from a generator seeded by FaultOptions::seed, so a
// run can be repeated.
//
// Thread-safety: thread-safe.
#ifndef ATOMIX_BROKER_SERVER_FAULTS_H_
#define ATOMIX_BROKER_SERVER_FAULTS_H_

#include <cstdint>
#include <random>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace atomix::broker {

struct FaultOptions {
  double drop_responses = 0;  // fraction in [0, 1]
  absl::Duration latency = absl::ZeroDuration();
  uint64_t seed = 1;
};

class FaultInjector {
 public:
  explicit FaultInjector(FaultOptions options)
      : options_(options), rng_(options.seed) {}

  bool enabled() const {
    return options_.drop_responses > 0 || options_.latency > absl::ZeroDuration();
  }
  // Whether to drop the next response.
  bool Drop() ABSL_LOCKS_EXCLUDED(mu_) {
    if (options_.drop_responses <= 0) return false;
    absl::MutexLock lock(&mu_);
    return std::uniform_real_distribution<double>(0, 1)(rng_) <
           options_.drop_responses;
  }
  // Sleeps for the configured latency.
  void Delay() const {
    if (options_.latency > absl::ZeroDuration()) absl::SleepFor(options_.latency);
  }

 private:
  const FaultOptions options_;
  absl::Mutex mu_;
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_SERVER_FAULTS_H_
