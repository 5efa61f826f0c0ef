// HoldChecker: safety of grants in a merged history of several processes.
//
// Each Hold is one grant as its holder saw it: from the moment the grant's
// answer arrived to the moment the holder sent its release, on
// CLOCK_MONOTONIC (one machine, one clock). The broker's own hold spans at
// least that interval, so two observed holds that overlap prove that the
// broker let them overlap: the checker never blames a correct broker, and
// catches any overlap that clients could see.
//
// Rules, per resource:
// - the amounts of the holds at any instant sum to at most `capacity`
//   (Semaphore: permits; 0 means no limit);
// - an exclusive hold (a writer, a lock, a leased queue item) overlaps no
//   other hold of the same resource.
//
//   HoldChecker checker(/*capacity=*/3);
//   checker.Add({.resource = "s", .holder = "p1/t0", .start_ns = a, .end_ns = b, .amount = 2});
//   EXPECT_EQ(checker.Check(), std::nullopt);
//
// Holds whose holder lost its session (it was killed, or stalled past its
// TTL) have no end the holder could observe; record them with end_ns = the
// time the loss was seen, or leave them out and check the broker's own
// account (a watch of the primitive) instead.
//
// Thread-safety: none; fill and check from one thread.
#ifndef ATOMIX_TESTS_SUPPORT_HOLD_CHECKER_H_
#define ATOMIX_TESTS_SUPPORT_HOLD_CHECKER_H_

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"

namespace atomix::testing {

struct Hold {
  std::string resource;
  std::string holder;  // for messages
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  int64_t amount = 1;
  bool exclusive = false;
  int64_t fence = 0;  // for messages
};

class HoldChecker {
 public:
  explicit HoldChecker(int64_t capacity = 0) : capacity_(capacity) {}

  void Add(Hold hold) { holds_.push_back(std::move(hold)); }
  size_t size() const { return holds_.size(); }

  // The first violation, described; nullopt if there is none.
  std::optional<std::string> Check() const {
    std::map<std::string, std::vector<const Hold*>> by_resource;
    for (const Hold& h : holds_) {
      if (h.end_ns < h.start_ns) {
        return absl::StrCat(Describe(h), " ends before it starts");
      }
      by_resource[h.resource].push_back(&h);
    }
    for (auto& [resource, holds] : by_resource) {
      // Sweep: ends sort before starts at the same instant (touching holds
      // do not overlap).
      std::vector<std::tuple<int64_t, int, const Hold*>> points;
      for (const Hold* h : holds) {
        points.emplace_back(h->start_ns, 1, h);
        points.emplace_back(h->end_ns, 0, h);
      }
      std::sort(points.begin(), points.end(), [](const auto& a, const auto& b) {
        return std::tie(std::get<0>(a), std::get<1>(a)) < std::tie(std::get<0>(b), std::get<1>(b));
      });
      std::map<const Hold*, bool> open;
      int64_t total = 0;
      const Hold* exclusive = nullptr;
      for (const auto& [time, is_start, h] : points) {
        if (!is_start) {
          open.erase(h);
          total -= h->amount;
          if (exclusive == h) exclusive = nullptr;
          continue;
        }
        if (exclusive != nullptr) {
          return absl::StrCat(Describe(*h), " overlaps exclusive ", Describe(*exclusive));
        }
        if (h->exclusive && !open.empty()) {
          return absl::StrCat("exclusive ", Describe(*h), " overlaps ",
                              Describe(*open.begin()->first));
        }
        total += h->amount;
        open[h] = true;
        if (h->exclusive) exclusive = h;
        if (capacity_ > 0 && total > capacity_) {
          return absl::StrCat(resource, ": ", total, " held at once (capacity ", capacity_,
                              ") when ", Describe(*h), " started");
        }
      }
    }
    return std::nullopt;
  }

 private:
  static std::string Describe(const Hold& h) {
    return absl::StrCat(h.resource, " hold of ", h.holder, " (fence ", h.fence, ", amount ",
                        h.amount, ", ", h.start_ns, "..", h.end_ns, " ns)");
  }

  int64_t capacity_;
  std::vector<Hold> holds_;
};

}  // namespace atomix::testing

#endif  // ATOMIX_TESTS_SUPPORT_HOLD_CHECKER_H_
