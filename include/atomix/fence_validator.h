// FenceValidator: protects a resource outside the broker (a file, a table, a
// device) with lock fences.
//
//   atomix::FenceValidator validator("orders.db");
//   // Every writer passes the fence of its lock grant with each write:
//   absl::Status ok = validator.Check(fence.version);
//   if (!ok.ok()) return ok;   // FAILED_PRECONDITION: a newer holder wrote already
//   Write(...);
//
// A grant's fence is the broker revision at which it was granted, so every
// later grant of the lock has a higher fence. A writer that lost the lock
// without knowing it (a long pause, a lost session) still carries its old
// fence; once the new holder has written, the validator refuses the old
// fence. This is the high-water-mark rule: Check accepts a fence at or above
// the highest fence it has seen (raising the mark) and refuses any lower one.
//
// The validator must sit with the resource, in the process that applies the
// writes, and see every write; checking and writing must happen under the
// resource's own lock (or use CheckAndRun) so that a stale write cannot slip
// in between. The mark lives in memory: persist high_water_mark() with the
// resource, and restore it with the constructor, if the resource outlives
// the process.
//
// Election terms are revisions too, so a leader's Term::term works as a fence
// the same way.
//
// Thread-safety: all methods are safe to call from any thread.
#ifndef ATOMIX_FENCE_VALIDATOR_H_
#define ATOMIX_FENCE_VALIDATOR_H_

#include <mutex>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "atomix/export.h"
#include "atomix/versioned.h"

namespace atomix {

class ATOMIX_EXPORT FenceValidator {
 public:
  // `resource` names the resource in error messages. `high_water_mark` is
  // the highest fence already accepted (0: none).
  explicit FenceValidator(std::string resource = "resource", Version high_water_mark = 0)
      : resource_(std::move(resource)), mark_(high_water_mark) {}

  FenceValidator(const FenceValidator&) = delete;
  FenceValidator& operator=(const FenceValidator&) = delete;

  // OK if `fence` is at least the highest fence seen so far, which it then
  // becomes. FAILED_PRECONDITION naming both fences if it is lower (a newer
  // grant has been used already). INVALID_ARGUMENT for a fence below 1.
  absl::Status Check(Version fence) {
    std::lock_guard<std::mutex> lock(mu_);
    return CheckLocked(fence);
  }

  // Checks `fence` and, if it passes, runs `write` before any other fence
  // is checked; returns the check's status, or write()'s if it returns an
  // absl::Status.
  template <class Write>
  absl::Status CheckAndRun(Version fence, Write&& write) {
    std::lock_guard<std::mutex> lock(mu_);
    absl::Status ok = CheckLocked(fence);
    if (!ok.ok()) return ok;
    if constexpr (std::is_same_v<std::invoke_result_t<Write>, absl::Status>) {
      return std::forward<Write>(write)();
    } else {
      std::forward<Write>(write)();
      return absl::OkStatus();
    }
  }

  // The highest fence accepted so far (0 if none).
  Version high_water_mark() const {
    std::lock_guard<std::mutex> lock(mu_);
    return mark_;
  }

 private:
  absl::Status CheckLocked(Version fence) {
    if (fence < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat(resource_, ": fence ", fence, " is not a lock grant's fence"));
    }
    if (fence < mark_) {
      return absl::FailedPreconditionError(absl::StrCat(
          resource_, ": fence ", fence, " is stale; fence ", mark_, " has been used already"));
    }
    mark_ = fence;
    return absl::OkStatus();
  }

  const std::string resource_;
  mutable std::mutex mu_;
  Version mark_;
};

}  // namespace atomix

#endif  // ATOMIX_FENCE_VALIDATOR_H_
