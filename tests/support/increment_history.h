// A linearizability checker for histories of increments by one on a counter
// (fetch-and-add), which scales to any number of concurrent callers and
// allows operations whose outcome is unknown (a call that failed may or may
// not have been applied).
//
// Such a history is linearizable exactly when:
//   1. every acknowledged increment returned a distinct value in
//      (initial, final];
//   2. the counter moved by at least the acknowledged increments and at
//      most those plus the unknown ones;
//   3. real time is respected: an increment that returned before another
//      was invoked got the smaller value.
// Values between acknowledged ones are then taken by unknown increments,
// whose linearization points can be chosen freely in their windows.
//
//   std::vector<Increment> h = ...;  // from 64 threads, across restarts
//   EXPECT_EQ(CheckIncrements(h, 0, final_value), "");
//
// Thread-safety: pure functions.
#ifndef ATOMIX_TESTS_SUPPORT_INCREMENT_HISTORY_H_
#define ATOMIX_TESTS_SUPPORT_INCREMENT_HISTORY_H_

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace atomix::testing {

struct Increment {
  int64_t invoke = 0;    // monotonic ns
  int64_t complete = 0;  // monotonic ns, >= invoke
  std::optional<int64_t> value;  // the returned value; nullopt: unknown outcome
};

// "" if the history is linearizable, else the first violation found.
inline std::string CheckIncrements(const std::vector<Increment>& history, int64_t initial,
                                   int64_t final_value) {
  std::vector<const Increment*> acked;
  size_t unknown = 0;
  absl::flat_hash_set<int64_t> seen;
  for (const Increment& op : history) {
    if (!op.value) {
      ++unknown;
      continue;
    }
    if (*op.value <= initial || *op.value > final_value) {
      return absl::StrCat("value ", *op.value, " is outside (", initial, ", ", final_value, "]");
    }
    if (!seen.insert(*op.value).second) {
      return absl::StrCat("value ", *op.value, " was returned twice");
    }
    acked.push_back(&op);
  }
  const int64_t moved = final_value - initial;
  if (moved < static_cast<int64_t>(acked.size())) {
    return absl::StrCat("the counter moved by ", moved, " but ", acked.size(),
                        " increments were acknowledged: some were lost");
  }
  if (moved > static_cast<int64_t>(acked.size() + unknown)) {
    return absl::StrCat("the counter moved by ", moved, " but only ", acked.size(),
                        " acknowledged and ", unknown, " unknown increments were made");
  }
  // Real time: sweep by invocation, with the largest value of every
  // increment that completed before it.
  std::vector<const Increment*> by_complete = acked;
  std::sort(by_complete.begin(), by_complete.end(),
            [](const Increment* a, const Increment* b) { return a->complete < b->complete; });
  std::vector<const Increment*> by_invoke = acked;
  std::sort(by_invoke.begin(), by_invoke.end(),
            [](const Increment* a, const Increment* b) { return a->invoke < b->invoke; });
  size_t done = 0;
  const Increment* highest = nullptr;
  for (const Increment* op : by_invoke) {
    while (done < by_complete.size() && by_complete[done]->complete < op->invoke) {
      if (highest == nullptr || *by_complete[done]->value > *highest->value) {
        highest = by_complete[done];
      }
      ++done;
    }
    if (highest != nullptr && *highest->value > *op->value) {
      return absl::StrCat("value ", *op->value, " was returned by an increment that began after ",
                          "one that had returned ", *highest->value);
    }
  }
  return "";
}

}  // namespace atomix::testing

#endif  // ATOMIX_TESTS_SUPPORT_INCREMENT_HISTORY_H_
