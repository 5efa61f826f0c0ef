// Internal: capped exponential backoff with jitter for reconnect attempts.
// The first delay after Reset() is zero, then `initial`, doubling up to
// `cap`, each scaled by a random factor in [0.8, 1.2].
//
// Thread-safety: not thread-safe; owned by one thread.
#ifndef ATOMIX_SDK_SRC_BACKOFF_H_
#define ATOMIX_SDK_SRC_BACKOFF_H_

#include <algorithm>
#include <chrono>
#include <random>

namespace atomix::internal {

class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds cap)
      : initial_(initial), cap_(cap), rng_(std::random_device{}()) {}

  void Reset() { next_ = std::chrono::milliseconds(0); }

  std::chrono::milliseconds Next() {
    std::chrono::milliseconds base = next_;
    next_ = next_.count() == 0 ? initial_ : std::min(cap_, next_ * 2);
    if (base.count() == 0) return base;
    std::uniform_real_distribution<double> jitter(0.8, 1.2);
    return std::chrono::milliseconds(static_cast<int64_t>(base.count() * jitter(rng_)));
  }

 private:
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds cap_;
  std::chrono::milliseconds next_{0};
  std::minstd_rand rng_;
};

}  // namespace atomix::internal

#endif  // ATOMIX_SDK_SRC_BACKOFF_H_
