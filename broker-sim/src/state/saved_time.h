// Logical times in snapshots: microseconds since the Unix epoch, with the
// infinities kept (InfiniteFuture as INT64_MAX, InfinitePast as INT64_MIN).
//
// Thread-safety: pure functions.
#ifndef ATOMIX_BROKER_STATE_SAVED_TIME_H_
#define ATOMIX_BROKER_STATE_SAVED_TIME_H_

#include <cstdint>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace atomix::broker {

inline int64_t SaveTime(absl::Time t) {
  if (t == absl::InfiniteFuture()) return std::numeric_limits<int64_t>::max();
  if (t == absl::InfinitePast()) return std::numeric_limits<int64_t>::min();
  return absl::ToUnixMicros(t);
}

inline absl::Time LoadTime(int64_t us) {
  if (us == std::numeric_limits<int64_t>::max()) return absl::InfiniteFuture();
  if (us == std::numeric_limits<int64_t>::min()) return absl::InfinitePast();
  return absl::FromUnixMicros(us);
}

// DATA_LOSS: a saved primitive that does not hold `type`'s state.
inline absl::Status WrongSave(const char* type) {
  return absl::DataLossError(absl::StrCat("the saved primitive holds no ", type, " state"));
}

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_STATE_SAVED_TIME_H_
